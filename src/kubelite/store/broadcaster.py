"""Fan-out of store events to many watchers, with a bounded in-memory history.

Every committed write is published here once; each watcher owns an unbounded queue. A watch
from revision N first replays the kept history after N, then follows the live queue, so events
arrive exactly once and in revision order. History covers revisions ``(floor, current]``; a
watch starting below ``floor`` gets ``Compacted`` (HTTP 410, the client re-lists).

History is kept as JSON text (a fraction of the memory of parsed dicts) and parsed again only
for watchers that replay it; live events are parsed once and shared by every watcher. It is
bounded by count and by size (``DEFAULT_HISTORY_BYTES``), so objects that are gone do not stay
in memory for long through it.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncGenerator

from kubelite.store.interface import Compacted, WatchEvent

DEFAULT_HISTORY = 10_000
DEFAULT_HISTORY_BYTES = 16 * 1024 * 1024  # of JSON text (objects and what they replaced)


class _Kept:
    """A history entry: the event with its object still serialized."""

    __slots__ = ("key", "prev_text", "revision", "text", "type")

    def __init__(self, ev: WatchEvent, text: str) -> None:
        self.type, self.key, self.revision = ev.type, ev.key, ev.revision
        self.text, self.prev_text = text, ev.prev_text

    def size(self) -> int:
        return len(self.text) + len(self.prev_text or "")

    def event(self) -> WatchEvent:
        obj = json.loads(self.text)
        return WatchEvent(self.type, self.key, self.revision, obj, self.prev_text, self.text)


class Broadcaster:
    def __init__(
        self, *, floor: int, history: int = DEFAULT_HISTORY, max_bytes: int = DEFAULT_HISTORY_BYTES
    ) -> None:
        self._history: deque[_Kept] = deque()
        self._max = history
        self._max_bytes = max_bytes
        self._bytes = 0
        self._floor = floor
        self._subscribers: set[asyncio.Queue[WatchEvent]] = set()

    @property
    def floor(self) -> int:
        return self._floor

    @property
    def history_bytes(self) -> int:
        return self._bytes

    @property
    def watcher_count(self) -> int:
        return len(self._subscribers)

    def preload(self, events: list[tuple[WatchEvent, str]]) -> None:
        """Seed history (e.g. from the durable log at start-up): (event, object as JSON)
        pairs in revision order."""
        for ev, text in events:
            self._remember(ev, text)

    def publish(self, event: WatchEvent, text: str) -> None:
        """``text`` is ``event.object`` as JSON, kept for replays."""
        self._remember(event, text)
        for q in self._subscribers:
            q.put_nowait(event)

    def compact(self, revision: int) -> None:
        while self._history and self._history[0].revision <= revision:
            self._forget_oldest()
        self._floor = max(self._floor, revision)

    def _forget_oldest(self) -> int:
        kept = self._history.popleft()
        self._bytes -= kept.size()
        return kept.revision

    def states_at(self, revision: int, begin: str, end: str) -> dict[str, str | None]:
        """How the keys in ``[begin, end)`` that changed after ``revision`` stood at it: their
        JSON then, or None where they did not exist. ``Compacted`` if history no longer
        reaches back to ``revision`` (or lost what a key held, as after a restart)."""
        if revision < self._floor:
            raise Compacted(revision, self._floor)
        states: dict[str, str | None] = {}
        for kept in reversed(self._history):  # newest first: the oldest change wins
            if kept.revision <= revision:
                break
            if not begin <= kept.key < end:
                continue
            if kept.type == "ADDED":
                states[kept.key] = None
            elif kept.prev_text is None:
                raise Compacted(revision, kept.revision)
            else:
                states[kept.key] = kept.prev_text
        return states

    def _remember(self, event: WatchEvent, text: str) -> None:
        kept = _Kept(event, text)
        self._history.append(kept)
        self._bytes += kept.size()
        while len(self._history) > self._max or (
            self._bytes > self._max_bytes and len(self._history) > 1
        ):
            self._floor = self._forget_oldest()

    async def watch(self, prefix: str, since: int) -> AsyncGenerator[WatchEvent, None]:
        if since < self._floor:
            raise Compacted(since, self._floor)
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            last = since
            for kept in list(self._history):
                if kept.revision > last and kept.key.startswith(prefix):
                    last = kept.revision
                    yield kept.event()
            while True:
                ev = await queue.get()
                if ev.revision > last and ev.key.startswith(prefix):
                    last = ev.revision
                    yield ev
        finally:
            self._subscribers.discard(queue)
