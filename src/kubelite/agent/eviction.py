"""Local-storage eviction, as the kubelet's eviction manager does it (VOL-3, PH-5).

On its monitoring loop (every ``MONITOR_SECONDS``) the kubelet compares each active pod's use
of the node's disk with the pod's own limits, and evicts a pod that goes over one: the first
of these checks that trips decides the message, in this order:

1. a disk-backed emptyDir over its ``sizeLimit``:
   ``Usage of EmptyDir volume "<volume>" exceeds the limit "<sizeLimit>". ``
2. the pod's whole use (its disk emptyDirs, its containers' writable layers and logs) over the
   sum of its containers' ``ephemeral-storage`` limits (only when that sum exists):
   ``Pod ephemeral local storage usage exceeds the total limit of containers <limit>. ``
3. one container's writable layer and logs over its own ``ephemeral-storage`` limit:
   ``Container <name> exceeded its local ephemeral storage limit "<limit>". ``

The evicted pod gets phase Failed, reason ``Evicted`` and the message, a Warning ``Evicted``
event with the same text, and is killed with a grace period of ``EVICTION_GRACE`` seconds.

``evictions`` is PURE (usage is measured by the runtime's ``pod_storage``); ``watched`` says
which pods have any such limit, so that pods without one cost no walk of the disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from kubelite.model.quantity import QuantityError, parse_quantity
from kubelite.model.resources import pod_limits

MONITOR_SECONDS = 10.0  # the kubelet's --housekeeping-interval / eviction monitoring period
EVICTION_GRACE = 1  # VOL-3: the grace-period override of a local-storage eviction
REASON = "Evicted"
EPHEMERAL = "ephemeral-storage"

EMPTY_DIR_MESSAGE = 'Usage of EmptyDir volume "{volume}" exceeds the limit "{limit}". '
POD_MESSAGE = "Pod ephemeral local storage usage exceeds the total limit of containers {limit}. "
CONTAINER_MESSAGE = 'Container {name} exceeded its local ephemeral storage limit "{limit}". '


@dataclass(frozen=True, slots=True)
class Usage:
    """A pod's use of the disk in bytes (the runtime's PodStorage)."""

    volumes: Mapping[str, int]  # disk-backed emptyDir -> bytes
    containers: Mapping[str, int]  # container name -> writable layer + logs

    @property
    def total(self) -> int:
        return sum(self.volumes.values()) + sum(self.containers.values())


@dataclass(frozen=True, slots=True)
class Eviction:
    pod_uid: str
    message: str  # the pod's status message and the event's, byte for byte


def _size(value: Any) -> Fraction | None:
    try:
        return parse_quantity(value)
    except (QuantityError, TypeError, ValueError):
        return None


def _spec(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    return pod.get("spec") or {}


def _size_limits(pod: Mapping[str, Any]) -> list[tuple[str, str, Fraction]]:
    """(volume, sizeLimit as written, bytes) of every disk-backed emptyDir with a limit."""
    out = []
    for vol in _spec(pod).get("volumes") or ():
        ed = vol.get("emptyDir")
        if not isinstance(ed, dict) or (ed.get("medium") or "") == "Memory":
            continue
        limit = ed.get("sizeLimit")
        size = _size(limit) if limit is not None else None
        if size is not None and size > 0:
            out.append((str(vol.get("name") or ""), str(limit), size))
    return out


def _container_limits(pod: Mapping[str, Any]) -> list[tuple[str, str, Fraction]]:
    """(container, ephemeral-storage limit as written, bytes) of the app containers."""
    out = []
    for c in _spec(pod).get("containers") or ():
        limit = ((c.get("resources") or {}).get("limits") or {}).get(EPHEMERAL)
        size = _size(limit) if limit is not None else None
        if size is not None and size != 0:
            out.append((str(c.get("name") or ""), str(limit), size))
    return out


def _all_limits(pod: Mapping[str, Any]) -> list[str]:
    containers = [*(_spec(pod).get("initContainers") or ()), *(_spec(pod).get("containers") or ())]
    return [
        str(limit)
        for c in containers
        if (limit := ((c.get("resources") or {}).get("limits") or {}).get(EPHEMERAL)) is not None
    ]


def watched(pod: Mapping[str, Any]) -> bool:
    """Whether any check can trip for this pod (else its usage need not be measured)."""
    return bool(_size_limits(pod) or _all_limits(pod))


def format_quantity(value: Fraction, like: str) -> str:
    """A byte count as Kubernetes prints a sum of quantities: in the form of ``like`` (the
    first limit's), binary (``Ki``, ``Mi`` …) or decimal (``k``, ``M`` …), with the largest
    suffix that divides it exactly; a plain number otherwise."""
    if value.denominator != 1:
        return str(float(value))
    n = value.numerator
    binary = like.rstrip().endswith("i")
    base, suffixes = (1024, ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")) if binary else (
        1000, ("k", "M", "G", "T", "P", "E"))  # fmt: skip
    best = str(n)
    for i, suffix in enumerate(suffixes, start=1):
        unit = base**i
        if n and n % unit == 0 and abs(n) >= unit:
            best = f"{n // unit}{suffix}"
    return best


def pod_eviction(pod: Mapping[str, Any], usage: Usage) -> str | None:
    """The message of the first check this pod fails (see the module docstring), or None."""
    for volume, limit, size in _size_limits(pod):  # 1.
        used = usage.volumes.get(volume)
        if used is not None and used > size:
            return EMPTY_DIR_MESSAGE.format(volume=volume, limit=limit)
    total = pod_limits(_spec(pod)).get(EPHEMERAL)  # 2. (RES-3: absent when no one limits it)
    if total is not None and usage.total > total:
        first = next(iter(_all_limits(pod)), "")
        return POD_MESSAGE.format(limit=format_quantity(total, first))
    for name, limit, size in _container_limits(pod):  # 3.
        used = usage.containers.get(name)
        if used is not None and used > size:
            return CONTAINER_MESSAGE.format(name=name, limit=limit)
    return None


def evictions(pods: Iterable[tuple[Mapping[str, Any], Usage]]) -> list[Eviction]:
    """Every pod to evict this round, in the order given."""
    out = []
    for pod, usage in pods:
        message = pod_eviction(pod, usage)
        if message is not None:
            uid = str((pod.get("metadata") or {}).get("uid") or "")
            out.append(Eviction(uid, message))
    return out


def active(pods: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pods the eviction manager looks at: not being deleted, not finished."""
    return [
        p for p in pods
        if not (p.get("metadata") or {}).get("deletionTimestamp")
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        and watched(p)
    ]  # fmt: skip
