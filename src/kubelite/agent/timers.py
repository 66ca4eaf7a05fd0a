"""Waiting with a deadline on the injected Clock (design principle 10).

``asyncio.timeout`` and ``asyncio.sleep`` run on the event loop's own clock, so a pod worker
built on them waits real seconds even when the node was given a ``ManualClock``: a test could
not move a resync timer, a probe period or a grace period. Every timer of the agent's
executors goes through these two helpers instead, which only ever sleep on ``Clock.sleep``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from kubelite.clock import Clock
from kubelite.model.race import race


async def wait_event(clock: Clock, event: asyncio.Event, seconds: float) -> bool:
    """Wait until ``event`` is set or ``seconds`` pass on ``clock``; True if the event came."""
    if event.is_set():
        return True
    await race(event.wait(), clock.sleep(seconds))
    return event.is_set()


@contextlib.asynccontextmanager
async def deadline(clock: Clock, seconds: float) -> AsyncIterator[None]:
    """Like ``asyncio.timeout(seconds)``, with the seconds counted on ``clock``: the body is
    cancelled when they have passed and the block raises ``TimeoutError``."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(None) as scope:

        async def expire() -> None:
            await clock.sleep(seconds)
            scope.reschedule(loop.time())  # due now: cancels the body

        timer = asyncio.ensure_future(expire())
        try:
            yield
        finally:
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
