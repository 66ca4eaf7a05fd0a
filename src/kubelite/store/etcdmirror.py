"""etcd's state under kubelite's prefix, mirrored in memory and kept current by one watch:
what the etcd store lists, indexes and watches from (the API server's watch cache).

The mirror is a ``MemoryStore`` whose state changes only as etcd's watch says: every change
under the prefix is applied in revision order, each object stamped with its ``mod_revision``,
MODIFIED and DELETED events carrying what they replaced (the mirror's own previous state, so
the watch needs no ``prev_kv``). A broken stream is resumed after the last revision applied,
from the next member if that one is gone. A watch etcd cancels because its start is compacted
(the mirror fell further behind than etcd's history reaches) makes the mirror read everything
again; the watches it served end with ``Compacted`` (a marker published to the old history).

Freshness: ``caught_up(prefix, revision)`` returns once the mirror's state of ``prefix`` is
etcd's at ``revision``: when it has applied that revision, or when etcd says nothing under the
prefix changed after the mirror's revision (no key there with a newer ``mod_revision``, and as
many keys as the mirror holds: a deletion lowers the count, a re-creation shows a newer
revision). The second answer is for revisions moved by writes outside the prefix, which the
watch never sees.

Loaded on first use (``ready``) and followed by a task the mirror owns until ``stop_following``.
Multi-key transactions are not written by kubelite: each revision under the prefix holds one
key's change, which ``Broadcaster`` relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncGenerator
from contextlib import aclosing

from kubelite.store.broadcaster import DEFAULT_HISTORY, Broadcaster
from kubelite.store.etcdclient import EtcdClient
from kubelite.store.etcdkv import KeySpace, decode_text
from kubelite.store.etcdwire import (
    EtcdError,
    EtcdUnavailable,
    FutureRevision,
    KeyValue,
    WatchChange,
    range_request,
)
from kubelite.store.interface import Compacted, WatchEvent
from kubelite.store.keyindex import KeyIndex, ValueOf
from kubelite.store.memory import Change, MemoryStore

log = logging.getLogger(__name__)

PAGE = 1000  # keys per range while loading the mirror
QUICK_CATCH_UP = 0.1  # how long a list waits for the mirror before asking etcd what changed
_RESYNC = 2**63  # the revision of the marker that ends the watches of a discarded mirror


class EtcdMirror(MemoryStore):
    def __init__(
        self,
        client: EtcdClient,
        keys: KeySpace,
        *,
        history: int = DEFAULT_HISTORY,
        sync_timeout: float = 10.0,
    ) -> None:
        """``sync_timeout``: the longest a caller waits for the mirror to catch up."""
        super().__init__(history=history)
        self.client = client
        self.keys = keys
        self._history = history
        self.sync_timeout = sync_timeout
        self._started = False
        self._closed = False
        self._loading: asyncio.Task[None] | None = None
        self._follower: asyncio.Task[None] | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._indexes: list[tuple[str, str, ValueOf]] = []
        self._watching: Counter[str] = Counter()  # prefixes of the open watches

    # -- start-up: load the mirror, then follow etcd ---------------------------------------------
    async def ready(self) -> None:
        """Load the mirror and start following etcd, once; a failed load is tried again by the
        next caller."""
        if self._started:
            return
        if self._closed:
            raise EtcdUnavailable("the etcd store is closed")
        if self._loading is None:
            self._loading = asyncio.create_task(self._start(), name="etcd-store-load")
        loading = self._loading
        try:
            await asyncio.shield(loading)
        finally:
            if loading.done() and not self._started and self._loading is loading:
                self._loading = None  # failed: the next caller tries again

    async def _start(self) -> None:
        revision, kvs = await self._read_all()
        self._reset(revision, kvs)
        self._follower = asyncio.create_task(self._follow(), name="etcd-store-watch")
        self._started = True

    async def _read_all(self) -> tuple[int, list[KeyValue]]:
        """Every key under the prefix, read in pages at one revision."""
        begin, end = self.keys.begin, self.keys.end
        page = await self.client.range(range_request(begin, end, limit=PAGE))
        revision, kvs = page.revision, list(page.kvs)
        while page.more and page.kvs:
            after = page.kvs[-1].key + b"\x00"
            page = await self.client.range(range_request(after, end, revision=revision, limit=PAGE))
            kvs += page.kvs
        return revision, kvs

    def _reset(self, revision: int, kvs: list[KeyValue]) -> None:
        """The mirror becomes etcd's state at ``revision``; its history starts there."""
        self._objects, self._rvs = {}, {}
        for kv in kvs:
            key = self.keys.store_key(kv.key)
            text = self._decoded(key, kv.value, kv.mod_revision)
            if key is not None and text is not None:
                self._objects[key], self._rvs[key] = text, kv.mod_revision
        self._stored_bytes = sum(len(t) for t in self._objects.values())
        self._index = KeyIndex()
        self._index.reset(self._objects)
        for prefix, field, value_of in self._indexes:
            super().add_index(prefix, field, value_of)
        self._revision = self._base_revision = revision
        self._resource_revisions = {}
        self._broadcaster = Broadcaster(floor=revision, history=self._history)
        self._wake()

    def add_index(self, prefix: str, field: str, value_of: ValueOf) -> None:
        self._indexes.append((prefix, field, value_of))
        super().add_index(prefix, field, value_of)

    # -- following etcd ----------------------------------------------------------------------------
    async def _follow(self) -> None:
        """Forever: apply etcd's changes in revision order, resuming after the last one
        applied whenever the stream breaks (from another member, if that one is gone)."""
        pause = 0.1
        while True:
            try:
                watch = self.client.watch(self.keys.begin, self.keys.end, self._revision + 1)
                async with aclosing(watch) as replies:
                    async for reply in replies:
                        pause = 0.1
                        if reply.canceled and reply.compact_revision:
                            await self._resync(reply.compact_revision)
                            break
                        if reply.canceled:
                            raise EtcdUnavailable(f"etcd ended the watch: {reply.cancel_reason}")
                        self._apply_changes(reply.changes)
            except EtcdError as exc:
                log.warning(
                    "etcd store: watch interrupted (%s); resuming after revision %d",
                    exc,
                    self._revision,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    def _apply_changes(self, changes: tuple[WatchChange, ...]) -> None:
        for change in changes:
            kv, rev = change.kv, change.kv.mod_revision
            if rev < self._revision:
                continue
            key = self.keys.store_key(kv.key)
            before = self._objects.get(key) if key is not None else None
            if key is None or (change.deleted and before is None):
                self._revision = rev  # kubelite's bookkeeping, or a key it never held
            elif change.deleted:
                assert before is not None
                self._apply(Change(rev, key, "DELETED", decode_text(before, rev), before))
            elif (text := self._decoded(key, kv.value, rev)) is not None:
                self._apply(Change(rev, key, "MODIFIED" if before else "ADDED", text, before))
            else:
                self._revision = rev
        self._wake()

    def _decoded(self, key: str | None, value: bytes, revision: int) -> str | None:
        if key is None:
            return None
        try:
            return decode_text(value, revision)
        except (ValueError, TypeError) as exc:
            log.warning("etcd store: %s at revision %d is not an object: %s", key, revision, exc)
            return None

    async def _resync(self, compacted: int) -> None:
        """The watch cannot resume (etcd compacted past it): read everything again and end
        every open watch with ``Compacted``, so its client re-lists."""
        log.warning(
            "etcd store: history up to %d is compacted, past the mirror's %d; reloading",
            compacted,
            self._revision,
        )
        revision, kvs = await self._read_all()
        old = self._broadcaster
        self._reset(revision, kvs)
        for prefix in list(self._watching):
            old.publish(WatchEvent("DELETED", prefix + "\U0010ffff", _RESYNC, {}), "{}")

    def _wake(self) -> None:
        waiting = []
        for revision, woken in self._waiters:
            if woken.done():
                continue
            if revision <= self._revision:
                woken.set_result(None)
            else:
                waiting.append((revision, woken))
        self._waiters = waiting

    async def wait_for(self, revision: int, timeout: float) -> bool:
        """Whether the mirror reached ``revision`` within ``timeout`` seconds."""
        if self._revision >= revision:
            return True
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((revision, woken))
        try:
            async with asyncio.timeout(timeout):
                await woken
            return True
        except TimeoutError:
            return False
        finally:
            woken.cancel()

    async def etcd_revision(self) -> int:
        """etcd's current revision, read linearizably."""
        probe = range_request(self.keys.compaction_key, keys_only=True)
        return (await self.client.range(probe)).revision

    async def caught_up(self, prefix: str, wanted: int) -> None:
        """Return once the mirror's state of ``prefix`` is etcd's at ``wanted`` (see the module
        docstring); ``EtcdUnavailable`` if it is not within ``sync_timeout``."""
        if await self.wait_for(wanted, QUICK_CATCH_UP):
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.sync_timeout
        while self._revision < wanted:
            if await self._unchanged_since_mirror(prefix, wanted):
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise EtcdUnavailable(
                    f"the store's view of etcd is behind: revision {self._revision}, "
                    f"{wanted} asked for"
                )
            await self.wait_for(wanted, min(remaining, 1.0))

    async def _unchanged_since_mirror(self, prefix: str, wanted: int) -> bool:
        """Whether ``prefix`` at revision ``wanted`` is what the mirror holds: no key there was
        written after the mirror's revision, and as many keys are there (so none was deleted
        either: a deletion lowers the count, a re-creation shows a newer revision). Not yet, if
        etcd itself has not reached ``wanted`` (a resourceVersion from the future)."""
        seen = self._revision
        begin, end = self.keys.range_of(prefix)
        probe = range_request(
            begin, end, revision=wanted, keys_only=True, limit=1, min_mod_revision=seen + 1
        )
        try:
            changed = await self.client.range(probe)
        except FutureRevision:
            return False
        return self._revision >= wanted or (
            not changed.kvs and changed.count == len(self._index.keys(prefix))
        )

    # -- watch -------------------------------------------------------------------------------------
    async def watch(self, prefix: str, since: int) -> AsyncGenerator[WatchEvent, None]:
        await self.ready()
        broadcaster = self._broadcaster
        self._watching[prefix] += 1
        try:
            async for ev in broadcaster.watch(prefix, since):
                if ev.revision == _RESYNC:
                    raise Compacted(since, self.oldest_revision())
                yield ev
        finally:
            self._watching[prefix] -= 1
            if self._watching[prefix] <= 0:
                del self._watching[prefix]

    async def stop_following(self) -> None:
        """Stop loading and following etcd; waiting callers are let go. Idempotent."""
        self._closed = True
        for task in (self._loading, self._follower):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._loading = self._follower = None
        self._started = False
        for _, woken in self._waiters:
            woken.cancel()
        self._waiters = []
