"""The fake runtime's own controls: scripts on virtual time, error injection, call records."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.clock import ManualClock
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.interface import (
    ContainerConfig,
    ContainerState,
    EventKind,
    NotFound,
    Runtime,
    RuntimeError_,
    SandboxConfig,
    StartContainerError,
)

T0 = 1_700_000_000.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeRuntime]:
    async with FakeRuntime(clock) as rt:
        yield rt


async def start(fake: FakeRuntime, name: str = "app", attempt: int = 0) -> tuple[str, str]:
    sid = await fake.run_sandbox(SandboxConfig("uid-1", "web", "default", 0, "web"))
    cid = await fake.create_container(sid, ContainerConfig(name=name, attempt=attempt, image="img"))
    await fake.start_container(cid)
    return sid, cid


def test_the_fake_satisfies_the_runtime_protocol(clock: ManualClock) -> None:
    rt: Runtime = FakeRuntime(clock)  # checked by mypy
    assert rt is not None


async def test_a_scripted_container_exits_with_its_code_when_its_run_time_has_passed(
    fake: FakeRuntime, clock: ManualClock
) -> None:
    fake.script("app", runs=3.0, exit_code=1)
    _, cid = await start(fake)
    await clock.advance(2.9)
    assert (await fake.container_status(cid)).state is ContainerState.RUNNING
    await clock.advance(0.1)
    st = await fake.container_status(cid)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 1, "Error")
    assert (st.started_at, st.finished_at) == (T0, T0 + 3.0)


async def test_exit_zero_is_completed_and_oom_is_137_oomkilled(
    fake: FakeRuntime, clock: ManualClock
) -> None:
    fake.script("ok", runs=1.0)
    fake.script("big", runs=1.0, oom=True)
    sid, ok = await start(fake, "ok")
    big = await fake.create_container(sid, ContainerConfig(name="big", attempt=0, image="i"))
    await fake.start_container(big)
    await clock.advance(1.0)
    assert (await fake.container_status(ok)).reason == "Completed"
    st = await fake.container_status(big)
    assert (st.exit_code, st.reason) == (137, "OOMKilled")


async def test_a_script_for_one_attempt_wins_over_the_general_one(
    fake: FakeRuntime, clock: ManualClock
) -> None:
    fake.script("app", runs=1.0, exit_code=2)
    fake.script("app", attempt=1)  # the second instance runs until stopped
    _, first = await start(fake, attempt=0)
    _, second = await start(fake, attempt=1)
    await clock.advance(5)
    assert (await fake.container_status(first)).exit_code == 2
    assert (await fake.container_status(second)).state is ContainerState.RUNNING


async def test_stop_exits_143_at_once_by_default(fake: FakeRuntime, clock: ManualClock) -> None:
    _, cid = await start(fake)
    await fake.stop_container(cid, 30)
    st = await fake.container_status(cid)
    assert (st.exit_code, st.reason, st.finished_at) == (143, "Error", T0)


async def test_a_container_that_ignores_sigterm_is_killed_137_when_the_grace_ends(
    fake: FakeRuntime, clock: ManualClock
) -> None:
    fake.script("app", on_term=None)
    _, cid = await start(fake)
    stopping = asyncio.create_task(fake.stop_container(cid, 30))
    await asyncio.sleep(0)  # let it send the signal before time moves
    await clock.advance(29)
    assert not stopping.done()
    await clock.advance(1)
    await stopping
    st = await fake.container_status(cid)
    assert (st.exit_code, st.finished_at) == (137, T0 + 30)


async def test_a_container_exits_with_its_code_some_seconds_after_sigterm(
    fake: FakeRuntime, clock: ManualClock
) -> None:
    fake.script("app", on_term=20.0, term_exit_code=0)
    _, cid = await start(fake)
    stopping = asyncio.create_task(fake.stop_container(cid, 25))
    await asyncio.sleep(0)  # let it send the signal before time moves
    await clock.advance(20)
    await stopping
    st = await fake.container_status(cid)
    assert (st.exit_code, st.reason, st.finished_at) == (0, "Completed", T0 + 20)


async def test_another_stop_signal_gives_128_plus_its_number(fake: FakeRuntime) -> None:
    _, cid = await start(fake)
    await fake.stop_container(cid, 10, signal="SIGINT")
    assert (await fake.container_status(cid)).exit_code == 130


async def test_a_natural_exit_during_the_grace_keeps_its_own_code(
    fake: FakeRuntime, clock: ManualClock
) -> None:
    fake.script("app", runs=5.0, exit_code=3, on_term=None)
    _, cid = await start(fake)
    stopping = asyncio.create_task(fake.stop_container(cid, 30))
    await asyncio.sleep(0)  # let it send the signal before time moves
    await clock.advance(5)
    await stopping
    assert (await fake.container_status(cid)).exit_code == 3


async def test_a_start_error_leaves_an_exited_start_error_record(fake: FakeRuntime) -> None:
    fake.script("app", start_error='exec: "nope": executable file not found in $PATH')
    sid = await fake.run_sandbox(SandboxConfig("u", "web", "default", 0, "web"))
    cid = await fake.create_container(sid, ContainerConfig(name="app", attempt=0, image="i"))
    with pytest.raises(StartContainerError):
        await fake.start_container(cid)
    st = await fake.container_status(cid)
    assert (st.state, st.exit_code, st.reason) == (ContainerState.EXITED, 128, "StartError")


async def test_injected_errors_are_raised_once_after_the_call_is_recorded(
    fake: FakeRuntime,
) -> None:
    sid = await fake.run_sandbox(SandboxConfig("u", "web", "default", 0, "web"))
    cid = await fake.create_container(sid, ContainerConfig(name="app", attempt=0, image="i"))
    fake.fail_next("start_container", StartContainerError("boom"))
    with pytest.raises(StartContainerError, match="boom"):
        await fake.start_container(cid)
    await fake.start_container(cid)
    assert fake.call_names() == [
        "run_sandbox",
        "create_container",
        "start_container",
        "start_container",
    ]
    assert fake.calls_of("start_container")[0].args == (cid,)


async def test_exec_results_are_scripted_per_argv_and_used_up_in_order(
    fake: FakeRuntime, clock: ManualClock
) -> None:
    fake.script_exec(["cat", "/ready"], exit_code=1, stdout=b"no", times=2)
    fake.script_exec(["cat", "/ready"], stdout=b"yes")
    _, cid = await start(fake)
    codes = [(await fake.exec_sync(cid, ["cat", "/ready"])).exit_code for _ in range(4)]
    assert codes == [1, 1, 0, 0]
    unscripted = await fake.exec_sync(cid, ["true"])
    assert (unscripted.exit_code, unscripted.stdout) == (0, b"")


async def test_a_slow_exec_takes_virtual_time_and_times_out(
    fake: FakeRuntime, clock: ManualClock
) -> None:
    fake.script_exec(["sleep", "5"], takes=5.0)
    _, cid = await start(fake)
    run = asyncio.create_task(fake.exec_sync(cid, ["sleep", "5"], timeout=1.0))
    await asyncio.sleep(0)
    await clock.advance(1)
    assert (await run).timed_out
    run = asyncio.create_task(fake.exec_sync(cid, ["sleep", "5"]))
    await asyncio.sleep(0)
    await clock.advance(5)
    assert (await run).exit_code == 0


async def test_exec_in_an_exited_container_is_an_error(fake: FakeRuntime) -> None:
    _, cid = await start(fake)
    await fake.stop_container(cid, 1)
    with pytest.raises(RuntimeError_):
        await fake.exec_sync(cid, ["true"])


async def test_events_report_start_exit_and_removal(fake: FakeRuntime, clock: ManualClock) -> None:
    events = fake.events()
    fake.script("app", runs=1.0)
    _, cid = await start(fake)
    await clock.advance(1)
    await fake.remove_container(cid)
    kinds = [(await anext(events)).kind for _ in range(3)]
    assert kinds == [EventKind.STARTED, EventKind.EXITED, EventKind.REMOVED]
    await fake.close()
    with pytest.raises(StopAsyncIteration):
        await anext(events)


async def test_kill_sandbox_simulates_a_reboot(fake: FakeRuntime) -> None:
    sid, _ = await start(fake)
    fake.kill_sandbox(sid)
    (sb,) = await fake.list_sandboxes()
    assert not sb.ready
    assert await fake.list_containers(sid) == []


async def test_stop_sandbox_kills_its_containers_and_keeps_the_record(fake: FakeRuntime) -> None:
    sid, cid = await start(fake)
    await fake.stop_sandbox(sid)
    assert (await fake.container_status(cid)).exit_code == 137
    assert [s.ready for s in await fake.list_sandboxes()] == [False]
    await fake.remove_sandbox(sid)
    assert await fake.list_sandboxes() == []
    with pytest.raises(NotFound):
        await fake.container_status(cid)


async def test_volumes_are_recorded_per_pod(fake: FakeRuntime) -> None:
    from kubelite.runtime.interface import EmptyDirVolume

    await fake.prepare_volumes("u", [EmptyDirVolume("cache")])
    await fake.prepare_volumes("u", [EmptyDirVolume("cache")])
    assert list(fake.volumes["u"]) == ["cache"]
    await fake.remove_volumes("u")
    assert "u" not in fake.volumes


async def test_termination_message_is_written_when_a_data_dir_is_given(
    clock: ManualClock, tmp_path: Path
) -> None:
    async with FakeRuntime(clock, data_dir=tmp_path) as fake:
        fake.script("app", runs=1.0, exit_code=1, termination_message="bye")
        _, cid = await start(fake)
        await clock.advance(1)
        path = (await fake.container_status(cid)).termination_message_file
        assert path is not None and path.read_text() == "bye"


async def test_close_cancels_pending_exits(clock: ManualClock) -> None:
    fake = FakeRuntime(clock)
    fake.script("app", runs=100.0)
    await start(fake)
    await fake.close()  # the autouse fixture fails the test if a timer task is left


async def test_the_newest_container_can_be_found_by_name(fake: FakeRuntime) -> None:
    _, first = await start(fake, attempt=0)
    _, second = await start(fake, attempt=1)
    assert fake.container_named("app").id == second
    assert fake.container_named("app", attempt=0, pod="web").id == first
    with pytest.raises(NotFound):
        fake.container_named("app", pod="other")
