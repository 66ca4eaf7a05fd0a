"""Objects every cluster starts with. Idempotent, so it runs on every start.

* the system namespaces, each with its default ServiceAccount;
* ``default/kubernetes``: the API server's own Service (the range's first address, port 443
  named ``https`` to the server's secure port, no selector) and, when the address pods reach
  the server at is known, its Endpoints and EndpointSlice, both named ``kubernetes``, shaped
  as the API server's endpoint reconciler writes them; refreshed when the port changes. Not on
  a store several API servers share (etcd): there each server's identity Lease says where it
  is, and the lease endpoint reconciler (``controllers.apiserverleases``) lists the live ones;
  a server starting must not replace the others' endpoints with its own;
* ``kube-system/kube-dns``: the cluster DNS Service at the range's tenth address, labelled as
  kind's CoreDNS Service, without a selector (the node's DNS server publishes its endpoints);
* the ``local-path`` StorageClass, the default class, as k3s ships it (``rancher.io/local-path``,
  ``WaitForFirstConsumer``, reclaim ``Delete``), made again at start if it was deleted;
* the RBAC bootstrap policy: the default cluster roles (``cluster-admin``, ``admin``, ``edit``,
  ``view``, ``system:*``) and their bindings (``rbac_bootstrap``).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from kubelite.errors import KubeliteError
from kubelite.model.objects import Obj
from kubelite.model.service import SERVICE_NAME_LABEL
from kubelite.registry.catalog import SYSTEM_NAMESPACES
from kubelite.registry.endpoints import ENDPOINTS
from kubelite.registry.endpointslices import ENDPOINTSLICES
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.rbac_bootstrap import bootstrap_rbac
from kubelite.registry.resource import Kind
from kubelite.registry.service import Registry
from kubelite.registry.serviceaccounts import SERVICEACCOUNTS, default_service_account
from kubelite.registry.services import SERVICES
from kubelite.registry.storageclasses import STORAGECLASSES, local_path_class
from kubelite.store.etcd import EtcdStore
from kubelite.store.interface import AlreadyExists, NotFound

log = logging.getLogger(__name__)

DEFAULT_SECURE_PORT = 6443
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"


@dataclass(frozen=True, slots=True)
class ApiAddress:
    """Where pods reach the API server: an address on the pod network and the secure port."""

    ip: str
    port: int


async def bootstrap(registry: Registry, *, api: ApiAddress | None = None) -> None:
    """Create what is missing. ``api`` is where pods reach the server; without it the
    ``kubernetes`` Service gets the default target port and no endpoints."""
    for name in SYSTEM_NAMESPACES:
        try:
            await registry.get(NAMESPACES, "", name)
        except NotFound:  # another API server on the same store may be making it right now
            namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
            with contextlib.suppress(AlreadyExists):
                await registry.create(NAMESPACES, "", namespace)
        try:
            await registry.create(SERVICEACCOUNTS, name, default_service_account(name))
        except AlreadyExists:
            pass
    port = api.port if api is not None else DEFAULT_SECURE_PORT
    await _ensure_kubernetes_service(registry, port)
    await _ensure_dns_service(registry)
    if api is not None and not shared_store(registry):
        await _ensure(registry, ENDPOINTS, "default", kubernetes_endpoints(api), ("subsets",))
        await _ensure(
            registry,
            ENDPOINTSLICES,
            "default",
            kubernetes_endpoint_slice(api),
            ("addressType", "endpoints", "ports"),
        )
    try:
        await registry.create(STORAGECLASSES, "", local_path_class())
    except AlreadyExists:
        pass
    await bootstrap_rbac(registry)


def shared_store(registry: Registry) -> bool:
    """Whether other API servers may serve the same store (etcd)."""
    return isinstance(registry.store, EtcdStore)


def kubernetes_service(cluster_ip: str, port: int) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None",
        },
    }


def kube_dns_service(cluster_ip: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kube-dns",
            "namespace": "kube-system",
            "labels": {
                "k8s-app": "kube-dns",
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "CoreDNS",
            },
            "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
            ],
        },
    }


def kubernetes_endpoints(api: ApiAddress) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {SKIP_MIRROR_LABEL: "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": api.ip}],
                "ports": [{"name": "https", "port": api.port, "protocol": "TCP"}],
            }
        ],
    }


def kubernetes_endpoint_slice(api: ApiAddress) -> Obj:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {SERVICE_NAME_LABEL: "kubernetes"},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [api.ip], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": api.port, "protocol": "TCP"}],
    }


async def _ensure_kubernetes_service(registry: Registry, port: int) -> None:
    ip = registry.service_network.api_service_ip
    try:
        current = await registry.get(SERVICES, "default", "kubernetes")
    except NotFound:
        await _create(registry, SERVICES, "default", kubernetes_service(ip, port))
        return
    ports = (current.get("spec") or {}).get("ports") or []
    wanted = kubernetes_service(ip, port)["spec"]["ports"]
    if [{k: p.get(k) for k in ("name", "port", "protocol", "targetPort")} for p in ports] != wanted:
        current["spec"]["ports"] = wanted
        await _update(registry, SERVICES, "default", current)


async def _ensure_dns_service(registry: Registry) -> None:
    try:
        await registry.get(SERVICES, "kube-system", "kube-dns")
    except NotFound:
        await _create(
            registry,
            SERVICES,
            "kube-system",
            kube_dns_service(registry.service_network.dns_service_ip),
        )


async def _ensure(
    registry: Registry, kind: Kind, namespace: str, wanted: Obj, fields: tuple[str, ...]
) -> None:
    """Create ``wanted``, or bring ``fields`` (and its labels) of the stored one in line."""
    name = wanted["metadata"]["name"]
    try:
        current = await registry.get(kind, namespace, name)
    except NotFound:
        await _create(registry, kind, namespace, wanted)
        return
    labels = current["metadata"].get("labels") or {}
    want_labels = {**labels, **wanted["metadata"]["labels"]}
    if labels == want_labels and all(current.get(f) == wanted.get(f) for f in fields):
        return
    current["metadata"]["labels"] = want_labels
    for f in fields:
        current[f] = wanted[f]
    await _update(registry, kind, namespace, current)


async def _create(registry: Registry, kind: Kind, namespace: str, obj: Obj) -> None:
    try:
        await registry.create(kind, namespace, obj)
    except AlreadyExists:
        pass
    except KubeliteError as exc:  # e.g. the address is held by a user's Service
        try:  # or another API server made the object first, taking its address
            await registry.get(kind, namespace, _name(obj))
        except NotFound:
            log.warning("cannot create %s %s/%s: %s", kind.kind, namespace, _name(obj), exc)


async def _update(registry: Registry, kind: Kind, namespace: str, obj: Obj) -> None:
    try:
        await registry.update(kind, namespace, _name(obj), obj)
    except KubeliteError as exc:
        log.warning("cannot update %s %s/%s: %s", kind.kind, namespace, _name(obj), exc)


def _name(obj: dict[str, Any]) -> str:
    return str(obj["metadata"]["name"])
