"""The node lifecycle controller (the controller manager's): a node whose agent stops renewing
its Lease in ``kube-node-lease`` (and stops posting status) for the grace period gets its
conditions marked ``Unknown``, and every node carries the taints its conditions call for.

As in the controller manager, the controller keeps, per node, the moment (on its own clock) it
last saw the node alive: when the ``Ready`` condition's ``lastHeartbeatTime`` changes or the
Lease's ``renewTime`` moves forward. When that is longer ago than ``--node-monitor-grace-period``
(40 s; 60 s, the startup grace period, for a node that never posted ``Ready``), ``Ready``,
``MemoryPressure``, ``DiskPressure`` and ``PIDPressure`` turn ``Unknown``: an existing condition
with reason ``NodeStatusUnknown`` and message ``Kubelet stopped posting node status.``, a missing
one with ``NodeStatusNeverUpdated`` and ``Kubelet never posted node status.``. The status is
written only when ``Ready`` changes.

When the Lease is renewed again, a kubelet would post its status within seconds; kubelite's
agent reports its status only every 5 minutes (or when it registers again), so the controller
puts back the conditions it replaced, stamped now, as long as they are still the ones it wrote.

Taints (``taintdecisions.node_taints``): ``Ready`` False or Unknown puts
``node.kubernetes.io/not-ready`` or ``node.kubernetes.io/unreachable`` on the node, with
effects ``NoSchedule`` and ``NoExecute``, pressure conditions and ``spec.unschedulable`` their
``NoSchedule`` taints; they go again when the condition clears. Evicting the pods of a node
with a ``NoExecute`` taint is the taint eviction controller's work (``tainteviction``).

``assess`` and ``mark_unknown``/``restore`` are the pure decisions; ``NodeLifecycleController``
is the loop: two informers (Nodes, Leases) and a work queue of node names, with every node
queued again each ``monitor_period`` so a silent node is noticed.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

from kubelite.client.rest import ApiClient, Obj, Resource
from kubelite.clock import Clock, SystemClock, parse_rfc3339, rfc3339
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.taintdecisions import node_taints, with_taints
from kubelite.controllers.workqueue import WorkQueue

log = logging.getLogger(__name__)

NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
LEASE_NAMESPACE = "kube-node-lease"

GRACE_PERIOD = 40.0  # --node-monitor-grace-period
STARTUP_GRACE_PERIOD = 60.0  # --node-startup-grace-period
MONITOR_PERIOD = 5.0  # --node-monitor-period

WATCHED_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
UNKNOWN_REASON = "NodeStatusUnknown"
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."
NEVER_REASON = "NodeStatusNeverUpdated"
NEVER_MESSAGE = "Kubelet never posted node status."


@dataclass(frozen=True, slots=True)
class Health:
    """What the controller last saw of a node: when (on its own clock) it last showed life,
    and the heartbeat and lease renewal that showed it."""

    alive_at: float
    heartbeat: str | None
    renewed: float | None


def _condition(node: Obj, kind: str) -> dict[str, Any] | None:
    for c in (node.get("status") or {}).get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == kind:
            return c
    return None


def _renew_time(lease: Obj | None) -> float | None:
    text = ((lease or {}).get("spec") or {}).get("renewTime")
    try:
        return parse_rfc3339(str(text)) if text else None
    except ValueError:
        return None


def observe(previous: Health | None, node: Obj, lease: Obj | None, now: float) -> Health:
    """The node's health after looking at it at ``now``: alive now if its Ready heartbeat
    changed or its Lease was renewed since ``previous`` (or if it is seen for the first time)."""
    ready = _condition(node, "Ready")
    heartbeat = str(ready.get("lastHeartbeatTime") or "") if ready else None
    renewed = _renew_time(lease)
    if previous is None:
        return Health(now, heartbeat, renewed)
    alive_at = previous.alive_at
    if ready is not None and heartbeat != previous.heartbeat:
        alive_at = now
    if renewed is not None and (previous.renewed is None or renewed > previous.renewed):
        alive_at = now
    return Health(alive_at, heartbeat, renewed)


@dataclass(frozen=True, slots=True)
class GracePeriods:
    """``--node-monitor-grace-period`` and ``--node-startup-grace-period``."""

    monitor: float = GRACE_PERIOD
    startup: float = STARTUP_GRACE_PERIOD


def grace_period(node: Obj, periods: GracePeriods = GracePeriods()) -> float:
    return periods.monitor if _condition(node, "Ready") is not None else periods.startup


def overdue(health: Health, node: Obj, now: float, periods: GracePeriods = GracePeriods()) -> bool:
    return now > health.alive_at + grace_period(node, periods)


def mark_unknown(node: Obj, stamp: str) -> list[dict[str, Any]] | None:
    """The node's conditions with the watched ones made ``Unknown`` (``stamp`` is now, as a
    timestamp), or None if ``Ready`` would not change (then nothing is written)."""
    conditions = copy.deepcopy((node.get("status") or {}).get("conditions") or [])
    ready_before = copy.deepcopy(_condition(node, "Ready"))
    created = str((node.get("metadata") or {}).get("creationTimestamp") or "")
    for kind in WATCHED_CONDITIONS:
        current = next((c for c in conditions if c.get("type") == kind), None)
        if current is None:
            conditions.append(
                {
                    "type": kind,
                    "status": "Unknown",
                    "lastHeartbeatTime": created,
                    "lastTransitionTime": stamp,
                    "reason": NEVER_REASON,
                    "message": NEVER_MESSAGE,
                }
            )
        elif current.get("status") != "Unknown":
            current.update(
                status="Unknown",
                reason=UNKNOWN_REASON,
                message=UNKNOWN_MESSAGE,
                lastTransitionTime=stamp,
            )
    ready_after = next((c for c in conditions if c.get("type") == "Ready"), None)
    return None if ready_after == ready_before else conditions


def _ours(condition: dict[str, Any]) -> bool:
    return condition.get("status") == "Unknown" and condition.get("reason") in (
        UNKNOWN_REASON,
        NEVER_REASON,
    )


def written_by_us(node: Obj) -> bool:
    """Whether ``Ready`` still reads as this controller wrote it."""
    ready = _condition(node, "Ready")
    return ready is not None and _ours(ready)


def restore(node: Obj, replaced: list[dict[str, Any]], stamp: str) -> list[dict[str, Any]]:
    """The node's conditions with those this controller replaced put back, their heartbeat
    and transition stamped now; those it added (never posted) go again."""
    back = {c.get("type"): c for c in replaced if isinstance(c, dict)}
    out = []
    for c in (node.get("status") or {}).get("conditions") or []:
        kind = c.get("type")
        if not _ours(c):
            out.append(c)
        elif kind in back:
            out.append({**back[kind], "lastHeartbeatTime": stamp, "lastTransitionTime": stamp})
    return out


class NodeLifecycleController:
    """Marks silent nodes' conditions ``Unknown`` (and puts them back once they renew), and
    keeps every node's condition taints."""

    def __init__(
        self,
        client: ApiClient,
        *,
        clock: Clock | None = None,
        monitor_period: float = MONITOR_PERIOD,
        grace: GracePeriods = GracePeriods(),
        informers: InformerSet | None = None,
    ) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self._clock = clock or SystemClock()
        self._period = monitor_period
        self._grace = grace
        self.nodes = self._informers.get(NODES)
        self.leases = self._informers.get(LEASES, namespace=LEASE_NAMESPACE)
        self.queue: WorkQueue[str] = WorkQueue(clock=self._clock)
        self._health: dict[str, Health] = {}
        self._replaced: dict[str, tuple[str, list[dict[str, Any]]]] = {}  # name -> (uid, conds)
        self.nodes.add_handler(self._on_node)
        self.leases.add_handler(self._on_lease)

    def _on_node(self, kind: str, obj: Obj) -> None:
        name = str((obj.get("metadata") or {}).get("name") or "")
        if kind == "DELETED":
            self._health.pop(name, None)
            self._replaced.pop(name, None)
        self.queue.add(name)

    def _on_lease(self, kind: str, obj: Obj) -> None:
        self.queue.add(str((obj.get("metadata") or {}).get("name") or ""))

    async def run(self) -> None:
        """Monitor until cancelled."""
        async with self._informers.running(self.nodes, self.leases) as tg:
            tg.create_task(self._monitor(), name="node-monitor")
            await self.queue.run(self.reconcile, name="node lifecycle controller")

    async def _monitor(self) -> None:
        while True:
            for node in self.nodes.items():
                self.queue.add(str(node["metadata"].get("name") or ""))
            await self._clock.sleep(self._period)

    async def reconcile(self, name: str) -> None:
        node = self.nodes.get("", name)
        if node is None:
            return
        now = self._clock.monotonic()
        lease = self.leases.get(LEASE_NAMESPACE, name)
        health = self._health[name] = observe(self._health.get(name), node, lease, now)
        stamp = rfc3339(self._clock.now())
        await self._health_check(name, node, health, now, stamp)
        await self._taint(name, stamp)

    async def _health_check(
        self, name: str, node: Obj, health: Health, now: float, stamp: str
    ) -> None:
        if overdue(health, node, now, self._grace):
            conditions = mark_unknown(node, stamp)
            if conditions is not None:
                log.info("node %s stopped posting its status; its conditions are Unknown", name)
                replaced = copy.deepcopy((node.get("status") or {}).get("conditions") or [])
                await self._write(node, conditions)
                self._replaced[name] = (str(node["metadata"].get("uid") or ""), replaced)
            return
        kept = self._replaced.get(name)
        if kept is not None and kept[0] == node["metadata"].get("uid") and written_by_us(node):
            log.info("node %s renewed its lease again; its conditions are back", name)
            await self._write(node, restore(node, kept[1], stamp))
        self._replaced.pop(name, None)

    async def _taint(self, name: str, stamp: str) -> None:
        """The taints the node's conditions (as now written) call for."""
        node = self.nodes.get("", name)
        if node is None:
            return
        taints = node_taints(node, stamp)
        if taints is None:
            return
        keys = sorted({f"{t.get('key')}:{t.get('effect')}" for t in taints})
        log.info("node %s: taints now %s", name, ", ".join(keys) or "none")
        self.nodes.assume(await self._client.replace(NODES, with_taints(node, taints)))

    async def _write(self, node: Obj, conditions: list[dict[str, Any]]) -> None:
        body = {**node, "status": {**(node.get("status") or {}), "conditions": conditions}}
        self.nodes.assume(await self._client.replace(NODES, body, sub="status"))
