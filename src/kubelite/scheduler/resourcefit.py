"""Resources: the NodeResourcesFit filter and score (LeastAllocated) and the
NodeResourcesBalancedAllocation score; the NodePorts filter.

The filter counts the pods bound to a node, and adds up what they request (their effective
requests, RES-2) against the node's allocatable: one more pod over the ``pods`` allocatable is
``Too many pods``; a request over what is left is ``Insufficient <resource>``. A request larger
than the node's whole allocatable cannot be helped by removing pods (unresolvable); the others
could. A pod that requests nothing is checked for its pod count only.

LeastAllocated scores CPU and memory, weight 1 each, counting containers that request neither at
100m and 200Mi: ``(allocatable - requested) * 100 / allocatable`` per resource, averaged.
BalancedAllocation scores how evenly the node's CPU and memory would be used (the real requests):
``(1 - std) * 100`` of the two fractions; a pod that requests neither is not scored by it.

Pure: no I/O.
"""

from __future__ import annotations

import math

from kubelite.scheduler.nodeinfo import NodeInfo
from kubelite.scheduler.podinfo import CPU, EPHEMERAL_STORAGE, MEMORY, PODS, PodInfo
from kubelite.scheduler.status import (
    MAX_NODE_SCORE,
    NODE_PORTS,
    NODE_RESOURCES_FIT,
    Code,
    Status,
    unschedulable,
)

PORTS_REASON = "node(s) didn't have free ports for the requested pod ports"
_NAMED = {CPU: "Insufficient cpu", MEMORY: "Insufficient memory"}
_SCORED = (CPU, MEMORY)  # the default resources of both scores, weight 1 each


def _is_scalar(name: str) -> bool:
    """Extended, hugepages and attachable-volume resources (``IsScalarResourceName``)."""
    return "/" in name or name.startswith(("hugepages-", "attachable-volumes-"))


def node_resources_fit(pod: PodInfo, node: NodeInfo) -> Status | None:
    """``fitsRequest``: every shortfall, in upstream's order (pods, cpu, memory,
    ephemeral-storage, then the others)."""
    reasons: list[str] = []
    unresolvable = False
    if len(node.pods) + 1 > node.allowed_pods:
        reasons.append("Too many pods")
    wanted = {k: v for k, v in pod.requests.items() if k != PODS and v > 0}
    order = [CPU, MEMORY, EPHEMERAL_STORAGE]
    order += sorted(k for k in wanted if k not in order and _is_scalar(k))
    for name in order:
        want = wanted.get(name, 0)
        if want <= 0:
            continue
        have = node.allocatable.get(name, 0)
        if want > have - node.requested.get(name, 0):
            reasons.append(_NAMED.get(name, f"Insufficient {name}"))
            unresolvable = unresolvable or want > have
    if not reasons:
        return None
    code = Code.UNRESOLVABLE if unresolvable else Code.UNSCHEDULABLE
    return Status(code, tuple(reasons), NODE_RESOURCES_FIT)


def node_ports(pod: PodInfo, node: NodeInfo) -> Status | None:
    used = node.used_ports
    if any(want.conflicts(held) for want in pod.host_ports for held in used):
        return unschedulable(NODE_PORTS, PORTS_REASON)
    return None


def _least_requested(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def least_allocated(pod: PodInfo, node: NodeInfo) -> int:
    """NodeResourcesFit's score (LeastAllocated, cpu and memory weighted 1)."""
    wanted = {
        CPU: node.nonzero_cpu + pod.nonzero_cpu,
        MEMORY: node.nonzero_memory + pod.nonzero_memory,
    }
    score = weights = 0
    for name in _SCORED:
        capacity = node.allocatable.get(name, 0)
        if capacity == 0:
            continue
        score += _least_requested(wanted[name], capacity)
        weights += 1
    return score // weights if weights else 0


def is_best_effort(pod: PodInfo) -> bool:
    """BalancedAllocation skips a pod that requests no CPU and no memory at all."""
    return all(pod.requests.get(name, 0) == 0 for name in _SCORED)


def balanced_allocation(pod: PodInfo, node: NodeInfo) -> int:
    fractions = []
    for name in _SCORED:
        capacity = node.allocatable.get(name, 0)
        if capacity == 0:
            continue
        requested = node.requested.get(name, 0) + pod.requests.get(name, 0)
        fractions.append(min(1.0, requested / capacity))
    std = 0.0
    if len(fractions) == 2:
        std = abs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    return int((1 - std) * MAX_NODE_SCORE)
