"""What a Service's endpoints are, from its selector and the pods it selects: shared by the
Endpoints and EndpointSlice controllers (upstream's endpoint utilities). Pure.

A pod is an endpoint when it has an IP, is not terminal, and (for Endpoints, unless
``publishNotReadyAddresses``) is not being deleted. Its port for each Service port comes from
``targetPort``: a number as it is, a name looked up among the pod's container ports of that
protocol (app containers, then native sidecars); a pod without the named port has no endpoint
for that port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kubelite.model.objects import JSON
from kubelite.model.pod import TERMINAL_PHASES
from kubelite.model.service import ServicePort, ServiceView


@dataclass(frozen=True, slots=True)
class EndpointPortValue:
    name: str
    protocol: str
    port: int
    app_protocol: str = ""


@dataclass(frozen=True, slots=True)
class PodEndpoint:
    ip: str
    pod_name: str
    pod_uid: str
    namespace: str
    node_name: str
    hostname: str  # set when the pod's subdomain is the Service's name
    ready: bool  # counted as ready (Endpoints: addresses; slices: conditions.ready)
    serving: bool  # the pod's Ready condition
    terminating: bool
    ports: tuple[EndpointPortValue, ...]  # the Service's ports this pod serves


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def pod_ready(pod: JSON) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


def find_port(pod: JSON, port: ServicePort) -> int | None:
    """The kubelet-side port of a Service port on this pod (upstream's FindPort)."""
    target = port.target_port
    if isinstance(target, int):
        return target
    spec = pod.get("spec") or {}
    sidecars = [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
    for container in [*(spec.get("containers") or ()), *sidecars]:
        for p in container.get("ports") or ():
            if p.get("name") == target and (p.get("protocol") or "TCP") == port.protocol:
                return int(p["containerPort"])
    return None


def _ip_key(ip: str) -> tuple[int, int | str]:
    try:
        return (0, int(ipaddress.ip_address(ip)))
    except ValueError:
        return (1, ip)


def pod_endpoints(
    service: ServiceView, pods: Sequence[JSON], *, include_terminating: bool
) -> list[PodEndpoint]:
    """The endpoints of the pods the Service selects, sorted by IP."""
    if service.selector is None:
        return []
    out = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        status = pod.get("status") or {}
        if meta.get("namespace") != service.namespace:
            continue
        if not selects(service.selector, meta.get("labels") or {}):
            continue
        ip = str(status.get("podIP") or "")
        if not ip or status.get("phase") in TERMINAL_PHASES:
            continue
        terminating = bool(meta.get("deletionTimestamp"))
        if terminating and not include_terminating:
            continue
        serving = pod_ready(pod)
        ports = []
        for sp in service.ports:
            number = find_port(pod, sp)
            if number is not None:
                ports.append(EndpointPortValue(sp.name, sp.protocol, number, sp.app_protocol))
        hostname = ""
        if spec.get("hostname") and spec.get("subdomain") == service.name:
            hostname = str(spec["hostname"])
        out.append(
            PodEndpoint(
                ip=ip,
                pod_name=str(meta.get("name") or ""),
                pod_uid=str(meta.get("uid") or ""),
                namespace=service.namespace,
                node_name=str(spec.get("nodeName") or ""),
                hostname=hostname,
                ready=service.publish_not_ready or (serving and not terminating),
                serving=serving,
                terminating=terminating,
                ports=tuple(ports),
            )
        )
    return sorted(out, key=lambda e: _ip_key(e.ip))


def target_ref(e: PodEndpoint) -> dict[str, str]:
    return {"kind": "Pod", "namespace": e.namespace, "name": e.pod_name, "uid": e.pod_uid}


def service_labels(service: ServiceView) -> dict[str, str]:
    """Labels an endpoints object carries: the Service's own, and the headless marker."""
    meta = service.raw.get("metadata") or {}
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    if service.headless:
        labels["service.kubernetes.io/headless"] = ""
    return labels
