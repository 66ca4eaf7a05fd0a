"""Every background loop survives an exception in one object (issue 11, item 7): the
namespace reaper, the scheduler, event expiry, Service reservation repair and store
maintenance log it, leave that object for a while and carry on with the others."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from kubelite.clock import ManualClock, rfc3339
from kubelite.registry import service_repair
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.configmaps import CONFIGMAPS
from kubelite.registry.event_expiry import EventExpiry
from kubelite.registry.events import EVENTS
from kubelite.registry.namespace_reaper import NamespaceReaper
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.nodes import NODES
from kubelite.registry.pods import PODS, bind
from kubelite.registry.service import DeleteOptions, Registry
from kubelite.registry.serviceips import ServiceNetwork
from kubelite.scheduler import Scheduler
from kubelite.store.interface import NotFound
from kubelite.store.memory import MemoryStore
from kubelite.store.sqlite import SqliteStore


async def registry() -> Registry:
    reg = Registry(store=MemoryStore(), clock=ManualClock(), kinds=ALL_KINDS)
    await bootstrap(reg)
    return reg


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec},
    }


async def namespace_with(reg: Registry, ns: str, *configmaps: str) -> None:
    await reg.create(NAMESPACES, "", {"metadata": {"name": ns}})
    for name in configmaps:
        await reg.create(CONFIGMAPS, ns, {"metadata": {"name": name}, "data": {}})
    await reg.delete(NAMESPACES, "", ns)


async def test_the_reaper_empties_other_namespaces_while_one_object_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reg = await registry()
    await namespace_with(reg, "broken", "cursed", "fine")
    await namespace_with(reg, "healthy", "a", "b")
    delete = reg.delete

    async def delete_or_raise(kind: Any, namespace: str, name: str, *args: Any, **kw: Any) -> Any:
        if name == "cursed":
            raise ValueError("year 11533 is out of range")
        return await delete(kind, namespace, name, *args, **kw)

    monkeypatch.setattr(reg, "delete", delete_or_raise)
    reaper = NamespaceReaper(registry=reg)
    for _ in range(3):
        await reaper.reconcile()  # never raises
    with pytest.raises(NotFound):
        await reg.get(NAMESPACES, "", "healthy")
    left, _ = await reg.list(CONFIGMAPS, "broken")
    assert [c["metadata"]["name"] for c in left] == ["cursed"]  # the others went
    assert (await reg.get(NAMESPACES, "", "broken"))["status"]["phase"] == "Terminating"


async def test_the_reaper_leaves_a_failing_namespace_alone_for_a_while() -> None:
    reg = await registry()
    await namespace_with(reg, "broken", "x")
    reaper = NamespaceReaper(registry=reg)
    calls = 0

    async def failing_empty(name: str) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom")

    reaper.empty = failing_empty  # type: ignore[method-assign]
    await reaper.reconcile()
    await reaper.reconcile()
    assert calls == 1  # backing off
    clock = reg.clock
    assert isinstance(clock, ManualClock)
    await clock.advance(2)
    await reaper.reconcile()
    assert calls == 2


async def test_a_namespace_holding_a_pod_with_a_huge_grace_period_is_emptied_without_error() -> (
    None
):
    reg = await registry()
    await reg.create(NAMESPACES, "", {"metadata": {"name": "slow"}})
    await reg.create(PODS, "slow", pod("p", terminationGracePeriodSeconds=300000000000))
    await bind(reg, "slow", "p", "node")
    await reg.delete(NAMESPACES, "", "slow")
    await NamespaceReaper(registry=reg).empty("slow")
    marked = await reg.get(PODS, "slow", "p")
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 300000000000
    await reg.delete(PODS, "slow", "p", DeleteOptions(grace_period=0))
    await NamespaceReaper(registry=reg).empty("slow")
    with pytest.raises(NotFound):
        await reg.get(NAMESPACES, "", "slow")


async def test_the_running_reaper_outlives_an_unexpected_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reg = await registry()
    reaper = NamespaceReaper(registry=reg, interval=0.01)
    passes = 0
    enough = asyncio.Event()

    async def flaky() -> None:
        nonlocal passes
        passes += 1
        if passes == 3:
            enough.set()
        if passes == 1:
            raise TypeError("a bug in one pass")

    monkeypatch.setattr(reaper, "reconcile", flaky)
    task = asyncio.create_task(reaper.run())
    try:
        async with asyncio.timeout(2):
            await enough.wait()
        assert not task.done()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_scheduler_binds_other_pods_while_one_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reg = await registry()
    node = {"metadata": {"name": "n1"}, "status": {"allocatable": {"cpu": "4", "pods": "10"}}}
    await reg.create(NODES, "", node)
    await reg.create(PODS, "default", pod("bad"))
    await reg.create(PODS, "default", pod("good"))
    from kubelite import scheduler as scheduling

    real_bind = scheduling.bind

    async def bind_or_raise(registry: Registry, ns: str, name: str, node: str) -> None:
        if name == "bad":
            raise KeyError("spec")
        await real_bind(registry, ns, name, node)

    monkeypatch.setattr(scheduling, "bind", bind_or_raise)
    s = Scheduler(registry=reg)
    await s.schedule_once()
    assert (await reg.get(PODS, "default", "good"))["spec"]["nodeName"] == "n1"
    monkeypatch.setattr(scheduling, "bind", real_bind)
    await s.schedule_once()
    assert not (await reg.get(PODS, "default", "bad"))["spec"].get("nodeName")  # backing off
    clock = reg.clock
    assert isinstance(clock, ManualClock)
    await clock.advance(2)
    await s.schedule_once()
    assert (await reg.get(PODS, "default", "bad"))["spec"]["nodeName"] == "n1"


async def test_event_expiry_skips_an_event_that_makes_it_raise() -> None:
    reg = await registry()
    old = rfc3339(reg.clock.now() - 7200)
    for name in ("nameless", "old"):
        ev = {
            "metadata": {"name": name},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "reason": "R",
            "lastTimestamp": old,
        }
        await reg.create(EVENTS, "default", ev)
    broken = await reg.store.get("events/default/nameless")
    del broken["metadata"]["name"]  # expiring it raises KeyError
    await reg.store.update("events/default/nameless", broken)
    assert await EventExpiry(registry=reg).expire() == 1
    with pytest.raises(NotFound):
        await reg.get(EVENTS, "default", "old")


async def test_service_repair_goes_on_after_a_failed_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reg = await registry()
    rounds = 0
    real = service_repair.repair
    enough = asyncio.Event()

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal rounds
        rounds += 1
        if rounds == 3:
            enough.set()
        if rounds == 1:
            raise AttributeError("a malformed reservation")
        return await real(*args, **kwargs)

    monkeypatch.setattr(service_repair, "repair", flaky)
    loop = service_repair.ServiceReservationRepair(
        store=reg.store, clock=reg.clock, network=ServiceNetwork.default(), interval=0.01
    )
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(2):
            await enough.wait()
        assert not task.done()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_store_maintenance_goes_on_after_an_unexpected_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore(tmp_path / "db", keep=1)
    for i in range(5):
        await store.create(f"configmaps/ns/c{i}", {"metadata": {"name": f"c{i}"}})
    calls = 0
    real = store.compact
    enough = asyncio.Event()

    async def flaky(revision: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            enough.set()
        if calls == 1:
            raise OSError("disk hiccup")
        await real(revision)

    monkeypatch.setattr(store, "compact", flaky)
    task = asyncio.create_task(store.maintain(interval=0.01))
    try:
        async with asyncio.timeout(5):
            await enough.wait()
        assert not task.done()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await store.close()
