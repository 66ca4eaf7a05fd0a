"""SQLite specifics: state and watch history survive a reopen; compaction keeps live objects."""

from __future__ import annotations

import contextlib
import sqlite3
from contextlib import aclosing
from pathlib import Path

from kubelite.store.sqlite import SqliteStore


async def test_objects_and_revision_survive_a_reopen(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "db")
    await s.create("pods/ns/a", {"metadata": {"name": "a"}})
    await s.create("pods/ns/b", {"metadata": {"name": "b"}})
    await s.delete("pods/ns/b")
    rev = s.current_revision()
    await s.close()
    s2 = SqliteStore(tmp_path / "db")
    items, rev2 = await s2.list("pods/")
    assert [i["metadata"]["name"] for i in items] == ["a"]
    assert rev2 == rev
    created = await s2.create("pods/ns/c", {"metadata": {"name": "c"}})
    assert created["metadata"]["resourceVersion"] == str(rev + 1)
    await s2.close()


async def test_a_watcher_resumes_across_a_restart(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "db")
    await s.create("pods/ns/a", {"metadata": {"name": "a"}})
    seen = s.current_revision()
    await s.create("pods/ns/b", {"metadata": {"name": "b"}})
    await s.close()
    s2 = SqliteStore(tmp_path / "db")
    async with aclosing(s2.watch("pods/", seen)) as events:
        ev = await anext(events)
    assert (ev.type, ev.object["metadata"]["name"]) == ("ADDED", "b")
    await s2.close()


async def test_compaction_keeps_current_objects(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "db")
    await s.create("pods/ns/a", {"metadata": {"name": "a"}, "v": 1})
    for v in range(2, 6):
        await s.update("pods/ns/a", {"metadata": {"name": "a"}, "v": v})
    await s.create("pods/ns/gone", {"metadata": {"name": "gone"}})
    await s.delete("pods/ns/gone")
    await s.compact(s.current_revision())
    await s.vacuum()
    with contextlib.closing(sqlite3.connect(tmp_path / "db")) as db:
        assert db.execute("SELECT COUNT(*) FROM log").fetchone()[0] == 1
    await s.close()
    s2 = SqliteStore(tmp_path / "db")
    assert (await s2.get("pods/ns/a"))["v"] == 5
    assert s2.oldest_revision() == s2.current_revision()
    await s2.close()
