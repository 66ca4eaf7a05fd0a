"""PodMetrics and NodeMetrics from two samples, as metrics-server computes them. PURE.

CPU is the CPU time used between the two samples over the time between them (``window``),
in nanocores (``123456n``, canonicalised as the API writes quantities); memory is the newer
sample's working set in bytes, written in binary units (``7672Ki``). A container whose CPU
time went back, or which restarted between the samples, has no usage; a pod is listed only
while ``Running`` and only when every running container has usage, stamped with the earliest
of their timestamps (metrics-server's storage does the same).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubelite.api.metrics import Samples
from kubelite.clock import rfc3339
from kubelite.model.objects import JSON, Obj
from kubelite.model.quantityformat import canonical

GROUP_VERSION = "metrics.k8s.io/v1beta1"
_NANOS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Usage:
    cpu_nanocores: int
    memory_bytes: int
    timestamp: float  # the newer sample's
    window: float  # seconds between the two samples


def usage(samples: Samples) -> Usage | None:
    """The usage between the two samples, or None when there is no valid pair."""
    last, prev = samples.last, samples.prev
    if prev is None or last.start_time < prev.start_time or last.cpu_ns < prev.cpu_ns:
        return None
    window = last.timestamp - prev.timestamp
    if window <= 0:
        return None
    cpu = int((last.cpu_ns - prev.cpu_ns) / window)
    return Usage(cpu, max(0, last.memory_bytes), last.timestamp, window)


def cpu_quantity(nanocores: int) -> str:
    """``1127409n``; whole millicores and cores shorten as the API writes them (``5m``)."""
    return canonical(f"{nanocores}n")


def memory_quantity(size: int) -> str:
    """``7672Ki``: bytes in the largest binary unit that divides them (plain bytes below
    1 Ki or when no unit divides them)."""
    if size >= 1024 and size % 1024 == 0:
        return canonical(f"{size // 1024}Ki")
    return str(size)


def go_duration(seconds: float) -> str:
    """A ``metav1.Duration`` as Go writes it: ``15.042s``, ``1m0.5s``, ``350ms``, ``0s``."""
    ns = max(0, round(seconds * _NANOS))
    if ns == 0:
        return "0s"
    if ns < _NANOS:
        for scale, unit in ((1_000_000, "ms"), (1_000, "µs"), (1, "ns")):
            if ns >= scale:
                return _decimal(ns, scale) + unit
    hours, ns = divmod(ns, 3600 * _NANOS)
    minutes, ns = divmod(ns, 60 * _NANOS)
    head = f"{hours}h{minutes}m" if hours else (f"{minutes}m" if minutes else "")
    return f"{head}{_decimal(ns, _NANOS)}s"


def _decimal(value: int, scale: int) -> str:
    whole, frac = divmod(value, scale)
    if not frac:
        return str(whole)
    digits = len(str(scale)) - 1
    return f"{whole}.{str(frac).rjust(digits, '0').rstrip('0')}"


def _usage_fields(u: Usage) -> Obj:
    return {"cpu": cpu_quantity(u.cpu_nanocores), "memory": memory_quantity(u.memory_bytes)}


def _metadata(obj: JSON, now: float, *, namespaced: bool) -> Obj:
    meta = obj.get("metadata") or {}
    out: Obj = {"name": meta.get("name", "")}
    if namespaced:
        out["namespace"] = meta.get("namespace", "")
    out["creationTimestamp"] = rfc3339(now)
    if meta.get("labels"):
        out["labels"] = dict(meta["labels"])
    return out


def pod_metrics(pod: JSON, containers: Mapping[str, Samples], now: float) -> Obj | None:
    """The pod's PodMetrics, or None while it has none (not Running, no containers sampled,
    or a container without two valid samples)."""
    if (pod.get("status") or {}).get("phase") != "Running" or not containers:
        return None
    rows: list[tuple[str, Usage]] = []
    for name in sorted(containers):
        u = usage(containers[name])
        if u is None:
            return None
        rows.append((name, u))
    earliest = min((u for _, u in rows), key=lambda u: u.timestamp)
    return {
        "kind": "PodMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": _metadata(pod, now, namespaced=True),
        "timestamp": rfc3339(earliest.timestamp),
        "window": go_duration(earliest.window),
        "containers": [{"name": n, "usage": _usage_fields(u)} for n, u in rows],
    }


def node_metrics(node: JSON, samples: Samples | None, now: float) -> Obj | None:
    """The node's NodeMetrics, or None until it has two valid samples."""
    u = usage(samples) if samples is not None else None
    if u is None:
        return None
    return {
        "kind": "NodeMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": _metadata(node, now, namespaced=False),
        "timestamp": rfc3339(u.timestamp),
        "window": go_duration(u.window),
        "usage": _usage_fields(u),
    }


def metrics_list(kind: str, items: list[Obj]) -> Obj:
    return {"kind": f"{kind}List", "apiVersion": GROUP_VERSION, "metadata": {}, "items": items}
