"""Effective pod resources with init containers and sidecars (RES-*), QoS class (QOS-*) and
the oom_score_adj the runtime applies.

The kubelet sizes the pod cgroup and picks the QoS class from these numbers, and the scheduler
role uses the same requests, so they live in ``model`` where every layer can reach them.
Quantities are exact (``Fraction``) until the caller rounds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from kubelite.model.quantity import parse_quantity

Resources = dict[str, Fraction]
QOS_RESOURCES = ("cpu", "memory")  # QOS-2: only these two matter

GUARANTEED_OOM_SCORE_ADJ = -997  # QOS-3
BEST_EFFORT_OOM_SCORE_ADJ = 1000
SANDBOX_OOM_SCORE_ADJ = -998


def _amounts(container: Mapping[str, Any], which: str) -> Resources:
    resources = container.get("resources") or {}
    return {name: parse_quantity(v) for name, v in (resources.get(which) or {}).items()}


def _add(total: Resources, more: Mapping[str, Fraction]) -> Resources:
    out = dict(total)
    for name, value in more.items():
        out[name] = out.get(name, Fraction(0)) + value
    return out


def _max(a: Mapping[str, Fraction], b: Mapping[str, Fraction]) -> Resources:
    return {k: max(a.get(k, Fraction(0)), b.get(k, Fraction(0))) for k in set(a) | set(b)}


def _is_sidecar(container: Mapping[str, Any]) -> bool:
    return container.get("restartPolicy") == "Always"  # SC-1


def _aggregate(spec: Mapping[str, Any], which: str) -> Resources:
    """RES-2 / RES-3: max(sum(app) + sum(sidecars), max_i init use(i)), resource by resource."""
    apps: Resources = {}
    for c in spec.get("containers") or ():
        apps = _add(apps, _amounts(c, which))
    sidecars: Resources = {}
    init_max: Resources = {}
    for c in spec.get("initContainers") or ():
        own = _amounts(c, which)
        if _is_sidecar(c):
            sidecars = _add(sidecars, own)
            use = sidecars  # this sidecar and every one declared before it
        else:
            use = _add(own, sidecars)  # sidecars declared before it are still running
        init_max = _max(init_max, use)
    return _max(_add(apps, sidecars), init_max)


def _overhead(spec: Mapping[str, Any]) -> Resources:
    return {k: parse_quantity(v) for k, v in (spec.get("overhead") or {}).items()}


def pod_requests(spec: Mapping[str, Any]) -> Resources:
    """RES-2: the effective pod requests, with ``spec.overhead`` added when set."""
    return _add(_aggregate(spec, "requests"), _overhead(spec))


def pod_limits(spec: Mapping[str, Any]) -> Resources:
    """RES-3: effective limits; a resource no container limits is absent (unlimited).
    Overhead is added only to non-zero limits."""
    limits = _aggregate(spec, "limits")
    overhead = _overhead(spec)
    return {k: v + overhead.get(k, Fraction(0)) if v else v for k, v in limits.items()}


def _all_containers(spec: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from spec.get("initContainers") or ()
    yield from spec.get("containers") or ()


def qos_class(spec: Mapping[str, Any]) -> str:
    """QOS-1: ``BestEffort``, ``Guaranteed`` or ``Burstable`` from cpu/memory sums."""
    requests: Resources = {}
    limits: Resources = {}
    every_container_limits_both = True
    for c in _all_containers(spec):
        reqs = {k: v for k, v in _amounts(c, "requests").items() if k in QOS_RESOURCES and v}
        lims = {k: v for k, v in _amounts(c, "limits").items() if k in QOS_RESOURCES and v}
        requests = _add(requests, reqs)
        limits = _add(limits, lims)
        if set(lims) != set(QOS_RESOURCES):
            every_container_limits_both = False
    if not requests and not limits:
        return "BestEffort"
    if every_container_limits_both and set(requests) == set(limits) and requests == limits:
        return "Guaranteed"
    return "Burstable"


def _memory_request(container: Mapping[str, Any]) -> Fraction:
    return _amounts(container, "requests").get("memory", Fraction(0))


def _burstable_score(memory_request: Fraction, node_memory: int) -> int:
    """QOS-3: 1000 - 1000 x request / capacity (integer), at least 3, and 999 instead of 1000."""
    score = 1000 - int(1000 * int(memory_request) // node_memory)
    if score < 3:
        return 3
    return 999 if score >= 1000 else score


def oom_score_adj(spec: Mapping[str, Any], container_name: str, node_memory: int) -> int:
    """QOS-3 / QOS-4: the container's oom_score_adj; a Burstable sidecar is capped at the
    value of the app container with the smallest memory request."""
    qos = qos_class(spec)
    if qos == "Guaranteed":
        return GUARANTEED_OOM_SCORE_ADJ
    if qos == "BestEffort":
        return BEST_EFFORT_OOM_SCORE_ADJ
    containers = list(_all_containers(spec))
    container = next(c for c in containers if c.get("name") == container_name)
    score = _burstable_score(_memory_request(container), node_memory)
    if _is_sidecar(container) and any(True for _ in spec.get("containers") or ()):
        smallest = min(_memory_request(c) for c in spec.get("containers") or ())
        score = min(score, _burstable_score(smallest, node_memory))
    return score
