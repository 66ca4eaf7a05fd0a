"""Resource metrics of the other nodes, as metrics-server gathers them: every ``resolution``
seconds (and on a request, when the last round is older) each Node but this process's own is
scraped at its server's ``/metrics/resource`` (``api.nodeconn``: the API server's kubelet
client certificate, the cluster CA), and the two newest samples of each node and container
are kept (``nodemetrics.next_samples``: a container's start stands in for the first). The
API's ``metrics.k8s.io`` then serves them beside this node's own (``api.metrics.OtherNodes``).

A node that does not answer in ``SCRAPE_TIMEOUT`` seconds, or answers badly, is left out
until it answers again (metrics-server drops it the same way); the reason is logged once.
Like ``nodemetrics`` it sits between the layers: it implements the API's Protocol with the
API's connections to nodes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from kubelite.api.errors import ApiError
from kubelite.api.metrics import OtherNodes, PodRef, Point, Samples, Scrape
from kubelite.api.nodeconn import NodeConnector, NodeUnreachable, node_address
from kubelite.clock import Clock
from kubelite.nodemetrics import RESOLUTION, next_samples
from kubelite.registry.nodes import NODES
from kubelite.registry.service import Registry

log = logging.getLogger(__name__)

SCRAPE_TIMEOUT = 10.0  # metrics-server's --kubelet-request-timeout
STALE_ROUNDS = 3  # rounds missed before a request reads the nodes itself
PATH = "/metrics/resource"


# ---------------------------------------------------------------------------- parsing (PURE)


@dataclass(frozen=True, slots=True)
class NodeReading:
    """One scrape of a node's ``/metrics/resource``: the node's reading and each running
    container's, by pod and name."""

    node: Point | None = None
    containers: Mapping[PodRef, Mapping[str, Point]] = field(default_factory=dict)


def parse_resource_metrics(text: str) -> NodeReading:
    """The kubelet's resource metrics (CPU seconds, working set, start time, each stamped
    with its sample's time) as readings. Malformed text raises ValueError."""
    cpu: dict[tuple[PodRef, str], tuple[float, float]] = {}
    memory: dict[tuple[PodRef, str], float] = {}
    start: dict[tuple[PodRef, str], float] = {}
    node_cpu = node_memory = None
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            at = s.timestamp if s.timestamp is not None else 0.0
            if s.name.startswith("container_"):
                labels = s.labels
                key = (PodRef(labels.get("namespace", ""), labels.get("pod", ""), ""),
                       labels.get("container", ""))  # fmt: skip
                if s.name == "container_cpu_usage_seconds_total":
                    cpu[key] = (float(at), s.value)
                elif s.name == "container_memory_working_set_bytes":
                    memory[key] = s.value
                elif s.name == "container_start_time_seconds":
                    start[key] = s.value
            elif s.name == "node_cpu_usage_seconds_total":
                node_cpu = (float(at), s.value)
            elif s.name == "node_memory_working_set_bytes":
                node_memory = s.value
    containers: dict[PodRef, dict[str, Point]] = {}
    for key, (at, seconds) in cpu.items():
        ref, name = key
        point = Point(at, start.get(key, 0.0), round(seconds * 1e9), int(memory.get(key, 0)))
        containers.setdefault(ref, {})[name] = point
    node = None
    if node_cpu is not None:
        node = Point(node_cpu[0], 0.0, round(node_cpu[1] * 1e9), int(node_memory or 0))
    return NodeReading(node, containers)


# ---------------------------------------------------------------------------- the scraper


@dataclass(slots=True)
class _NodeState:
    node: Samples | None = None
    containers: dict[PodRef, dict[str, Samples]] = field(default_factory=dict)

    def add(self, reading: NodeReading) -> None:
        if reading.node is not None:
            self.node = next_samples(self.node, reading.node)
        seen: dict[PodRef, dict[str, Samples]] = {}
        for ref, points in reading.containers.items():
            before = self.containers.get(ref, {})
            seen[ref] = {name: next_samples(before.get(name), p) for name, p in points.items()}
        self.containers = seen

    def scrape(self, name: str) -> Scrape:
        return Scrape(node_name=name, node=self.node, pods=self.containers)


class OtherNodesMetrics(OtherNodes):
    def __init__(
        self,
        *,
        registry: Registry,
        nodes: NodeConnector,
        clock: Clock,
        resolution: float = RESOLUTION,
    ) -> None:
        self._registry = registry
        self._nodes = nodes
        self._clock = clock
        self._resolution = resolution
        self._lock = asyncio.Lock()
        self._state: dict[str, _NodeState] = {}
        self._failing: set[str] = set()
        self._sampled_at: float | None = None

    async def run(self) -> None:
        """Scrape every ``resolution`` seconds until cancelled."""
        while True:
            try:
                await self.sample()
            except Exception:  # a bug: the metrics go stale, the server serves on
                log.exception("other nodes' resource metrics not scraped")
            await self._clock.sleep(self._resolution)

    async def scrapes(self) -> list[Scrape]:
        """The newest samples; read now only when there are none or ``run`` has fallen
        behind (a request does not wait on slow nodes while the loop keeps them fresh)."""
        at = self._sampled_at
        if at is None or self._clock.monotonic() - at >= STALE_ROUNDS * self._resolution:
            await self.sample()
        return [state.scrape(name) for name, state in sorted(self._state.items())]

    async def sample(self) -> None:
        async with self._lock:
            nodes, _ = await self._registry.list(NODES, None)
            names = [str(n["metadata"]["name"]) for n in nodes]
            remote = [n for n in nodes if not self._nodes.is_local(n["metadata"]["name"])]
            readings = await asyncio.gather(*(self._scrape(n) for n in remote))
            for node, reading in zip(remote, readings, strict=True):
                name = str(node["metadata"]["name"])
                if reading is None:
                    self._state.pop(name, None)
                else:
                    self._state.setdefault(name, _NodeState()).add(reading)
            for gone in set(self._state) - set(names):
                del self._state[gone]
            self._sampled_at = self._clock.monotonic()

    async def _scrape(self, node: dict[str, Any]) -> NodeReading | None:
        name = str((node.get("metadata") or {}).get("name", ""))
        try:
            async with asyncio.timeout(SCRAPE_TIMEOUT):
                addr = node_address(node)
                resp = await self._nodes.get(addr, PATH)
                try:
                    if resp.status != 200:
                        raise ValueError(f"request failed, status: {resp.status}")
                    reading = parse_resource_metrics(await resp.text())
                finally:
                    resp.release()
        except (NodeUnreachable, ApiError, ValueError, TimeoutError, OSError) as err:
            if name not in self._failing:
                log.warning("failed to scrape node %s: %s", name, err)
                self._failing.add(name)
            return None
        self._failing.discard(name)
        return reading
