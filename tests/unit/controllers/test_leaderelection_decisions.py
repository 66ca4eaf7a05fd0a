"""Leader election's decisions on a fake clock: when a candidate creates, takes, renews or
follows a Lease, when a leader has lost it, and how the Lease's record is read and written
(client-go's tryAcquireOrRenew, judged by when the candidate saw the record change)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kubelite.controllers.leaderdecisions import (
    Action,
    ElectionTiming,
    LeaderRecord,
    Observation,
    decide,
    released,
    renewal_overdue,
)

ME, OTHER = "host-a_1111", "host-b_2222"
STAMP = "2026-01-01T00:00:30.000000Z"
OLD = "2026-01-01T00:00:00.000000Z"
FUTURE = "2027-01-01T00:00:00.000000Z"
TIMING = ElectionTiming()


def held(by: str, *, renewed: str = OLD, duration: int = 15, transitions: int = 3) -> LeaderRecord:
    return LeaderRecord(by, duration, OLD, renewed, transitions)


@dataclass(frozen=True)
class Case:
    name: str
    current: LeaderRecord | None
    observed: Observation | None
    now: float
    action: Action
    leading: bool = False
    written: LeaderRecord | None = None


CASES = [
    Case(
        "with no Lease the candidate creates it holding it, no transition yet",
        None, None, 100.0, Action.CREATE,
        written=LeaderRecord(ME, 15, STAMP, STAMP, 0),
    ),
    Case(
        "a Lease held by another and seen for the first time is followed, however old "
        "its renewTime",
        held(OTHER), None, 100.0, Action.FOLLOW,
    ),
    Case(
        "a holder whose record has not changed for less than its duration is followed",
        held(OTHER), Observation(held(OTHER), 100.0), 114.9, Action.FOLLOW,
    ),
    Case(
        "a holder whose record has not changed for its whole duration is replaced, "
        "one transition more",
        held(OTHER), Observation(held(OTHER), 100.0), 115.0, Action.ACQUIRE,
        written=LeaderRecord(ME, 15, STAMP, STAMP, 4),
    ),
    Case(
        "a renewal seen late in the term starts the term again from when it was seen",
        held(OTHER, renewed=STAMP), Observation(held(OTHER), 100.0), 114.0, Action.FOLLOW,
    ),
    Case(
        "the record's own leaseDurationSeconds counts, not the candidate's",
        held(OTHER, duration=60), Observation(held(OTHER, duration=60), 100.0), 130.0,
        Action.FOLLOW,
    ),
    Case(
        "a renewTime in the future (another machine's clock) does not stretch the term",
        held(OTHER, renewed=FUTURE), Observation(held(OTHER, renewed=FUTURE), 100.0), 116.0,
        Action.ACQUIRE, written=LeaderRecord(ME, 15, STAMP, STAMP, 4),
    ),
    Case(
        "a released Lease (no holder) is taken at once",
        LeaderRecord("", 1, OLD, OLD, 3), None, 100.0, Action.ACQUIRE,
        written=LeaderRecord(ME, 15, STAMP, STAMP, 4),
    ),
    Case(
        "a restarted candidate that finds its own identity renews at once, keeping the "
        "acquireTime and the transitions",
        held(ME), None, 100.0, Action.RENEW,
        written=LeaderRecord(ME, 15, OLD, STAMP, 3),
    ),
    Case(
        "the leader renews its own Lease",
        held(ME), Observation(held(ME), 90.0), 100.0, Action.RENEW, leading=True,
        written=LeaderRecord(ME, 15, OLD, STAMP, 3),
    ),
    Case(
        "a leader that finds another holder has lost, even before that holder's term ends",
        held(OTHER), Observation(held(ME), 90.0), 100.0, Action.LOST, leading=True,
    ),
    Case(
        "a leader whose Lease was deleted makes it again",
        None, Observation(held(ME), 90.0), 100.0, Action.CREATE, leading=True,
        written=LeaderRecord(ME, 15, STAMP, STAMP, 0),
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_candidate_decides(case: Case) -> None:
    decision = decide(
        case.current, identity=ME, observed=case.observed, leading=case.leading, now=case.now,
        stamp=STAMP, timing=TIMING,
    )  # fmt: skip
    assert decision.action is case.action
    assert decision.record == case.written


def test_an_unchanged_record_keeps_the_time_it_was_first_seen() -> None:
    first = decide(held(OTHER), identity=ME, observed=None, leading=False, now=100.0,
                   stamp=STAMP, timing=TIMING)  # fmt: skip
    again = decide(held(OTHER), identity=ME, observed=first.observation, leading=False,
                   now=110.0, stamp=STAMP, timing=TIMING)  # fmt: skip
    assert again.observation == Observation(held(OTHER), 100.0)
    assert again.holder == OTHER


@pytest.mark.parametrize(
    ("since_success", "overdue"),
    [(0.0, False), (9.9, False), (10.0, True), (30.0, True)],
    ids=["just renewed", "short of the deadline", "at the deadline", "long past it"],
)
def test_a_leader_stops_when_no_renewal_succeeded_for_the_renew_deadline(
    since_success: float, overdue: bool
) -> None:
    assert renewal_overdue(100.0, 100.0 + since_success, TIMING) is overdue


def test_a_released_lease_names_nobody_for_one_second_and_keeps_the_transitions() -> None:
    record = released(Observation(held(ME, transitions=7), 1.0), STAMP)
    assert record == LeaderRecord("", 1, STAMP, STAMP, 7)
    assert record.spec() == {
        "leaseDurationSeconds": 1, "leaseTransitions": 7, "acquireTime": STAMP,
        "renewTime": STAMP,
    }  # fmt: skip


def test_a_record_reads_and_writes_the_lease_spec_fields() -> None:
    lease = {
        "spec": {
            "holderIdentity": ME, "leaseDurationSeconds": 15, "acquireTime": OLD,
            "renewTime": STAMP, "leaseTransitions": 2,
        }
    }  # fmt: skip
    record = LeaderRecord.of(lease)
    assert record == LeaderRecord(ME, 15, OLD, STAMP, 2)
    assert record.spec() == lease["spec"]
    assert LeaderRecord.of({}) == LeaderRecord()


@pytest.mark.parametrize(
    ("timing", "errors"),
    [
        (ElectionTiming(), []),
        (ElectionTiming(3, 2, 0.5), []),
        (ElectionTiming(10, 10, 2), ["leaseDuration must be greater than renewDeadline"]),
        (ElectionTiming(15, 2, 2), ["renewDeadline must be greater than retryPeriod*JitterFactor"]),
        (ElectionTiming(15, 10, 0), ["retryPeriod must be greater than zero"]),
    ],
    ids=["upstream's defaults", "short test durations", "a deadline as long as the lease",
         "a deadline within a jittered retry", "no retry period"],
)  # fmt: skip
def test_the_durations_are_checked_as_client_go_checks_them(
    timing: ElectionTiming, errors: list[str]
) -> None:
    assert timing.errors() == errors
