"""CrashLoopBackOff and image-pull back-off as immutable records and pure checks (BO-*).

The kubelet keeps one back-off entry per container (BO-1) and per pulled image (BO-9). Here the
whole table is a frozen ``BackoffState``; every check returns a new state, so the executor
simply keeps the latest one. Time is always an argument (seconds since the epoch).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from kubelite.model.pod import ContainerSpec, PodSpec


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """BO-3 defaults: 10 s doubling to 300 s; the record resets after 600 s (BO-3, VER-2)."""

    initial: float = 10.0
    factor: float = 2.0
    max: float = 300.0
    reset_after: float = 600.0


CRASH_LOOP = BackoffPolicy()
IMAGE_PULL = BackoffPolicy()  # BO-9: same numbers, separate table


@dataclass(frozen=True, slots=True)
class BackoffEntry:
    delay: float
    last_update: float


def _frozen(entries: Mapping[str, BackoffEntry]) -> Mapping[str, BackoffEntry]:
    return MappingProxyType(dict(entries))


@dataclass(frozen=True, slots=True)
class BackoffState:
    """All back-off entries, by key. Never mutated; functions return a new state."""

    entries: Mapping[str, BackoffEntry] = field(default_factory=lambda: _frozen({}))

    def get(self, key: str) -> BackoffEntry | None:
        return self.entries.get(key)

    def with_entry(self, key: str, entry: BackoffEntry) -> BackoffState:
        return replace(self, entries=_frozen({**self.entries, key: entry}))


@dataclass(frozen=True, slots=True)
class BackoffCheck:
    """The outcome of one check: whether to hold off, the delay in force, the new table."""

    in_backoff: bool
    delay: float
    state: BackoffState


def crash_key(pod: PodSpec, container: ContainerSpec, container_hash: str) -> str:
    """BO-1: ``<pod>_<ns>_<uid>_<container>_<hash>``; a new image starts a fresh record."""
    return f"{pod.name}_{pod.namespace}_{pod.uid}_{container.name}_{container_hash}"


def pull_key(pod_uid: str, image: str) -> str:
    """BO-9: ``<pod uid>_<image>``."""
    return f"{pod_uid}_{image}"


def _advance(
    state: BackoffState, key: str, event_time: float, now: float, policy: BackoffPolicy
) -> tuple[BackoffState, float]:
    entry = state.get(key)
    if entry is None or event_time - entry.last_update > policy.reset_after:
        delay = policy.initial  # new record, or the 600 s reset (BO-2, BO-4)
    else:
        delay = min(entry.delay * policy.factor, policy.max)
    return state.with_entry(key, BackoffEntry(delay=delay, last_update=now)), delay


def check(
    state: BackoffState,
    key: str,
    finished_at: float,
    now: float,
    policy: BackoffPolicy = CRASH_LOOP,
) -> BackoffCheck:
    """BO-2: may a container whose newest exited instance finished at ``finished_at`` start now?

    If it may, the record is advanced (created at ``initial``, doubled, or reset) as the kubelet
    does at that moment; if not, the state is returned unchanged with the delay in force.
    """
    entry = state.get(key)
    recent = entry is not None and finished_at - entry.last_update <= policy.reset_after
    if entry is not None and recent and now - finished_at < entry.delay:
        return BackoffCheck(in_backoff=True, delay=entry.delay, state=state)
    new_state, delay = _advance(state, key, finished_at, now, policy)
    return BackoffCheck(in_backoff=False, delay=delay, state=new_state)


def pull_in_backoff(
    state: BackoffState, key: str, now: float, policy: BackoffPolicy = IMAGE_PULL
) -> bool:
    """BO-9: no pull is attempted while now - lastUpdate < delay for the image's key."""
    entry = state.get(key)
    if entry is None or now - entry.last_update > policy.reset_after:
        return False
    return now - entry.last_update < entry.delay


def pull_failed(
    state: BackoffState, key: str, now: float, policy: BackoffPolicy = IMAGE_PULL
) -> BackoffState:
    """BO-9: after a failed pull the delay for that image is advanced."""
    return _advance(state, key, now, now, policy)[0]
