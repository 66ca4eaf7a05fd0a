"""The controllers' work queue: one waiting copy of a key, one worker on it at a time,
retries with exponential delays."""

from __future__ import annotations

import asyncio

from kubelite.controllers.workqueue import MAX_DELAY, WorkQueue, retry_delay


def test_retry_delays_double_from_5ms_up_to_the_cap() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [0.005, 0.01, 0.02]
    assert retry_delay(40) == MAX_DELAY


async def test_a_key_added_many_times_while_waiting_is_reconciled_once() -> None:
    q: WorkQueue[str] = WorkQueue()
    seen: list[str] = []
    for _ in range(5):
        q.add("a")
    q.add("b")

    async def reconcile(key: str) -> None:
        seen.append(key)

    task = asyncio.ensure_future(q.run(reconcile))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert seen == ["a", "b"]


async def test_a_key_added_during_its_reconcile_comes_back_once_afterwards() -> None:
    q: WorkQueue[str] = WorkQueue()
    seen: list[str] = []

    async def reconcile(key: str) -> None:
        seen.append(key)
        if len(seen) == 1:
            q.add(key)
            q.add(key)

    q.add("a")
    task = asyncio.ensure_future(q.run(reconcile))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert seen == ["a", "a"]


async def test_a_failed_reconcile_is_retried_after_a_delay() -> None:
    q: WorkQueue[str] = WorkQueue()
    attempts: list[str] = []

    async def reconcile(key: str) -> None:
        attempts.append(key)
        if len(attempts) < 3:
            raise RuntimeError("conflict")

    q.add("a")
    task = asyncio.ensure_future(q.run(reconcile))
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert attempts == ["a", "a", "a"]
