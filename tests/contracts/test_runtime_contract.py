"""Behaviour every Runtime must show, run against each implementation (design principle 5).

The ``harness`` fixture (conftest.py) is parametrised over implementations: ``fake`` always,
``real`` (runc, marked ``e2e``) once the lead wires the ``real_runtime`` fixture.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from kubelite.runtime.interface import (
    ContainerState,
    EmptyDirVolume,
    EventKind,
    NotFound,
    PodStorage,
    RuntimeEvent,
    RuntimeInfo,
    SandboxConfig,
)
from tests.contracts.harness import CONTRACT_LABEL, Harness, wait_until

UNKNOWN_ID = "0" * 64


async def new_sandbox(h: Harness, name: str = "contract", attempt: int = 0) -> str:
    config = SandboxConfig(
        pod_uid=str(uuid.uuid4()),
        pod_name=name,
        namespace="default",
        attempt=attempt,
        hostname=name,
        labels={CONTRACT_LABEL: "1"},
    )
    return await h.runtime.run_sandbox(config)


async def running(h: Harness, sandbox_id: str, name: str, **behaviour: object) -> str:
    cid = await h.runtime.create_container(sandbox_id, h.container(name, **behaviour))  # type: ignore[arg-type]
    await h.runtime.start_container(cid)
    return cid


async def exited(h: Harness, container_id: str, within: float) -> None:
    async def check() -> bool:
        st = await h.runtime.container_status(container_id)
        return st.state is ContainerState.EXITED

    await wait_until(h, check, within)


async def test_a_sandbox_is_listed_ready_with_its_pod_identity(harness: Harness) -> None:
    sid = await new_sandbox(harness, "web", attempt=2)
    (sb,) = [s for s in await harness.runtime.list_sandboxes() if s.id == sid]
    assert (sb.pod_name, sb.namespace, sb.attempt, sb.ready) == ("web", "default", 2, True)
    assert sb.labels[CONTRACT_LABEL] == "1"


async def test_sandboxes_and_containers_are_listed_per_pod_and_per_sandbox(
    harness: Harness,
) -> None:
    first, second = await new_sandbox(harness, "one"), await new_sandbox(harness, "two")
    a, b = await running(harness, first, "a"), await running(harness, second, "b")
    (sb,) = await harness.runtime.list_sandboxes(
        next(s.pod_uid for s in await harness.runtime.list_sandboxes() if s.id == second)
    )
    assert (sb.id, sb.pod_name, sb.ready) == (second, "two", True)
    assert [c.id for c in await harness.runtime.list_containers(first)] == [a]
    assert [c.id for c in await harness.runtime.list_containers(second)] == [b]
    await harness.runtime.stop_sandbox(first)
    (sb,) = [s for s in await harness.runtime.list_sandboxes() if s.id == first]
    assert not sb.ready  # its namespaces are gone
    assert await harness.runtime.list_sandboxes("no-such-pod") == []


async def test_a_created_container_waits_in_created_state(harness: Harness) -> None:
    sid = await new_sandbox(harness)
    config = harness.container("app")
    cid = await harness.runtime.create_container(sid, config)
    st = await harness.runtime.container_status(cid)
    assert (st.id, st.sandbox_id, st.name, st.attempt) == (cid, sid, "app", 0)
    assert (st.state, st.image, st.started_at, st.exit_code) == (
        ContainerState.CREATED,
        config.image,
        None,
        None,
    )
    assert "@sha256:" in st.image_id  # the repo digest, as containerd reports it (CS-7)


async def test_a_started_container_runs_then_exits_with_its_code_and_times(
    harness: Harness,
) -> None:
    sid = await new_sandbox(harness)
    before = harness.now()
    cid = await running(harness, sid, "app", runs=0.5, exit_code=3)
    st = await harness.runtime.container_status(cid)
    assert st.state is ContainerState.RUNNING
    assert st.started_at is not None and st.started_at >= before - 1
    await exited(harness, cid, within=10)
    st = await harness.runtime.container_status(cid)
    assert (st.exit_code, st.reason) == (3, "Error")
    assert st.finished_at is not None and st.started_at is not None
    assert st.finished_at - st.started_at >= 0.4


async def test_exit_zero_is_reported_as_completed(harness: Harness) -> None:
    sid = await new_sandbox(harness)
    cid = await running(harness, sid, "app", runs=0.2, exit_code=0)
    await exited(harness, cid, within=10)
    st = await harness.runtime.container_status(cid)
    assert (st.exit_code, st.reason) == (0, "Completed")


async def test_stop_ends_a_container_that_honours_sigterm_with_143(harness: Harness) -> None:
    sid = await new_sandbox(harness)
    cid = await running(harness, sid, "app")
    await harness.elapse(0.3)
    stopping = asyncio.create_task(harness.runtime.stop_container(cid, 10))
    await harness.elapse(1)
    await asyncio.wait_for(stopping, 10)
    st = await harness.runtime.container_status(cid)
    assert (st.state, st.exit_code) == (ContainerState.EXITED, 143)


async def test_stop_kills_a_container_that_ignores_sigterm_when_the_grace_ends(
    harness: Harness,
) -> None:
    sid = await new_sandbox(harness)
    cid = await running(harness, sid, "app", ignores_sigterm=True)
    await harness.elapse(0.3)
    asked = harness.now()
    stopping = asyncio.create_task(harness.runtime.stop_container(cid, 1))
    await harness.elapse(0.5)
    assert not stopping.done()
    await harness.elapse(1.0)
    await asyncio.wait_for(stopping, 10)
    st = await harness.runtime.container_status(cid)
    assert st.exit_code == 137
    assert st.finished_at is not None and st.finished_at - asked >= 0.9


async def test_stopping_and_removing_twice_is_not_an_error(harness: Harness) -> None:
    sid = await new_sandbox(harness)
    cid = await running(harness, sid, "app")
    await harness.runtime.stop_container(cid, 5)
    await harness.runtime.stop_container(cid, 5)
    await harness.runtime.remove_container(cid)
    await harness.runtime.remove_container(cid)
    with pytest.raises(NotFound):
        await harness.runtime.container_status(cid)


async def test_containers_are_listed_by_sandbox(harness: Harness) -> None:
    a, b = await new_sandbox(harness, "a"), await new_sandbox(harness, "b")
    ca = await harness.runtime.create_container(a, harness.container("one"))
    cb = await harness.runtime.create_container(b, harness.container("two"))
    assert [c.id for c in await harness.runtime.list_containers(a)] == [ca]
    assert [c.id for c in await harness.runtime.list_containers(b)] == [cb]
    assert {ca, cb} <= {c.id for c in await harness.runtime.list_containers()}


async def test_start_and_exit_are_pushed_as_events(harness: Harness) -> None:
    events = harness.runtime.events()
    sid = await new_sandbox(harness)
    cid = await running(harness, sid, "app", runs=0.3, exit_code=1)
    await exited(harness, cid, within=10)
    mine: list[RuntimeEvent] = []
    async with asyncio.timeout(10):
        while len(mine) < 2:
            ev = await anext(events)
            if ev.container_id == cid:
                mine.append(ev)
    assert [e.kind for e in mine] == [EventKind.STARTED, EventKind.EXITED]
    assert {e.sandbox_id for e in mine} == {sid}
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()


async def test_exec_returns_the_exit_code_and_both_streams(harness: Harness) -> None:
    sid = await new_sandbox(harness)
    cid = await running(harness, sid, "app")
    argv = ["sh", "-c", "echo out; echo err >&2; exit 3"]
    harness.exec_answers(argv, 3, b"out\n", b"err\n")
    r = await harness.runtime.exec_sync(cid, argv, timeout=10)
    assert (r.exit_code, r.stdout, r.stderr, r.timed_out) == (3, b"out\n", b"err\n", False)


async def test_unknown_ids_raise_not_found(harness: Harness) -> None:
    rt = harness.runtime
    with pytest.raises(NotFound):
        await rt.container_status(UNKNOWN_ID)
    with pytest.raises(NotFound):
        await rt.start_container(UNKNOWN_ID)
    with pytest.raises(NotFound):
        await rt.exec_sync(UNKNOWN_ID, ["true"])
    with pytest.raises(NotFound):
        await rt.create_container(UNKNOWN_ID, harness.container("app"))


async def test_stopping_a_sandbox_ends_its_containers_and_keeps_its_record(
    harness: Harness,
) -> None:
    sid = await new_sandbox(harness)
    cid = await running(harness, sid, "app")
    await harness.elapse(0.2)
    await harness.runtime.stop_sandbox(sid)
    assert (await harness.runtime.container_status(cid)).state is ContainerState.EXITED
    (sb,) = [s for s in await harness.runtime.list_sandboxes() if s.id == sid]
    assert not sb.ready
    await harness.runtime.remove_sandbox(sid)
    await harness.runtime.remove_sandbox(sid)
    assert sid not in {s.id for s in await harness.runtime.list_sandboxes()}
    with pytest.raises(NotFound):
        await harness.runtime.container_status(cid)


async def test_preparing_volumes_twice_is_not_an_error(harness: Harness) -> None:
    uid = str(uuid.uuid4())
    await harness.runtime.prepare_volumes(uid, [EmptyDirVolume("cache")])
    await harness.runtime.prepare_volumes(uid, [EmptyDirVolume("cache")])
    await harness.runtime.remove_volumes(uid)
    await harness.runtime.remove_volumes(uid)


async def test_a_pod_with_nothing_on_disk_uses_nothing_and_info_is_stable(
    harness: Harness,
) -> None:
    assert await harness.runtime.pod_storage("no-such-pod") == PodStorage()
    first = await harness.runtime.info()
    assert isinstance(first, RuntimeInfo) and await harness.runtime.info() == first


async def test_the_storage_of_a_pod_names_its_containers(harness: Harness) -> None:
    sid = await new_sandbox(harness, "disk")
    await running(harness, sid, "writer")
    (sb,) = [s for s in await harness.runtime.list_sandboxes() if s.id == sid]
    usage = await harness.runtime.pod_storage(sb.pod_uid)
    assert set(usage.containers) <= {"writer"}  # the fake reports only what a test set
    assert all(v >= 0 for v in usage.containers.values())
