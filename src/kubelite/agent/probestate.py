"""Probe results as pure state: thresholds, committed results and resets (PR-5, PR-7).

The probe *mechanisms* (exec, httpGet, tcpSocket, grpc) live elsewhere and hand in one
``RawResult`` per tick. This module decides whether a tick should probe at all, turns raw
results into committed ones, and says which events to emit. The planner and the status
builder only ever see committed results (``ProbeResults``).

One worker per (container, probe type)::

    new container ID ──▶ initial result (startup Unknown, liveness Success, readiness Failure)
         │ ticks: skip unless running, started/not started as the type needs, past initialDelay
         ▼
    raw results ──count in a row──▶ commit at successThreshold / failureThreshold
         │ liveness Failure or any startup commit
         ▼
    on hold until the next container ID
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from kubelite.agent import eventtext
from kubelite.agent.eventtext import Event
from kubelite.model.pod import ContainerSpec, ProbeSpec, ProbeType
from kubelite.runtime.interface import ContainerState, ContainerStatus


class Result(enum.Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"


class Outcome(enum.Enum):
    """What a probe mechanism reports (PR-6). WARNING is an HTTP redirect to another host."""

    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class RawResult:
    outcome: Outcome
    output: str = ""
    error: str | None = None  # machinery error after the in-tick retries (PR-5)


INITIAL = {  # PR-5: what a new container ID starts from
    ProbeType.STARTUP: Result.UNKNOWN,
    ProbeType.LIVENESS: Result.SUCCESS,
    ProbeType.READINESS: Result.FAILURE,
}


@dataclass(frozen=True, slots=True)
class ProbeWorker:
    """One probe worker's state for the current container instance."""

    probe: ProbeSpec
    container_id: str | None = None
    committed: Result | None = None  # None: no container seen yet
    last_raw: Result | None = None
    streak: int = 0  # how many times ``last_raw`` came in a row
    ticks: int = 0  # probes run for this container ID
    on_hold: bool = False
    stopped: bool = False


def new_worker(probe: ProbeSpec) -> ProbeWorker:
    return ProbeWorker(probe=probe)


def observe_container(worker: ProbeWorker, container_id: str | None) -> ProbeWorker:
    """PR-5: a new container ID resets the worker to the type's initial result."""
    if container_id is None or container_id == worker.container_id:
        return worker
    return replace(
        worker,
        container_id=container_id,
        committed=INITIAL[worker.probe.type],
        last_raw=None,
        streak=0,
        ticks=0,
        on_hold=False,
    )


class TickDecision(enum.Enum):
    PROBE = "probe"
    SKIP = "skip"
    STOP = "stop"


def tick_decision(
    worker: ProbeWorker,
    container: ContainerStatus | None,
    *,
    started: bool,
    will_restart: bool,
    now: float,
) -> TickDecision:
    """PR-5: should this tick run the probe? ``started`` is the container's started flag (CS-5).

    ``will_restart`` is False when the container has terminated and will not be restarted
    (pod ``Never``, not a sidecar): the worker then ends.
    """
    if worker.stopped:
        return TickDecision.STOP
    if container is None or container.state is not ContainerState.RUNNING:
        if container is not None and container.state is ContainerState.EXITED and not will_restart:
            return TickDecision.STOP
        return TickDecision.SKIP
    if worker.on_hold and container.id == worker.container_id:
        return TickDecision.SKIP
    is_startup = worker.probe.type is ProbeType.STARTUP
    if is_startup == started:  # startup runs only before, the others only after, start
        return TickDecision.SKIP
    begun = container.started_at if container.started_at is not None else now
    if now - begun < worker.probe.initial_delay_seconds:
        return TickDecision.SKIP
    return TickDecision.PROBE


def needs_immediate_readiness(worker: ProbeWorker, *, started: bool, running: bool) -> bool:
    """PR-5: a started, running container with a readiness worker but no probe run yet."""
    return (
        worker.probe.type is ProbeType.READINESS
        and started
        and running
        and worker.ticks == 0
        and not worker.stopped
    )


def due_on_start(worker: ProbeWorker, before: frozenset[str], after: frozenset[str]) -> bool:
    """PR-5: liveness and readiness run only for an instance the status reports started;
    the status write that first does so (``before`` -> ``after``, sets of started instance
    IDs) gives them their first tick at once, as a new instance gives the startup probe."""
    cid = worker.container_id
    return (
        worker.probe.type is not ProbeType.STARTUP
        and cid is not None
        and cid in after
        and cid not in before
        and not worker.stopped
    )


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    worker: ProbeWorker
    events: tuple[Event, ...]
    changed: bool  # the committed result changed: the pod should be re-synced (SYNC-1)


def record(worker: ProbeWorker, container: ContainerSpec, raw: RawResult) -> RecordOutcome:
    """Count one raw result and commit it when its threshold is reached (PR-5, PR-7)."""
    type_name = worker.probe.type.value
    if raw.error is not None:  # PR-5: machinery error, result thrown away
        event = eventtext.probe_errored(container, type_name, raw.outcome.value, raw.error)
        return RecordOutcome(replace(worker, ticks=worker.ticks + 1), (event,), changed=False)
    events: tuple[Event, ...] = ()
    if raw.outcome is Outcome.WARNING:
        result = Result.SUCCESS
        events = (eventtext.probe_warning(container, type_name, raw.output),)
    elif raw.outcome is Outcome.SUCCESS:
        result = Result.SUCCESS
    else:
        result = Result.FAILURE  # PR-5: a raw Unknown counts as Failure, without an event
        if raw.outcome is Outcome.FAILURE:
            events = (eventtext.unhealthy(container, type_name, raw.output),)  # PR-7
    streak = worker.streak + 1 if result is worker.last_raw else 1
    updated = replace(worker, last_raw=result, streak=streak, ticks=worker.ticks + 1)
    threshold = (
        worker.probe.failure_threshold
        if result is Result.FAILURE
        else worker.probe.success_threshold
    )
    if streak < threshold:
        return RecordOutcome(updated, events, changed=False)
    changed = updated.committed is not result
    updated = replace(updated, committed=result)
    kind = worker.probe.type
    if kind is ProbeType.STARTUP or (kind is ProbeType.LIVENESS and result is Result.FAILURE):
        updated = replace(updated, on_hold=True, streak=0)  # PR-5: wait for a new container ID
    return RecordOutcome(updated, events, changed)


def pod_deleting(worker: ProbeWorker) -> ProbeWorker:
    """PR-5: on pod deletion liveness and startup commit Success and stop; readiness goes on."""
    if worker.probe.type is ProbeType.READINESS:
        return worker
    return replace(worker, committed=Result.SUCCESS, stopped=True)


# ------------------------------------------------------------ what the decisions consume


@dataclass(frozen=True, slots=True)
class ProbeResults:
    """Committed results by (container ID, probe type). A missing entry means "not found"."""

    results: Mapping[tuple[str, ProbeType], Result] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @classmethod
    def of(cls, results: Mapping[tuple[str, ProbeType], Result]) -> ProbeResults:
        return cls(MappingProxyType(dict(results)))

    @classmethod
    def from_workers(cls, workers: Mapping[Any, ProbeWorker]) -> ProbeResults:
        return cls.of(
            {
                (w.container_id, w.probe.type): w.committed
                for w in workers.values()
                if w.container_id is not None and w.committed is not None
            }
        )

    def get(self, container_id: str, probe_type: ProbeType) -> Result | None:
        return self.results.get((container_id, probe_type))


def is_started(spec: ContainerSpec, status: ContainerStatus, probes: ProbeResults) -> bool:
    """CS-5 / SC-2: running, and no startup probe or its committed result is Success."""
    if status.state is not ContainerState.RUNNING:
        return False
    if spec.probe(ProbeType.STARTUP) is None:
        return True
    return probes.get(status.id, ProbeType.STARTUP) is Result.SUCCESS


def is_ready(spec: ContainerSpec, status: ContainerStatus, probes: ProbeResults) -> bool:
    """CS-5 / PR-8: started and running, and no readiness probe or its result is Success."""
    if not is_started(spec, status, probes):
        return False
    if spec.probe(ProbeType.READINESS) is None:
        return True
    return probes.get(status.id, ProbeType.READINESS) is Result.SUCCESS
