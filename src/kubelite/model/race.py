"""``race``: wait for the first of several awaitables, then end the others.

The shape it replaces is a pair of ``ensure_future`` calls, an ``asyncio.wait`` with
``FIRST_COMPLETED`` and a ``finally`` that cancels and gathers both (waiting for an event or a
timer on the injected Clock, for a sleep or a container's exit). Written once here, every
loser is cancelled and awaited, so none outlives the call, and a caller that is cancelled
cancels them all.

It lives in ``model`` because that is the package every layer may import; it does no I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def race(*contenders: Awaitable[Any]) -> tuple[int, Any]:
    """Run ``contenders`` concurrently until one finishes; cancel the rest and wait for them.

    Returns the winner's position and result; if the winner raised, that is raised. When
    several finish in the same step, the first in argument order wins. A contender that
    finishes while being cancelled is ignored.
    """
    if not contenders:
        raise ValueError("race() needs at least one awaitable")
    tasks = [asyncio.ensure_future(c) for c in contenders]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    winner = next(i for i, task in enumerate(tasks) if task in done)
    return winner, tasks[winner].result()
