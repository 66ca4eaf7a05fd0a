"""Cluster DNS on this node: the DNS server (``dnsserver``) on the node's pod-network address,
fed with every Service, EndpointSlice and Namespace the API has, and published as the
endpoint of the ``kube-system/kube-dns`` Service (an EndpointSlice of its own, and its address
in the Endpoints every node shares: each node adds and removes only its own),
so that pods' ``nameserver <kube-dns IP>`` reaches it through the Service proxy, exactly as
they reach CoreDNS pods in a cluster.

Names outside the cluster domain are forwarded to the node's resolvers, unless pods may not
reach the outside (``pod_egress`` off): then there is no upstream and such names fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from kubelite.client.informer import Cache
from kubelite.client.rest import ENDPOINT_SLICES, ENDPOINTS, ApiClient, ApiError
from kubelite.model.objects import Obj
from kubelite.model.service import (
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    EndpointSliceView,
    ServiceView,
)
from kubelite.network.dnsforward import upstreams_from_resolv_conf
from kubelite.network.dnsserver import DnsConfig, DnsServer
from kubelite.network.layout import NetworkLayout

log = logging.getLogger(__name__)

NAMESPACE = "kube-system"
SERVICE = "kube-dns"
MANAGER = "kubelite-node-dns"  # a label value: no "/"
HOST_RESOLV_CONF = Path("/etc/resolv.conf")
PUBLISH_EVERY = 10.0  # how often the endpoint is checked (and put back if removed)
PUBLISH_RETRY = 2.0


def endpoint_slice(node_name: str, address: str, port: int) -> Obj:
    """This node's DNS server as an endpoint of kube-dns (its DNS ports only)."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{SERVICE}-{node_name}"[:63].rstrip("-."),
            "namespace": NAMESPACE,
            "labels": {SERVICE_NAME_LABEL: SERVICE, MANAGED_BY_LABEL: MANAGER},
        },
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": [address],
                "conditions": {"ready": True, "serving": True, "terminating": False},
                "nodeName": node_name,
            }
        ],
        "ports": [
            {"name": "dns", "port": port, "protocol": "UDP"},
            {"name": "dns-tcp", "port": port, "protocol": "TCP"},
        ],
    }


def _dns_ports(port: int) -> list[dict[str, Any]]:
    return [
        {"name": "dns", "port": port, "protocol": "UDP"},
        {"name": "dns-tcp", "port": port, "protocol": "TCP"},
    ]


def endpoints(node_name: str, address: str, port: int) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": SERVICE,
            "namespace": NAMESPACE,
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {"addresses": [{"ip": address, "nodeName": node_name}], "ports": _dns_ports(port)}
        ],
    }


def _others(subsets: Any, node_name: str) -> list[dict[str, Any]]:
    return [
        a
        for s in subsets or []
        if isinstance(s, dict)
        for a in s.get("addresses") or []
        if isinstance(a, dict) and a.get("nodeName") != node_name
    ]


def subsets_with(subsets: Any, node_name: str, address: str, port: int) -> list[dict[str, Any]]:
    """kube-dns's Endpoints subsets with this node's address in, every other node's kept:
    each node publishes its own DNS server there, none takes another's out."""
    found = [*_others(subsets, node_name), {"ip": address, "nodeName": node_name}]
    found.sort(key=lambda a: (str(a.get("ip")), str(a.get("nodeName"))))
    return [{"addresses": found, "ports": _dns_ports(port)}]


def subsets_without(subsets: Any, node_name: str, port: int) -> list[dict[str, Any]]:
    """... with this node's address out (none left: no subset)."""
    others = _others(subsets, node_name)
    return [{"addresses": others, "ports": _dns_ports(port)}] if others else []


class ClusterDns:
    def __init__(
        self,
        *,
        layout: NetworkLayout,
        node_name: str,
        client: ApiClient | None,
        services: Cache,
        slices: Cache,
        namespaces: Cache,
        port: int = 53,
        resolv_conf: Path = HOST_RESOLV_CONF,
    ) -> None:
        self._layout = layout
        self._node = node_name
        self._client = client
        self._services = services
        self._slices = slices
        self._namespaces = namespaces
        upstreams = upstreams_from_resolv_conf(resolv_conf) if layout.pod_egress else []
        self._server = DnsServer(
            address=str(layout.gateway),
            port=port,
            config=DnsConfig(
                domain=layout.cluster_domain,
                reverse_cidrs=(str(layout.service_cidr), str(layout.pod_cidr)),
                upstreams=tuple(upstreams),
            ),
        )
        self._dirty = asyncio.Event()
        for inf in (services, slices, namespaces):
            inf.add_handler(self._changed)

    def _changed(self, kind: str, obj: Obj) -> None:
        self._dirty.set()

    @property
    def server(self) -> DnsServer:
        return self._server

    async def run(self) -> None:
        async with self._server:
            if self._client is None:  # no API: whoever made the caches lists the endpoint
                await self._feed()
                return
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self._publish(self._client))
                    await self._feed()
            finally:
                await asyncio.shield(self._unpublish(self._client))

    async def _feed(self) -> None:
        for inf in (self._services, self._slices, self._namespaces):
            await inf.synced.wait()
        while True:
            self._dirty.clear()
            self._server.update(
                [ServiceView.of(s) for s in self._services.items()],
                [EndpointSliceView.of(s) for s in self._slices.items()],
                namespaces=[str(n["metadata"]["name"]) for n in self._namespaces.items()],
            )
            await self._dirty.wait()

    # ------------------------------------------------------------------ kube-dns endpoints

    async def _publish(self, client: ApiClient) -> None:
        """Make this node's endpoint of kube-dns exist (and come back if it is removed)."""
        address, port = str(self._layout.gateway), self._server.port
        want_slice = endpoint_slice(self._node, address, port)
        want_eps = endpoints(self._node, address, port)
        while True:
            wait = PUBLISH_EVERY
            try:
                await _ensure(client, ENDPOINT_SLICES, want_slice, ("endpoints", "ports"))
                await self._ensure_endpoints(client, want_eps, address, port)
            except ApiError as err:
                log.info("kube-dns endpoint not published yet: %s", err)
                wait = PUBLISH_RETRY
            await asyncio.sleep(wait)

    async def _unpublish(self, client: ApiClient) -> None:
        """This node's DNS stops answering: take its endpoint away (best effort)."""
        name = endpoint_slice(self._node, "", 0)["metadata"]["name"]
        with contextlib.suppress(ApiError, OSError):
            await client.delete(ENDPOINT_SLICES, NAMESPACE, name)
            have = await client.get(ENDPOINTS, NAMESPACE, SERVICE)
            left = subsets_without(have.get("subsets"), self._node, self._server.port)
            await client.replace(ENDPOINTS, {**have, "subsets": left})

    async def _ensure_endpoints(
        self, client: ApiClient, want: Obj, address: str, port: int
    ) -> None:
        """The shared kube-dns Endpoints with this node's address among the others'."""
        try:
            have = await client.get(ENDPOINTS, NAMESPACE, SERVICE)
        except ApiError as err:
            if not err.not_found:
                raise
            await client.create(ENDPOINTS, NAMESPACE, want)
            return
        subsets = subsets_with(have.get("subsets"), self._node, address, port)
        if have.get("subsets") != subsets:
            await client.replace(ENDPOINTS, {**have, "subsets": subsets})


async def _ensure(client: ApiClient, res: Any, want: Obj, fields: tuple[str, ...]) -> None:
    name = want["metadata"]["name"]
    try:
        have = await client.get(res, NAMESPACE, name)
    except ApiError as err:
        if not err.not_found:
            raise
        await client.create(res, NAMESPACE, want)
        return
    if any(have.get(f) != want[f] for f in fields):
        await client.replace(res, {**have, **{f: want[f] for f in fields}})
