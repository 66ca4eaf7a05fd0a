"""The InterPodAffinity plugin: required and preferred pod affinity and anti-affinity, grouped
by any node label as topology (``kubernetes.io/hostname`` puts each node in its own group).

PreFilter counts, per topology pair (label key, value):

- ``existing_anti``: bound pods whose required anti-affinity terms select the incoming pod;
- ``affinity``: bound pods that match *all* the incoming pod's required affinity terms;
- ``anti``: bound pods that match each of its required anti-affinity terms.

The filter then refuses a node (in this order) that lacks a topology label of the pod's
affinity terms or has no matching pod in its group — unless no pod anywhere matches and the
pod matches its own terms (the first of a group that wants to be together), which nothing but
another pod can help (unresolvable); a node in a group holding a pod its anti-affinity
excludes; a node in a group where a bound pod's anti-affinity excludes it.

The score adds, per group, the weights of preferred terms satisfied either way (the incoming
pod's terms selecting bound pods, bound pods' preferred terms selecting it, and their required
affinity terms counted with weight 1), anti-affinity subtracting, and normalises the sums to
0-100 between the lowest and the highest.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kubelite.scheduler.nodeinfo import NodeInfo, Snapshot
from kubelite.scheduler.podinfo import AffinityTerm, PodInfo
from kubelite.scheduler.status import (
    INTER_POD_AFFINITY,
    MAX_NODE_SCORE,
    Status,
    unresolvable,
    unschedulable,
)

EXISTING_ANTI_REASON = "node(s) didn't satisfy existing pods anti-affinity rules"
AFFINITY_REASON = "node(s) didn't match pod affinity rules"
ANTI_REASON = "node(s) didn't match pod anti-affinity rules"
HARD_AFFINITY_WEIGHT = 1  # InterPodAffinityArgs.hardPodAffinityWeight

Pair = tuple[str, str]  # (topology key, value)


def _pair(node: NodeInfo, key: str) -> Pair | None:
    value = node.labels.get(key)
    return None if value is None else (key, value)


def _add(counts: dict[Pair, int], node: NodeInfo, key: str, amount: int = 1) -> None:
    pair = _pair(node, key)
    if pair is not None:
        counts[pair] = counts.get(pair, 0) + amount


def _matches_all(terms: Iterable[AffinityTerm], pod: PodInfo, snap: Snapshot) -> bool:
    terms = tuple(terms)
    ns = snap.labels_of_namespace(pod.namespace)
    return bool(terms) and all(t.matches(pod, ns) for t in terms)


@dataclass(frozen=True, slots=True)
class FilterState:
    pod: PodInfo
    existing_anti: Mapping[Pair, int] = field(default_factory=dict)
    affinity: Mapping[Pair, int] = field(default_factory=dict)
    anti: Mapping[Pair, int] = field(default_factory=dict)


def prefilter(pod: PodInfo, snap: Snapshot) -> FilterState | None:
    """The counts the filter reads; None when neither the pod nor any bound pod has required
    (anti-)affinity to check (upstream's Skip)."""
    own_ns = snap.labels_of_namespace(pod.namespace)
    existing_anti: dict[Pair, int] = {}
    affinity: dict[Pair, int] = {}
    anti: dict[Pair, int] = {}
    for node in snap.nodes:
        for other in node.pods:
            for term in other.required_anti_affinity:
                if term.matches(pod, own_ns):
                    _add(existing_anti, node, term.topology_key)
            if not pod.required_affinity and not pod.required_anti_affinity:
                continue
            if _matches_all(pod.required_affinity, other, snap):
                for term in pod.required_affinity:
                    _add(affinity, node, term.topology_key)
            other_ns = snap.labels_of_namespace(other.namespace)
            for term in pod.required_anti_affinity:
                if term.matches(other, other_ns):
                    _add(anti, node, term.topology_key)
    if not existing_anti and not pod.required_affinity and not pod.required_anti_affinity:
        return None
    return FilterState(pod, existing_anti, affinity, anti)


def _satisfies_affinity(state: FilterState, node: NodeInfo, snap: Snapshot) -> bool:
    found = True
    for term in state.pod.required_affinity:
        pair = _pair(node, term.topology_key)
        if pair is None:
            return False  # every topology label must be on the node
        if state.affinity.get(pair, 0) <= 0:
            found = False
    if found:
        return True
    # the first pod of a group that wants to be together: nothing matches anywhere yet
    return not state.affinity and _matches_all(state.pod.required_affinity, state.pod, snap)


def _satisfies_anti(state: FilterState, node: NodeInfo) -> bool:
    for term in state.pod.required_anti_affinity:
        pair = _pair(node, term.topology_key)
        if pair is not None and state.anti.get(pair, 0) > 0:
            return False
    return True


def _satisfies_existing_anti(state: FilterState, node: NodeInfo) -> bool:
    return not any(state.existing_anti.get(p, 0) > 0 for p in node.labels.items())


def inter_pod_affinity(state: FilterState | None, node: NodeInfo, snap: Snapshot) -> Status | None:
    if state is None:
        return None
    if not _satisfies_affinity(state, node, snap):
        return unresolvable(INTER_POD_AFFINITY, AFFINITY_REASON)
    if not _satisfies_anti(state, node):
        return unschedulable(INTER_POD_AFFINITY, ANTI_REASON)
    if not _satisfies_existing_anti(state, node):
        return unschedulable(INTER_POD_AFFINITY, EXISTING_ANTI_REASON)
    return None


# -- scoring ------------------------------------------------------------------------------------

TopologyScores = dict[str, dict[str, int]]  # topology key -> value -> score


def _credit(
    scores: TopologyScores,
    term: AffinityTerm,
    weight: int,
    target: PodInfo,
    node: NodeInfo,
    snap: Snapshot,
) -> None:
    if not term.matches(target, snap.labels_of_namespace(target.namespace)):
        return
    value = node.labels.get(term.topology_key)
    if value is not None:
        group = scores.setdefault(term.topology_key, {})
        group[value] = group.get(value, 0) + weight


def prescore(pod: PodInfo, snap: Snapshot) -> TopologyScores | None:
    """Upstream's PreScore: scores per topology value; None when there is nothing to score
    (the plugin is skipped)."""
    scores: TopologyScores = {}
    wants = bool(pod.preferred_affinity or pod.preferred_anti_affinity)
    for node in snap.nodes:
        if not node.labels:
            continue
        for other in node.pods:
            if not wants and not other.has_affinity:
                continue
            for term in pod.preferred_affinity:
                _credit(scores, term, term.weight, other, node, snap)
            for term in pod.preferred_anti_affinity:
                _credit(scores, term, -term.weight, other, node, snap)
            for term in other.required_affinity:
                _credit(scores, term, HARD_AFFINITY_WEIGHT, pod, node, snap)
            for term in other.preferred_affinity:
                _credit(scores, term, term.weight, pod, node, snap)
            for term in other.preferred_anti_affinity:
                _credit(scores, term, -term.weight, pod, node, snap)
    scores = {k: v for k, v in scores.items() if v}
    return scores or None


def score(scores: TopologyScores, node: NodeInfo) -> int:
    return sum(
        values.get(node.labels[key], 0) for key, values in scores.items() if key in node.labels
    )


def normalize(raw: Mapping[str, int]) -> dict[str, int]:
    """Between the lowest and the highest score, scaled to 0-100 (0 everywhere when equal)."""
    if not raw:
        return {}
    low, high = min(raw.values()), max(raw.values())
    spread = high - low
    return {
        name: int(MAX_NODE_SCORE * ((s - low) / spread)) if spread > 0 else 0
        for name, s in raw.items()
    }
