"""Memory the store gives back (issue 11, item 6): the watch history is bounded by size as well
as by count, and once objects are gone their memory goes back to the system."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from kubelite.store.broadcaster import Broadcaster
from kubelite.store.interface import WatchEvent
from kubelite.store.memory import MemoryStore
from kubelite.store.memtrim import ShrinkWatch, release_free_memory
from kubelite.store.sqlite import SqliteStore


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_history_is_bounded_by_size_and_the_floor_follows() -> None:
    b = Broadcaster(floor=0, history=1000, max_bytes=1000)
    for rev in range(1, 21):
        b.publish(WatchEvent("ADDED", f"k/{rev}", rev, {}), "x" * 100)
    assert b.history_bytes <= 1000
    assert b.floor == 10  # events 11..20 are kept


def test_a_shrink_is_due_after_a_fall_from_the_peak_and_only_once() -> None:
    watch = ShrinkWatch(threshold=100)
    assert not watch.due(500)
    assert not watch.due(450)
    assert watch.due(350)
    assert not watch.due(340)
    assert not ShrinkWatch(threshold=100).due(0)


def pod(i: int) -> dict[str, Any]:
    env = [{"name": f"V{j}", "value": "x" * 40} for j in range(20)]
    return {"metadata": {"name": f"p{i}"}, "spec": {"containers": [{"name": "c", "env": env}]}}


async def test_memory_goes_back_to_the_system_once_deleted_objects_leave_the_history() -> None:
    store = MemoryStore()
    release_free_memory()
    before = rss_mb()
    for i in range(5000):
        await store.create(f"pods/ns/p{i:05d}", pod(i))
    loaded = rss_mb()
    for i in range(5000):
        await store.delete(f"pods/ns/p{i:05d}")
    assert store.footprint() <= 16 * 1024 * 1024 + 4096  # only what history may keep
    await store.compact(store.current_revision())  # maintenance, a round later
    assert store.footprint() == 0
    assert release_free_memory()
    after = rss_mb()
    grown = loaded - before
    assert grown > 5, (before, loaded)
    assert after - before < grown * 0.5, (before, loaded, after)


async def test_maintenance_forgets_history_older_than_its_previous_round(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db")
    for i in range(5):
        await store.create(f"configmaps/ns/c{i}", {"metadata": {"name": f"c{i}"}})
    first_round = store.current_revision()
    task = asyncio.create_task(store.maintain(interval=0.05, check=0.05))
    try:
        for _ in range(250):  # a few maintenance rounds at most
            if store.oldest_revision() >= first_round:
                break
            await asyncio.sleep(0.02)
        assert store.oldest_revision() >= first_round
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await store.close()
