"""What the node side must provide for resource metrics: samples of CPU and memory.

Kubernetes splits this work in two: the kubelet samples the node and each running container
(cumulative CPU time and the memory working set, stamped with the time they were read) and
publishes them on ``/metrics/resource``; metrics-server keeps the last two samples of each and
serves CPU as the usage between them (``metrics.k8s.io``). Here the node side is a
``MetricsSource`` (``kubelite.nodemetrics``), which keeps the two newest samples; the API
turns them into PodMetrics and NodeMetrics (``metrics_usage``, ``metrics_api``) and into the
kubelet's Prometheus text (``metrics_prom``). With no source configured, the metrics API
lists nothing and ``/metrics/resource`` reports a scrape error.

Pods on other nodes are sampled by their own nodes; ``OtherNodes`` (``kubelite.clustermetrics``)
scrapes those nodes' ``/metrics/resource`` as metrics-server does, and the metrics API serves
every node's samples alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web


@dataclass(frozen=True, slots=True)
class Point:
    """One reading: ``cpu_ns`` of CPU time used since ``start_time`` (the container's start
    or the node's boot), and the memory working set in bytes, read at ``timestamp`` (epoch
    seconds)."""

    timestamp: float
    start_time: float
    cpu_ns: int
    memory_bytes: int


@dataclass(frozen=True, slots=True)
class Samples:
    """The newest reading of one container or of the node, and the one before it (None
    until there are two; a reading at ``start_time`` with no CPU used stands in for it when
    the start is known)."""

    last: Point
    prev: Point | None = None


@dataclass(frozen=True, slots=True)
class PodRef:
    namespace: str
    name: str
    uid: str  # "" when read from a node's metrics text, which names pods only


@dataclass(frozen=True, slots=True)
class Scrape:
    """Everything the node knows now: the node's samples (``node_name`` is the Node object
    they belong to), and each pod's running containers by name."""

    node_name: str = ""
    node: Samples | None = None
    pods: Mapping[PodRef, Mapping[str, Samples]] = field(default_factory=dict)


class MetricsSource(Protocol):
    async def scrape(self) -> Scrape:
        """The newest samples (read now if the newest are older than the source's
        resolution). Never raises for one container that cannot be read: it is left out."""
        ...


METRICS_SOURCE: web.AppKey[list[MetricsSource]] = web.AppKey("kubelite_metrics_source", list)


def source_of(request: web.Request) -> MetricsSource | None:
    """The source plugged into this server (``ApiServer.set_backends``), if any."""
    holder = request.app.get(METRICS_SOURCE) or []
    return holder[0] if holder else None


class OtherNodes(Protocol):
    async def scrapes(self) -> list[Scrape]:
        """The newest samples of every other node that answered (each its own ``Scrape``)."""
        ...


OTHER_NODES: web.AppKey[list[OtherNodes]] = web.AppKey("kubelite_other_nodes", list)


async def all_scrapes(request: web.Request) -> list[Scrape]:
    """This node's samples and every other node's."""
    source = source_of(request)
    out = [await source.scrape()] if source is not None else []
    for others in request.app.get(OTHER_NODES) or []:
        out += await others.scrapes()
    return out
