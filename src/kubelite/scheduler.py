"""A minimal scheduler for a single-node cluster: bind every pending, unbound pod to the node.

A pod fits when the node is schedulable and the effective requests (``model.resources``) of the
pods already bound to it plus this pod's stay within the node's ``status.allocatable`` (cpu,
memory, pods). A pod that fits is bound through the binding rule (``registry.pods.bind``) with a
``Scheduled`` event; one that does not gets ``PodScheduled=False/Unschedulable`` and a
``FailedScheduling`` warning, and is tried again on the next pass. Pods naming another
``schedulerName`` are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from contextlib import aclosing
from fractions import Fraction
from typing import Any

from kubelite.clock import rfc3339
from kubelite.errors import KubeliteError
from kubelite.model.quantity import QuantityError, parse_quantity
from kubelite.model.resources import pod_requests
from kubelite.registry.events import EVENTS
from kubelite.registry.nodes import NODES
from kubelite.registry.pods import PODS, bind
from kubelite.registry.resource import Kind
from kubelite.registry.service import Registry
from kubelite.store.interface import Compacted

log = logging.getLogger(__name__)

SCHEDULER_NAME = "default-scheduler"
TERMINAL = ("Succeeded", "Failed")
Obj = dict[str, Any]


def _allocatable(node: Obj) -> dict[str, Fraction]:
    status = node.get("status") or {}
    raw = status.get("allocatable") or status.get("capacity") or {}
    out = {}
    for k, v in raw.items():
        try:
            out[k] = parse_quantity(v)
        except (QuantityError, ValueError, TypeError):
            continue
    return out


def _requests(pod: Obj) -> dict[str, Fraction]:
    try:
        return dict(pod_requests(pod.get("spec") or {}))
    except (QuantityError, ValueError, TypeError):
        return {}


def _phrase(resource: str) -> str:
    return f"Too many {resource}" if resource == "pods" else f"Insufficient {resource}"


def unfit_reasons(pod: Obj, node: Obj, bound: list[Obj]) -> list[str]:
    """Why ``pod`` does not fit on ``node`` next to ``bound`` (empty: it fits)."""
    if (node.get("spec") or {}).get("unschedulable"):
        return ["node(s) were unschedulable"]
    alloc = _allocatable(node)
    used: dict[str, Fraction] = {"pods": Fraction(len(bound))}
    for other in bound:
        for k, v in _requests(other).items():
            used[k] = used.get(k, Fraction(0)) + v
    want = {**_requests(pod), "pods": Fraction(1)}
    reasons = []
    for k, v in sorted(want.items()):
        if k in alloc and used.get(k, Fraction(0)) + v > alloc[k]:
            reasons.append(_phrase(k))
    return reasons


class Scheduler:
    """Runs a pass whenever a pod or node changes, and every ``retry`` seconds regardless
    (so pods that did not fit are tried again)."""

    def __init__(self, *, registry: Registry, retry: float = 5.0) -> None:
        self._registry = registry
        self._retry = retry
        self._wake = asyncio.Event()
        self._reported: dict[str, str] = {}  # pod uid -> last FailedScheduling message

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._follow(PODS), name="scheduler-watch-pods")
            tg.create_task(self._follow(NODES), name="scheduler-watch-nodes")
            while True:
                self._wake.clear()
                try:
                    await self.schedule_once()
                except KubeliteError as exc:
                    log.debug("scheduler pass failed: %s", exc)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._retry):
                        await self._wake.wait()

    async def _follow(self, kind: Kind) -> None:
        """Wake the loop on every change of ``kind``; re-subscribe if the history is gone."""
        while True:
            since = self._registry.store.current_revision()
            try:
                async with aclosing(self._registry.watch(kind, None, since)) as events:
                    async for _ in events:
                        self._wake.set()
            except Compacted:
                self._wake.set()

    async def schedule_once(self) -> None:
        pods, _ = await self._registry.list(PODS, None)
        pending = [
            p
            for p in pods
            if not p.get("spec", {}).get("nodeName")
            and not p["metadata"].get("deletionTimestamp")
            and p.get("spec", {}).get("schedulerName", SCHEDULER_NAME) == SCHEDULER_NAME
        ]
        live = {p["metadata"].get("uid", "") for p in pending}
        for uid in [u for u in self._reported if u not in live]:
            del self._reported[uid]
        if not pending:
            return
        nodes, _ = await self._registry.list(NODES, None)
        for pod in pending:
            await self._place(pod, nodes, pods)

    async def _place(self, pod: Obj, nodes: list[Obj], pods: list[Obj]) -> None:
        reasons: list[str] = []
        for node in nodes:
            name = node["metadata"]["name"]
            bound = [
                p
                for p in pods
                if p.get("spec", {}).get("nodeName") == name
                and p.get("status", {}).get("phase") not in TERMINAL
            ]
            why = unfit_reasons(pod, node, bound)
            if not why:
                await self._bind(pod, name)
                pod.setdefault("spec", {})["nodeName"] = name  # counts for later pods
                return
            reasons += why
        await self._unschedulable(pod, len(nodes), reasons)

    async def _bind(self, pod: Obj, node: str) -> None:
        md = pod["metadata"]
        await bind(self._registry, md["namespace"], md["name"], node)
        self._reported.pop(md.get("uid", ""), None)
        await self._event(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {md['namespace']}/{md['name']} to {node}",
        )

    async def _unschedulable(self, pod: Obj, n_nodes: int, reasons: list[str]) -> None:
        counts: dict[str, int] = {}
        for r in reasons:
            counts[r] = counts.get(r, 0) + 1
        detail = " ".join(f"{n} {r}." for r, n in sorted(counts.items()))
        message = f"0/{n_nodes} nodes are available: {detail}".rstrip()
        if n_nodes == 0:
            message = "no nodes available to schedule pods"
        uid = pod["metadata"].get("uid", "")
        if self._reported.get(uid) == message:
            return
        self._reported[uid] = message
        await self._condition(pod, message)
        await self._event(pod, "Warning", "FailedScheduling", message)

    async def _condition(self, pod: Obj, message: str) -> None:
        md = pod["metadata"]
        status = dict(pod.get("status") or {})
        conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conds.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastProbeTime": None,
                "lastTransitionTime": rfc3339(self._registry.clock.now()),
            }
        )
        status["conditions"] = conds
        new = {**pod, "status": status}
        await self._registry.update(PODS, md["namespace"], md["name"], new, subresource="status")

    async def _event(self, pod: Obj, type_: str, reason: str, message: str) -> None:
        md = pod["metadata"]
        now = rfc3339(self._registry.clock.now())
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{md['name']}.{uuid.uuid4().hex[:16]}",
                "namespace": md["namespace"],
            },
            "involvedObject": {
                "kind": "Pod",
                "apiVersion": "v1",
                "namespace": md["namespace"],
                "name": md["name"],
                "uid": md.get("uid", ""),
                "resourceVersion": md.get("resourceVersion", ""),
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "source": {"component": SCHEDULER_NAME},
            "reportingComponent": SCHEDULER_NAME,
            "reportingInstance": SCHEDULER_NAME,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        try:
            await self._registry.create(EVENTS, md["namespace"], event)
        except KubeliteError as exc:  # e.g. the namespace is terminating
            log.debug("scheduler event dropped: %s", exc)
