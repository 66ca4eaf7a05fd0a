"""The Service proxy (kube-proxy's role on this node): watches Services and EndpointSlices (and
the Nodes, whose addresses pods may reach when they may reach nothing else outside the
cluster) and keeps kubelite's nftables table equal to what they say.

Every change marks the rules dirty; one sync at a time renders the whole table
(``proxyrules.render``, pure) and swaps it in with one transaction (``nft.apply``), so changes
that arrive during a sync are folded into the next one and nothing waits on a timer. ClientIP
affinity entries are read back before each sync and carried over. After each sync, UDP conntrack
entries that still point at removed endpoints (or at the reject of a port that had none) are
deleted (``conntrack``). A sync that nftables refuses is retried after a pause; the table is
deleted when the proxy stops.
"""

from __future__ import annotations

import asyncio
import logging

from kubelite.client.informer import Cache
from kubelite.model.objects import Obj
from kubelite.model.service import SERVICE_NAME_LABEL, EndpointSliceView, ServiceView
from kubelite.network import conntrack, nft, proxyrules
from kubelite.network.proxynames import AFFINITY_SET_PREFIX
from kubelite.network.proxyrules import ProxyConfig

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class ServiceProxy:
    def __init__(
        self, *, config: ProxyConfig, services: Cache, slices: Cache, nodes: Cache | None = None
    ) -> None:
        self._config = config
        self._services = services
        self._slices = slices
        self._nodes = nodes  # for the other nodes' addresses pods may reach without egress
        self._dirty = asyncio.Event()
        services.add_handler(self._changed)
        slices.add_handler(self._changed)
        self._cluster: list[str] = []
        if nodes is not None and not config.pod_egress:
            nodes.add_handler(self._nodes_changed)
        self._udp: conntrack.UdpTable = {}
        self._conntrack = conntrack.ConntrackFlusher()
        self.syncs = 0  # completed syncs (for tests and the benchmark)
        self.synced = asyncio.Event()  # set after each completed sync

    def _changed(self, kind: str, obj: Obj) -> None:
        self._dirty.set()

    def _nodes_changed(self, kind: str, obj: Obj) -> None:
        if self._cluster_addresses() != self._cluster:
            self._dirty.set()

    def _cluster_addresses(self) -> list[str]:
        """Nothing with pod egress (every address may be reached); the Nodes are not waited
        for: until they are listed, the rules are made without them."""
        if self._config.pod_egress:
            return []
        nodes = self._nodes.items() if self._nodes is not None else []
        api = [
            EndpointSliceView.of(s)
            for s in self._slices.items()
            if (s.get("metadata") or {}).get("namespace") == "default"
            and ((s.get("metadata") or {}).get("labels") or {}).get(SERVICE_NAME_LABEL)
            == "kubernetes"
        ]
        return proxyrules.cluster_addresses(nodes, api, self._config)

    async def run(self) -> None:
        """Sync until cancelled, then remove the table."""
        try:
            await self._services.synced.wait()
            await self._slices.synced.wait()
            self._dirty.set()
            while True:
                await self._dirty.wait()
                self._dirty.clear()
                try:
                    await self.sync()
                except nft.NftError as err:
                    log.warning("service rules not applied: %s", err.message)
                    self._dirty.set()
                    await asyncio.sleep(RETRY_SECONDS)
        finally:
            await asyncio.shield(self._remove())

    async def sync(self) -> None:
        services = [ServiceView.of(s) for s in self._services.items()]
        slices = [EndpointSliceView.of(s) for s in self._slices.items()]
        table = self._config.table
        kept = None
        if proxyrules.uses_affinity(services) and await nft.table_exists("ip", table):
            kept = await nft.set_elements("ip", table, AFFINITY_SET_PREFIX)
        cluster = self._cluster_addresses()
        script = proxyrules.render(services, slices, self._config, affinity=kept, cluster=cluster)
        await nft.apply(script)
        self._cluster = cluster
        udp = conntrack.udp_table(services, slices, self._config.node_name)
        await self._conntrack.flush(conntrack.stale(self._udp, udp))
        self._udp = udp
        self.syncs += 1
        self.synced.set()

    async def _remove(self) -> None:
        try:
            await nft.delete_table("ip", self._config.table)
        except nft.NftError as err:
            log.warning("could not remove table %s: %s", self._config.table, err.message)
