"""kubelite's scheduler: binds each pending pod to a node as kube-scheduler's default profile
would, or says why it cannot.

The decisions are pure and live in this package's modules: ``podinfo``/``nodeinfo`` read pods
and nodes, one module per plugin (``taints``, ``nodeaffinity``, ``resourcefit``,
``podaffinity``, ``topologyspread``, ``imagelocality``; the volume plugins are
``kubelite.volumebinding``), ``framework`` runs an attempt (PreFilter, Filter, Score, pick),
``fiterror`` and ``preemption`` write the ``0/N nodes are available: …`` message, ``queue``
says when a pending pod is tried again, ``cache`` keeps the bound pods between passes.

``Scheduler`` is the loop around them, and the only part that does I/O: it follows pods, nodes,
claims and volumes through the registry's watch, runs a pass when something may have changed
(or every ``retry`` seconds, or when a pod's back-off ends), binds through the binding rule
(``registry.pods.bind``) with a ``Scheduled`` event, and reports a pod that fits nowhere with
``PodScheduled=False/Unschedulable`` and a ``FailedScheduling`` event (``reporting``). A pod
whose claims must be bound first gets PreBind's writes (``kubelite.volumebinder``) and is bound
once they are. Pods naming another ``schedulerName``, being deleted, or held by scheduling
gates are left alone. A pod whose placement raises is logged and left alone for a while
(``Failures``); the others are scheduled meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from contextlib import aclosing
from typing import Any

from kubelite.errors import KubeliteError
from kubelite.model.survival import Failures
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.nodes import NODES
from kubelite.registry.persistentvolumeclaims import PERSISTENTVOLUMECLAIMS
from kubelite.registry.persistentvolumes import PERSISTENTVOLUMES
from kubelite.registry.pods import PODS, bind
from kubelite.registry.resource import Kind
from kubelite.registry.selectors import parse_field_selector
from kubelite.registry.service import Registry, Selection
from kubelite.scheduler import framework
from kubelite.scheduler.cache import Change, ClusterCache, NodeViews, pod_key
from kubelite.scheduler.nodeinfo import NodeInfo, Snapshot, assemble, node_info, node_name, snapshot
from kubelite.scheduler.podinfo import pod_info
from kubelite.scheduler.queue import SchedulingQueue
from kubelite.scheduler.reads import PassReads
from kubelite.scheduler.reporting import SCHEDULER_NAME, Reporter
from kubelite.store.interface import Compacted
from kubelite.volumebinder import VolumeBinder

__all__ = ["SCHEDULER_NAME", "Scheduler", "bind"]

log = logging.getLogger(__name__)

PREBIND_TIMEOUT = (
    'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded'
)
Obj = dict[str, Any]


def _schedulable(pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    return (
        not spec.get("nodeName")
        and not pod["metadata"].get("deletionTimestamp")
        and spec.get("schedulerName", SCHEDULER_NAME) == SCHEDULER_NAME
        and not spec.get("schedulingGates")
    )


def _queue_order(pod: Obj) -> tuple[int, str, str]:
    """PrioritySort: higher priority first, then the older pod."""
    priority = (pod.get("spec") or {}).get("priority")
    created = str(pod["metadata"].get("creationTimestamp") or "")
    return (-(priority if isinstance(priority, int) else 0), created, pod_key(pod))


class Scheduler:
    """Runs a pass whenever something relevant changes, when a pod's back-off ends, and every
    ``retry`` seconds regardless. ``seed`` makes the choice among equally good nodes
    repeatable."""

    def __init__(self, *, registry: Registry, retry: float = 5.0, seed: int | None = None) -> None:
        self._registry = registry
        self._retry = retry
        self._rng = random.Random(seed)
        self._wake = asyncio.Event()
        self._cache: ClusterCache | None = None  # kept by the watch of pods while running
        self._queue = SchedulingQueue()
        self._failures: Failures[str] = Failures()
        self._volumes = VolumeBinder(registry)
        self._waiting_on: dict[str, str] = {}  # pod uid -> node its claims are bound for
        # node name -> ((cache, node resourceVersion, cache generation), NodeInfo)
        self._node_infos: dict[str, tuple[tuple[int, object, int], NodeInfo]] = {}
        self._reporter = Reporter(registry)
        self._unbound = Selection(
            fields=tuple(parse_field_selector("spec.nodeName=", PODS.field_getters()))
        )

    # -- following the cluster ------------------------------------------------------------------

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._follow_pods(), name="scheduler-watch-pods")
            tg.create_task(self._follow_nodes(), name="scheduler-watch-nodes")
            tg.create_task(self._follow(PERSISTENTVOLUMECLAIMS), name="scheduler-watch-pvcs")
            tg.create_task(self._follow(PERSISTENTVOLUMES), name="scheduler-watch-pvs")
            while True:
                self._wake.clear()
                try:
                    await self.schedule_once()
                except KubeliteError as exc:
                    log.debug("scheduler pass failed: %s", exc)
                except Exception:
                    log.exception("scheduler pass failed; trying again")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._pause()):
                        await self._wake.wait()

    def _pause(self) -> float:
        """Until the next pass: ``retry``, or sooner when a pod's back-off ends."""
        pause = self._retry
        due = self._queue.next_due()
        if due is not None:
            pause = min(pause, max(0.0, due - self._registry.clock.monotonic()))
        return pause

    def _changed(self, change: Change) -> None:
        if change.cluster:
            self._queue.move_all()
        if change.pending_uid:
            self._queue.updated(change.pending_uid)
        if change.cluster or change.pending_uid or change.new_pending:
            self._wake.set()

    async def _follow(self, kind: Kind) -> None:
        """Claims and volumes: every change may let a pod's volumes fit or bind."""
        while True:
            since = self._registry.store.current_revision()
            try:
                async with aclosing(self._registry.watch(kind, None, since)) as events:
                    async for _ in events:
                        self._changed(Change(cluster=True))
            except Compacted:
                self._changed(Change(cluster=True))

    async def _follow_nodes(self) -> None:
        while True:
            views = NodeViews()
            nodes, since = await self._registry.list(NODES, None)
            for node in nodes:
                views.observe(node)
            self._changed(Change(cluster=True))
            try:
                async with aclosing(self._registry.watch(NODES, None, since)) as events:
                    async for ev in events:
                        if ev.type == "DELETED":
                            relevant = views.remove(ev.object)
                        else:
                            relevant = views.observe(ev.object)
                        self._changed(Change(cluster=relevant))
            except Compacted:
                continue

    async def _follow_pods(self) -> None:
        """Keep the cache from a list and then the watch of pods; list again when the watch's
        history is gone."""
        while True:
            cache = ClusterCache()
            pods, since = await self._registry.list(PODS, None)
            for pod in pods:
                cache.observe(pod)
            self._cache = cache
            self._changed(Change(cluster=True, new_pending=True))
            try:
                async with aclosing(self._registry.watch(PODS, None, since)) as events:
                    async for ev in events:
                        if ev.type == "DELETED":
                            self._changed(cache.remove(ev.object))
                        else:
                            self._changed(cache.observe(ev.object))
            except Compacted:
                self._cache = None

    # -- a pass ---------------------------------------------------------------------------------

    async def schedule_once(self) -> None:
        """Try every pending pod that is due."""
        pods, _ = await self._registry.list(PODS, None, self._unbound)
        pending = sorted((p for p in pods if _schedulable(p)), key=_queue_order)
        live = {p["metadata"].get("uid", "") for p in pending}
        self._reporter.forget_except(live)
        self._volumes.forget_except(live)
        self._failures.forget_except(live)
        self._queue.forget_except(live)
        self._waiting_on = {u: n for u, n in self._waiting_on.items() if u in live}
        if self._cache is None:
            self._queue.move_all()  # not following the cluster: anything may have changed
        now = self._registry.clock.monotonic()
        due = [
            p
            for p in pending
            if self._queue.due(p["metadata"].get("uid", ""), now)
            and not self._failures.waiting(p["metadata"].get("uid", ""), now)
        ]
        if not due:
            return
        snap = await self._snapshot()
        reads = PassReads(self._registry)
        for pod in due:
            uid = pod["metadata"].get("uid", "")
            try:
                snap = await self._place(pod, snap, reads)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = self._failures.failed(uid, now)
                log.warning(
                    "scheduler: placing pod %s failed (%r); trying it again in %.0f s",
                    pod_key(pod),
                    exc,
                    delay,
                )
            else:
                self._failures.succeeded(uid)

    async def _snapshot(self) -> Snapshot:
        nodes, _ = await self._registry.list(NODES, None)
        namespaces, _ = await self._registry.list(NAMESPACES, None)
        cache = self._cache
        if cache is None:  # not following pods: read what the nodes hold from the store
            cache = ClusterCache()
            pods, _ = await self._registry.list(PODS, None)
            for pod in pods:
                cache.observe(pod)
            self._node_infos.clear()
            return snapshot(nodes, cache.bound(), namespaces)
        infos = [self._node_info(cache, n) for n in nodes]
        for gone in self._node_infos.keys() - {i.name for i in infos}:
            del self._node_infos[gone]
        return assemble(infos, namespaces)

    def _node_info(self, cache: ClusterCache, node: Obj) -> NodeInfo:
        """``node`` with its pods, built again only when the node object or what the cache
        holds on it changed since the last pass (a pass at thousands of pods otherwise spent
        most of its time adding every pod's requests up again)."""
        name = node_name(node)
        version = node.get("metadata", {}).get("resourceVersion")
        key = (cache.serial, version, cache.generation(name))
        memo = self._node_infos.get(name)
        if memo is not None and memo[0] == key:
            return memo[1]
        info = node_info(node, cache.on_node(name))
        self._node_infos[name] = (key, info)
        return info

    async def _inputs(self, pod: Obj, reads: PassReads) -> framework.Inputs:
        info = pod_info(pod)
        selector = await reads.default_selector(pod, info)
        claims = await self._volumes.claims_of(pod)
        if claims is None or isinstance(claims, str):
            return framework.Inputs(claims=claims, default_selector=selector)
        return framework.Inputs(
            claims=claims.found,
            volumes=tuple(claims.volumes),
            classes=tuple(claims.classes),
            default_selector=selector,
        )

    async def _place(self, pod: Obj, snap: Snapshot, reads: PassReads) -> Snapshot:
        """One attempt for ``pod``; returns the snapshot with it placed, for the next pod."""
        uid = pod["metadata"].get("uid", "")
        info = pod_info(pod)
        inputs = await self._inputs(pod, reads)
        if self._cache is None or self._cache.holds(info.key):
            snap = snap.without({info.key})  # its own earlier placement, if it waits on one
        kept = self._waiting_on.get(uid, "")
        result = framework.schedule(info, snap, inputs, self._rng, keep=kept)
        if isinstance(result, framework.Unschedulable):
            self._waiting_on.pop(uid, None)
            if self._cache is not None:
                self._cache.forget(info.key)
            self._queue.unschedulable(uid, self._registry.clock.monotonic())
            await self._reporter.unschedulable(pod, result.message)
            return snap
        placed = snap.with_pod(info, result.node)  # counts for later pods of this pass
        if self._cache is not None:
            self._cache.assume(info.on(result.node))  # and for later passes
        if result.bindings is not None and not await self._prebind(pod, result):
            self._waiting_on[uid] = result.node
            self._queue.waiting(uid)
            return placed
        md = pod["metadata"]
        try:
            await bind(self._registry, md["namespace"], md["name"], result.node)
        except BaseException:
            if self._cache is not None:
                self._cache.forget(info.key)
            raise
        self._waiting_on.pop(uid, None)
        self._queue.scheduled(uid)
        await self._reporter.scheduled(pod, result.node)
        return placed

    async def _prebind(self, pod: Obj, placed: framework.Placed) -> bool:
        """True once the pod's claims are bound; a pod waiting longer than upstream's bind
        timeout is told so (and waits on)."""
        assert placed.bindings is not None
        bound, timed_out = await self._volumes.prebind(pod, placed.node, placed.bindings)
        if timed_out:
            await self._reporter.event(pod, "Warning", "FailedScheduling", PREBIND_TIMEOUT)
        return bound
