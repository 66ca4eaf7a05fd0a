"""The scheduler against a registry (memory store, fake clock): pods bound across several
nodes by selector and anti-affinity, the failure reported with upstream's text, a pod retried
after a relevant change once its back-off ends, gated pods left alone, and the running loop
binding a pod as soon as a node that fits appears."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from kubelite.clock import ManualClock
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.events import EVENTS
from kubelite.registry.nodes import NODES
from kubelite.registry.pods import PODS
from kubelite.registry.service import Registry
from kubelite.scheduler import Scheduler
from kubelite.store.memory import MemoryStore
from tests.unit.scheduler.cluster import anti_affinity, node, pod, taint

Obj = dict[str, Any]


async def registry(*nodes: Obj) -> Registry:
    reg = Registry(store=MemoryStore(), clock=ManualClock(), kinds=ALL_KINDS)
    await bootstrap(reg)
    for n in nodes:
        await reg.create(NODES, "", n)
    return reg


def fresh(p: Obj) -> Obj:
    """A pod as a client posts it (no uid, namespace from the URL)."""
    meta = {k: v for k, v in p["metadata"].items() if k not in ("uid", "namespace")}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": p["spec"]}


async def node_of(reg: Registry, name: str) -> str:
    return str((await reg.get(PODS, "default", name))["spec"].get("nodeName") or "")


async def condition(reg: Registry, name: str) -> Obj:
    got = await reg.get(PODS, "default", name)
    return next(c for c in got["status"]["conditions"] if c["type"] == "PodScheduled")


async def test_pods_go_to_the_nodes_their_selectors_name() -> None:
    reg = await registry(
        node("n1", labels={"disk": "hdd"}),
        node("n2", labels={"disk": "ssd"}),
        node("n3", labels={"disk": "hdd"}),
    )
    await reg.create(PODS, "default", fresh(pod("db", nodeSelector={"disk": "ssd"})))
    await Scheduler(registry=reg, seed=1).schedule_once()
    assert await node_of(reg, "db") == "n2"
    events, _ = await reg.list(EVENTS, "default")
    assert [e["message"] for e in events] == ["Successfully assigned default/db to n2"]


async def test_anti_affinity_spreads_three_replicas_over_three_nodes_in_one_pass() -> None:
    reg = await registry(node("n1"), node("n2"), node("n3"))
    web = {"app": "web"}
    for i in range(3):
        p = pod(f"web-{i}", labels=web, affinity=anti_affinity(web))
        await reg.create(PODS, "default", fresh(p))
    await Scheduler(registry=reg, seed=3).schedule_once()
    assert sorted([await node_of(reg, f"web-{i}") for i in range(3)]) == ["n1", "n2", "n3"]


async def test_a_pod_that_fits_nowhere_gets_upstreams_condition_and_event() -> None:
    reg = await registry(
        node("cp", taints=[taint("node-role.kubernetes.io/control-plane")]),
        node("w1", cpu="1"),
        node("w2", cpu="1"),
    )
    await reg.create(PODS, "default", fresh(pod("big", cpu="2")))
    await Scheduler(registry=reg).schedule_once()
    text = (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes "
        "are available: 3 Preemption is not helpful for scheduling."
    )
    cond = await condition(reg, "big")
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", text)
    events, _ = await reg.list(EVENTS, "default")
    assert [(e["type"], e["reason"], e["message"]) for e in events] == [
        ("Warning", "FailedScheduling", text)
    ]
    assert events[0]["source"] == {"component": "default-scheduler"}


async def test_a_failed_pod_is_tried_again_after_a_change_once_its_back_off_ends() -> None:
    reg = await registry(node("small", cpu="1"))
    clock = reg.clock
    assert isinstance(clock, ManualClock)
    await reg.create(PODS, "default", fresh(pod("big", cpu="2")))
    scheduler = Scheduler(registry=reg)
    await scheduler.schedule_once()
    await reg.create(NODES, "", node("large", cpu="4"))
    await scheduler.schedule_once()
    assert await node_of(reg, "big") == ""  # still backing off (1 s)
    await clock.advance(1)
    await scheduler.schedule_once()
    assert await node_of(reg, "big") == "large"


async def test_a_pod_held_by_scheduling_gates_is_left_alone() -> None:
    reg = await registry(node("n1"))
    await reg.create(PODS, "default", fresh(pod("gated", schedulingGates=[{"name": "wait"}])))
    await Scheduler(registry=reg).schedule_once()
    assert await node_of(reg, "gated") == ""
    events, _ = await reg.list(EVENTS, "default")
    assert events == []


async def until(check: Any, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)


async def test_the_running_scheduler_binds_a_waiting_pod_when_a_node_that_fits_joins() -> None:
    reg = await registry(node("small", cpu="1"))
    clock = reg.clock
    assert isinstance(clock, ManualClock)
    task = asyncio.create_task(Scheduler(registry=reg, retry=60).run())
    try:
        await reg.create(PODS, "default", fresh(pod("big", cpu="2")))

        async def reported() -> bool:
            got = await reg.get(PODS, "default", "big")
            return bool((got.get("status") or {}).get("conditions"))

        await until(reported)
        await clock.advance(1)  # its back-off ends
        await reg.create(NODES, "", node("large", cpu="4"))

        async def bound() -> bool:
            return await node_of(reg, "big") == "large"

        await until(bound)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
