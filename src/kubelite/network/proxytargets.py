"""The endpoints of one Service port, as the Service proxy sends traffic to them: the IPv4
EndpointSlices indexed by Service, each port's targets matched by name and protocol, and the
ones that may be used (ready, else serving and terminating). It exists apart from the renderer
because the conntrack clean-up (``conntrack``) must read the same targets the rules were written
for. Pure.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kubelite.model.service import EndpointSliceView, ServicePort, ServiceView


@dataclass(frozen=True, slots=True)
class Target:
    """One endpoint of one Service port: the address and number DNAT goes to."""

    ip: str
    port: int
    ready: bool
    serving: bool
    terminating: bool
    local: bool


SliceIndex = Mapping[tuple[str, str], Sequence[EndpointSliceView]]


def index_slices(
    slices: Iterable[EndpointSliceView],
) -> dict[tuple[str, str], list[EndpointSliceView]]:
    """IPv4 slices by the (namespace, name) of the Service they belong to."""
    index: dict[tuple[str, str], list[EndpointSliceView]] = {}
    for s in slices:
        if s.service and s.address_type == "IPv4":
            index.setdefault((s.namespace, s.service), []).append(s)
    return index


def targets(svc: ServiceView, port: ServicePort, index: SliceIndex, node_name: str) -> list[Target]:
    """The endpoints of ``port``, matched by port NAME and protocol (the slice carries the
    number, which resolves a named targetPort). Only an endpoint's first address counts; one
    address:port seen in two slices is kept once, preferring a ready copy. Sorted by address."""
    found: dict[tuple[str, int], Target] = {}
    for s in index.get(svc.key, ()):
        numbers = [p.port for p in s.ports if p.name == port.name and p.protocol == port.protocol]
        for number in numbers:
            if not number:
                continue
            for e in s.endpoints:
                if not e.addresses or not is_v4(e.addresses[0]):
                    continue
                t = Target(
                    ip=e.addresses[0], port=number, ready=e.ready, serving=e.serving,
                    terminating=e.terminating, local=not node_name or e.node_name == node_name,
                )  # fmt: skip
                old = found.get((t.ip, t.port))
                if old is None or (t.ready and not old.ready):
                    found[(t.ip, t.port)] = t
    return sorted(found.values(), key=lambda t: (_address(t.ip), t.port))


def usable(candidates: Sequence[Target]) -> list[Target]:
    """Ready endpoints; when none is ready, the serving ones that are terminating
    (kube-proxy's fallback, so a rolling update's last pods still answer)."""
    ready = [t for t in candidates if t.ready]
    return ready or [t for t in candidates if t.serving and t.terminating]


@functools.lru_cache(maxsize=65536)
def _address(text: str) -> tuple[int, int]:
    """(IP version, value) of an address, for checks and numeric order; (0, 0) if none."""
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return (0, 0)
    return (parsed.version, int(parsed))


def is_v4(text: str) -> bool:
    return _address(text)[0] == 4
