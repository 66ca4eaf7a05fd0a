"""The durable Store: an append-only revision log in SQLite (the kine design), WAL mode.

Each write appends one row ``(rev, key, type, value)`` and commits with ``synchronous=FULL``
before the write is acknowledged or published, so an acknowledged object survives a crash.
The current state is also kept in memory (inherited from ``MemoryStore``): this is a single-node
server and the log is the only writer, so reads never touch the disk. At start-up the latest row
of every key rebuilds that state, and the recent log seeds the watch history, so watchers that
reconnect with a revision from before a restart still get exactly the changes they missed.

The database is opened, written and closed on one thread of its own (``_db`` is used from no
other, which SQLite's ``check_same_thread`` enforces), so the event loop never waits for a
commit's fsync: it serves reads and watches while writes are being made durable. Writes are
accepted on the loop in order (``MemoryStore``), kept in ``_pending`` for the preconditions of
later writes, and committed in batches: one transaction in flight at a time, the writes
accepted meanwhile forming the next (group commit). A committed batch is applied in revision
order, then its writers are answered. If a commit fails, that batch and every write accepted
after it fail with the error and the accepted state falls back to what is committed. A writer
whose caller is cancelled is still committed and applied.

Reads answer from what is applied, which is what watchers have seen: ``list`` at once, a
consistent snapshot at ``current_revision``. ``get`` of a key with a write accepted but not yet
applied first waits (without holding the loop) for that write, so a read-modify-write of one
object (read, then update with its resourceVersion as precondition) is checked against the
state it read, as it was when a write held the loop until it was on disk.

Compaction deletes rows that are superseded (or tombstones) at or below a revision; ``VACUUM``
returns the space. ``maintain`` runs both periodically.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from kubelite.store.broadcaster import DEFAULT_HISTORY
from kubelite.store.interface import WatchEvent
from kubelite.store.memory import Change, MemoryStore
from kubelite.store.memtrim import ShrinkWatch, release_free_memory

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_Batch = list[tuple[Change, asyncio.Future[None]]]  # accepted writes and their writers
_Readers = list[tuple[int, asyncio.Future[None]]]  # the revision a read waits for, its wake

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
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Secrets live in the file: root only (SQLite gives its -wal and -shm files its mode).
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        os.chmod(path, 0o600)
        self._path = path
        self._keep = keep
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kubelite-store")
        self._db: sqlite3.Connection | None = None
        # accepted, not yet applied: key -> (text, or None once deleted; revision)
        self._pending: dict[str, tuple[str | None, int]] = {}
        self._batch: _Batch = []  # the next transaction
        self._in_flight: asyncio.Future[None] | None = None  # the transaction being committed
        self._readers: _Readers = []  # (revision awaited, wake)
        try:
            thread.submit(self._open, history).result()
        except BaseException:
            thread.shutdown(wait=True)
            raise
        self._thread: ThreadPoolExecutor | None = thread
        self._accepted = self._revision  # the revision of the latest accepted write
        self._closing = False

    # -- on the database thread ------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise sqlite3.ProgrammingError("the store is closed")
        return self._db

    def _open(self, history: int) -> None:
        db = sqlite3.connect(str(self._path), isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            self._db = db
            self._load(history)
        except BaseException:
            self._db = None
            db.close()
            raise

    def _load(self, history: int) -> None:
        db = self._conn()
        row = db.execute("SELECT value FROM meta WHERE name='compacted'").fetchone()
        compacted = int(row[0]) if row else 0
        top = db.execute("SELECT MAX(rev) FROM log").fetchone()[0] or 0
        self._revision = max(compacted, int(top))
        latest = db.execute(
            "SELECT l.key, l.type, l.value, l.rev FROM log l "
            "JOIN (SELECT key, MAX(rev) AS rev FROM log GROUP BY key) m "
            "ON l.key = m.key AND l.rev = m.rev"
        )
        for key, kind, value, rev in latest:
            if kind != "DELETED":
                self._objects[key] = value
                self._rvs[key] = int(rev)
        self._index.reset(self._objects)
        self._base_revision = self._revision  # what changed before the restart is not known
        recent = db.execute(
            "SELECT rev, key, type, value FROM log WHERE rev > ? ORDER BY rev DESC LIMIT ?",
            (compacted, history),
        ).fetchall()
        recent.reverse()
        floor = recent[0][0] - 1 if recent else self._revision
        self._broadcaster.compact(floor)
        self._broadcaster.preload(
            [(WatchEvent(kind, key, int(rev), {}), value) for rev, key, kind, value in recent]
        )

    def _insert(self, changes: Sequence[Change]) -> None:
        """One transaction for the batch, fsync'd on COMMIT (synchronous=FULL)."""
        db = self._conn()
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT INTO log (rev, key, type, value) VALUES (?, ?, ?, ?)",
                [(c.revision, c.key, c.type, c.text) for c in changes],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _delete_superseded(self, revision: int) -> None:
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "DELETE FROM log WHERE rev <= ? AND (type = 'DELETED' OR rev NOT IN "
                "(SELECT MAX(rev) FROM log GROUP BY key))",
                (revision,),
            )
            db.execute(
                "INSERT INTO meta (name, value) VALUES ('compacted', ?) "
                "ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)",
                (revision,),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _vacuum(self) -> None:
        self._conn().execute("VACUUM")

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # -- on the event loop -----------------------------------------------------------------
    def _on_thread(self, fn: Callable[..., _T], *args: object) -> asyncio.Future[_T]:
        if self._thread is None:
            raise sqlite3.ProgrammingError("the store is closed")
        return asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def get(self, key: str) -> dict[str, Any]:
        pending = self._pending.get(key)
        if pending is not None:  # wait until that write is applied (or has failed)
            woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._readers.append((pending[1], woken))
            await woken
        return await super().get(key)

    def _wake_readers(self) -> None:
        """Wake the reads whose writes are all applied, or gone with a failed commit."""
        waiting = []
        for revision, woken in self._readers:
            if woken.done():  # the reader was cancelled
                continue
            if revision <= self._revision or revision > self._accepted:
                woken.set_result(None)
            else:
                waiting.append((revision, woken))
        self._readers = waiting

    def _latest(self, key: str) -> tuple[str, int] | None:
        if key in self._pending:
            text, rev = self._pending[key]
            return None if text is None else (text, rev)
        return super()._latest(key)

    def _next_revision(self) -> int:
        return self._accepted + 1

    async def _commit(self, change: Change) -> None:
        if self._closing:
            raise sqlite3.ProgrammingError("the store is closed")
        self._accepted = change.revision
        text = None if change.type == "DELETED" else change.text
        self._pending[change.key] = (text, change.revision)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._batch.append((change, done))
        if self._in_flight is None:
            self._send()
        await done  # a cancelled caller stops waiting; the write goes on (``_committed``)

    def _send(self) -> None:
        """Hand the accepted batch to the database thread as one transaction."""
        batch, self._batch = self._batch, []
        flight = self._on_thread(self._insert, [change for change, _ in batch])
        self._in_flight = flight
        flight.add_done_callback(lambda f: self._committed(batch, f))

    def _committed(self, batch: _Batch, flight: asyncio.Future[None]) -> None:
        self._in_flight = None
        error = asyncio.CancelledError() if flight.cancelled() else flight.exception()
        if error is not None:
            self._fail(batch + self._batch, error)
            return
        for change, done in batch:
            self._apply(change)
            if self._pending.get(change.key, (None, 0))[1] == change.revision:
                del self._pending[change.key]
            if not done.done():
                done.set_result(None)
        self._wake_readers()
        if self._batch:
            self._send()

    def _fail(self, writes: _Batch, error: BaseException) -> None:
        """Nothing of these writes was stored: their writers get the error, and what later
        writes are checked against is the committed state again."""
        log.warning("store commit failed for %d write(s): %s", len(writes), error)
        self._batch = []
        self._pending.clear()
        self._accepted = self._revision
        for _, done in writes:
            if not done.done():
                done.set_exception(error)
        self._wake_readers()

    async def compact(self, revision: int) -> None:
        revision = min(revision, self._revision)
        await self._on_thread(self._delete_superseded, revision)
        await super().compact(revision)

    async def vacuum(self) -> None:
        await self._on_thread(self._vacuum)

    async def maintain(self, interval: float = 300.0, check: float = 30.0) -> None:
        """Forever: every ``interval``, forget the history from before the previous round
        (as the API server has etcd compact every 5 minutes) and beyond the newest ``keep``
        revisions, then vacuum; every ``check``, give memory back to the system if the store
        shrank a lot (``memtrim``)."""
        shrink = ShrinkWatch()
        since_compaction = 0.0
        previous_round = self._revision
        while True:
            await asyncio.sleep(min(check, interval))
            since_compaction += min(check, interval)
            if shrink.due(self.stored_bytes()):
                released = release_free_memory()
                log.info("store shrank; freed memory returned to the system: %s", released)
            if since_compaction < interval:
                continue
            since_compaction = 0.0
            target = max(self._revision - self._keep, previous_round)
            previous_round = self._revision
            if target > self.oldest_revision():
                try:
                    await self.compact(target)
                    await self.vacuum()
                except Exception as exc:  # keep serving; try again next round
                    log.warning("store compaction failed: %r", exc)

    async def close(self) -> None:
        """Close the database once every accepted write is committed; idempotent."""
        if self._closing:
            return
        self._closing = True  # no more writes are accepted
        while self._in_flight is not None:  # each commit sends the next batch, if any
            await asyncio.wait({self._in_flight})
        thread, self._thread = self._thread, None
        assert thread is not None
        await asyncio.get_running_loop().run_in_executor(thread, self._close)
        thread.shutdown(wait=True)
