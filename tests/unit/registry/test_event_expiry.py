"""Events older than the TTL go; recent ones stay."""

from __future__ import annotations

from kubelite.clock import ManualClock, rfc3339
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.event_expiry import EventExpiry
from kubelite.registry.events import EVENTS
from kubelite.registry.service import Registry
from kubelite.store.memory import MemoryStore


async def test_old_events_expire() -> None:
    clock = ManualClock()
    reg = Registry(store=MemoryStore(), clock=clock, kinds=ALL_KINDS)
    await bootstrap(reg)
    for name, age in (("old", 7200), ("new", 60)):
        ev = {
            "metadata": {"name": name},
            "involvedObject": {"kind": "Pod", "name": "p"},
            "reason": "R",
            "lastTimestamp": rfc3339(clock.now() - age),
        }
        await reg.create(EVENTS, "default", ev)
    assert await EventExpiry(registry=reg).expire() == 1
    left, _ = await reg.list(EVENTS, "default")
    assert [e["metadata"]["name"] for e in left] == ["new"]
