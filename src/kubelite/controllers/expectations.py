"""A controller's expectations (client-go's ``UIDTrackingControllerExpectations``): what it
has asked the API to create and delete for one owner and has not yet seen in its watch.

While expectations are pending the controller does not count pods again — its cache may not
show the pods it just created, and counting them as missing would create them twice. Each
pod event the watch delivers settles one expectation (a creation by count, a deletion by the
pod's key). Expectations older than five minutes count as settled, so an event that never
comes cannot stall an owner forever. Nothing here survives a restart, and nothing needs to:
a new process lists every pod before it reconciles anything.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from kubelite.clock import Clock

K = TypeVar("K", bound=Hashable)

TTL_SECONDS = 300.0


@dataclass(slots=True)
class _Pending:
    adds: int = 0
    deletes: set[str] = field(default_factory=set)
    since: float = 0.0


class Expectations(Generic[K]):
    def __init__(self, clock: Clock, *, ttl: float = TTL_SECONDS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._pending: dict[K, _Pending] = {}

    def expect_creations(self, key: K, count: int) -> None:
        entry = self._fresh(key)
        entry.adds += count

    def expect_deletions(self, key: K, pod_keys: Iterable[str]) -> None:
        entry = self._fresh(key)
        entry.deletes.update(pod_keys)

    def _fresh(self, key: K) -> _Pending:
        """The entry to add to: a settled or expired one starts over (``SetExpectations``)."""
        if self.satisfied(key):
            self._pending[key] = _Pending(since=self._clock.monotonic())
        entry = self._pending[key]
        entry.since = self._clock.monotonic()
        return entry

    def creation_observed(self, key: K) -> None:
        entry = self._pending.get(key)
        if entry is not None and entry.adds > 0:
            entry.adds -= 1

    def deletion_observed(self, key: K, pod_key: str) -> None:
        entry = self._pending.get(key)
        if entry is not None:
            entry.deletes.discard(pod_key)

    def satisfied(self, key: K) -> bool:
        """True when nothing is pending for ``key`` (or what is pending has expired)."""
        entry = self._pending.get(key)
        if entry is None:
            return True
        if entry.adds <= 0 and not entry.deletes:
            return True
        return self._clock.monotonic() - entry.since > self._ttl

    def pending(self, key: K) -> tuple[int, int]:
        entry = self._pending.get(key)
        return (entry.adds, len(entry.deletes)) if entry else (0, 0)

    def forget(self, key: K) -> None:
        self._pending.pop(key, None)
