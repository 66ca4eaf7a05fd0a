"""What the scheduler tells users: the ``Scheduled`` and ``FailedScheduling`` events (source
``default-scheduler``) and the ``PodScheduled=False/Unschedulable`` condition with the failure's
message.

A pod that stays unschedulable for the same reason is reported once; a new message is reported
again (upstream repeats the event on each attempt, which the event recorder folds into a count).
The event's text is cut to 1024 bytes; the condition keeps it whole.
"""

from __future__ import annotations

import logging
from typing import Any

from kubelite.clock import rfc3339
from kubelite.errors import KubeliteError
from kubelite.model.eventname import EventNamer
from kubelite.registry.events import EVENTS
from kubelite.registry.pods import PODS
from kubelite.registry.service import Registry
from kubelite.scheduler.fiterror import truncate

log = logging.getLogger(__name__)

SCHEDULER_NAME = "default-scheduler"
UNSCHEDULABLE = "Unschedulable"
Obj = dict[str, Any]


class Reporter:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._reported: dict[str, str] = {}  # pod uid -> last FailedScheduling message
        self._event_names = EventNamer()  # <pod>.<hex ns>, time-ordered as client-go's

    def forget_except(self, live: set[str]) -> None:
        self._reported = {u: m for u, m in self._reported.items() if u in live}

    async def scheduled(self, pod: Obj, node: str) -> None:
        md = pod["metadata"]
        self._reported.pop(md.get("uid", ""), None)
        text = f"Successfully assigned {md['namespace']}/{md['name']} to {node}"
        await self.event(pod, "Normal", "Scheduled", text, action="Binding")

    async def unschedulable(self, pod: Obj, message: str) -> None:
        uid = pod["metadata"].get("uid", "")
        if self._reported.get(uid) == message:
            return
        self._reported[uid] = message
        await self._condition(pod, message)
        await self.event(pod, "Warning", "FailedScheduling", truncate(message))

    async def _condition(self, pod: Obj, message: str) -> None:
        md = pod["metadata"]
        status = dict(pod.get("status") or {})
        conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conds.append(
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": UNSCHEDULABLE,
                "message": message,
                "lastProbeTime": None,
                "lastTransitionTime": rfc3339(self._registry.clock.now()),
            }
        )
        status["conditions"] = conds
        new = {**pod, "status": status}
        await self._registry.update(PODS, md["namespace"], md["name"], new, subresource="status")

    async def event(
        self, pod: Obj, type_: str, reason: str, message: str, *, action: str = "Scheduling"
    ) -> None:
        md = pod["metadata"]
        at = self._registry.clock.now()
        now = rfc3339(at)
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": self._event_names.name(md["name"], at),
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
            "action": action,
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
