"""Leader election's decisions (client-go's ``tryAcquireOrRenew``), as pure functions.

A candidate reads the Lease, then decides with :func:`decide`::

    no Lease ─────────────────────────────▶ CREATE  (holding it; transitions 0)
    ours (the last record seen names us) ──▶ RENEW   (acquireTime and transitions kept)
    another holder, its term still runs ───▶ FOLLOW  (or LOST if we were leading)
    no holder (released), or term over ────▶ ACQUIRE (acquireTime now; transitions + 1)

A holder's term is judged the way client-go judges it: by when THIS candidate first saw the
record as it is now (on its own monotonic clock) plus the record's ``leaseDurationSeconds``,
never by the ``renewTime`` written with another machine's clock. A record seen unchanged for
longer than that is over, whatever its timestamps say.

A leader keeps leading while its renewals succeed: :func:`renewal_overdue` says when the renew
deadline has passed since the last successful one (client-go opens that window one retry period
after the success; kubelite counts from the success itself, so it stops a little sooner, well
before a candidate may take the Lease over). A leader that sees another holder in the Lease
stops at once (client-go would keep trying until its deadline).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from kubelite.model.objects import JSON, Obj

LEASE_DURATION = 15.0  # --leader-elect-lease-duration
RENEW_DEADLINE = 10.0  # --leader-elect-renew-deadline
RETRY_PERIOD = 2.0  # --leader-elect-retry-period


@dataclass(frozen=True, slots=True)
class ElectionTiming:
    """The controller manager's and the scheduler's ``--leader-elect-*`` durations (seconds)."""

    lease_duration: float = LEASE_DURATION
    renew_deadline: float = RENEW_DEADLINE
    retry_period: float = RETRY_PERIOD

    def errors(self) -> list[str]:
        """client-go's checks of a LeaderElectionConfig, in its words."""
        found = []
        if self.lease_duration <= self.renew_deadline:
            found.append("leaseDuration must be greater than renewDeadline")
        if self.renew_deadline <= 1.2 * self.retry_period:  # JitterFactor
            found.append("renewDeadline must be greater than retryPeriod*JitterFactor")
        if self.lease_duration < 1:  # a Lease counts whole seconds
            found.append("leaseDuration must be greater than zero")
        if self.renew_deadline <= 0:
            found.append("renewDeadline must be greater than zero")
        if self.retry_period <= 0:
            found.append("retryPeriod must be greater than zero")
        return found


@dataclass(frozen=True, slots=True)
class LeaderRecord:
    """The election's part of a Lease's spec. Times are MicroTime text ("" when unset)."""

    holder: str = ""
    duration: int = 0  # leaseDurationSeconds
    acquired: str = ""
    renewed: str = ""
    transitions: int = 0

    @classmethod
    def of(cls, lease: JSON) -> LeaderRecord:
        spec = lease.get("spec") or {}
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            duration=_int(spec.get("leaseDurationSeconds")),
            acquired=str(spec.get("acquireTime") or ""),
            renewed=str(spec.get("renewTime") or ""),
            transitions=_int(spec.get("leaseTransitions")),
        )

    def spec(self) -> Obj:
        """The Lease spec that carries this record (unset fields left out)."""
        spec: Obj = {"leaseDurationSeconds": self.duration, "leaseTransitions": self.transitions}
        if self.holder:
            spec["holderIdentity"] = self.holder
        if self.acquired:
            spec["acquireTime"] = self.acquired
        if self.renewed:
            spec["renewTime"] = self.renewed
        return spec


def _int(value: object) -> int:
    try:
        return int(str(value)) if value is not None else 0
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class Observation:
    """A record and when (monotonic seconds, the candidate's own clock) it was first seen."""

    record: LeaderRecord
    at: float


class Action(enum.Enum):
    CREATE = "create"  # no Lease: make it, naming us
    ACQUIRE = "acquire"  # released or its term is over: take it
    RENEW = "renew"  # ours: renew it
    FOLLOW = "follow"  # another holder's term still runs
    LOST = "lost"  # we were leading, and another holder's term runs now

    @property
    def writes(self) -> bool:
        return self in (Action.CREATE, Action.ACQUIRE, Action.RENEW)


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    observation: Observation | None  # what the candidate has seen, after this look
    record: LeaderRecord | None = None  # to write, for CREATE / ACQUIRE / RENEW

    @property
    def holder(self) -> str:
        """Who holds the Lease as far as this candidate knows ("" if nobody)."""
        return self.observation.record.holder if self.observation is not None else ""


def observe(previous: Observation | None, current: LeaderRecord, now: float) -> Observation:
    """The candidate's view after reading ``current`` at ``now``: unchanged records keep the
    time they were first seen; any change (a renewal too) restarts the term from now."""
    if previous is not None and previous.record == current:
        return previous
    return Observation(current, now)


def term_runs(observation: Observation, now: float) -> bool:
    """A named holder's term, counted from when the candidate saw the record change."""
    return bool(observation.record.holder) and observation.at + observation.record.duration > now


def decide(
    current: LeaderRecord | None,
    *,
    identity: str,
    observed: Observation | None,
    leading: bool,
    now: float,
    stamp: str,
    timing: ElectionTiming,
) -> Decision:
    """One look at the Lease. ``current`` is its record (None: no Lease), ``observed`` what
    was seen before, ``leading`` whether we lead, ``now`` the monotonic time and ``stamp`` the
    wall time as MicroTime (for acquireTime/renewTime)."""
    mine = LeaderRecord(
        holder=identity, duration=int(timing.lease_duration), acquired=stamp, renewed=stamp
    )
    if current is None:
        return Decision(Action.CREATE, observed, mine)
    seen = observe(observed, current, now)
    ours = seen.record.holder == identity
    if not ours and (leading or term_runs(seen, now)):
        return Decision(Action.LOST if leading else Action.FOLLOW, seen)
    if ours:  # a restarted candidate with our identity takes its own Lease back at once
        mine = replace(mine, acquired=current.acquired or stamp, transitions=current.transitions)
        return Decision(Action.RENEW, seen, mine)
    return Decision(Action.ACQUIRE, seen, replace(mine, transitions=current.transitions + 1))


def written(decision: Decision, now: float) -> Observation:
    """The view after the decision's record was written at ``now``."""
    assert decision.record is not None
    return Observation(decision.record, now)


def released(observed: Observation | None, stamp: str) -> LeaderRecord:
    """What a leader writes when it stops by choice (client-go's ``release``): no holder, a
    one-second term, the transitions kept, so a candidate takes over at its next look."""
    transitions = observed.record.transitions if observed is not None else 0
    return LeaderRecord(duration=1, acquired=stamp, renewed=stamp, transitions=transitions)


def renewal_overdue(last_renewed: float, now: float, timing: ElectionTiming) -> bool:
    """A leader whose last successful renewal is ``renew_deadline`` old stops leading."""
    return now - last_renewed >= timing.renew_deadline
