"""The PodTopologySpread plugin: ``topologySpreadConstraints`` by hostname or any node label.

A constraint counts, per topology value, the pods in the pod's namespace that its selector
picks (the pod's ``matchLabelKeys`` added; terminating pods not counted) on the nodes that take
part: nodes carrying every constraint's topology label, that match the pod's node affinity
(``nodeAffinityPolicy: Honor``, the default) and, with ``nodeTaintsPolicy: Honor`` (default
``Ignore``), whose taints it tolerates.

``DoNotSchedule`` (the filter): a node is refused when its group's count, plus one if the pod
itself matches, exceeds the smallest group's by more than ``maxSkew`` — the smallest being 0
while fewer groups than ``minDomains`` exist; a node without the topology label is refused for
good.

``ScheduleAnyway`` (the score): each node is scored by its group's count times ``log(groups +
2)`` plus ``maxSkew - 1``, and the scores are turned round to 0-100 so the emptiest group wins.
A pod with no constraints of its own gets the cluster's defaults when a Service, ReplicaSet,
StatefulSet or ReplicationController selects it: ``ScheduleAnyway`` by hostname (maxSkew 3)
and by zone (maxSkew 5), over the selectors of those objects (``default_selector``).

Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubelite.model import labelselector
from kubelite.model.objects import JSON
from kubelite.scheduler.nodeaffinity import required_matches
from kubelite.scheduler.nodeinfo import NodeInfo, Snapshot
from kubelite.scheduler.podinfo import PodInfo
from kubelite.scheduler.status import (
    MAX_NODE_SCORE,
    POD_TOPOLOGY_SPREAD,
    Status,
    unresolvable,
    unschedulable,
)
from kubelite.scheduler.taints import NO_EXECUTE, NO_SCHEDULE, first_untolerated, tolerations_of

REASON = "node(s) didn't match pod topology spread constraints"
MISSING_LABEL_REASON = REASON + " (missing required label)"
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
DO_NOT_SCHEDULE = "DoNotSchedule"
SCHEDULE_ANYWAY = "ScheduleAnyway"
HONOR, IGNORE = "Honor", "Ignore"


@dataclass(frozen=True, slots=True)
class Constraint:
    max_skew: int
    topology_key: str
    selector: JSON | None
    min_domains: int = 1
    node_affinity_policy: str = HONOR
    node_taints_policy: str = IGNORE

    def counts(self, pod: PodInfo) -> bool:
        """Whether ``pod`` is one this constraint counts (``countPodsMatchSelector``)."""
        if not self.selector or pod.deleting:  # an empty selector counts nothing
            return False
        return self.selects(pod)

    def selects(self, pod: PodInfo) -> bool:
        """Whether the selector picks ``pod`` (the incoming pod's own match: an empty
        selector picks it, though it counts no bound pod)."""
        try:
            return labelselector.matches(self.selector, pod.labels)
        except labelselector.InvalidSelector:
            return False

    def includes(self, pod: PodInfo, node: NodeInfo) -> bool:
        """``matchNodeInclusionPolicies``."""
        if self.node_affinity_policy == HONOR and not required_matches(pod, node):
            return False
        if self.node_taints_policy == HONOR:
            taints = (NO_SCHEDULE, NO_EXECUTE)
            if first_untolerated(node.taints, tolerations_of(pod), taints) is not None:
                return False
        return True


SYSTEM_DEFAULTS = (
    Constraint(3, HOSTNAME, None),
    Constraint(5, ZONE, None),
)


def _merge_label_keys(selector: Any, keys: Any, labels: Mapping[str, str]) -> JSON | None:
    if not isinstance(selector, Mapping):
        return None
    picked = {k: labels[k] for k in keys or () if isinstance(k, str) and k in labels}
    if not picked:
        return selector
    merged = [{"key": k, "operator": "In", "values": [v]} for k, v in picked.items()]
    return {**selector, "matchExpressions": [*(selector.get("matchExpressions") or ()), *merged]}


def constraints(pod: PodInfo, when: str, default_selector: JSON | None) -> list[Constraint]:
    """The pod's constraints for ``when`` (DoNotSchedule or ScheduleAnyway), or the system
    defaults over ``default_selector`` when it declares none."""
    own = [c for c in pod.spec.get("topologySpreadConstraints") or () if isinstance(c, Mapping)]
    if not own:
        if when != SCHEDULE_ANYWAY or not default_selector:
            return []
        return [Constraint(c.max_skew, c.topology_key, default_selector) for c in SYSTEM_DEFAULTS]
    out = []
    for c in own:
        if (c.get("whenUnsatisfiable") or DO_NOT_SCHEDULE) != when:
            continue
        min_domains = c.get("minDomains")
        out.append(
            Constraint(
                max_skew=int(c.get("maxSkew") or 1),
                topology_key=str(c.get("topologyKey") or ""),
                selector=_merge_label_keys(
                    c.get("labelSelector"), c.get("matchLabelKeys"), pod.labels
                ),
                min_domains=min_domains if isinstance(min_domains, int) else 1,
                node_affinity_policy=str(c.get("nodeAffinityPolicy") or HONOR),
                node_taints_policy=str(c.get("nodeTaintsPolicy") or IGNORE),
            )
        )
    return out


def _has_all_keys(node: NodeInfo, cs: Sequence[Constraint]) -> bool:
    return all(c.topology_key in node.labels for c in cs)


def _count(node: NodeInfo, c: Constraint, namespace: str) -> int:
    return sum(1 for p in node.pods if p.namespace == namespace and c.counts(p))


# -- the filter ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilterState:
    constraints: tuple[Constraint, ...]
    counts: tuple[Mapping[str, int], ...] = field(default_factory=tuple)  # per constraint

    def minimum(self, i: int) -> int:
        groups = self.counts[i]
        if len(groups) < self.constraints[i].min_domains:
            return 0
        return min(groups.values(), default=2**31 - 1)


def prefilter(pod: PodInfo, snap: Snapshot, default_selector: JSON | None) -> FilterState | None:
    cs = constraints(pod, DO_NOT_SCHEDULE, default_selector)
    if not cs:
        return None
    counts: list[dict[str, int]] = [{} for _ in cs]
    for node in snap.nodes:
        if not _has_all_keys(node, cs):
            continue
        for i, c in enumerate(cs):
            if not c.includes(pod, node):
                continue
            value = node.labels[c.topology_key]
            counts[i][value] = counts[i].get(value, 0) + _count(node, c, pod.namespace)
    return FilterState(tuple(cs), tuple(counts))


def pod_topology_spread(state: FilterState | None, pod: PodInfo, node: NodeInfo) -> Status | None:
    if state is None:
        return None
    for i, c in enumerate(state.constraints):
        value = node.labels.get(c.topology_key)
        if value is None:
            return unresolvable(POD_TOPOLOGY_SPREAD, MISSING_LABEL_REASON)
        own = 1 if c.selects(pod) else 0
        if state.counts[i].get(value, 0) + own - state.minimum(i) > c.max_skew:
            return unschedulable(POD_TOPOLOGY_SPREAD, REASON)
    return None


# -- the score ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreState:
    constraints: tuple[Constraint, ...]
    ignored: frozenset[str]
    weights: tuple[float, ...]
    pair_counts: Mapping[tuple[str, str], int]


def prescore(
    pod: PodInfo, feasible: Sequence[NodeInfo], snap: Snapshot, default_selector: JSON | None
) -> ScoreState | None:
    """None: nothing to score (the pod has no ScheduleAnyway constraints)."""
    cs = constraints(pod, SCHEDULE_ANYWAY, default_selector)
    if not cs or not feasible:
        return None
    # the system defaults do not require every topology label (nodes without zones still
    # spread by hostname)
    require_all = bool(pod.spec.get("topologySpreadConstraints"))
    ignored: set[str] = set()
    pairs: dict[tuple[str, str], int] = {}
    sizes = [0] * len(cs)
    for node in feasible:
        if require_all and not _has_all_keys(node, cs):
            ignored.add(node.name)
            continue
        for i, c in enumerate(cs):
            if c.topology_key == HOSTNAME:
                continue  # counted node by node when scoring
            pair = (c.topology_key, node.labels.get(c.topology_key, ""))
            if pair not in pairs:
                pairs[pair] = 0
                sizes[i] += 1
    weights = []
    for i, c in enumerate(cs):
        size = len(feasible) - len(ignored) if c.topology_key == HOSTNAME else sizes[i]
        weights.append(math.log(size + 2))
    for node in snap.nodes:
        if require_all and not _has_all_keys(node, cs):
            continue
        for c in cs:
            if not c.includes(pod, node):
                continue
            pair = (c.topology_key, node.labels.get(c.topology_key, ""))
            if pair in pairs:
                pairs[pair] += _count(node, c, pod.namespace)
    return ScoreState(tuple(cs), frozenset(ignored), tuple(weights), pairs)


def score(state: ScoreState, pod: PodInfo, node: NodeInfo) -> int:
    if node.name in state.ignored:
        return 0
    total = 0.0
    for i, c in enumerate(state.constraints):
        value = node.labels.get(c.topology_key)
        if value is None:
            continue
        if c.topology_key == HOSTNAME:
            count = _count(node, c, pod.namespace)
        else:
            count = state.pair_counts.get((c.topology_key, value), 0)
        total += count * state.weights[i] + (c.max_skew - 1)
    return _round_half_away(total)


def _round_half_away(x: float) -> int:
    """Go's ``math.Round``: halves away from zero (Python's ``round`` goes to even)."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def normalize(state: ScoreState, raw: Mapping[str, int]) -> dict[str, int]:
    """The fewest matching pods score 100: ``100 * (max + min - score) / max``."""
    counted = [s for n, s in raw.items() if n not in state.ignored]
    low = min(counted, default=0)
    high = max(counted, default=0)
    out = {}
    for name, s in raw.items():
        if name in state.ignored:
            out[name] = 0
        elif high == 0:
            out[name] = MAX_NODE_SCORE
        else:
            out[name] = MAX_NODE_SCORE * (high + low - s) // high
    return out


def _set_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    return all(labels.get(str(k)) == str(v) for k, v in selector.items())


def default_selector(
    pod: PodInfo, services: Sequence[JSON], controller: tuple[str, JSON] | None
) -> JSON:
    """``helper.DefaultSelector``: the selectors of the Services selecting the pod, with its
    controller's (``(kind, object)``: a ReplicationController's map, a ReplicaSet's or
    StatefulSet's label selector). Empty when nothing selects the pod."""
    merged: dict[str, str] = {}
    for service in services:
        selector = (service.get("spec") or {}).get("selector")
        if isinstance(selector, Mapping) and _set_matches(selector, pod.labels):
            merged.update({str(k): str(v) for k, v in selector.items()})
    expressions: list[JSON] = []
    if controller is not None:
        kind, obj = controller
        selector = (obj.get("spec") or {}).get("selector")
        if kind == "ReplicationController" and isinstance(selector, Mapping):
            merged.update({str(k): str(v) for k, v in selector.items()})
        elif kind in ("ReplicaSet", "StatefulSet") and isinstance(selector, Mapping):
            for k, v in (selector.get("matchLabels") or {}).items():
                expressions.append({"key": str(k), "operator": "In", "values": [str(v)]})
            expressions.extend(e for e in selector.get("matchExpressions") or () if e)
    out: dict[str, Any] = {}
    if merged:
        out["matchLabels"] = merged
    if expressions:
        out["matchExpressions"] = expressions
    return out
