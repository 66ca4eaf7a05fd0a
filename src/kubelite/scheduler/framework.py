"""One scheduling attempt for one pod, as kube-scheduler's default profile makes it: PreFilter,
Filter on every node, PostFilter's message when none is left, then Score, normalise, weigh and
pick.

Filters run in the profile's order and a node's first refusal is its reason: NodeUnschedulable,
NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, VolumeRestrictions,
VolumeBinding, PodTopologySpread, InterPodAffinity. Scores, each 0-100 after normalising, are
weighed as the profile weighs them (TaintToleration 3, NodeAffinity 2, PodTopologySpread 2,
InterPodAffinity 2, NodeResourcesFit 1, NodeResourcesBalancedAllocation 1, ImageLocality 1);
a plugin with nothing to score for the pod is left out. The highest total wins; ties are broken
at random (``rng``, seeded in tests). A single feasible node is taken without scoring.

Pure: no I/O (the claims, volumes and classes the volume plugins read, and the selector of the
objects that own or expose the pod, come in as ``Inputs``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from kubelite import volumebinding as vb
from kubelite.model.objects import JSON
from kubelite.scheduler import (
    imagelocality,
    nodeaffinity,
    podaffinity,
    preemption,
    resourcefit,
    taints,
    topologyspread,
)
from kubelite.scheduler.fiterror import NO_NODES, fit_error
from kubelite.scheduler.nodeinfo import NodeInfo, Snapshot
from kubelite.scheduler.normalize import default_normalize
from kubelite.scheduler.podinfo import PodInfo
from kubelite.scheduler.status import (
    BALANCED_ALLOCATION,
    IMAGE_LOCALITY,
    INTER_POD_AFFINITY,
    NODE_AFFINITY,
    NODE_RESOURCES_FIT,
    POD_TOPOLOGY_SPREAD,
    TAINT_TOLERATION,
    VOLUME_BINDING,
    VOLUME_RESTRICTIONS,
    WEIGHTS,
    Status,
    unresolvable,
    unschedulable,
)


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the plugins read besides the snapshot."""

    claims: vb.PodClaims | str | None = None  # None: no claims; str: PreFilter's refusal
    volumes: tuple[JSON, ...] = ()
    classes: tuple[JSON, ...] = ()
    default_selector: JSON | None = None  # for the default topology spread constraints


@dataclass(frozen=True, slots=True)
class Placed:
    node: str
    bindings: vb.Bindings | None = None  # PreBind's writes for the pod's claims
    scores: dict[str, int] = field(default_factory=dict)  # the weighed totals, by node


@dataclass(frozen=True, slots=True)
class Unschedulable:
    message: str


@dataclass(frozen=True, slots=True)
class PreFilterState:
    names: frozenset[str] | None = None  # NodeAffinity's PreFilterResult
    claims: vb.PodClaims | None = None
    rwop_conflict: bool = False
    spread: topologyspread.FilterState | None = None
    affinity: podaffinity.FilterState | None = None


def prefilter(pod: PodInfo, snap: Snapshot, inputs: Inputs) -> PreFilterState | Status:
    names = nodeaffinity.prefilter(pod)
    if isinstance(names, Status):
        return names
    claims, rwop = None, False
    if isinstance(inputs.claims, str):
        if inputs.claims == vb.RWOP_CONFLICT:
            rwop = True  # VolumeRestrictions refuses it node by node
        else:
            return unresolvable(VOLUME_BINDING, inputs.claims)
    elif inputs.claims is not None and not inputs.claims.empty:
        claims = inputs.claims
    return PreFilterState(
        names=names,
        claims=claims,
        rwop_conflict=rwop,
        spread=topologyspread.prefilter(pod, snap, inputs.default_selector),
        affinity=podaffinity.prefilter(pod, snap),
    )


def filter_node(
    pod: PodInfo, node: NodeInfo, snap: Snapshot, pre: PreFilterState, inputs: Inputs
) -> tuple[Status | None, vb.Bindings | None]:
    """The node's first refusal (None: it fits), and PreBind's writes for it."""
    for check in (
        taints.node_unschedulable,
        nodeaffinity.node_name,
        taints.taint_toleration,
        nodeaffinity.node_affinity,
        resourcefit.node_ports,
        resourcefit.node_resources_fit,
    ):
        status = check(pod, node)
        if status is not None:
            return status, None
    if pre.rwop_conflict:
        return unschedulable(VOLUME_RESTRICTIONS, vb.RWOP_CONFLICT), None
    bindings = None
    if pre.claims is not None:
        bindings = vb.on_node(pre.claims, node.raw, inputs.volumes, inputs.classes)
        if bindings.reasons:
            return unresolvable(VOLUME_BINDING, *bindings.reasons), None
    status = topologyspread.pod_topology_spread(pre.spread, pod, node)
    if status is None:
        status = podaffinity.inter_pod_affinity(pre.affinity, node, snap)
    return status, (bindings if status is None else None)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    statuses: dict[str, Status]
    absent: Status | None = None  # nodes PreFilter left out
    prefilter: Status | None = None  # PreFilter refused the pod outright


def find_feasible(
    pod: PodInfo, snap: Snapshot, inputs: Inputs
) -> tuple[list[tuple[NodeInfo, vb.Bindings | None]], Diagnosis]:
    pre = prefilter(pod, snap, inputs)
    if isinstance(pre, Status):
        return [], Diagnosis({}, absent=pre, prefilter=pre)
    nodes, absent = list(snap.nodes), None
    if pre.names is not None:
        nodes = [n for n in nodes if n.name in pre.names]
        absent = unresolvable(NODE_AFFINITY, f"node(s) didn't satisfy plugin(s) [{NODE_AFFINITY}]")
    feasible: list[tuple[NodeInfo, vb.Bindings | None]] = []
    statuses: dict[str, Status] = {}
    for node in nodes:
        status, bindings = filter_node(pod, node, snap, pre, inputs)
        if status is None:
            feasible.append((node, bindings))
        else:
            statuses[node.name] = status
    return feasible, Diagnosis(statuses, absent=absent)


def _evaluate(pod: PodInfo, inputs: Inputs) -> preemption.Evaluate:
    def run(snap: Snapshot, name: str) -> Status | None:
        pre = prefilter(pod, snap, inputs)
        if isinstance(pre, Status):
            return pre
        node = snap.get(name)
        if node is None:
            return None
        return filter_node(pod, node, snap, pre, inputs)[0]

    return run


def failure(pod: PodInfo, snap: Snapshot, inputs: Inputs, diagnosis: Diagnosis) -> str:
    """The ``FailedScheduling`` message: the FitError with preemption's part."""
    post = preemption.postfilter(
        pod, snap, diagnosis.statuses, diagnosis.absent, _evaluate(pod, inputs)
    )
    return fit_error(
        len(snap.nodes),
        diagnosis.statuses,
        absent=diagnosis.absent,
        prefilter=diagnosis.prefilter.message() if diagnosis.prefilter else "",
        postfilter=post,
    )


def plugin_scores(
    pod: PodInfo, nodes: Sequence[NodeInfo], snap: Snapshot, inputs: Inputs
) -> dict[str, dict[str, int]]:
    """Each scoring plugin's normalised scores (0-100) by node; plugins that skip the pod are
    absent."""
    out: dict[str, dict[str, int]] = {}
    out[TAINT_TOLERATION] = default_normalize(
        {n.name: taints.intolerable_preferences(pod, n) for n in nodes}, reverse=True
    )
    preferred = nodeaffinity.preferred_terms(pod)
    if preferred:
        out[NODE_AFFINITY] = default_normalize(
            {n.name: nodeaffinity.preferred_score(preferred, n) for n in nodes}, reverse=False
        )
    out[NODE_RESOURCES_FIT] = {n.name: resourcefit.least_allocated(pod, n) for n in nodes}
    spread = topologyspread.prescore(pod, nodes, snap, inputs.default_selector)
    if spread is not None:
        out[POD_TOPOLOGY_SPREAD] = topologyspread.normalize(
            spread, {n.name: topologyspread.score(spread, pod, n) for n in nodes}
        )
    groups = podaffinity.prescore(pod, snap)
    if groups is not None:
        out[INTER_POD_AFFINITY] = podaffinity.normalize(
            {n.name: podaffinity.score(groups, n) for n in nodes}
        )
    if not resourcefit.is_best_effort(pod):
        out[BALANCED_ALLOCATION] = {n.name: resourcefit.balanced_allocation(pod, n) for n in nodes}
    spread_of_images = snap.image_nodes()
    out[IMAGE_LOCALITY] = {
        n.name: imagelocality.image_locality(pod, n, spread_of_images, len(snap.nodes))
        for n in nodes
    }
    return out


def weighed(per_plugin: dict[str, dict[str, int]], nodes: Sequence[NodeInfo]) -> dict[str, int]:
    return {
        n.name: sum(WEIGHTS[p] * scores.get(n.name, 0) for p, scores in per_plugin.items())
        for n in nodes
    }


def select(totals: dict[str, int], rng: random.Random) -> str:
    """The node with the highest total; among equals, one at random."""
    best = max(totals.values())
    return rng.choice(sorted(n for n, s in totals.items() if s == best))


def schedule(
    pod: PodInfo, snap: Snapshot, inputs: Inputs, rng: random.Random, *, keep: str = ""
) -> Placed | Unschedulable:
    """``keep``: the node chosen for the pod in an earlier pass, whose claims are being bound
    there; it is kept while it still fits (upstream's binding cycle stays on its node)."""
    if not snap.nodes:
        return Unschedulable(NO_NODES)
    feasible, diagnosis = find_feasible(pod, snap, inputs)
    if not feasible:
        return Unschedulable(failure(pod, snap, inputs, diagnosis))
    kept = [(n, b) for n, b in feasible if n.name == keep]
    if kept:
        return Placed(keep, kept[0][1])
    if len(feasible) == 1:
        node, bindings = feasible[0]
        return Placed(node.name, bindings)
    nodes = [n for n, _ in feasible]
    totals = weighed(plugin_scores(pod, nodes, snap, inputs), nodes)
    chosen = select(totals, rng)
    bindings = next(b for n, b in feasible if n.name == chosen)
    return Placed(chosen, bindings, totals)
