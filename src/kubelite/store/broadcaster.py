"""Fan-out of store events to many watchers, with a bounded in-memory history.

Every committed write is published here once; each watcher owns an unbounded queue. A watch
from revision N first replays the kept history after N, then follows the live queue, so events
arrive exactly once and in revision order. History covers revisions ``(floor, current]``; a
watch starting below ``floor`` gets ``Compacted`` (HTTP 410, the client re-lists).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator

from kubelite.store.interface import Compacted, WatchEvent

DEFAULT_HISTORY = 20_000


class Broadcaster:
    def __init__(self, *, floor: int, history: int = DEFAULT_HISTORY) -> None:
        self._history: deque[WatchEvent] = deque()
        self._max = history
        self._floor = floor
        self._subscribers: set[asyncio.Queue[WatchEvent]] = set()

    @property
    def floor(self) -> int:
        return self._floor

    @property
    def watcher_count(self) -> int:
        return len(self._subscribers)

    def preload(self, events: list[WatchEvent]) -> None:
        """Seed history (e.g. from the durable log at start-up); events in revision order."""
        for ev in events:
            self._remember(ev)

    def publish(self, event: WatchEvent) -> None:
        self._remember(event)
        for q in self._subscribers:
            q.put_nowait(event)

    def compact(self, revision: int) -> None:
        while self._history and self._history[0].revision <= revision:
            self._history.popleft()
        self._floor = max(self._floor, revision)

    def _remember(self, event: WatchEvent) -> None:
        self._history.append(event)
        while len(self._history) > self._max:
            self._floor = self._history.popleft().revision

    async def watch(self, prefix: str, since: int) -> AsyncGenerator[WatchEvent, None]:
        if since < self._floor:
            raise Compacted(since, self._floor)
        queue: asyncio.Queue[WatchEvent] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            last = since
            for ev in list(self._history):
                if ev.revision > last and ev.key.startswith(prefix):
                    last = ev.revision
                    yield ev
            while True:
                ev = await queue.get()
                if ev.revision > last and ev.key.startswith(prefix):
                    last = ev.revision
                    yield ev
        finally:
            self._subscribers.discard(queue)
