"""An in-memory Store: the reference implementation, used by tests and as the cache of SQLite.

Objects are kept as JSON text, so every read hands out a fresh private copy cheaply
(``json.loads`` is fast C code) and nothing a caller does can alter stored state.
``SqliteStore`` subclasses this and adds durability through the ``_persist`` hook, which runs
before the in-memory state changes or any watcher hears of the write.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from kubelite.store.broadcaster import DEFAULT_HISTORY, Broadcaster
from kubelite.store.interface import (
    AlreadyExists,
    Conflict,
    EventType,
    NotFound,
    WatchEvent,
)


def _dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class MemoryStore:
    def __init__(self, *, history: int | None = None) -> None:
        self._objects: dict[str, str] = {}
        self._rvs: dict[str, int] = {}
        self._revision = 0
        self._broadcaster = Broadcaster(floor=0, history=history or DEFAULT_HISTORY)

    # -- reads -------------------------------------------------------------------------------
    def current_revision(self) -> int:
        return self._revision

    def oldest_revision(self) -> int:
        return self._broadcaster.floor

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
        keys = sorted(k for k in self._objects if k.startswith(prefix))
        return [json.loads(self._objects[k]) for k in keys], self._revision

    # -- writes ------------------------------------------------------------------------------
    async def create(self, key: str, obj: dict[str, Any]) -> dict[str, Any]:
        if key in self._objects:
            raise AlreadyExists(key)
        return self._write(key, obj, "ADDED")

    async def update(
        self, key: str, obj: dict[str, Any], *, expected_rv: str | None = None
    ) -> dict[str, Any]:
        self._check(key, expected_rv)
        return self._write(key, obj, "MODIFIED")

    async def delete(self, key: str, *, expected_rv: str | None = None) -> dict[str, Any]:
        self._check(key, expected_rv)
        obj: dict[str, Any] = json.loads(self._objects[key])
        return self._write(key, obj, "DELETED")

    def _check(self, key: str, expected_rv: str | None) -> None:
        if key not in self._objects:
            raise NotFound(key)
        if expected_rv and expected_rv != str(self._rvs[key]):
            raise Conflict(key)

    def _write(self, key: str, obj: dict[str, Any], kind: EventType) -> dict[str, Any]:
        rev = self._revision + 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(rev)
        text = _dumps(obj)
        prev_text = self._objects.get(key) if kind == "MODIFIED" else None
        self._persist(rev, key, kind, text)
        self._revision = rev
        if kind == "DELETED":
            self._objects.pop(key, None)
            self._rvs.pop(key, None)
        else:
            self._objects[key] = text
            self._rvs[key] = rev
        self._broadcaster.publish(WatchEvent(kind, key, rev, json.loads(text), prev_text), text)
        return obj

    def _persist(self, revision: int, key: str, kind: EventType, text: str) -> None:
        """Durability hook: must complete (or raise) before the write becomes visible."""

    # -- watch and compaction ----------------------------------------------------------------
    async def watch(self, prefix: str, since: int) -> AsyncGenerator[WatchEvent, None]:
        # Event objects are shared between watchers: consumers must treat them as read-only.
        async for ev in self._broadcaster.watch(prefix, since):
            yield ev

    async def compact(self, revision: int) -> None:
        self._broadcaster.compact(min(revision, self._revision))

    async def close(self) -> None:
        return None
