"""Taints and tolerations: the NodeUnschedulable and TaintToleration plugins.

A toleration tolerates a taint when its effect is empty or the same, its key is empty or the
same, and, with operator ``Exists``, whatever the value; with ``Equal`` (or none) the values
are equal (``Toleration.ToleratesTaint``). The filter refuses a node with a ``NoSchedule`` or
``NoExecute`` taint the pod does not tolerate — the first one, in the node's order, names the
reason — and nothing else can change that (``UnschedulableAndUnresolvable``). NotReady and
unreachable nodes are refused this way, through the taints the node lifecycle controller puts
on them. A cordoned node (``spec.unschedulable``) is refused unless the pod tolerates
``node.kubernetes.io/unschedulable:NoSchedule``. The score counts the ``PreferNoSchedule``
taints a pod does not tolerate; fewer is better.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from kubelite.model.objects import JSON
from kubelite.scheduler.nodeinfo import NodeInfo
from kubelite.scheduler.podinfo import PodInfo
from kubelite.scheduler.status import (
    NODE_UNSCHEDULABLE,
    TAINT_TOLERATION,
    Status,
    unresolvable,
)

NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
NO_EXECUTE = "NoExecute"
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": NO_SCHEDULE}

UNSCHEDULABLE_REASON = "node(s) were unschedulable"


def tolerates(toleration: JSON, taint: JSON) -> bool:
    effect = toleration.get("effect") or ""
    if effect and effect != (taint.get("effect") or ""):
        return False
    key = toleration.get("key") or ""
    if key and key != (taint.get("key") or ""):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if operator == "Equal":
        return (toleration.get("value") or "") == (taint.get("value") or "")
    return False


def tolerations_of(pod: PodInfo) -> list[JSON]:
    return [t for t in pod.spec.get("tolerations") or () if isinstance(t, Mapping)]


def tolerated(tolerations: Sequence[JSON], taint: JSON) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def first_untolerated(
    taints: Sequence[JSON], tolerations: Sequence[JSON], effects: Collection[str]
) -> JSON | None:
    """``FindMatchingUntoleratedTaint``: the first taint with one of ``effects`` that no
    toleration tolerates."""
    for taint in taints:
        if taint.get("effect") in effects and not tolerated(tolerations, taint):
            return taint
    return None


def node_unschedulable(pod: PodInfo, node: NodeInfo) -> Status | None:
    if node.unschedulable and not tolerated(tolerations_of(pod), UNSCHEDULABLE_TAINT):
        return unresolvable(NODE_UNSCHEDULABLE, UNSCHEDULABLE_REASON)
    return None


def taint_toleration(pod: PodInfo, node: NodeInfo) -> Status | None:
    taint = first_untolerated(node.taints, tolerations_of(pod), (NO_SCHEDULE, NO_EXECUTE))
    if taint is None:
        return None
    key, value = taint.get("key") or "", taint.get("value") or ""
    return unresolvable(TAINT_TOLERATION, f"node(s) had untolerated taint {{{key}: {value}}}")


def intolerable_preferences(pod: PodInfo, node: NodeInfo) -> int:
    """The score before normalising: how many ``PreferNoSchedule`` taints of the node the pod
    does not tolerate (only tolerations with that effect, or none, count)."""
    soft = [t for t in tolerations_of(pod) if (t.get("effect") or "") in ("", PREFER_NO_SCHEDULE)]
    return sum(
        1
        for taint in node.taints
        if taint.get("effect") == PREFER_NO_SCHEDULE and not tolerated(soft, taint)
    )
