"""``race``: the first awaitable to finish wins, the others are cancelled and awaited."""

from __future__ import annotations

import asyncio

import pytest

from kubelite.model.race import race


async def after(seconds: float, value: object, ended: list[str] | None = None) -> object:
    try:
        await asyncio.sleep(seconds)
    finally:
        if ended is not None:
            ended.append(str(value))
    return value


async def test_the_first_to_finish_wins_and_the_others_are_cancelled() -> None:
    ended: list[str] = []
    assert await race(after(1, "slow", ended), after(0, "fast", ended)) == (1, "fast")
    assert sorted(ended) == ["fast", "slow"]  # the loser ran its finally before race returned


async def test_the_winners_error_is_raised() -> None:
    async def broken() -> None:
        raise KeyError("x")

    ended: list[str] = []
    with pytest.raises(KeyError):
        await race(after(1, "slow", ended), broken())
    assert ended == ["slow"]


async def test_an_event_against_a_timer() -> None:
    event = asyncio.Event()
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert (await race(event.wait(), asyncio.sleep(1)))[0] == 0
    assert (await race(asyncio.Event().wait(), asyncio.sleep(0.01)))[0] == 1


async def test_ties_go_to_the_first_in_argument_order() -> None:
    assert await race(asyncio.sleep(0, "a"), asyncio.sleep(0, "b")) == (0, "a")


async def test_cancelling_the_caller_cancels_every_contender() -> None:
    ended: list[str] = []
    task = asyncio.create_task(race(after(1, "a", ended), after(1, "b", ended)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(ended) == ["a", "b"]


async def test_a_race_needs_a_contender() -> None:
    with pytest.raises(ValueError, match="at least one"):
        await race()
