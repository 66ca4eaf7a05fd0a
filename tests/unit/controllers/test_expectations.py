"""A controller's expectations: creations and deletions it waits to see in its watch."""

from __future__ import annotations

from kubelite.clock import ManualClock
from kubelite.controllers.expectations import Expectations


def test_an_owner_with_nothing_pending_is_satisfied() -> None:
    assert Expectations[str](ManualClock()).satisfied("default/web")


def test_creations_are_settled_one_observed_pod_at_a_time() -> None:
    exp = Expectations[str](ManualClock())
    exp.expect_creations("k", 2)
    assert not exp.satisfied("k")
    exp.creation_observed("k")
    assert not exp.satisfied("k")
    exp.creation_observed("k")
    assert exp.satisfied("k")


def test_deletions_are_settled_by_the_pods_key_once_however_often_it_is_seen() -> None:
    exp = Expectations[str](ManualClock())
    exp.expect_deletions("k", ["ns/a", "ns/b"])
    exp.deletion_observed("k", "ns/a")
    exp.deletion_observed("k", "ns/a")
    assert not exp.satisfied("k")
    exp.deletion_observed("k", "ns/b")
    assert exp.satisfied("k")


async def test_expectations_older_than_five_minutes_count_as_settled() -> None:
    clock = ManualClock()
    exp = Expectations[str](clock)
    exp.expect_creations("k", 3)
    await clock.advance(299)
    assert not exp.satisfied("k")
    await clock.advance(2)
    assert exp.satisfied("k")
    exp.expect_creations("k", 1)  # a fresh expectation starts over
    assert exp.pending("k") == (1, 0)


def test_a_forgotten_owner_is_satisfied() -> None:
    exp = Expectations[str](ManualClock())
    exp.expect_creations("k", 1)
    exp.forget("k")
    assert exp.satisfied("k")
