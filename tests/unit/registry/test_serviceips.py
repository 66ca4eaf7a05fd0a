"""Cluster IP and node port reservations: the pure picking and repair planning, and the pools
on the memory store (a duplicate key is the store's to refuse)."""

from __future__ import annotations

import asyncio
import random

import pytest

from kubelite.clock import ManualClock, rfc3339
from kubelite.registry.service_repair import plan_repair
from kubelite.registry.serviceips import (
    AlreadyAllocated,
    NotInRange,
    Owner,
    RangeFull,
    Reservation,
    ServiceNetwork,
    cluster_ip_pool,
    node_port_pool,
    pick_free,
    static_band,
)
from kubelite.store.memory import MemoryStore

WEB = Owner("default", "web", "uid-web")
DB = Owner("default", "db", "uid-db")

BANDS = [
    ("a /16 keeps 256 addresses for requests", 65536, 16, 256, 16, 256),
    ("a /24 keeps 16", 256, 16, 256, 16, 16),
    ("a /28 keeps none", 16, 16, 256, 16, 0),
    ("the node port range keeps 86", 2768, 16, 128, 32, 86),
]


@pytest.mark.parametrize(
    ("case", "size", "lo", "hi", "div", "want"), BANDS, ids=[b[0] for b in BANDS]
)
def test_static_band(case: str, size: int, lo: int, hi: int, div: int, want: int) -> None:
    assert static_band(size, lower=lo, upper=hi, divisor=div) == want


PICKS = [
    ("dynamic picks stay above the band", 100, 10, set(), range(10, 100)),
    ("the band is used once the rest is full", 20, 10, set(range(10, 20)), range(0, 10)),
    ("a taken value is never picked", 3, 0, {0, 2}, range(1, 2)),
]


@pytest.mark.parametrize(
    ("case", "size", "band", "taken", "allowed"), PICKS, ids=[p[0] for p in PICKS]
)
def test_pick_free(case: str, size: int, band: int, taken: set[int], allowed: range) -> None:
    rng = random.Random(7)
    for _ in range(20):
        assert pick_free(size, band, taken, rng) in allowed


def test_pick_free_says_none_when_full() -> None:
    assert pick_free(4, 2, {0, 1, 2, 3}, random.Random(1)) is None


def _pools(cidr: str = "10.96.0.0/28", ports: tuple[int, int] = (30000, 30003)):  # type: ignore[no-untyped-def]
    store, clock = MemoryStore(), ManualClock(1000.0)
    net = ServiceNetwork.of(cidr, ports)
    return store, cluster_ip_pool(store, clock, net), node_port_pool(store, clock, net)


async def test_a_requested_address_is_reserved_once() -> None:
    _, ips, _ = _pools()
    assert await ips.reserve(WEB, "10.96.0.5") == "10.96.0.5"
    with pytest.raises(AlreadyAllocated, match=r"^provided IP is already allocated$"):
        await ips.reserve(DB, "10.96.0.5")


async def test_an_address_outside_the_range_is_refused_with_the_range() -> None:
    _, ips, _ = _pools()
    for bad in ("10.97.0.1", "10.96.0.0", "10.96.0.15"):
        with pytest.raises(NotInRange) as err:
            await ips.reserve(WEB, bad)
        assert str(err.value) == (
            f"the provided IP ({bad}) is not in the valid range. The range of valid IPs is "
            "10.96.0.0/28"
        )


async def test_concurrent_picks_never_share_an_address_and_the_range_fills() -> None:
    _, ips, _ = _pools()
    owners = [Owner("default", f"s{i}", f"u{i}") for i in range(14)]
    got = await asyncio.gather(*(ips.reserve(o, None) for o in owners))
    assert len(set(got)) == 14
    with pytest.raises(RangeFull):
        await ips.reserve(WEB, None)


async def test_release_frees_only_the_owners_reservation() -> None:
    _, ips, ports = _pools()
    await ips.reserve(WEB, "10.96.0.5")
    await ips.release("10.96.0.5", DB)
    assert [r.value for r in await ips.list()] == ["10.96.0.5"]
    await ips.release("10.96.0.5", WEB)
    assert await ips.list() == []
    assert await ports.reserve(WEB, "30001") == "30001"
    with pytest.raises(NotInRange, match=r"The range of valid ports is 30000-30003$"):
        await ports.reserve(WEB, "29999")


async def test_a_dry_run_reserves_nothing() -> None:
    _, ips, _ = _pools()
    await ips.reserve(WEB, None, dry_run=True)
    assert await ips.list() == []


def _held(value: str, owner: Owner, created: float) -> tuple[str, Reservation]:
    return ("ips", Reservation(value, owner, rfc3339(created), "1"))


REPAIRS = [
    (
        "a reservation of a live service stays",
        [("ips", "10.96.0.5", WEB)],
        [_held("10.96.0.5", WEB, 0)],
        (),
        (),
    ),
    (
        "an old orphan goes",
        [],
        [_held("10.96.0.5", WEB, 0)],
        (("ips", "10.96.0.5"),),
        (),
    ),
    (
        "a fresh orphan may be another server's create in flight and stays",
        [],
        [_held("10.96.0.5", WEB, 990)],
        (),
        (),
    ),
    (
        "a reservation held for a service of the same name but another uid goes",
        [("ips", "10.96.0.5", WEB)],
        [_held("10.96.0.5", Owner("default", "web", "old-uid"), 0)],
        (("ips", "10.96.0.5"),),
        (),
    ),
    (
        "a service without its reservation gets it back",
        [("ips", "10.96.0.5", WEB)],
        [],
        (),
        (("ips", "10.96.0.5", WEB),),
    ),
]


@pytest.mark.parametrize(
    ("case", "wanted", "held", "remove", "restore"), REPAIRS, ids=[r[0] for r in REPAIRS]
)
def test_plan_repair(case: str, wanted: list, held: list, remove: tuple, restore: tuple) -> None:  # type: ignore[type-arg]
    plan = plan_repair(wanted, held, now=1000.0, min_age=30.0)
    assert (plan.remove, plan.restore) == (remove, restore)
