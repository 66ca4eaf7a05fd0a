"""Small typed views over Service and EndpointSlice dicts (Kubernetes JSON, already defaulted
by the API server), shared by everything that turns them into behaviour: the Service proxy's
nftables rules, cluster DNS, the endpoint controllers and the pods' service variables.

A view is built once from the object with ``ServiceView.of`` / ``EndpointSliceView.of`` and
never changes; ``raw`` keeps the original for a field not modelled here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from kubelite.model.objects import JSON

SERVICE_NAME_LABEL = "kubernetes.io/service-name"  # EndpointSlice -> its Service
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
HEADLESS_LABEL = "service.kubernetes.io/headless"
NONE = "None"  # spec.clusterIP of a headless Service


class ServiceType(enum.Enum):
    CLUSTER_IP = "ClusterIP"
    NODE_PORT = "NodePort"
    LOAD_BALANCER = "LoadBalancer"
    EXTERNAL_NAME = "ExternalName"


@dataclass(frozen=True, slots=True)
class ServicePort:
    name: str  # "" for the one unnamed port a Service may have
    protocol: str  # TCP, UDP or SCTP
    port: int
    target_port: int | str  # a number, or the name of a container port
    node_port: int | None = None
    app_protocol: str = ""

    @classmethod
    def of(cls, raw: JSON) -> ServicePort:
        target = raw.get("targetPort", raw.get("port", 0))
        if isinstance(target, str) and target.isdigit():
            target = int(target)
        node_port = raw.get("nodePort")
        return cls(
            name=str(raw.get("name") or ""),
            protocol=str(raw.get("protocol") or "TCP"),
            port=int(raw.get("port") or 0),
            target_port=target if isinstance(target, str) else int(target),
            node_port=int(node_port) if node_port else None,
            app_protocol=str(raw.get("appProtocol") or ""),
        )


@dataclass(frozen=True, slots=True)
class ServiceView:
    namespace: str
    name: str
    uid: str
    type: ServiceType
    cluster_ips: tuple[str, ...]  # empty for ExternalName and headless Services
    ports: tuple[ServicePort, ...]
    selector: Mapping[str, str] | None  # None: endpoints are managed by someone else
    headless: bool
    external_name: str
    session_affinity_timeout: int | None  # seconds under ClientIP affinity, else None
    publish_not_ready: bool
    external_traffic_local: bool
    raw: JSON

    @classmethod
    def of(cls, raw: JSON) -> ServiceView:
        meta = raw.get("metadata") or {}
        spec = raw.get("spec") or {}
        type_ = ServiceType(spec.get("type") or "ClusterIP")
        cluster_ip = str(spec.get("clusterIP") or "")
        given = spec.get("clusterIPs") or ([cluster_ip] if cluster_ip else [])
        ips = tuple(str(ip) for ip in given)
        headless = cluster_ip == NONE
        if headless or type_ is ServiceType.EXTERNAL_NAME:
            ips = ()
        timeout = None
        if spec.get("sessionAffinity") == "ClientIP":
            cfg = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
            timeout = int(cfg.get("timeoutSeconds") or 10800)
        selector = spec.get("selector")
        return cls(
            namespace=str(meta.get("namespace") or "default"),
            name=str(meta.get("name") or ""),
            uid=str(meta.get("uid") or ""),
            type=type_,
            cluster_ips=ips,
            ports=tuple(ServicePort.of(p) for p in spec.get("ports") or ()),
            selector=dict(selector) if selector else None,
            headless=headless,
            external_name=str(spec.get("externalName") or ""),
            session_affinity_timeout=timeout,
            publish_not_ready=bool(spec.get("publishNotReadyAddresses")),
            external_traffic_local=spec.get("externalTrafficPolicy") == "Local",
            raw=raw,
        )

    @property
    def cluster_ip(self) -> str | None:
        return self.cluster_ips[0] if self.cluster_ips else None

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class EndpointPort:
    name: str
    protocol: str
    port: int
    app_protocol: str = ""


@dataclass(frozen=True, slots=True)
class TargetRef:
    kind: str
    namespace: str
    name: str
    uid: str


@dataclass(frozen=True, slots=True)
class Endpoint:
    addresses: tuple[str, ...]
    ready: bool
    serving: bool
    terminating: bool
    hostname: str
    node_name: str
    target: TargetRef | None

    @classmethod
    def of(cls, raw: JSON) -> Endpoint:
        cond = raw.get("conditions") or {}
        # discovery.k8s.io/v1: unset ready means ready; unset serving follows ready
        ready = cond.get("ready") is not False
        serving = cond.get("serving")
        ref = raw.get("targetRef")
        target = None
        if ref:
            target = TargetRef(
                kind=str(ref.get("kind") or ""),
                namespace=str(ref.get("namespace") or ""),
                name=str(ref.get("name") or ""),
                uid=str(ref.get("uid") or ""),
            )
        return cls(
            addresses=tuple(str(a) for a in raw.get("addresses") or ()),
            ready=ready,
            serving=ready if serving is None else bool(serving),
            terminating=bool(cond.get("terminating")),
            hostname=str(raw.get("hostname") or ""),
            node_name=str(raw.get("nodeName") or ""),
            target=target,
        )


@dataclass(frozen=True, slots=True)
class EndpointSliceView:
    namespace: str
    name: str
    service: str  # the kubernetes.io/service-name label; "" if none
    address_type: str  # IPv4, IPv6 or FQDN
    endpoints: tuple[Endpoint, ...]
    ports: tuple[EndpointPort, ...]
    raw: JSON

    @classmethod
    def of(cls, raw: JSON) -> EndpointSliceView:
        meta = raw.get("metadata") or {}
        return cls(
            namespace=str(meta.get("namespace") or "default"),
            name=str(meta.get("name") or ""),
            service=str((meta.get("labels") or {}).get(SERVICE_NAME_LABEL) or ""),
            address_type=str(raw.get("addressType") or "IPv4"),
            endpoints=tuple(Endpoint.of(e) for e in raw.get("endpoints") or ()),
            ports=tuple(
                EndpointPort(
                    name=str(p.get("name") or ""),
                    protocol=str(p.get("protocol") or "TCP"),
                    port=int(p.get("port") or 0),
                    app_protocol=str(p.get("appProtocol") or ""),
                )
                for p in raw.get("ports") or ()
            ),
            raw=raw,
        )
