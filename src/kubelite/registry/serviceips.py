"""Service cluster IPs and node ports, reserved one object per address (or port) in the store.

A reservation is a small internal object at ``clusterips.internal.kubelite.io//<ip>`` or
``nodeports.internal.kubelite.io//<port>`` naming the Service that holds it. The store refuses a
second object with the same key, so two creates racing for one address cannot both win, on one
API server or on several sharing a store; nothing is kept in memory between requests. The same
design as the API server's IPAddress objects: allocation survives restarts because it *is* data.

Dynamic picks follow the API server's static/dynamic split: a random free value from the upper
part of the range first, the lower band (kept for values users ask for) only when that is full.
Choosing the candidate is pure (``pick_free``); the ``Pool`` acts on the store.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Set
from dataclasses import dataclass
from typing import Any

from kubelite.clock import Clock, rfc3339
from kubelite.errors import KubeliteError
from kubelite.settings import DEFAULT_SERVICE_CIDR
from kubelite.store.interface import AlreadyExists, Conflict, NotFound, Store, make_key, prefix_for

CLUSTER_IPS = "clusterips.internal.kubelite.io"
NODE_PORTS = "nodeports.internal.kubelite.io"
NODE_PORT_RANGE = (30000, 32767)  # inclusive, the API server's default
API_SERVICE_INDEX = 1  # default/kubernetes takes the range's first address
DNS_SERVICE_INDEX = 10  # kube-system/kube-dns, as kubeadm and kind place it


class AllocationError(KubeliteError):
    """A value could not be reserved; ``str()`` is the API server's wording for it."""


class NotInRange(AllocationError):
    pass


class AlreadyAllocated(AllocationError):
    pass


class RangeFull(AllocationError):
    def __init__(self) -> None:
        super().__init__("range is full")


@dataclass(frozen=True, slots=True)
class ServiceNetwork:
    """The ranges Services draw from (from ``NetworkLayout`` in the API assembly)."""

    cidr: ipaddress.IPv4Network
    node_ports: tuple[int, int] = NODE_PORT_RANGE

    @classmethod
    def of(cls, cidr: str, node_ports: tuple[int, int] = NODE_PORT_RANGE) -> ServiceNetwork:
        net = ipaddress.ip_network(cidr, strict=True)
        if not isinstance(net, ipaddress.IPv4Network) or net.num_addresses < 16:
            raise ValueError(f"service CIDR {cidr!r} must be an IPv4 range of at least /28")
        return cls(net, node_ports)

    @classmethod
    def default(cls) -> ServiceNetwork:
        return cls.of(DEFAULT_SERVICE_CIDR)

    @property
    def api_service_ip(self) -> str:
        return str(self.cidr.network_address + API_SERVICE_INDEX)

    @property
    def dns_service_ip(self) -> str:
        return str(self.cidr.network_address + DNS_SERVICE_INDEX)


@dataclass(frozen=True, slots=True)
class Owner:
    """The Service a reservation belongs to."""

    namespace: str
    name: str
    uid: str

    @classmethod
    def of(cls, service: dict[str, Any]) -> Owner:
        md = service.get("metadata") or {}
        return cls(str(md.get("namespace", "")), str(md.get("name", "")), str(md.get("uid", "")))

    def as_ref(self) -> dict[str, str]:
        return {
            "resource": "services",
            "namespace": self.namespace,
            "name": self.name,
            "uid": self.uid,
        }


def static_band(size: int, *, lower: int, upper: int, divisor: int) -> int:
    """How many values at the bottom of a range dynamic picks leave alone while they can
    (``min(max(lower, size // divisor), upper)``, the API server's rule; none in a range of
    ``lower`` values or fewer)."""
    if size <= lower:
        return 0
    return min(max(lower, size // divisor), upper)


def pick_free(size: int, band: int, taken: Set[int], rng: random.Random) -> int | None:
    """A random offset in ``[0, size)`` not in ``taken``: above ``band`` if any is free there,
    else below it; None when every offset is taken. Pure but for the random source."""
    for lo, hi in ((band, size), (0, band)):
        free = hi - lo - sum(1 for t in taken if lo <= t < hi)
        if free <= 0:
            continue
        start = rng.randrange(lo, hi)
        for step in range(hi - lo):
            candidate = lo + (start - lo + step) % (hi - lo)
            if candidate not in taken:
                return candidate
    return None


@dataclass(frozen=True, slots=True)
class Reservation:
    value: str
    owner: Owner
    created: str  # RFC 3339
    resource_version: str


class Pool:
    """One kind of reservation (cluster IPs or node ports) over a range of values.

    ``offset_of`` maps a value to its place in the range (None: outside it); ``value_at`` is
    the inverse; ``out_of_range`` is the error for a requested value outside the range.
    """

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        resource: str,
        size: int,
        band: int,
        offset_of: Callable[[str], int | None],
        value_at: Callable[[int], str],
        out_of_range: Callable[[str], AllocationError],
        already: str,
        rng: random.Random | None = None,
    ) -> None:
        self._store, self._clock, self.resource = store, clock, resource
        self._size, self._band = size, band
        self.offset_of, self._value_at, self._out_of_range = offset_of, value_at, out_of_range
        self._already = already
        self._rng = rng or random.SystemRandom()

    def key(self, value: str) -> str:
        return make_key(self.resource, "", value)

    def _record(self, value: str, owner: Owner) -> dict[str, Any]:
        return {
            "apiVersion": "internal.kubelite.io/v1",
            "kind": "Reservation",
            "metadata": {"name": value, "creationTimestamp": rfc3339(self._clock.now())},
            "owner": owner.as_ref(),
        }

    async def list(self) -> list[Reservation]:
        items, _ = await self._store.list(prefix_for(self.resource, ""))
        return [_reservation(o) for o in items]

    async def reserve(self, owner: Owner, requested: str | None, *, dry_run: bool = False) -> str:
        """Reserve ``requested`` (or a free value); raises ``AllocationError``."""
        if requested:
            if self.offset_of(requested) is None:
                raise self._out_of_range(requested)
            if dry_run:
                if await self._holder(requested) is not None:
                    raise AlreadyAllocated(self._already)
                return requested
            try:
                await self._store.create(self.key(requested), self._record(requested, owner))
            except AlreadyExists:
                raise AlreadyAllocated(self._already) from None
            return requested
        taken: set[int] = set()
        for r in await self.list():
            off = self.offset_of(r.value)
            if off is not None:
                taken.add(off)
        while (off := pick_free(self._size, self._band, taken, self._rng)) is not None:
            value = self._value_at(off)
            if dry_run:
                return value
            try:
                await self._store.create(self.key(value), self._record(value, owner))
                return value
            except AlreadyExists:  # someone else took it meanwhile: try another
                taken.add(off)
        raise RangeFull()

    async def release(self, value: str, owner: Owner) -> None:
        """Give ``value`` back if ``owner`` holds it (never someone else's reservation)."""
        try:
            held = _reservation(await self._store.get(self.key(value)))
            if held.owner.uid and owner.uid and held.owner.uid != owner.uid:
                return
            await self._store.delete(self.key(value), expected_rv=held.resource_version)
        except (NotFound, Conflict):
            pass

    async def _holder(self, value: str) -> Owner | None:
        try:
            return _reservation(await self._store.get(self.key(value))).owner
        except NotFound:
            return None


def _reservation(obj: dict[str, Any]) -> Reservation:
    md, ref = obj.get("metadata") or {}, obj.get("owner") or {}
    owner = Owner(str(ref.get("namespace", "")), str(ref.get("name", "")), str(ref.get("uid", "")))
    return Reservation(
        str(md.get("name", "")),
        owner,
        str(md.get("creationTimestamp", "")),
        str(md.get("resourceVersion", "")),
    )


def cluster_ip_pool(
    store: Store, clock: Clock, network: ServiceNetwork, rng: random.Random | None = None
) -> Pool:
    """Every address of the range but its network and broadcast addresses."""
    net = network.cidr
    size = net.num_addresses - 2

    def offset_of(value: str) -> int | None:
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return None
        if not isinstance(ip, ipaddress.IPv4Address) or ip not in net:
            return None
        off = int(ip) - int(net.network_address) - 1
        return off if 0 <= off < size else None

    def out_of_range(value: str) -> AllocationError:
        return NotInRange(
            f"the provided IP ({value}) is not in the valid range. The range of valid IPs is {net}"
        )

    return Pool(
        store=store,
        clock=clock,
        resource=CLUSTER_IPS,
        size=size,
        band=static_band(net.num_addresses, lower=16, upper=256, divisor=16),
        offset_of=offset_of,
        value_at=lambda off: str(net.network_address + 1 + off),
        out_of_range=out_of_range,
        already="provided IP is already allocated",
        rng=rng,
    )


def node_port_pool(
    store: Store, clock: Clock, network: ServiceNetwork, rng: random.Random | None = None
) -> Pool:
    lo, hi = network.node_ports
    size = hi - lo + 1

    def offset_of(value: str) -> int | None:
        if not value.isdigit() or not lo <= int(value) <= hi:
            return None
        return int(value) - lo

    def out_of_range(value: str) -> AllocationError:
        return NotInRange(
            f"provided port is not in the valid range. The range of valid ports is {lo}-{hi}"
        )

    return Pool(
        store=store,
        clock=clock,
        resource=NODE_PORTS,
        size=size,
        band=static_band(size, lower=16, upper=128, divisor=32),
        offset_of=offset_of,
        value_at=lambda off: str(lo + off),
        out_of_range=out_of_range,
        already="provided port is already allocated",
        rng=rng,
    )
