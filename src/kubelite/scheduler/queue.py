"""When a pending pod is tried again (kube-scheduler's scheduling queue, on the scheduler's
clock).

::

    new ──▶ ACTIVE ──attempt fails──▶ UNSCHEDULABLE ──relevant change──▶ BACKOFF ──▶ (due)
              ▲                           │ 5 min without one                 │
              └───────────────────────────┴───────────────────────────────────┘
    placed, waiting for its claims to bind ──▶ WAITING (looked at on every pass)

A new pod is due at once. A pod that fitted nowhere waits in the unschedulable pool until
something that may help happens — a node added or changed, a bound pod gone or changed, a
claim or volume changed, the pod itself changed — and then until its back-off has passed since
that failure: 1 s after the first failed attempt, doubling to at most 10 s. A pod left in the
pool for 5 minutes (``podMaxInUnschedulablePodsDuration``) is tried again anyway. A pod placed
on a node whose claims are still being bound is looked at on every pass.

Pure bookkeeping: the caller passes the time in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

INITIAL_BACKOFF = 1.0  # podInitialBackoffSeconds
MAX_BACKOFF = 10.0  # podMaxBackoffSeconds
MAX_IN_UNSCHEDULABLE = 300.0  # podMaxInUnschedulablePodsDuration


class State(Enum):
    ACTIVE = "active"
    UNSCHEDULABLE = "unschedulable"
    BACKOFF = "backoff"
    WAITING = "waiting"


@dataclass(frozen=True, slots=True)
class Entry:
    state: State
    attempts: int = 0  # failed attempts so far
    since: float = 0.0  # when the last attempt failed


def backoff(attempts: int) -> float:
    """The pause after ``attempts`` failed attempts: 1, 2, 4, 8, 10, 10… seconds."""
    delay = INITIAL_BACKOFF
    for _ in range(1, attempts):
        if delay >= MAX_BACKOFF / 2:
            return MAX_BACKOFF
        delay *= 2
    return min(delay, MAX_BACKOFF)


def due_at(entry: Entry) -> float:
    """The moment the pod may be tried (0: now)."""
    if entry.state is State.BACKOFF:
        return entry.since + backoff(entry.attempts)
    if entry.state is State.UNSCHEDULABLE:
        return entry.since + MAX_IN_UNSCHEDULABLE
    return 0.0


class SchedulingQueue:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def entry(self, uid: str) -> Entry:
        return self._entries.get(uid, Entry(State.ACTIVE))

    def due(self, uid: str, now: float) -> bool:
        return due_at(self.entry(uid)) <= now

    def next_due(self) -> float | None:
        """The earliest moment a pod in back-off or in the pool becomes due (None: none)."""
        times = [
            due_at(e)
            for e in self._entries.values()
            if e.state in (State.BACKOFF, State.UNSCHEDULABLE)
        ]
        return min(times, default=None)

    def unschedulable(self, uid: str, now: float) -> None:
        """An attempt found no node."""
        attempts = self.entry(uid).attempts + 1
        self._entries[uid] = Entry(State.UNSCHEDULABLE, attempts, now)

    def waiting(self, uid: str) -> None:
        """Placed, waiting for its claims to be bound."""
        self._entries[uid] = Entry(State.WAITING, self.entry(uid).attempts, 0.0)

    def scheduled(self, uid: str) -> None:
        self._entries.pop(uid, None)

    def move_all(self) -> None:
        """Something changed that may let unschedulable pods fit: each is due once its
        back-off from its last failure has passed."""
        for uid, e in self._entries.items():
            if e.state is State.UNSCHEDULABLE:
                self._entries[uid] = Entry(State.BACKOFF, e.attempts, e.since)

    def updated(self, uid: str) -> None:
        """The pod itself changed (its spec or labels)."""
        e = self._entries.get(uid)
        if e is not None and e.state is State.UNSCHEDULABLE:
            self._entries[uid] = Entry(State.BACKOFF, e.attempts, e.since)

    def forget_except(self, live: Iterable[str]) -> None:
        keep = set(live)
        self._entries = {u: e for u, e in self._entries.items() if u in keep}
