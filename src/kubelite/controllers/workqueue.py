"""A controller's work queue (client-go's rate-limited queue, trimmed): a key waits at most
once however often it is added, is handed to one worker at a time (added again while being
worked on, it comes back once that work is done), and a key whose reconcile failed comes back
after a per-key exponential delay (5 ms doubling up to 1000 s), reset by its next success.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from kubelite.clock import Clock, SystemClock

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

BASE_DELAY = 0.005
MAX_DELAY = 1000.0


def retry_delay(failures: int) -> float:
    """The wait before retry number ``failures`` (1 for the first)."""
    return float(min(MAX_DELAY, BASE_DELAY * 2.0 ** max(0, failures - 1)))


class WorkQueue(Generic[K]):
    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._queue: asyncio.Queue[K] = asyncio.Queue()
        self._waiting: set[K] = set()
        self._active: set[K] = set()
        self._again: set[K] = set()
        self._failures: dict[K, int] = {}
        self._timers: set[asyncio.Task[None]] = set()

    def add(self, key: K) -> None:
        if key in self._active:
            self._again.add(key)
        elif key not in self._waiting:
            self._waiting.add(key)
            self._queue.put_nowait(key)

    def add_after(self, key: K, delay: float) -> None:
        async def later() -> None:
            await self._clock.sleep(delay)
            self.add(key)

        task = asyncio.get_running_loop().create_task(later())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    def __len__(self) -> int:
        return len(self._waiting)

    async def run(self, reconcile: Callable[[K], Awaitable[None]], *, name: str = "") -> None:
        """Hand keys to ``reconcile`` one at a time until cancelled."""
        try:
            while True:
                key = await self._queue.get()
                self._waiting.discard(key)
                self._active.add(key)
                try:
                    await reconcile(key)
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    n = self._failures[key] = self._failures.get(key, 0) + 1
                    log.info("%s: %s failed (%s); retrying", name or "controller", key, err)
                    self.add_after(key, retry_delay(n))
                else:
                    self._failures.pop(key, None)
                finally:
                    self._active.discard(key)
                    if key in self._again:
                        self._again.discard(key)
                        self.add(key)
        finally:
            for t in list(self._timers):
                t.cancel()
            await asyncio.gather(*self._timers, return_exceptions=True)
