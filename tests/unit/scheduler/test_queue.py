"""When a pending pod is tried again: at once when new, after a relevant change and its
back-off (1 s doubling to 10 s), after 5 minutes regardless; on every pass while its claims
are being bound. On a fake clock."""

from __future__ import annotations

import pytest

from kubelite.scheduler.queue import SchedulingQueue, State, backoff


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (9, 10)]
)
def test_back_off_doubles_from_one_second_to_ten(attempts: int, seconds: float) -> None:
    assert backoff(attempts) == seconds


def test_a_new_pod_is_due_at_once() -> None:
    assert SchedulingQueue().due("p", now=0.0)


def test_an_unschedulable_pod_waits_for_a_change_and_then_its_back_off() -> None:
    q = SchedulingQueue()
    q.unschedulable("p", now=100.0)
    assert not q.due("p", 150.0)  # nothing changed
    q.move_all()
    assert q.entry("p").state is State.BACKOFF
    assert q.due("p", 150.0)  # the back-off (1 s) ended long ago
    q.unschedulable("p", now=200.0)  # second failure
    q.move_all()
    assert not q.due("p", 201.5) and q.due("p", 202.0)


def test_an_unschedulable_pod_is_tried_again_after_five_minutes_anyway() -> None:
    q = SchedulingQueue()
    q.unschedulable("p", now=0.0)
    assert not q.due("p", 299.0)
    assert q.due("p", 300.0)
    assert q.next_due() == 300.0


def test_a_change_to_the_pod_itself_moves_only_that_pod() -> None:
    q = SchedulingQueue()
    q.unschedulable("p", now=0.0)
    q.unschedulable("other", now=0.0)
    q.updated("p")
    assert q.due("p", 5.0) and not q.due("other", 5.0)


def test_a_pod_waiting_for_its_claims_is_looked_at_on_every_pass() -> None:
    q = SchedulingQueue()
    q.waiting("p")
    assert q.due("p", 0.0) and q.next_due() is None


def test_scheduled_and_vanished_pods_are_forgotten() -> None:
    q = SchedulingQueue()
    q.unschedulable("gone", now=0.0)
    q.unschedulable("bound", now=0.0)
    q.scheduled("bound")
    q.forget_except({"bound"})
    assert q.entry("gone").state is State.ACTIVE and q.next_due() is None
