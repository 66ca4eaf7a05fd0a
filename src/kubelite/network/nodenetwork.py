"""This node's pod network as the runtime sees it (its ``PodNetwork``), made once the node's
pod range is known.

A node of a cluster learns its range from its Node's ``spec.podCIDR`` (the node IPAM
controller's), after it registered; ``kubelite run`` has no API and takes the first /24 of
``--pod-cidr``. The runtime is built before that, so it gets this object, which attaches pods
through the CNI plugins once ``configure`` has made the bridge for the range (``hostsetup``),
and refuses with the kubelet's words until then. The range is recorded under the network's
state dir, so a restart (or ``kubelite runtime reset``) finds the bridge it made; DEL and the
start-up sweep need no range (they use each attachment's cached configuration).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from kubelite.client.rest import ApiClient, ApiError, Resource
from kubelite.network import hostsetup
from kubelite.network.cni import CniNetwork
from kubelite.network.hostsetup import HostFacts
from kubelite.network.layout import LayoutError, NetworkLayout
from kubelite.network.podcidr import NOT_READY_MESSAGE, pod_cidr
from kubelite.runtime.interface import SandboxConfig, SandboxError
from kubelite.runtime.network import Attachment
from kubelite.settings import Settings

log = logging.getLogger(__name__)

SUBNET_RECORD = "node-subnet"
NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
POLL_SECONDS = 1.0


class NetworkNotReady(SandboxError):
    """A pod that needs the network, while the node has none (the kubelet's text)."""

    reason = "NetworkNotReady"

    def __init__(self) -> None:
        super().__init__(f"network is not ready: {NOT_READY_MESSAGE}")


class NodeNetwork:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._unset = NetworkLayout.from_settings(settings)  # names and folders: any range
        self._cni = CniNetwork(self._unset)
        self.layout: NetworkLayout | None = None  # once configured
        self.host: HostFacts | None = None

    @property
    def record(self) -> Path:
        return self._unset.state_dir / SUBNET_RECORD

    def recorded_subnet(self) -> str | None:
        """The range this node's network was last made for (None if it was not, or was
        removed since)."""
        with contextlib.suppress(OSError):
            return self.record.read_text().strip() or None
        return None

    async def configure(self, subnet: str | None) -> NetworkLayout:
        """Make (or check) the node network for ``subnet`` (None: the settings' first /24);
        ``LayoutError`` if the range does not fit the cluster's, ``HostSetupError`` if the
        machine refuses."""
        layout = NetworkLayout.from_settings(self._settings, subnet)
        before = self.recorded_subnet()
        if before is not None and before != str(layout.node_subnet):
            log.warning("this node's pod range is now %s (it was %s)", layout.node_subnet, before)
        host = await hostsetup.ensure(layout)
        layout.state_dir.mkdir(parents=True, exist_ok=True)
        self.record.write_text(f"{layout.node_subnet}\n")
        self._cni = CniNetwork(layout)
        self.layout, self.host = layout, host
        return layout

    async def configure_last(self) -> NetworkLayout:
        """Make the network for the range it was last made for, or for the settings' first
        /24 when there is none (or it no longer fits ``--pod-cidr``): a node without an API."""
        recorded = self.recorded_subnet()
        if recorded is not None:
            try:
                NetworkLayout.from_settings(self._settings, recorded)
            except LayoutError:
                recorded = None
        return await self.configure(recorded)

    # ------------------------------------------------------------------ PodNetwork

    async def attach(self, sandbox_id: str, netns_path: str, config: SandboxConfig) -> Attachment:
        if self.layout is None:
            raise NetworkNotReady()
        return await self._cni.attach(sandbox_id, netns_path, config)

    async def detach(self, sandbox_id: str, netns_path: str) -> None:
        await self._cni.detach(sandbox_id, netns_path)

    # ------------------------------------------------------------------ start and end

    async def sweep(self, live: set[str]) -> list[str]:
        """DEL every attachment whose sandbox is not in ``live`` (see ``CniNetwork.sweep``)."""
        return await self._cni.sweep(live)

    async def teardown(self) -> None:
        """Remove everything of the node network (``hostsetup.teardown``), range included."""
        await hostsetup.teardown(self.layout or self._unset)


async def wait_for_pod_cidr(client: ApiClient, node_name: str) -> str:
    """The Node's ``spec.podCIDR``, once the node IPAM controller has given it one (asked of
    the API every second: a node may read its own Node)."""
    told = False
    while True:
        try:
            found = pod_cidr(await client.get(NODES, None, node_name))
        except ApiError as err:
            log.info("node %s not read: %s", node_name, err)
            found = None
        if found is not None:
            log.info("node %s: pod range %s", node_name, found)
            return found
        if not told:
            log.info("node %s: waiting for its pod range (spec.podCIDR)", node_name)
            told = True
        await asyncio.sleep(POLL_SECONDS)
