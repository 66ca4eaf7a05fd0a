"""What one Service write reserves and frees: cluster IPs and node ports.

``ServiceAllocator.for_create``/``for_update`` reserve what the new object needs *before* it
is stored (so validation sees the allocated values, as on the API server) and return a
``ServiceAllocation``: ``rollback`` gives back what this write took (the write failed),
``commit`` frees what the object no longer holds (the write succeeded: an update that dropped a
node port, or turned the Service into an ExternalName). ``release_all`` runs once a Service
has left the store. A requested value that is taken or outside the range is a 422 with the
API server's text; a full range is an internal error, as there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from kubelite.clock import Clock
from kubelite.errors import KubeliteError
from kubelite.model.fielderrors import INVALID, FieldError, invalid
from kubelite.model.objects import Obj
from kubelite.registry.errors import Invalid
from kubelite.registry.service_defaults import (
    CLUSTER_IP,
    EXTERNAL_NAME,
    LOAD_BALANCER,
    NODE_PORT,
    NONE,
    init_ip_families,
    needs_cluster_ip,
    needs_node_ports,
    ports_of,
    spec_of,
)
from kubelite.registry.service_validation import go_strings, validate_cluster_ips
from kubelite.registry.serviceips import (
    AllocationError,
    Owner,
    Pool,
    RangeFull,
    ServiceNetwork,
    cluster_ip_pool,
    node_port_pool,
)
from kubelite.store.interface import Store


class AllocationFailed(KubeliteError):
    """No value was free (the API server answers a 500 InternalError for this)."""


@dataclass(slots=True)
class ServiceAllocation:
    owner: Owner
    acquired: list[tuple[Pool, str]] = field(default_factory=list)
    deferred: list[tuple[Pool, str]] = field(default_factory=list)

    async def commit(self) -> None:
        for pool, value in self.deferred:
            await pool.release(value, self.owner)
        self.acquired.clear()
        self.deferred.clear()

    async def rollback(self) -> None:
        for pool, value in reversed(self.acquired):
            await pool.release(value, self.owner)
        self.acquired.clear()
        self.deferred.clear()


def _cluster_ips(spec: Obj) -> list[str]:
    """The addresses a Service holds (none for headless and ExternalName Services)."""
    if not needs_cluster_ip(spec):
        return []
    return [str(ip) for ip in spec.get("clusterIPs") or [] if ip and ip != NONE]


def _node_ports(spec: Obj) -> list[int]:
    return sorted({int(p["nodePort"]) for p in ports_of(spec) if p.get("nodePort")})


class ServiceAllocator:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        network: ServiceNetwork,
        rng: random.Random | None = None,
    ) -> None:
        self.ips = cluster_ip_pool(store, clock, network, rng)
        self.ports = node_port_pool(store, clock, network, rng)

    # -- create ------------------------------------------------------------------------------
    async def for_create(self, svc: Obj, *, dry_run: bool) -> ServiceAllocation:
        name = str((svc.get("metadata") or {}).get("name") or "")
        alloc = ServiceAllocation(Owner.of(svc))
        spec = spec_of(svc)
        if spec.get("type") != EXTERNAL_NAME:
            _raise(name, validate_cluster_ips(spec))
            _raise(name, init_ip_families(svc, None))
        try:
            await self._new_cluster_ip(name, spec, alloc, dry_run)
            await self._init_node_ports(name, spec, alloc, dry_run)
        except BaseException:
            await alloc.rollback()
            raise
        return alloc

    async def _new_cluster_ip(
        self, name: str, spec: Obj, alloc: ServiceAllocation, dry_run: bool
    ) -> None:
        if not needs_cluster_ip(spec) or spec.get("clusterIP") == NONE:
            return
        ips = spec.get("clusterIPs") or []
        requested = str(ips[0]) if ips else ""
        try:
            got = await self.ips.reserve(alloc.owner, requested or None, dry_run=dry_run)
        except RangeFull as exc:
            raise AllocationFailed(f"failed to allocate a serviceIP: {exc}") from None
        except AllocationError as exc:
            detail = f"failed to allocate IP {requested}: {exc}"
            shown = f"Invalid value: {go_strings(ips)}: {detail}"
            raise Invalid(
                "Service", name, [FieldError(INVALID, "spec.clusterIPs", shown)]
            ) from None
        if not dry_run:
            alloc.acquired.append((self.ips, got))
        spec["clusterIP"] = got
        spec["clusterIPs"] = [got]

    async def _reserve_port(
        self, name: str, index: int, port: int, alloc: ServiceAllocation, dry_run: bool
    ) -> None:
        try:
            await self.ports.reserve(alloc.owner, str(port), dry_run=dry_run)
        except AllocationError as exc:
            err = invalid(f"spec.ports[{index}].nodePort", port, str(exc))
            raise Invalid("Service", name, [err]) from None
        if not dry_run:
            alloc.acquired.append((self.ports, str(port)))

    async def _next_port(self, alloc: ServiceAllocation, dry_run: bool) -> int:
        try:
            got = await self.ports.reserve(alloc.owner, None, dry_run=dry_run)
        except RangeFull as exc:
            raise AllocationFailed(f"failed to allocate a nodePort: {exc}") from None
        if not dry_run:
            alloc.acquired.append((self.ports, got))
        return int(got)

    async def _init_node_ports(
        self, name: str, spec: Obj, alloc: ServiceAllocation, dry_run: bool
    ) -> None:
        """One node port per distinct port number (TCP and UDP 53 share one), requested
        values first reserved where they are asked for."""
        if spec.get("type") not in (NODE_PORT, LOAD_BALANCER) and not any(
            p.get("nodePort") for p in ports_of(spec)
        ):
            return
        ports = ports_of(spec)
        by_port: dict[Any, int] = {}
        for i, p in enumerate(ports):
            if not p.get("nodePort") and not needs_node_ports(spec):
                continue
            done = by_port.get(p.get("port"))
            if done is None:
                asked = next(
                    (
                        int(q["nodePort"])
                        for q in ports[i:]
                        if q.get("port") == p.get("port") and q.get("nodePort")
                    ),
                    0,
                )
                if asked:
                    await self._reserve_port(name, i, asked, alloc, dry_run)
                    p["nodePort"] = by_port[p.get("port")] = asked
                else:
                    p["nodePort"] = by_port[p.get("port")] = await self._next_port(alloc, dry_run)
            elif p.get("nodePort") and int(p["nodePort"]) != done:
                await self._reserve_port(name, i, int(p["nodePort"]), alloc, dry_run)
            elif not p.get("nodePort"):
                p["nodePort"] = done

    # -- update ------------------------------------------------------------------------------
    async def for_update(self, new: Obj, old: Obj, *, dry_run: bool) -> ServiceAllocation:
        name = str((new.get("metadata") or {}).get("name") or "")
        alloc = ServiceAllocation(Owner.of(old))
        spec, ospec = spec_of(new), spec_of(old)
        if spec.get("type") != EXTERNAL_NAME:
            _raise(name, validate_cluster_ips(spec))
            _raise(name, init_ip_families(new, old))
        try:
            held = _cluster_ips(ospec)
            if held and not needs_cluster_ip(spec):
                alloc.deferred += [(self.ips, ip) for ip in held]
            elif not held and needs_cluster_ip(spec) and not ospec.get("clusterIPs"):
                await self._new_cluster_ip(name, spec, alloc, dry_run)
            await self._update_node_ports(name, spec, ospec, alloc, dry_run)
        except BaseException:
            await alloc.rollback()
            raise
        return alloc

    async def _update_node_ports(
        self, name: str, spec: Obj, ospec: Obj, alloc: ServiceAllocation, dry_run: bool
    ) -> None:
        old_ports = _node_ports(ospec)
        if spec.get("type") in (EXTERNAL_NAME, CLUSTER_IP):
            if ospec.get("type") in (NODE_PORT, LOAD_BALANCER):
                kept = set(_node_ports(spec))  # kept by the user: validation refuses them
                alloc.deferred += [(self.ports, str(p)) for p in old_ports if p not in kept]
            return
        if spec.get("type") not in (NODE_PORT, LOAD_BALANCER):
            return
        taken_now: set[int] = set()
        for i, p in enumerate(ports_of(spec)):
            if not p.get("nodePort") and not needs_node_ports(spec):
                continue
            if p.get("nodePort"):
                number = int(p["nodePort"])
                if number not in old_ports and number not in taken_now:
                    await self._reserve_port(name, i, number, alloc, dry_run)
                    taken_now.add(number)
            else:
                p["nodePort"] = await self._next_port(alloc, dry_run)
        still = set(_node_ports(spec))
        alloc.deferred += [(self.ports, str(p)) for p in old_ports if p not in still]

    # -- delete ------------------------------------------------------------------------------
    async def release_all(self, svc: Obj) -> None:
        """Free what a Service that has left the store held."""
        owner, spec = Owner.of(svc), spec_of(svc)
        for ip in _cluster_ips(spec):
            await self.ips.release(ip, owner)
        for port in _node_ports(spec):
            await self.ports.release(str(port), owner)

    def held_by(self, svc: Obj) -> list[tuple[Pool, str]]:
        """Every reservation a stored Service should have (for the repair)."""
        spec = spec_of(svc)
        return [(self.ips, ip) for ip in _cluster_ips(spec)] + [
            (self.ports, str(p)) for p in _node_ports(spec)
        ]


def _raise(name: str, errs: list[FieldError]) -> None:
    if errs:
        raise Invalid("Service", name, errs)
