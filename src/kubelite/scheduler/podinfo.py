"""What the scheduler reads from a pod, parsed once (kube-scheduler's ``PodInfo``).

A pod is read as its effective requests (``model.resources``, RES-2: init containers, sidecars
and overhead), in the integers the scheduler compares (milli-CPU and bytes, rounded up), the
same requests with upstream's defaults for containers that ask for no CPU or memory (100m and
200Mi: what the scoring plugins count, so best-effort pods still spread), the host ports it
holds (its containers' and its sidecars'), and its pod (anti-)affinity terms with the namespaces
each term reaches.

Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from kubelite.model import labelselector
from kubelite.model.objects import JSON
from kubelite.model.quantity import QuantityError
from kubelite.model.resources import pod_requests

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"
DEFAULT_MILLI_CPU = 100  # schedutil.DefaultMilliCPURequest
DEFAULT_MEMORY = 200 * 1024 * 1024  # schedutil.DefaultMemoryRequest
WILDCARD_IP = "0.0.0.0"

Amounts = Mapping[str, int]


def amounts(resources: Mapping[str, Fraction]) -> dict[str, int]:
    """Quantities as the scheduler holds them: CPU in milli-CPU, the rest in whole units, both
    rounded up (``MilliValue``/``Value``)."""
    return {
        name: math.ceil(value * 1000) if name == CPU else math.ceil(value)
        for name, value in resources.items()
    }


@dataclass(frozen=True, slots=True)
class HostPort:
    ip: str
    protocol: str
    port: int

    def conflicts(self, other: HostPort) -> bool:
        """Upstream's ``HostPortInfo.CheckConflict``: the same protocol and port, on the same
        address or where either side listens on every address."""
        if (self.port, self.protocol) != (other.port, other.protocol):
            return False
        return self.ip == other.ip or WILDCARD_IP in (self.ip, other.ip)


@dataclass(frozen=True, slots=True)
class AffinityTerm:
    """One pod (anti-)affinity term: which pods it selects, in which namespaces, grouped by
    which node label. ``weight`` is 0 for required terms."""

    selector: JSON | None  # None selects no pod; {} selects every pod
    namespaces: frozenset[str]
    namespace_selector: JSON | None  # None: only ``namespaces``; {}: every namespace
    topology_key: str
    weight: int = 0

    def matches(self, pod: PodInfo, namespace_labels: Mapping[str, str]) -> bool:
        """``AffinityTerm.Matches``: the pod is in one of the term's namespaces (listed, or
        chosen by the namespace selector on ``namespace_labels``, the labels of the pod's
        namespace) and its labels are selected."""
        if pod.namespace not in self.namespaces and not _selects(
            self.namespace_selector, namespace_labels
        ):
            return False
        return _selects(self.selector, pod.labels)


@dataclass(frozen=True, slots=True)
class PodInfo:
    key: str  # namespace/name
    uid: str
    namespace: str
    name: str
    labels: Mapping[str, str]
    spec: JSON
    node: str = ""  # "" while the pod is not bound
    priority: int = 0
    deleting: bool = False
    requests: Amounts = field(default_factory=dict)
    nonzero_cpu: int = 0
    nonzero_memory: int = 0
    host_ports: tuple[HostPort, ...] = ()
    required_affinity: tuple[AffinityTerm, ...] = ()
    required_anti_affinity: tuple[AffinityTerm, ...] = ()
    preferred_affinity: tuple[AffinityTerm, ...] = ()
    preferred_anti_affinity: tuple[AffinityTerm, ...] = ()

    @property
    def has_affinity(self) -> bool:
        return bool(
            self.required_affinity
            or self.required_anti_affinity
            or self.preferred_affinity
            or self.preferred_anti_affinity
        )

    def on(self, node: str) -> PodInfo:
        """The same pod, bound to ``node`` (an assumed placement)."""
        return replace(self, node=node)


def _selects(selector: JSON | None, labels: Mapping[str, Any]) -> bool:
    try:
        return labelselector.matches(selector, labels)
    except labelselector.InvalidSelector:
        return False


def _meta(pod: JSON) -> JSON:
    meta = pod.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _spec(pod: JSON) -> JSON:
    spec = pod.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def requests_of(spec: JSON) -> dict[str, int]:
    """The pod's effective requests (RES-2), or none when a quantity does not parse."""
    try:
        return amounts(pod_requests(spec))
    except (QuantityError, ValueError, TypeError, ZeroDivisionError):
        return {}


def _with_defaults(container: Any) -> Any:
    if not isinstance(container, Mapping):
        return container
    resources = container.get("resources") or {}
    requests = dict(resources.get("requests") or {})
    requests.setdefault(CPU, f"{DEFAULT_MILLI_CPU}m")
    requests.setdefault(MEMORY, str(DEFAULT_MEMORY))
    return {**container, "resources": {**resources, "requests": requests}}


def nonzero_requests(spec: JSON) -> tuple[int, int]:
    """CPU (milli) and memory (bytes) requested, each container that names no CPU or memory
    request counted at upstream's defaults (``NonMissingContainerRequests``)."""
    padded = {
        **spec,
        "containers": [_with_defaults(c) for c in spec.get("containers") or ()],
        "initContainers": [_with_defaults(c) for c in spec.get("initContainers") or ()],
    }
    got = requests_of(padded)
    return got.get(CPU, 0), got.get(MEMORY, 0)


def host_ports(spec: JSON) -> tuple[HostPort, ...]:
    """``GetHostPorts``: ports with a hostPort of the containers and of the sidecars (init
    containers that keep running), address and protocol defaulted."""
    sidecars = [
        c
        for c in spec.get("initContainers") or ()
        if isinstance(c, Mapping) and c.get("restartPolicy") == "Always"
    ]
    out: list[HostPort] = []
    for container in [*sidecars, *(spec.get("containers") or ())]:
        if not isinstance(container, Mapping):
            continue
        for port in container.get("ports") or ():
            if not isinstance(port, Mapping):
                continue
            number = port.get("hostPort")
            if isinstance(number, int) and number > 0:
                ip = str(port.get("hostIP") or WILDCARD_IP)
                out.append(HostPort(ip, str(port.get("protocol") or "TCP"), number))
    return tuple(out)


def _term(namespace: str, raw: Any, weight: int = 0) -> AffinityTerm | None:
    if not isinstance(raw, Mapping):
        return None
    names = frozenset(str(n) for n in raw.get("namespaces") or ())
    ns_selector = raw.get("namespaceSelector")
    if not isinstance(ns_selector, Mapping):
        ns_selector = None
    if not names and ns_selector is None:
        names = frozenset({namespace})  # the pod's own namespace
    selector = raw.get("labelSelector")
    return AffinityTerm(
        selector=selector if isinstance(selector, Mapping) else None,
        namespaces=names,
        namespace_selector=ns_selector,
        topology_key=str(raw.get("topologyKey") or ""),
        weight=weight,
    )


def _required(namespace: str, section: Any) -> tuple[AffinityTerm, ...]:
    if not isinstance(section, Mapping):
        return ()
    raw = section.get("requiredDuringSchedulingIgnoredDuringExecution") or ()
    return tuple(t for t in (_term(namespace, r) for r in raw) if t is not None)


def _preferred(namespace: str, section: Any) -> tuple[AffinityTerm, ...]:
    if not isinstance(section, Mapping):
        return ()
    out = []
    for weighted in section.get("preferredDuringSchedulingIgnoredDuringExecution") or ():
        if not isinstance(weighted, Mapping):
            continue
        weight = weighted.get("weight")
        term = _term(namespace, weighted.get("podAffinityTerm"), int(weight or 0))
        if term is not None:
            out.append(term)
    return tuple(out)


def pod_info(pod: JSON) -> PodInfo:
    """Read ``pod`` for the scheduler."""
    meta, spec = _meta(pod), _spec(pod)
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    affinity = spec.get("affinity")
    if not isinstance(affinity, Mapping):
        affinity = {}
    pod_affinity = affinity.get("podAffinity")
    anti = affinity.get("podAntiAffinity")
    priority = spec.get("priority")
    cpu, memory = nonzero_requests(spec)
    return PodInfo(
        key=f"{namespace}/{name}",
        uid=str(meta.get("uid") or ""),
        namespace=namespace,
        name=name,
        labels=_str_map(meta.get("labels")),
        spec=spec,
        node=str(spec.get("nodeName") or ""),
        priority=priority if isinstance(priority, int) else 0,
        deleting=bool(meta.get("deletionTimestamp")),
        requests=requests_of(spec),
        nonzero_cpu=cpu,
        nonzero_memory=memory,
        host_ports=host_ports(spec),
        required_affinity=_required(namespace, pod_affinity),
        required_anti_affinity=_required(namespace, anti),
        preferred_affinity=_preferred(namespace, pod_affinity),
        preferred_anti_affinity=_preferred(namespace, anti),
    )


def total(pods: Iterable[PodInfo]) -> dict[str, int]:
    """The pods' requests added up, resource by resource."""
    out: dict[str, int] = {}
    for pod in pods:
        for name, value in pod.requests.items():
            out[name] = out.get(name, 0) + value
    return out
