"""The durable Store: an append-only revision log in SQLite (the kine design), WAL mode.

Each write appends one row ``(rev, key, type, value)`` and commits with ``synchronous=FULL``
before the write is acknowledged or published, so an acknowledged object survives a crash.
The current state is also kept in memory (inherited from ``MemoryStore``): this is a single-node
server and the log is the only writer, so reads never touch the disk. At start-up the latest row
of every key rebuilds that state, and the recent log seeds the watch history, so watchers that
reconnect with a revision from before a restart still get exactly the changes they missed.

Compaction deletes rows that are superseded (or tombstones) at or below a revision; ``VACUUM``
returns the space. ``maintain`` runs both periodically.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

from kubelite.store.broadcaster import DEFAULT_HISTORY
from kubelite.store.interface import EventType, WatchEvent
from kubelite.store.memory import MemoryStore

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    rev   INTEGER PRIMARY KEY,
    key   TEXT NOT NULL,
    type  TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_rev ON log (key, rev);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class SqliteStore(MemoryStore):
    def __init__(self, path: Path, *, history: int = DEFAULT_HISTORY, keep: int = 10_000) -> None:
        super().__init__(history=history)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._keep = keep
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._load(history)

    def _load(self, history: int) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE name='compacted'").fetchone()
        compacted = int(row[0]) if row else 0
        top = self._db.execute("SELECT MAX(rev) FROM log").fetchone()[0] or 0
        self._revision = max(compacted, int(top))
        latest = self._db.execute(
            "SELECT l.key, l.type, l.value, l.rev FROM log l "
            "JOIN (SELECT key, MAX(rev) AS rev FROM log GROUP BY key) m "
            "ON l.key = m.key AND l.rev = m.rev"
        )
        for key, kind, value, rev in latest:
            if kind != "DELETED":
                self._objects[key] = value
                self._rvs[key] = int(rev)
        recent = self._db.execute(
            "SELECT rev, key, type, value FROM log WHERE rev > ? ORDER BY rev DESC LIMIT ?",
            (compacted, history),
        ).fetchall()
        recent.reverse()
        floor = recent[0][0] - 1 if recent else self._revision
        self._broadcaster.compact(floor)
        self._broadcaster.preload(
            [(WatchEvent(kind, key, int(rev), {}), value) for rev, key, kind, value in recent]
        )

    def _persist(self, revision: int, key: str, kind: EventType, text: str) -> None:
        # autocommit mode: the INSERT is its own transaction, fsync'd (synchronous=FULL)
        self._db.execute(
            "INSERT INTO log (rev, key, type, value) VALUES (?, ?, ?, ?)",
            (revision, key, kind, text),
        )

    async def compact(self, revision: int) -> None:
        revision = min(revision, self._revision)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "DELETE FROM log WHERE rev <= ? AND (type = 'DELETED' OR rev NOT IN "
                "(SELECT MAX(rev) FROM log GROUP BY key))",
                (revision,),
            )
            self._db.execute(
                "INSERT INTO meta (name, value) VALUES ('compacted', ?) "
                "ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
                (revision,),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        await super().compact(revision)

    async def vacuum(self) -> None:
        self._db.execute("VACUUM")

    async def maintain(self, interval: float = 300.0) -> None:
        """Forever: keep the newest ``keep`` revisions of history, then vacuum."""
        while True:
            await asyncio.sleep(interval)
            target = self._revision - self._keep
            if target > self.oldest_revision():
                try:
                    await self.compact(target)
                    await self.vacuum()
                except sqlite3.Error as exc:  # keep serving; try again next round
                    log.warning("store compaction failed: %s", exc)

    async def close(self) -> None:
        self._db.close()
