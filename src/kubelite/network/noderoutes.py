"""Routes to the other nodes' pods, as kindnetd keeps them: for every other Node with a
``podCIDR``, a route of that range via the Node's ``InternalIP``. Pure: Nodes and the routes
found in, the routes to add, change and remove out.

A node on this same machine and network namespace (its InternalIP is one of ours: several agents
on one host) gets no route: its pods are on a bridge here already. Ranges outside the cluster's
pod range, or overlapping this node's own, are never routed, so the routes kubelite changes are
always inside a range that is its own. When two Nodes claim one range, the first by name wins.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.network.podcidr import internal_ip, pod_cidr


@dataclass(frozen=True, slots=True, order=True)
class Route:
    destination: str  # a node's pod range, as ``ip`` prints it
    gateway: str  # that node's InternalIP


@dataclass(frozen=True, slots=True)
class RoutePlan:
    put: tuple[Route, ...]  # added, or replacing one with another gateway
    delete: tuple[str, ...]  # destinations no longer wanted

    def __bool__(self) -> bool:
        return bool(self.put or self.delete)


def _net(text: str) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return net if isinstance(net, ipaddress.IPv4Network) else None


def wanted_routes(
    nodes: Iterable[Mapping[str, Any]],
    *,
    node_name: str,
    cluster_cidr: str,
    own_subnet: str,
    local_addresses: Iterable[str],
) -> dict[str, Route]:
    """The routes this node should have, by destination."""
    cluster = _net(cluster_cidr)
    own = _net(own_subnet)
    local = set(local_addresses)
    out: dict[str, Route] = {}
    named = sorted(nodes, key=lambda n: str((n.get("metadata") or {}).get("name") or ""))
    for node in named:
        if str((node.get("metadata") or {}).get("name") or "") == node_name:
            continue
        cidr, gateway = pod_cidr(node), internal_ip(node)
        net = _net(cidr) if cidr else None
        if net is None or gateway is None or gateway in local:
            continue
        if cluster is None or not net.subnet_of(cluster) or (own is not None and net.overlaps(own)):
            continue
        if any(net.overlaps(ipaddress.IPv4Network(d)) for d in out):
            continue
        out[str(net)] = Route(str(net), gateway)
    return out


def plan_routes(wanted: Mapping[str, Route], present: Mapping[str, Route]) -> RoutePlan:
    """What to change so that ``present`` becomes ``wanted``."""
    put = tuple(sorted(r for d, r in wanted.items() if present.get(d) != r))
    delete = tuple(sorted(d for d in present if d not in wanted))
    return RoutePlan(put, delete)


def parse_routes(listing: str, cluster_cidr: str) -> dict[str, Route]:
    """kubelite's routes in ``ip -j -4 route show proto <ROUTE_PROTOCOL>``'s output, those
    inside the cluster's range, by destination."""
    cluster = _net(cluster_cidr)
    try:
        entries = json.loads(listing or "[]")
    except ValueError:
        return {}
    out: dict[str, Route] = {}
    for e in entries if isinstance(entries, list) else ():
        if not isinstance(e, dict):
            continue
        net = _net(str(e.get("dst") or ""))
        gateway = str(e.get("gateway") or "")
        if net is None or cluster is None or not net.subnet_of(cluster):
            continue
        out[str(net)] = Route(str(net), gateway)
    return out
