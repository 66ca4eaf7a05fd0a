"""Bringing the cluster IP and node port reservations back in line with the stored Services.

Run at start-up and then now and again (``ServiceReservationRepair.run``): a reservation whose
Service is gone (a crash between reserving and storing, or between deleting and releasing) is
removed once it is older than ``min_age``, which leaves alone a reservation another API server
on the same store has just made for a Service it is about to store; a Service whose reservation
is missing (an older data dir, a lost write) gets it back. A Service whose address lies outside
the configured range (the range changed between starts) keeps working but is only logged.
``plan_repair`` decides; ``repair`` acts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubelite.clock import Clock, parse_rfc3339
from kubelite.errors import KubeliteError
from kubelite.registry.service_allocation import ServiceAllocator
from kubelite.registry.serviceips import Owner, Pool, Reservation, ServiceNetwork
from kubelite.store.interface import AlreadyExists, Conflict, NotFound, Store, prefix_for

log = logging.getLogger(__name__)

SERVICES = "services"


@dataclass(frozen=True, slots=True)
class RepairPlan:
    remove: tuple[tuple[str, str], ...]  # (pool resource, value) of orphaned reservations
    restore: tuple[tuple[str, str, Owner], ...]  # (pool resource, value, owner) missing ones


def plan_repair(
    wanted: Iterable[tuple[str, str, Owner]],
    held: Iterable[tuple[str, Reservation]],
    *,
    now: float,
    min_age: float,
) -> RepairPlan:
    """Pure: which reservations to drop and which to re-create."""
    want = {(res, value): owner for res, value, owner in wanted}
    have = {(res, r.value): r for res, r in held}
    remove = []
    for key, r in have.items():
        owner = want.get(key)
        if owner is not None and (not r.owner.uid or r.owner.uid == owner.uid):
            continue
        try:
            age = now - parse_rfc3339(r.created)
        except ValueError:
            age = min_age
        if age >= min_age:
            remove.append(key)
    restore = [
        (res, value, owner) for (res, value), owner in want.items() if (res, value) not in have
    ]
    return RepairPlan(tuple(sorted(remove)), tuple(sorted(restore, key=lambda t: (t[0], t[1]))))


async def repair(
    store: Store, clock: Clock, network: ServiceNetwork, *, min_age: float = 30.0
) -> RepairPlan:
    allocator = ServiceAllocator(store=store, clock=clock, network=network)
    pools: dict[str, Pool] = {
        allocator.ips.resource: allocator.ips,
        allocator.ports.resource: allocator.ports,
    }
    services, _ = await store.list(prefix_for(SERVICES))
    wanted: list[tuple[str, str, Owner]] = []
    for svc in services:
        try:
            wanted += _wanted_by(allocator, svc)
        except Exception as exc:  # one malformed Service must not stop the repair of the others
            log.warning("service reservation repair: skipping a service: %r", exc)
    held = [(res, r) for res, pool in pools.items() for r in await pool.list()]
    plan = plan_repair(wanted, held, now=clock.now(), min_age=min_age)
    current = {(res, r.value): r for res, r in held}
    for res, value in plan.remove:
        log.info("releasing %s %s: no service holds it", res.split(".")[0], value)
        try:
            await store.delete(
                pools[res].key(value), expected_rv=current[(res, value)].resource_version
            )
        except (NotFound, Conflict):
            pass
    for res, value, owner in plan.restore:
        log.info(
            "restoring the reservation of %s %s for %s/%s",
            res.split(".")[0],
            value,
            owner.namespace,
            owner.name,
        )
        try:
            await pools[res].reserve(owner, value)
        except (AlreadyExists, KubeliteError) as exc:
            log.warning("could not restore %s %s: %s", res, value, exc)
    return plan


def _wanted_by(allocator: ServiceAllocator, svc: dict[str, Any]) -> list[tuple[str, str, Owner]]:
    """The reservations ``svc`` should hold (those inside the configured ranges)."""
    if svc.get("metadata", {}).get("name") is None:
        return []
    wanted = []
    for pool, value in allocator.held_by(svc):
        if pool.offset_of(value) is None:
            log.warning(
                "service %s/%s holds %s outside the configured range; recreate it",
                svc["metadata"].get("namespace"),
                svc["metadata"]["name"],
                value,
            )
            continue
        wanted.append((pool.resource, value, Owner.of(svc)))
    return wanted


class ServiceReservationRepair:
    """The repair loop the API server owns: at once, then every ``interval`` seconds."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        network: ServiceNetwork,
        interval: float = 60.0,
        min_age: float = 30.0,
    ) -> None:
        self._store, self._clock, self._network = store, clock, network
        self._interval, self._min_age = interval, min_age

    async def run(self) -> None:
        while True:
            try:
                await repair(self._store, self._clock, self._network, min_age=self._min_age)
            except KubeliteError as exc:
                log.warning("service reservation repair: %s", exc)
            except Exception:
                log.exception("service reservation repair failed; trying again next round")
            await asyncio.sleep(self._interval)
