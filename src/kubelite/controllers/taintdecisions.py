"""Taints the node lifecycle controller keeps on a node from its conditions, and when the
taint eviction controller deletes a pod from a node with ``NoExecute`` taints. Pure.

Node taints (TaintNodesByCondition and the NoExecute tainting pass): ``Ready`` False is
``node.kubernetes.io/not-ready``, ``Unknown`` is ``node.kubernetes.io/unreachable``, each with
effect ``NoSchedule`` and ``NoExecute`` (the NoExecute one swapped for the other as the
condition changes, both gone once ``Ready`` is True); ``MemoryPressure``/``DiskPressure``/
``PIDPressure``/``NetworkUnavailable`` True add their ``NoSchedule`` taint and
``spec.unschedulable`` adds ``node.kubernetes.io/unschedulable:NoSchedule``. A taint the
controller adds is stamped ``timeAdded``; one that stays keeps its stamp; taints the
controller does not manage are left alone.

Eviction (the taint manager's processPodOnNode): a pod that does not tolerate every
``NoExecute`` taint of its node goes at once; one that tolerates them all goes after the
smallest ``tolerationSeconds`` of the tolerations used (counted from when it was first
scheduled for eviction), or never if none of them has a limit.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.model.objects import JSON, Obj

NO_SCHEDULE = "NoSchedule"
NO_EXECUTE = "NoExecute"
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
CONDITION_TAINTS: dict[str, dict[str, str]] = {
    "Ready": {"False": NOT_READY, "Unknown": UNREACHABLE},
    "MemoryPressure": {"True": "node.kubernetes.io/memory-pressure"},
    "DiskPressure": {"True": "node.kubernetes.io/disk-pressure"},
    "NetworkUnavailable": {"True": "node.kubernetes.io/network-unavailable"},
    "PIDPressure": {"True": "node.kubernetes.io/pid-pressure"},
}
MANAGED_NO_SCHEDULE = frozenset(
    {UNSCHEDULABLE, *(key for by_status in CONDITION_TAINTS.values() for key in by_status.values())}
)
MANAGED_NO_EXECUTE = frozenset({NOT_READY, UNREACHABLE})


def _conditions(node: JSON) -> dict[str, str]:
    conds = (node.get("status") or {}).get("conditions") or []
    return {str(c.get("type")): str(c.get("status")) for c in conds if isinstance(c, Mapping)}


def _taints(node: JSON) -> list[dict[str, Any]]:
    return [dict(t) for t in (node.get("spec") or {}).get("taints") or [] if isinstance(t, Mapping)]


def wanted_taints(node: JSON) -> set[tuple[str, str]]:
    """The (key, effect) pairs the controller wants on ``node`` now."""
    conds = _conditions(node)
    out = set()
    for kind, by_status in CONDITION_TAINTS.items():
        key = by_status.get(conds.get(kind, ""))
        if key:
            out.add((key, NO_SCHEDULE))
    if (node.get("spec") or {}).get("unschedulable"):
        out.add((UNSCHEDULABLE, NO_SCHEDULE))
    ready = conds.get("Ready")
    if ready == "False":
        out.add((NOT_READY, NO_EXECUTE))
    elif ready == "Unknown":
        out.add((UNREACHABLE, NO_EXECUTE))
    return out


def _managed(taint: Mapping[str, Any]) -> bool:
    key, effect = taint.get("key"), taint.get("effect")
    return (effect == NO_SCHEDULE and key in MANAGED_NO_SCHEDULE) or (
        effect == NO_EXECUTE and key in MANAGED_NO_EXECUTE
    )


def node_taints(node: JSON, stamp: str) -> list[dict[str, Any]] | None:
    """The node's taints as the controller wants them (``stamp``: now, for added ones), or
    None if they already are."""
    current = _taints(node)
    wanted = wanted_taints(node)
    kept = [t for t in current if not _managed(t) or (t.get("key"), t.get("effect")) in wanted]
    have = {(t.get("key"), t.get("effect")) for t in kept}
    added = [
        {"key": key, "effect": effect, "timeAdded": stamp}
        for key, effect in sorted(wanted)
        if (key, effect) not in have
    ]
    if not added and len(kept) == len(current):
        return None
    return kept + added


def with_taints(node: JSON, taints: list[dict[str, Any]]) -> Obj:
    out = copy.deepcopy(dict(node))
    spec = out.setdefault("spec", {})
    if taints:
        spec["taints"] = taints
    else:
        spec.pop("taints", None)
    return out


# -- eviction ---------------------------------------------------------------------------------


def tolerates(toleration: JSON, taint: JSON) -> bool:
    """Toleration.ToleratesTaint."""
    effect = toleration.get("effect") or ""
    if effect and effect != (taint.get("effect") or ""):
        return False
    key = toleration.get("key") or ""
    if key and key != (taint.get("key") or ""):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def no_execute_taints(node: JSON) -> list[dict[str, Any]]:
    return [t for t in _taints(node) if t.get("effect") == NO_EXECUTE]


def matching_tolerations(
    taints: Sequence[JSON], tolerations: Sequence[JSON]
) -> tuple[bool, list[JSON]]:
    """Whether every taint is tolerated, and the tolerations used (GetMatchingTolerations)."""
    used: list[JSON] = []
    for taint in taints:
        match = next((t for t in tolerations if tolerates(t, taint)), None)
        if match is None:
            return False, []
        used.append(match)
    return True, used


def min_toleration_seconds(used: Sequence[JSON]) -> float | None:
    """The smallest ``tolerationSeconds`` (0 or less: at once); None: tolerated forever."""
    if not used:
        return 0.0
    limits = [t.get("tolerationSeconds") for t in used]
    seconds = [s for s in limits if isinstance(s, int) and not isinstance(s, bool)]
    if not seconds:
        return None
    return float(max(0, min(seconds)))


@dataclass(frozen=True, slots=True)
class Eviction:
    """A pod scheduled for deletion: since ``created`` (when first scheduled), at ``at``."""

    created: float
    at: float


def eviction(
    pod: JSON, taints: Sequence[JSON], now: float, scheduled: Eviction | None
) -> Eviction | None:
    """When ``pod`` (on a node with NoExecute ``taints``) is to be deleted; None: never (any
    eviction scheduled is cancelled)."""
    if not taints:
        return None
    given = (pod.get("spec") or {}).get("tolerations") or []
    tolerations = [t for t in given if isinstance(t, Mapping)]
    every, used = matching_tolerations(taints, tolerations)
    if not every:
        return Eviction(now, now)
    seconds = min_toleration_seconds(used)
    if seconds is None:
        return None
    start = scheduled.created if scheduled is not None else now
    at = start + seconds
    if scheduled is not None and scheduled.at <= at:
        return scheduled
    return Eviction(start, at)


DISRUPTION_TARGET = {
    "type": "DisruptionTarget",
    "status": "True",
    "reason": "DeletionByTaintManager",
    "message": "Taint manager: deleting due to NoExecute taint",
}
