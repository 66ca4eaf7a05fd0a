"""The pod cgroup's limits, as the kubelet sets them (its ``ResourceConfigForPod``, RES-3).

The pod's effective limit of a resource (``model.resources.pod_limits``: the larger of the
app containers plus sidecars and each init container's use, plus overhead) caps the pod
cgroup only when every container has a limit for it: every app container, and every init
container's use (itself plus the sidecars declared before it, so a regular init container
after a limited sidecar counts as limited). One container without a limit leaves the whole
pod unlimited for that resource; a zero limit counts as none. BestEffort pods limit nothing
and Guaranteed pods limit both, which this rule gives by itself.

CPU limits become a CFS quota over the kubelet's 100 ms period, as for a container. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from kubelite.model.pod import PodSpec
from kubelite.model.quantity import parse_quantity
from kubelite.model.resources import pod_limits

CPU_PERIOD = 100_000  # microseconds: the kubelet's default CFS period
MIN_QUOTA = 1_000  # the kernel's smallest quota (1 ms)


@dataclass(frozen=True, slots=True)
class PodCgroupLimits:
    """What the runtime writes on the pod cgroup; None leaves a resource unlimited."""

    memory_limit: int | None = None  # bytes
    cpu_quota: int | None = None  # microseconds per ``cpu_period``
    cpu_period: int | None = None


def cpu_quota(milli_cpu: int) -> int | None:
    """The CFS quota for a limit of ``milli_cpu`` over ``CPU_PERIOD`` (at least 1 ms); a zero
    limit sets none (the kubelet's ``MilliCPUToQuota``)."""
    if milli_cpu <= 0:
        return None
    return max(MIN_QUOTA, milli_cpu * CPU_PERIOD // 1000)


def _limit(container: Mapping[str, Any], resource: str) -> Fraction:
    value = ((container.get("resources") or {}).get("limits") or {}).get(resource)
    return parse_quantity(value) if value is not None else Fraction(0)


def _uses(spec: Mapping[str, Any], resource: str) -> Iterator[Fraction]:
    """Each container's own part of ``resource``'s limit: every init container's use (itself
    plus the sidecars declared before it; a sidecar's is every sidecar so far), then every app
    container's own limit."""
    sidecars = Fraction(0)
    for c in spec.get("initContainers") or ():
        own = _limit(c, resource)
        if c.get("restartPolicy") == "Always":  # SC-1
            sidecars += own
            yield sidecars
        else:
            yield own + sidecars
    for c in spec.get("containers") or ():
        yield _limit(c, resource)


def limited(spec: Mapping[str, Any], resource: str) -> bool:
    """Every container has a non-zero limit of ``resource`` (RES-3: else the pod has none)."""
    return all(use > 0 for use in _uses(spec, resource))


def pod_cgroup_limits(pod: PodSpec) -> PodCgroupLimits:
    """RES-3: the memory limit and CPU quota of the pod cgroup."""
    spec = pod.raw.get("spec") or {}
    totals = pod_limits(spec)
    memory = totals.get("memory", Fraction(0)) if limited(spec, "memory") else Fraction(0)
    cpu = totals.get("cpu", Fraction(0)) if limited(spec, "cpu") else Fraction(0)
    quota = cpu_quota(math.ceil(cpu * 1000))
    return PodCgroupLimits(
        memory_limit=math.ceil(memory) if memory > 0 else None,
        cpu_quota=quota,
        cpu_period=CPU_PERIOD if quota is not None else None,
    )
