"""The node IPAM controller (kube-controller-manager's ``--allocate-node-cidrs`` with the range
allocator): every Node gets ``spec.podCIDR`` and ``spec.podCIDRs`` — one block of the cluster's
pod range — which its agent gives its pods addresses from and which the other nodes route to it.

An API client like the other controllers: a Node informer (of the controllers' shared set, if
given) and a work queue of node names. A
Node without a range is queued when it appears and whenever it changes (as upstream retries on
every update), and so is every such Node when another one is deleted (its range is free now);
``nodeipamcidrs.decide`` picks the block, which is written with a PUT at the Node's
resourceVersion (a conflict is tried again). The blocks in use are read off the Nodes, so a
restart loses nothing and a deleted Node's block is free with it. When no block is left the
Node gets the ``CIDRNotAvailable`` event, as upstream posts it, and stays without a range (its
agent keeps it NotReady) until one is freed.
"""

from __future__ import annotations

import logging

from kubelite.client.rest import ApiClient, ApiError, Obj, Resource
from kubelite.clock import Clock, SystemClock
from kubelite.controllers.eventrecorder import NORMAL, EventRecorder
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.nodeipamcidrs import (
    NOT_AVAILABLE,
    Assign,
    CidrSet,
    Exhausted,
    Unusable,
    decide,
    node_cidrs,
    node_name,
    not_available_message,
)
from kubelite.controllers.workqueue import WorkQueue

log = logging.getLogger(__name__)

NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
COMPONENT = "cidrAllocator"  # the event source upstream's allocator names


class NodeIpamController:
    def __init__(
        self,
        client: ApiClient,
        *,
        cidrs: CidrSet,
        clock: Clock | None = None,
        informers: InformerSet | None = None,
    ) -> None:
        self._client = client
        self._base = cidrs
        self._clock = clock or SystemClock()
        self._informers = informers or InformerSet(client)
        self.nodes = self._informers.get(NODES)
        self.queue: WorkQueue[str] = WorkQueue(clock=self._clock)
        self._events = EventRecorder(client, COMPONENT, clock=self._clock)
        self._unusable: dict[str, str] = {}  # node -> the complaint already logged
        self.nodes.add_handler(self._on_node)

    def _on_node(self, kind: str, obj: Obj) -> None:
        name = node_name(obj)
        if kind == "DELETED":
            self._unusable.pop(name, None)
            for node in self.nodes.items():  # a range may be free now
                if not node_cidrs(node):
                    self.queue.add(node_name(node))
            return
        if kind == "ADDED" or not node_cidrs(obj):  # a range of its own is checked once
            self.queue.add(name)

    async def run(self) -> None:
        """Allocate until cancelled."""
        async with self._informers.running(self.nodes):
            await self.queue.run(self.reconcile, name="node IPAM controller")

    async def reconcile(self, name: str) -> None:
        node = self.nodes.get("", name)
        if node is None:
            return
        self._base, decision = decide(node, self.nodes.items(), self._base)
        if isinstance(decision, Unusable):
            if self._unusable.get(name) != decision.message:
                log.error("node %s: %s", name, decision.message)
            self._unusable[name] = decision.message
            return
        self._unusable.pop(name, None)
        if isinstance(decision, Exhausted):
            log.error("node %s: %s", name, decision.message)
            await self._events.event(node, NORMAL, NOT_AVAILABLE, not_available_message(name))
            return
        if isinstance(decision, Assign):
            await self._assign(node, decision.cidr)

    async def _assign(self, node: Obj, cidr: str) -> None:
        name = node_name(node)
        spec = {**(node.get("spec") or {}), "podCIDR": cidr, "podCIDRs": [cidr]}
        try:
            written = await self._client.replace(NODES, {**node, "spec": spec})
        except ApiError as err:
            if err.not_found:
                return  # gone meanwhile
            raise  # a conflict or an outage: the queue tries again after a pause
        self.nodes.assume(written)
        log.info("Set Node PodCIDR: node %s, CIDR %s", name, cidr)
