"""An in-memory Store: the reference implementation, used by tests and as the cache of SQLite.

Objects are kept as JSON text, so every read hands out a fresh private copy cheaply
(``json.loads`` is fast C code) and nothing a caller does can alter stored state.

A write has two halves. Accepting it (precondition check against the latest accepted state,
next revision, the ``Change`` record) is synchronous, so writes are ordered exactly as they
arrive and never interleave. ``_commit`` then makes it durable and visible: here at once;
``SqliteStore`` overrides it to commit on its own thread and apply the change (memory, then the
watchers) only once it is on disk. ``_latest`` and ``_next_revision`` are what acceptance
reads, so a subclass with writes in flight can answer them from its accepted state.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from kubelite.store.broadcaster import DEFAULT_HISTORY, Broadcaster
from kubelite.store.interface import (
    AlreadyExists,
    Conflict,
    EventType,
    Match,
    NotFound,
    Page,
    WatchEvent,
    prefix_end,
)
from kubelite.store.keyindex import KeyIndex, ValueOf

_Keys = list[str]  # (``list`` is a method's name inside the class)


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Change:
    """One accepted write: the object as stored (``text``) at ``revision``; ``prev_text`` is
    the state a MODIFIED replaces."""

    revision: int
    key: str
    type: EventType
    text: str
    prev_text: str | None = None  # what a MODIFIED or DELETED replaced


class MemoryStore:
    def __init__(self, *, history: int | None = None) -> None:
        self._objects: dict[str, str] = {}
        self._rvs: dict[str, int] = {}
        self._index = KeyIndex()
        self._revision = 0
        self._resource_revisions: dict[str, int] = {}
        self._stored_bytes = 0  # of the objects' JSON text
        self._base_revision = 0  # what ``resource_revision`` answers for a resource not written
        self._broadcaster = Broadcaster(floor=0, history=history or DEFAULT_HISTORY)

    # -- reads -------------------------------------------------------------------------------
    def current_revision(self) -> int:
        return self._revision

    def resource_revision(self, resource: str) -> int:
        """The revision of the latest write to an object of ``resource`` (a key's first part),
        so a cache of one resource is rebuilt only when that resource changed."""
        return self._resource_revisions.get(resource, self._base_revision)

    def oldest_revision(self) -> int:
        return self._broadcaster.floor

    def footprint(self) -> int:
        """Bytes of JSON text held: the objects and the watch history."""
        return self._stored_bytes + self._broadcaster.history_bytes

    def stored_bytes(self) -> int:
        """Bytes of JSON text of the objects stored now (what shrinks when they go)."""
        return self._stored_bytes

    @property
    def watcher_count(self) -> int:
        return self._broadcaster.watcher_count

    async def get(self, key: str) -> dict[str, Any]:
        text = self._objects.get(key)
        if text is None:
            raise NotFound(key)
        obj: dict[str, Any] = json.loads(text)
        return obj

    async def list(self, prefix: str) -> tuple[list[dict[str, Any]], int]:
        keys = self._index.keys(prefix)
        return [json.loads(self._objects[k]) for k in keys], self._revision

    async def list_page(
        self,
        prefix: str,
        *,
        start: str = "",
        limit: int = 0,
        revision: int = 0,
        match: Match | None = None,
        index: tuple[str, str] | None = None,
    ) -> Page:
        at = revision if 0 < revision < self._revision else self._revision
        end = prefix_end(prefix)
        then = (
            self._broadcaster.states_at(at, max(prefix, start), end) if at < self._revision else {}
        )
        keys = self._candidates(prefix, start, index, then)
        texts: list[str] = []
        objects: list[dict[str, Any]] | None = [] if match is not None else None
        last: str | None = None
        for key in keys:
            text = then[key] if key in then else self._objects.get(key)
            if text is None:
                continue
            if limit and len(texts) >= limit:
                assert last is not None
                return Page(texts, at, last, self._count_after(prefix, last, then), objects)
            last = key
            if match is None:
                texts.append(text)
                continue
            obj = json.loads(text)
            if match(obj):
                texts.append(text)
                assert objects is not None
                objects.append(obj)
        return Page(texts, at, None, 0, objects)

    def _candidates(
        self,
        prefix: str,
        start: str,
        index: tuple[str, str] | None,
        then: dict[str, str | None],
    ) -> _Keys:
        """The keys to read, sorted: the range (or the index's matches in it) now, and every
        key whose state at an older revision is being read."""
        indexed = self._index.field_prefix(prefix, index[0]) if index is not None else None
        if index is not None and indexed is not None:
            keys = self._index.matching(indexed, index[0], index[1], prefix, start)
        else:
            keys = self._index.keys(prefix, start)
        if not then:
            return keys
        return sorted(set(keys).union(then))

    def _count_after(self, prefix: str, key: str, then: dict[str, str | None]) -> int:
        """Objects under ``prefix`` after ``key``, as of the revision ``then`` describes."""
        count = self._index.count_after(prefix, key)
        for k, text in then.items():
            if k > key:
                count += (text is not None) - (k in self._objects)
        return count

    def add_index(self, prefix: str, field: str, value_of: ValueOf) -> None:
        objects = ((k, json.loads(self._objects[k])) for k in self._index.keys(prefix))
        self._index.add_field(prefix, field, value_of, objects)

    # -- writes ------------------------------------------------------------------------------
    async def create(self, key: str, obj: dict[str, Any]) -> dict[str, Any]:
        if self._latest(key) is not None:
            raise AlreadyExists(key)
        await self._commit(self._accept(key, obj, "ADDED", None))
        return obj

    async def update(
        self, key: str, obj: dict[str, Any], *, expected_rv: str | None = None
    ) -> dict[str, Any]:
        prev = self._checked(key, expected_rv)
        await self._commit(self._accept(key, obj, "MODIFIED", prev))
        return obj

    async def delete(self, key: str, *, expected_rv: str | None = None) -> dict[str, Any]:
        before = self._checked(key, expected_rv)
        obj: dict[str, Any] = json.loads(before)
        await self._commit(self._accept(key, obj, "DELETED", before))
        return obj

    def _checked(self, key: str, expected_rv: str | None) -> str:
        """The latest accepted state of ``key`` if the precondition holds."""
        latest = self._latest(key)
        if latest is None:
            raise NotFound(key)
        text, rev = latest
        if expected_rv and expected_rv != str(rev):
            raise Conflict(key)
        return text

    def _accept(
        self, key: str, obj: dict[str, Any], kind: EventType, prev_text: str | None
    ) -> Change:
        rev = self._next_revision()
        obj.setdefault("metadata", {})["resourceVersion"] = str(rev)
        return Change(rev, key, kind, _dumps(obj), prev_text)

    def _latest(self, key: str) -> tuple[str, int] | None:
        """The latest accepted state of ``key`` and its revision, None if it has none."""
        text = self._objects.get(key)
        return None if text is None else (text, self._rvs[key])

    def _next_revision(self) -> int:
        return self._revision + 1

    async def _commit(self, change: Change) -> None:
        """Make an accepted change durable, then visible; returns once it is both."""
        self._apply(change)

    def _apply(self, change: Change) -> None:
        """The change becomes what reads see, and watchers hear of it."""
        key, rev = change.key, change.revision
        self._revision = rev
        self._resource_revisions[key.split("/", 1)[0]] = rev
        obj = json.loads(change.text)
        self._stored_bytes -= len(self._objects.get(key, ""))
        if change.type == "DELETED":
            self._objects.pop(key, None)
            self._rvs.pop(key, None)
            self._index.remove(key)
        else:
            new = key not in self._objects
            self._stored_bytes += len(change.text)
            self._objects[key] = change.text
            self._rvs[key] = rev
            self._index.put(key, obj, new=new)
        ev = WatchEvent(change.type, key, rev, obj, change.prev_text, change.text)
        self._broadcaster.publish(ev, change.text)

    # -- watch and compaction ----------------------------------------------------------------
    async def watch(self, prefix: str, since: int) -> AsyncGenerator[WatchEvent, None]:
        # Event objects are shared between watchers: consumers must treat them as read-only.
        async for ev in self._broadcaster.watch(prefix, since):
            yield ev

    async def compact(self, revision: int) -> None:
        self._broadcaster.compact(min(revision, self._revision))

    async def close(self) -> None:
        return None
