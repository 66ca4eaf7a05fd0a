"""The single-node scheduler: bind what fits, report what does not."""

from __future__ import annotations

from kubelite.clock import ManualClock
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.events import EVENTS
from kubelite.registry.nodes import NODES
from kubelite.registry.pods import PODS
from kubelite.registry.service import Registry
from kubelite.scheduler import Scheduler
from kubelite.store.memory import MemoryStore


def pod(name: str, cpu: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox:1.36", "resources": {"requests": {"cpu": cpu}}}
            ]
        },
    }


async def make() -> Registry:
    reg = Registry(store=MemoryStore(), clock=ManualClock(), kinds=ALL_KINDS)
    await bootstrap(reg)
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n1"},
        "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "110"}},
    }
    await reg.create(NODES, "", node)
    return reg


async def test_binds_what_fits_and_reports_what_does_not() -> None:
    reg = await make()
    await reg.create(PODS, "default", pod("a", "600m"))
    await reg.create(PODS, "default", pod("b", "600m"))
    await Scheduler(registry=reg).schedule_once()
    a = await reg.get(PODS, "default", "a")
    b = await reg.get(PODS, "default", "b")
    assert a["spec"]["nodeName"] == "n1"
    assert not b["spec"].get("nodeName")
    cond = next(c for c in b["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable")
    assert cond["message"] == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
        "1 No preemption victims found for incoming pod."
    )
    events, _ = await reg.list(EVENTS, "default")
    assert sorted(e["reason"] for e in events) == ["FailedScheduling", "Scheduled"]


async def test_failed_scheduling_is_reported_once_per_message() -> None:
    reg = await make()
    await reg.create(PODS, "default", pod("big", "2"))
    s = Scheduler(registry=reg)
    await s.schedule_once()
    await s.schedule_once()
    events, _ = await reg.list(EVENTS, "default")
    assert [e["reason"] for e in events] == ["FailedScheduling"]


async def test_a_pod_for_another_scheduler_is_left_alone() -> None:
    reg = await make()
    p = pod("other", "1m")
    p["spec"]["schedulerName"] = "custom"
    await reg.create(PODS, "default", p)
    await Scheduler(registry=reg).schedule_once()
    assert not (await reg.get(PODS, "default", "other"))["spec"].get("nodeName")


async def test_the_running_scheduler_binds_a_new_pod_promptly() -> None:
    import asyncio
    import contextlib

    reg = await make()
    task = asyncio.create_task(Scheduler(registry=reg, retry=60).run())
    await asyncio.sleep(0.01)
    await reg.create(PODS, "default", pod("quick", "10m"))
    for _ in range(100):
        if (await reg.get(PODS, "default", "quick"))["spec"].get("nodeName"):
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert (await reg.get(PODS, "default", "quick"))["spec"]["nodeName"] == "n1"
