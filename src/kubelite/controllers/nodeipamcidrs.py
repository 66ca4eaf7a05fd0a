"""Which pod range each Node gets: the node IPAM controller's decisions (kube-controller-manager's
``--allocate-node-cidrs`` with the range allocator). Pure: Nodes in, decisions out.

The cluster's range (``--cluster-cidr``, kubelite's ``--pod-cidr``) is cut into blocks of
``--node-cidr-mask-size`` bits; block ``i`` is the ``i``-th of them in address order. A
``CidrSet`` is which blocks are in use, and where the search for a free one starts next: as
upstream, the search goes round from just after the block handed out last, so a range freed
by a deleted node is not given to the very next node (its pods' addresses may still be in
someone's cache); the start is forgotten on restart, when the search begins at block 0 again.

Nothing is kept but what the Nodes say: the blocks in use are those in the Nodes'
``spec.podCIDRs`` (``decide`` is given every Node), so allocations survive restarts and a
deleted Node's range is free once the Node is gone. A block that overlaps the Service range is
never handed out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from kubelite.errors import KubeliteError

# upstream's texts, byte for byte
MASK_TOO_SMALL = (
    "Controller: Invalid --cluster-cidr, mask size of cluster CIDR must be less than or equal "
    "to --node-cidr-mask-size configured for CIDR family"
)
NO_CIDRS_LEFT = (
    "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
)
NOT_AVAILABLE = "CIDRNotAvailable"  # the Node event's reason
DEFAULT_NODE_MASK = 24  # --node-cidr-mask-size(-ipv4)


class CidrConfigError(KubeliteError, ValueError):
    """The cluster range and the node mask size make no allocator (upstream's text)."""


class CidrsExhausted(KubeliteError):
    """Every block is in use."""

    def __init__(self) -> None:
        super().__init__(NO_CIDRS_LEFT)


class CidrOutOfRange(KubeliteError, ValueError):
    """A CIDR that is not (inside) a block of the cluster range."""


@dataclass(frozen=True, slots=True)
class CidrSet:
    cluster: ipaddress.IPv4Network
    mask: int  # the node mask size
    used: frozenset[int] = frozenset()
    next_candidate: int = 0

    @property
    def size(self) -> int:
        return 1 << (self.mask - self.cluster.prefixlen)

    def block(self, index: int) -> ipaddress.IPv4Network:
        start = int(self.cluster.network_address) + (index << (32 - self.mask))
        return ipaddress.IPv4Network((start, self.mask))

    def indices(self, cidr: ipaddress.IPv4Network) -> range:
        """The blocks ``cidr`` covers (a block, a part of one, or several)."""
        if not cidr.overlaps(self.cluster):
            raise CidrOutOfRange(f"cidr {cidr} is out the range of cluster cidr {self.cluster}")
        low = max(int(cidr.network_address), int(self.cluster.network_address))
        high = min(int(cidr.broadcast_address), int(self.cluster.broadcast_address))
        base = int(self.cluster.network_address)
        shift = 32 - self.mask
        return range((low - base) >> shift, ((high - base) >> shift) + 1)

    def occupy(self, cidr: ipaddress.IPv4Network) -> CidrSet:
        return replace(self, used=self.used | frozenset(self.indices(cidr)))

    def release(self, cidr: ipaddress.IPv4Network) -> CidrSet:
        return replace(self, used=self.used - frozenset(self.indices(cidr)))

    def allocate_next(self) -> tuple[CidrSet, ipaddress.IPv4Network]:
        """The first free block from ``next_candidate`` on (going round), and the set with it
        taken; ``CidrsExhausted`` when there is none."""
        size = self.size
        for step in range(size):
            index = (self.next_candidate + step) % size
            if index not in self.used:
                taken = replace(self, used=self.used | {index}, next_candidate=(index + 1) % size)
                return taken, self.block(index)
        raise CidrsExhausted()


def cidr_set(cluster_cidr: str, mask: int, service_cidr: str | None = None) -> CidrSet:
    """The empty set for ``cluster_cidr`` cut into ``/mask`` blocks, less the Service range;
    ``CidrConfigError`` if the mask is wider than the range itself."""
    try:
        cluster = ipaddress.IPv4Network(cluster_cidr, strict=True)
    except ValueError as err:
        raise CidrConfigError(f"invalid --cluster-cidr {cluster_cidr!r}: {err}") from err
    if not cluster.prefixlen <= mask <= 32:
        raise CidrConfigError(MASK_TOO_SMALL)
    out = CidrSet(cluster, mask)
    if service_cidr:
        services = ipaddress.IPv4Network(service_cidr, strict=False)
        if services.overlaps(cluster):
            out = out.occupy(services)
    return out


def effective_mask(cluster_cidr: str, asked: int | None) -> int:
    """``--node-cidr-mask-size`` as kubelite applies it: when not given, 24, or the cluster
    range's own size when that is smaller than a /24 (one node then takes it all, as a
    single-node kubelite always did)."""
    if asked is not None:
        return asked
    prefix = ipaddress.IPv4Network(cluster_cidr, strict=False).prefixlen
    return max(prefix, DEFAULT_NODE_MASK)


def node_cidrs(node: Mapping[str, Any]) -> list[str]:
    """A Node's pod ranges: ``spec.podCIDRs``, else ``spec.podCIDR``."""
    spec = node.get("spec") or {}
    many = [str(c) for c in spec.get("podCIDRs") or () if c]
    if many:
        return many
    one = spec.get("podCIDR")
    return [str(one)] if one else []


def node_name(node: Mapping[str, Any]) -> str:
    return str((node.get("metadata") or {}).get("name") or "")


@dataclass(frozen=True, slots=True)
class Keep:
    """The node has its range already (nothing to write)."""


@dataclass(frozen=True, slots=True)
class Assign:
    cidr: str


@dataclass(frozen=True, slots=True)
class Exhausted:
    """No block is free: the ``CIDRNotAvailable`` event, and try again later."""

    message: str


@dataclass(frozen=True, slots=True)
class Unusable:
    """The node's own ``podCIDRs`` cannot be marked as used (garbage, or outside the range)."""

    message: str


Decision = Keep | Assign | Exhausted | Unusable


def _parse(text: str) -> ipaddress.IPv4Network | None:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return net if isinstance(net, ipaddress.IPv4Network) else None


def in_use(base: CidrSet, nodes: Iterable[Mapping[str, Any]], *, skip: str = "") -> CidrSet:
    """``base`` with every block some node (other than ``skip``) holds marked used; ranges
    that cannot be parsed or lie outside the cluster range are ignored here (``decide`` says
    so for the node that holds them)."""
    out = base
    for node in nodes:
        if node_name(node) == skip:
            continue
        for text in node_cidrs(node)[:1]:  # IPv4 only: the first range
            net = _parse(text)
            if net is None:
                continue
            try:
                out = out.occupy(net)
            except CidrOutOfRange:
                continue
    return out


def decide(
    node: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]], base: CidrSet
) -> tuple[CidrSet, Decision]:
    """What the allocator does for ``node`` given every Node (``nodes``, ``node`` among them
    or not) and ``base``: the blocks never handed out (the Service range's) and where the
    search for a free block starts. The blocks in use are the Nodes'. Returns ``base`` as
    it is to be kept (the search moves on past an assigned block) and the decision."""
    name = node_name(node)
    have = node_cidrs(node)
    if have:
        net = _parse(have[0])
        if net is None:
            return base, Unusable(f"failed to parse node {name}, CIDR {have[0]}")
        try:
            base.indices(net)
        except CidrOutOfRange as err:
            return base, Unusable(
                f"failed to mark cidr[{net}] at idx [0] as occupied for node: {name}: {err}"
            )
        return base, Keep()
    pool = in_use(base, nodes, skip=name)
    try:
        after, cidr = pool.allocate_next()
    except CidrsExhausted as err:
        return base, Exhausted(f"failed to allocate cidr from cluster cidr at idx:0: {err}")
    return replace(base, next_candidate=after.next_candidate), Assign(str(cidr))


def not_available_message(name: str) -> str:
    """The ``CIDRNotAvailable`` Node event's message (RecordNodeStatusChange)."""
    return f"Node {name} status is now: {NOT_AVAILABLE}"
