"""The bound on a record: repeated probe successes go first, then other repeated probe
results, and only then the oldest facts; every transition survives as long as it can."""

from __future__ import annotations

from typing import Any

from kubelite.agent.lifecyclebound import bound
from kubelite.timeline import record as rec


def probe(at: int, result: str, container: str = "app", kind: str = "readiness") -> dict[str, Any]:
    return {"at": at, "type": rec.PROBE, "container": container, "probe": kind, "result": result}


def started(at: int) -> dict[str, Any]:
    return {"at": at, "type": rec.CONTAINER_STARTED, "container": "app"}


def test_a_record_within_its_limit_is_kept_whole() -> None:
    facts = [started(1), probe(2, "success"), probe(3, "success")]
    assert bound(facts, 3) == (facts, 0)


def test_repeated_successes_go_first_oldest_first() -> None:
    facts = [
        started(1),
        probe(2, "success"),  # the first result: a transition
        probe(3, "success"),  # repeat
        probe(4, "failure"),  # transition
        probe(5, "failure"),  # repeated failure
        probe(6, "success"),  # transition
        probe(7, "success"),  # repeat
    ]
    kept, dropped = bound(facts, 5)
    assert dropped == 2
    assert [f["at"] for f in kept] == [1, 2, 4, 5, 6]


def test_then_repeated_failures_go() -> None:
    facts = [started(1), probe(2, "failure"), probe(3, "failure"), probe(4, "failure")]
    kept, dropped = bound(facts, 2)
    assert [f["at"] for f in kept] == [1, 2]
    assert dropped == 2


def test_each_probe_of_each_container_is_its_own_sequence() -> None:
    facts = [
        probe(1, "success", "a"),
        probe(2, "success", "b"),  # the first of b: kept
        probe(3, "success", "a", "liveness"),  # the first liveness of a: kept
        probe(4, "success", "a"),  # a repeat
    ]
    kept, _ = bound(facts, 3)
    assert [f["at"] for f in kept] == [1, 2, 3]


def test_a_warning_counts_as_a_success() -> None:
    facts = [probe(1, "success"), probe(2, "warning"), probe(3, "failure")]
    kept, _ = bound(facts, 2)
    assert [f["at"] for f in kept] == [1, 3]


def test_when_only_transitions_are_left_the_oldest_go() -> None:
    facts = [started(i) for i in range(10)]
    kept, dropped = bound(facts, 4)
    assert [f["at"] for f in kept] == [6, 7, 8, 9] and dropped == 6


def test_a_target_below_the_limit_trims_further_once_over_it() -> None:
    facts = [started(i) for i in range(11)]
    kept, dropped = bound(facts, 10, target=8)
    assert len(kept) == 8 and dropped == 3
