"""SQLite writes run on the store's own thread: the event loop keeps serving while a commit is
made durable, one thread uses the connection, writes accepted meanwhile share the next
transaction, and a cancelled writer still leaves memory and the log in agreement."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from kubelite.store.interface import Conflict, NotFound
from kubelite.store.memory import Change
from kubelite.store.sqlite import SqliteStore


class SlowStore(SqliteStore):
    """Each transaction takes ``delay`` seconds on the database thread, as a slow fsync would;
    records which thread ran it and the revisions it held."""

    delay = 0.2

    def __init__(self, path: Path) -> None:
        self.threads: set[int] = set()
        self.transactions: list[list[int]] = []
        super().__init__(path)

    def _insert(self, changes: Sequence[Change]) -> None:
        self.threads.add(threading.get_ident())
        self.transactions.append([c.revision for c in changes])
        time.sleep(self.delay)
        super()._insert(changes)


@pytest.fixture
async def slow(tmp_path: Path) -> AsyncIterator[SlowStore]:
    s = SlowStore(tmp_path / "db")
    await s.create("pods/ns/a", {"metadata": {"name": "a"}})
    yield s
    await s.close()


def rows(path: Path) -> list[tuple[int, str]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT rev, key FROM log ORDER BY rev").fetchall()


async def test_the_loop_runs_on_while_a_write_is_being_committed(slow: SlowStore) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        await slow.create("pods/ns/b", {"metadata": {"name": "b"}})
    finally:
        ticker.cancel()
    assert ticks >= 5  # about delay / 0.01 = 20 with the loop free, 0 if it were held


async def test_a_get_waits_for_the_write_accepted_on_its_key(slow: SlowStore) -> None:
    write = asyncio.create_task(slow.update("pods/ns/a", {"metadata": {"name": "a"}, "v": 2}))
    await asyncio.sleep(0.02)  # accepted; the INSERT is under way on the store's thread
    items, rev = await slow.list("pods/")  # what watchers have seen so far, at once
    assert ([i.get("v") for i in items], rev) == ([None], 1)
    got = await slow.get("pods/ns/a")
    assert (got["v"], got["metadata"]["resourceVersion"]) == (2, "2")
    await write


async def test_a_get_of_another_key_does_not_wait(slow: SlowStore) -> None:
    await slow.create("pods/ns/b", {"metadata": {"name": "b"}})
    write = asyncio.create_task(slow.update("pods/ns/a", {"metadata": {"name": "a"}}))
    await asyncio.sleep(0.02)
    t0 = time.monotonic()
    assert (await slow.get("pods/ns/b"))["metadata"]["name"] == "b"
    assert time.monotonic() - t0 < slow.delay / 2
    await write


async def test_one_thread_other_than_the_loops_uses_the_database(slow: SlowStore) -> None:
    await slow.create("pods/ns/b", {"metadata": {"name": "b"}})
    await slow.delete("pods/ns/b")
    assert len(slow.threads) == 1
    assert threading.get_ident() not in slow.threads


async def test_a_cancelled_write_still_lands_before_the_next(slow: SlowStore) -> None:
    write = asyncio.create_task(slow.create("pods/ns/b", {"metadata": {"name": "b"}}))
    await asyncio.sleep(0.02)
    write.cancel()
    with pytest.raises(asyncio.CancelledError):
        await write
    c = await slow.create("pods/ns/c", {"metadata": {"name": "c"}})
    assert c["metadata"]["resourceVersion"] == "3"
    assert (await slow.get("pods/ns/b"))["metadata"]["resourceVersion"] == "2"
    assert rows(slow._path) == [(1, "pods/ns/a"), (2, "pods/ns/b"), (3, "pods/ns/c")]


async def test_a_timeout_around_a_write_is_a_prompt_timeout(slow: SlowStore) -> None:
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.02):
            await slow.create("pods/ns/b", {"metadata": {"name": "b"}})
    assert time.monotonic() - t0 < slow.delay / 2
    await slow.update("pods/ns/a", {"metadata": {"name": "a"}})
    assert slow.current_revision() == 3


async def test_writes_accepted_during_a_commit_share_the_next_transaction(
    slow: SlowStore,
) -> None:
    await asyncio.gather(*(slow.create(f"pods/ns/p{i}", {"metadata": {}}) for i in range(10)))
    assert slow.transactions == [[1], [2], list(range(3, 12))]
    assert [r[0] for r in rows(slow._path)] == list(range(1, 12))


async def test_preconditions_see_writes_not_yet_committed(slow: SlowStore) -> None:
    first = asyncio.create_task(slow.update("pods/ns/a", {"metadata": {}}, expected_rv="1"))
    await asyncio.sleep(0)
    with pytest.raises(Conflict):
        await slow.update("pods/ns/a", {"metadata": {}}, expected_rv="1")
    deleted = asyncio.create_task(slow.delete("pods/ns/a", expected_rv="2"))
    recreated = asyncio.create_task(slow.create("pods/ns/a", {"metadata": {"name": "a"}}))
    await asyncio.gather(first, deleted, recreated)
    assert (await slow.get("pods/ns/a"))["metadata"]["resourceVersion"] == "4"
    assert [r[0] for r in rows(slow._path)] == [1, 2, 3, 4]


async def test_a_failed_commit_fails_the_writes_accepted_after_it(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "db")
    await s.create("pods/ns/a", {"metadata": {"name": "a"}})
    with contextlib.closing(sqlite3.connect(tmp_path / "db")) as db:  # a row from elsewhere
        db.execute("INSERT INTO log VALUES (2, 'pods/ns/x', 'ADDED', '{}')")
        db.commit()
    results = await asyncio.gather(
        s.create("pods/ns/b", {"metadata": {}}),
        s.update("pods/ns/b", {"metadata": {}}, expected_rv="2"),
        return_exceptions=True,
    )
    assert [type(r) for r in results] == [sqlite3.IntegrityError, sqlite3.IntegrityError]
    assert s.current_revision() == 1
    with pytest.raises(NotFound):
        await s.get("pods/ns/b")
    with pytest.raises(NotFound):  # what is checked against is the committed state again
        await s.update("pods/ns/b", {"metadata": {}})
    await s.close()


async def test_close_waits_for_the_write_in_flight_and_is_idempotent(slow: SlowStore) -> None:
    write = asyncio.create_task(slow.create("pods/ns/b", {"metadata": {"name": "b"}}))
    await asyncio.sleep(0.02)
    await slow.close()
    await slow.close()
    assert (await write)["metadata"]["resourceVersion"] == "2"
    assert rows(slow._path)[-1] == (2, "pods/ns/b")
    with pytest.raises(sqlite3.ProgrammingError):
        await slow.create("pods/ns/c", {"metadata": {"name": "c"}})
