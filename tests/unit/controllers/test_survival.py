"""The helpers that keep background loops alive: per-object back-off and restarting a loop
that raised (the controllers' informers run under ``keep_running``)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from kubelite.clock import ManualClock
from kubelite.model.survival import Failures, backoff_delay, keep_running

log = logging.getLogger(__name__)


def test_back_off_doubles_from_one_second_up_to_a_minute() -> None:
    assert [backoff_delay(n) for n in (1, 2, 3, 7, 8, 20)] == [1, 2, 4, 60, 60, 60]


def test_a_failed_object_waits_its_delay_and_success_forgets_it() -> None:
    failures: Failures[str] = Failures()
    assert failures.failed("a", now=100.0) == 1.0
    assert failures.waiting("a", 100.5) and not failures.waiting("a", 101.5)
    assert failures.failed("a", now=101.5) == 2.0
    assert not failures.waiting("b", 100.0)
    failures.succeeded("a")
    assert "a" not in failures and not failures.waiting("a", 101.6)


def test_objects_no_longer_there_are_forgotten() -> None:
    failures: Failures[str] = Failures()
    failures.failed("gone", 0.0)
    failures.failed("here", 0.0)
    failures.forget_except({"here"})
    assert "gone" not in failures and "here" in failures


async def test_a_loop_that_raises_is_started_again_after_a_pause() -> None:
    clock = ManualClock()
    runs = 0
    finished = asyncio.Event()

    async def loop() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise ValueError("a watch line that is not JSON")
        finished.set()

    task = asyncio.create_task(keep_running(loop, name="test loop", log=log, clock=clock))
    await asyncio.sleep(0)
    assert runs == 1
    await clock.advance(1.0)
    assert runs == 2
    await clock.advance(2.0)
    await asyncio.wait_for(finished.wait(), 1)
    await task  # a loop that returns ends keep_running


async def test_cancelling_goes_through_keep_running() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(keep_running(forever, name="forever", log=log))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
