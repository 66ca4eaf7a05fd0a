"""The pod phase from API container statuses (PH-1, PH-2, PH-4).

Three passes over the statuses keep counters (regular init containers, sidecars, app
containers), then the first matching rule of PH-1 step 4 decides. Works on the API shapes
(``state``/``lastState`` dicts), exactly as the kubelet does, so a status carried over from a
previous write (CS-2) counts the same as a fresh one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.model.objects import JSON, by_name
from kubelite.model.pod import TERMINAL_PHASES, PodSpec, RestartPolicy

TERMINAL = TERMINAL_PHASES

Status = JSON


@dataclass(slots=True)
class _Counts:
    pending_init: int = 0
    failed_init: int = 0
    running: int = 0
    waiting: int = 0
    stopped: int = 0
    succeeded: int = 0
    unknown: int = 0
    app_started: bool = False  # some app container is running or terminated (PH-1 4b)


def _exit(state: Mapping[str, Any]) -> int | None:
    term = state.get("terminated")
    return int(term.get("exitCode", 0)) if term is not None else None


def _regular_init(n: _Counts, st: Status | None) -> None:
    """PH-1 step 1."""
    if st is None or "running" in st["state"]:
        n.pending_init += 1
    elif "terminated" in st["state"]:
        n.failed_init += _exit(st["state"]) != 0
    else:  # waiting
        last = _exit(st.get("lastState") or {})
        if last is None:
            n.pending_init += 1
        elif last != 0:
            n.failed_init += 1


def _sidecar(n: _Counts, st: Status | None) -> None:
    """PH-1 step 2 (SC-9): terminated sidecars and sidecars waiting after a run do not count."""
    if st is None:
        n.unknown += 1
    elif "running" in st["state"]:
        n.running += 1
        n.pending_init += st.get("started") is not True
    elif "waiting" in st["state"] and not (st.get("lastState") or {}).get("terminated"):
        n.pending_init += 1
        n.waiting += 1


def _app(n: _Counts, st: Status | None) -> None:
    """PH-1 step 3."""
    if st is None:
        n.unknown += 1
    elif "running" in st["state"]:
        n.running += 1
        n.app_started = True
    elif "terminated" in st["state"]:
        n.stopped += 1
        n.succeeded += _exit(st["state"]) == 0
        n.app_started = True
    elif (st.get("lastState") or {}).get("terminated"):
        n.stopped += 1  # waiting after a run: stopped, never succeeded
    else:
        n.waiting += 1


def compute_phase(
    pod: PodSpec,
    init_statuses: Sequence[Status],
    app_statuses: Sequence[Status],
    *,
    terminal: bool = False,
    static: bool = False,
) -> str:
    """PH-1. ``terminal``: the kubelet has stopped every container for good (TERM-4)."""
    n = _Counts()
    inits = by_name(init_statuses)
    for c in pod.init_containers:
        (_sidecar if c.is_sidecar else _regular_init)(n, inits.get(c.name))
    apps = by_name(app_statuses)
    for c in pod.containers:
        _app(n, apps.get(c.name))
    policy = pod.restart_policy
    if n.failed_init and policy is RestartPolicy.NEVER:
        return "Failed"  # 4a
    if n.pending_init and not n.app_started:
        return "Pending"  # 4b
    if n.waiting:
        return "Pending"  # 4c
    if n.running and not n.unknown:
        return "Running"  # 4d
    if not n.running and n.stopped and not n.unknown:  # 4e
        if terminal and not static:
            return "Succeeded" if n.stopped == n.succeeded else "Failed"
        if policy is RestartPolicy.ALWAYS:
            return "Running"
        if n.stopped == n.succeeded:
            return "Succeeded"
        return "Failed" if policy is RestartPolicy.NEVER else "Running"
    return "Pending"  # 4f


def sticky_phase(new: str, *previous: str | None) -> str:
    """PH-2: once Succeeded or Failed, always so."""
    for old in previous:
        if old in TERMINAL and new not in TERMINAL:
            return old
    return new


def deadline_exceeded(pod: PodSpec, start_time: float | None, now: float) -> bool:
    """PH-4 / INIT-13: activeDeadlineSeconds counts from status.startTime."""
    deadline = pod.active_deadline_seconds
    return deadline is not None and start_time is not None and now - start_time >= deadline


def deadline_at(pod: PodSpec, start_time: float | None) -> float | None:
    """PH-4: when the active deadline runs out: the pod worker syncs at that moment."""
    if pod.active_deadline_seconds is None or start_time is None:
        return None
    return start_time + pod.active_deadline_seconds
