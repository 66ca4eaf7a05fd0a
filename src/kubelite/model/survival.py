"""Background loops that outlive their failures (issue 11, item 7).

A loop over many objects (namespaces to empty, pods to schedule, events to expire) must not die
because one object makes it raise: ``Failures`` tells a loop how long to leave an object that
failed before trying it again (doubling, capped, forgotten on success), and ``keep_running``
runs a whole loop again after an unexpected error, logged, after a growing pause. Cancellation
always goes through.

It lives in ``model`` because every layer that runs loops (registry, scheduler, controllers) may
import it; it does no I/O of its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from kubelite.clock import Clock, SystemClock

K = TypeVar("K", bound=Hashable)

FIRST_DELAY = 1.0
MAX_DELAY = 60.0


def backoff_delay(failures: int, first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> float:
    """The pause after ``failures`` failures in a row (1 for the first): doubling, capped."""
    return float(min(cap, first * 2.0 ** max(0, failures - 1)))


class Failures(Generic[K]):
    """Objects that failed, and when each may be tried again (pure bookkeeping on a clock)."""

    def __init__(self, *, first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> None:
        self._first, self._cap = first, cap
        self._count: dict[K, int] = {}
        self._retry_at: dict[K, float] = {}

    def failed(self, key: K, now: float) -> float:
        """Record a failure of ``key``; returns the pause before it is tried again."""
        n = self._count[key] = self._count.get(key, 0) + 1
        delay = backoff_delay(n, self._first, self._cap)
        self._retry_at[key] = now + delay
        return delay

    def succeeded(self, key: K) -> None:
        self._count.pop(key, None)
        self._retry_at.pop(key, None)

    def waiting(self, key: K, now: float) -> bool:
        """Whether ``key`` failed recently and is still to be left alone."""
        return self._retry_at.get(key, 0.0) > now

    def forget_except(self, keys: set[K]) -> None:
        """Drop what is known of objects no longer there."""
        for key in [k for k in self._count if k not in keys]:
            self.succeeded(key)

    def __contains__(self, key: object) -> bool:
        return key in self._count


async def keep_running(
    loop: Callable[[], Awaitable[None]],
    *,
    name: str,
    log: logging.Logger,
    clock: Clock | None = None,
    first: float = FIRST_DELAY,
    cap: float = MAX_DELAY,
) -> None:
    """Run ``loop`` until cancelled; each time it raises, log it and start it again after a
    pause that doubles (up to ``cap``) while it keeps failing without a long run between."""
    clock = clock or SystemClock()
    failures = 0
    while True:
        started = clock.monotonic()
        try:
            await loop()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            ran = clock.monotonic() - started
            failures = 1 if ran > cap else failures + 1
            delay = backoff_delay(failures, first, cap)
            log.exception("%s failed; starting it again in %.0f s", name, delay)
            await clock.sleep(delay)
