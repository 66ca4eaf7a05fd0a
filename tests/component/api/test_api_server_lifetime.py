"""The API server's lifetime: its background loops live in one TaskGroup, end with ``stop``, and
a loop that fails ends the others and surfaces from ``stop``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kubelite.api.server import ApiServer
from kubelite.registry.event_expiry import EventExpiry
from kubelite.store.memory import MemoryStore
from kubelite.store.sqlite import SqliteStore

LOOPS = {"ns-reaper", "event-expiry", "service-reservation-repair"}


def running(names: set[str]) -> set[str]:
    return {t.get_name() for t in asyncio.all_tasks() if t.get_name() in names and not t.done()}


async def test_the_background_loops_run_until_stop(tmp_path: Path) -> None:
    server = ApiServer(store=SqliteStore(tmp_path / "db"), port=0, require_auth=False)
    await server.start()
    await asyncio.sleep(0)
    try:
        assert running(LOOPS | {"store-maintenance"}) == LOOPS | {"store-maintenance"}
    finally:
        await server.stop()
        await server.store.close()
    assert running(LOOPS | {"store-maintenance", "api-background"}) == set()


async def test_a_failing_loop_ends_the_others_and_stop_raises_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(self: EventExpiry) -> None:
        raise RuntimeError("expiry broke")

    monkeypatch.setattr(EventExpiry, "run", broken)
    server = ApiServer(store=MemoryStore(), port=0, require_auth=False)
    await server.start()
    for _ in range(10):
        await asyncio.sleep(0)
    assert running(LOOPS) == set()
    with pytest.raises(ExceptionGroup) as err:
        await server.stop()
    assert err.group_contains(RuntimeError, match="expiry broke")
