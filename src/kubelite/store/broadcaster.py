"""Fan-out of store events to many watchers, with a bounded in-memory history.

Every committed write is published here once; each watcher owns an unbounded queue. A watch
from revision N first replays the kept history after N, then follows the live queue, so events
arrive exactly once and in revision order. History covers revisions ``(floor, current]``; a
watch starting below ``floor`` gets ``Compacted`` (HTTP 410, the client re-lists).

History is kept as JSON text (a fraction of the memory of parsed dicts) and parsed again only
for watchers that replay it; live events are parsed once and shared by every watcher.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncGenerator

from kubelite.store.interface import Compacted, WatchEvent

DEFAULT_HISTORY = 10_000


class _Kept:
    """A history entry: the event with its object still serialized."""

    __slots__ = ("key", "prev_text", "revision", "text", "type")

    def __init__(self, ev: WatchEvent, text: str) -> None:
        self.type, self.key, self.revision = ev.type, ev.key, ev.revision
        self.text, self.prev_text = text, ev.prev_text

    def event(self) -> WatchEvent:
        return WatchEvent(self.type, self.key, self.revision, json.loads(self.text), self.prev_text)


class Broadcaster:
    def __init__(self, *, floor: int, history: int = DEFAULT_HISTORY) -> None:
        self._history: deque[_Kept] = deque()
        self._max = history
        self._floor = floor
        self._subscribers: set[asyncio.Queue[WatchEvent]] = set()

    @property
    def floor(self) -> int:
        return self._floor

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
            self._history.popleft()
        self._floor = max(self._floor, revision)

    def _remember(self, event: WatchEvent, text: str) -> None:
        self._history.append(_Kept(event, text))
        while len(self._history) > self._max:
            self._floor = self._history.popleft().revision

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
