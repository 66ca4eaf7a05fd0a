"""``kubelite up`` says why a pod fails to start: one log line per Warning event about a pod.

The kubelet and the scheduler report what goes wrong as Warning events (``FailedScheduling``,
``Failed`` with ``ErrImagePull``, ``BackOff``, ``FailedMount``, ``FailedCreatePodSandBox`` …);
a user running ``kubelite up`` in a terminal sees each one as it is made, without asking
kubectl. A repeat of an event (its count raised) is not logged again, nor is a failing probe
(``Unhealthy``), which is about a pod that started.
"""

from __future__ import annotations

import logging
from contextlib import aclosing

from kubelite.model.objects import JSON
from kubelite.registry.events import EVENTS
from kubelite.registry.service import Registry
from kubelite.store.interface import Compacted

log = logging.getLogger("kubelite.pods")

NOT_STARTING = frozenset({"Unhealthy", "ProbeWarning"})


def failure_line(event: JSON) -> str | None:
    """The line for a new event, or None if it says nothing about a pod failing to start."""
    involved = event.get("involvedObject") or {}
    if event.get("type") != "Warning" or involved.get("kind") != "Pod":
        return None
    reason = str(event.get("reason") or "")
    if reason in NOT_STARTING:
        return None
    where = f"{involved.get('namespace') or 'default'}/{involved.get('name', '')}"
    container = _container(str(involved.get("fieldPath") or ""))
    if container:
        where += f" ({container})"
    return f"pod {where} failed to start: {reason}: {event.get('message', '')}"


def _container(field_path: str) -> str:
    """``spec.containers{app}`` → ``app``."""
    head, _, rest = field_path.partition("{")
    return rest.rstrip("}") if head and rest else ""


async def report_pod_failures(registry: Registry) -> None:
    """Log each new Warning event about a pod until cancelled."""
    while True:
        since = registry.store.current_revision()
        try:
            async with aclosing(registry.watch(EVENTS, None, since)) as events:
                async for ev in events:
                    line = failure_line(ev.object) if ev.type == "ADDED" else None
                    if line is not None:
                        log.warning("%s", line)
        except Compacted:
            continue
