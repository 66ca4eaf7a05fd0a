"""The Services of ``kubelite run``: with no API server, the manifests' Services live in the
process, and so does what a cluster's control plane would make of them.

Each Service is defaulted and validated as the API server does, gets a cluster IP (and node
ports) from the Service range, and its EndpointSlices are worked out from the run's pods by
the EndpointSlice controller's own decision every time a pod's status changes. Cluster DNS is
``kube-system/kube-dns`` at the range's .10, its endpoint the node's DNS server. The Service
proxy and cluster DNS read these through ``LocalCache``s, as they read informers on a node of
``kubelite up``.
"""

from __future__ import annotations

import copy
import random
import secrets
from collections.abc import Sequence
from typing import Any

from kubelite.client.informer import LocalCache
from kubelite.controllers.endpointslices import desired_changes
from kubelite.model.objects import Obj
from kubelite.model.service import ServiceView
from kubelite.network.clusterdns import NAMESPACE as DNS_NAMESPACE
from kubelite.network.clusterdns import SERVICE as DNS_SERVICE
from kubelite.network.clusterdns import endpoint_slice
from kubelite.network.layout import NODE_PORT_RANGE, NetworkLayout
from kubelite.registry.service_defaults import needs_cluster_ip, needs_node_ports
from kubelite.registry.service_validation import validate_service
from kubelite.registry.serviceips import pick_free
from kubelite.registry.services import SERVICES


class ServiceError(ValueError):
    """A Service of the manifests cannot be made; the message is kubectl's."""


def _invalid(name: str, errors: Sequence[object]) -> str:
    if len(errors) == 1:
        return f'The Service "{name}" is invalid: {errors[0]}'
    return f'The Service "{name}" is invalid: \n' + "\n".join(f"* {e}" for e in errors)


class StaticServices:
    def __init__(self, layout: NetworkLayout, node_name: str, dns_port: int = 53) -> None:
        self._layout = layout
        self._node = node_name
        self._rng = random.Random()
        self._taken_ips: set[int] = {1, 10}  # default/kubernetes and kube-dns
        self._taken_ports: set[int] = set()
        self.services = LocalCache()
        self.slices = LocalCache()
        self.namespaces = LocalCache()
        self._add_dns(dns_port)

    # ------------------------------------------------------------------ Services

    def add(self, service: dict[str, Any]) -> Obj:
        """Default, allocate, validate and keep one Service; raises ServiceError."""
        svc: Obj = copy.deepcopy(service)
        meta = svc.setdefault("metadata", {})
        meta.setdefault("namespace", "default")
        meta.setdefault("uid", secrets.token_hex(16))
        SERVICES.prepare_create(svc)
        spec = svc.setdefault("spec", {})
        if needs_cluster_ip(spec) and not spec.get("clusterIP"):
            ip = self._ip()
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
        if needs_node_ports(spec):
            for port in spec.get("ports") or []:
                port.setdefault("nodePort", self._node_port())
        errors = validate_service(svc)
        if errors:
            raise ServiceError(_invalid(str(meta.get("name", "")), errors))
        self.services.put(svc)
        self._namespace(str(meta["namespace"]))
        return svc

    def _ip(self) -> str:
        net = self._layout.service_cidr
        offset = pick_free(net.num_addresses - 1, 0, self._taken_ips | {0}, self._rng)
        if offset is None:
            raise ServiceError(f"the Service range {net} is full")
        self._taken_ips.add(offset)
        return str(net.network_address + offset)

    def _node_port(self) -> int:
        lo, hi = NODE_PORT_RANGE
        offset = pick_free(hi - lo + 1, 0, self._taken_ports, self._rng)
        if offset is None:
            raise ServiceError("no node port is free")
        self._taken_ports.add(offset)
        return lo + offset

    def _namespace(self, name: str) -> None:
        if self.namespaces.get("", name) is None:
            self.namespaces.put({"metadata": {"name": name}})

    def _add_dns(self, port: int) -> None:
        ip = str(self._layout.dns_service_ip)
        self.services.put(
            {
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": DNS_SERVICE, "namespace": DNS_NAMESPACE,
                             "labels": {"k8s-app": "kube-dns"}},
                "spec": {
                    "clusterIP": ip, "clusterIPs": [ip], "type": "ClusterIP",
                    "ports": [
                        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": port},
                        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": port},
                    ],
                },
            }
        )  # fmt: skip
        self.slices.put(endpoint_slice(self._node, str(self._layout.gateway), port))
        for ns in ("default", DNS_NAMESPACE):
            self._namespace(ns)

    def for_namespace(self, namespace: str) -> list[Obj]:
        """The Services a pod of ``namespace`` gets variables for (its own and default's)."""
        wanted = (namespace, "default")
        return [s for s in self.services.items() if s["metadata"]["namespace"] in wanted]

    # ------------------------------------------------------------------ EndpointSlices

    def pods_changed(self, pods: Sequence[Obj]) -> None:
        """Bring every Service's slices up to date with the pods, as the controller does."""
        for svc in self.services.items():
            view = ServiceView.of(svc)
            if view.selector is None:
                continue
            for pod in pods:
                self._namespace(str(pod["metadata"].get("namespace") or "default"))
            mine = [s for s in self.slices.items() if s["metadata"]["namespace"] == view.namespace]
            changes = desired_changes(view, pods, mine)
            for name in changes.delete:
                self.slices.remove(view.namespace, name)
            for body in changes.update:
                self.slices.put(body)
            for body in changes.create:
                meta = body["metadata"]
                meta["name"] = meta.pop("generateName") + secrets.token_hex(3)[:5]
                self.slices.put(body)


def cluster_ip_line(svc: Obj) -> str:
    """How the run view announces a Service: ``kubectl get svc``'s TYPE, CLUSTER-IP, PORT(S)."""
    spec = svc.get("spec") or {}
    ports = ",".join(
        f"{p['port']}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
        if p.get("nodePort")
        else f"{p['port']}/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports") or []
    )
    ip = spec.get("clusterIP") or "<none>"
    kind = spec.get("type", "ClusterIP")
    return f"service/{svc['metadata']['name']} {kind} {ip} {ports or '<none>'}"
