"""Grace periods and the order containers are stopped in (TERM-1, TERM-2, SC-11, HK-4).

Pure bookkeeping that the async executor follows: which grace a kill gets, who waits for whom
before the stop signal, and how much of the grace is left for the runtime's stop timeout.
Every running container is handled from the same moment t0::

    Killing event ─▶ preStop (if any and grace > 0, bounded by grace)
                  ─▶ wait for ``wait_for`` to exit (sidecars only, bounded by what is left)
                  ─▶ stop(timeout = stop_timeout(grace, preStop s, wait s))   # ≥ 2 s
"""

from __future__ import annotations

from collections.abc import Iterable

from kubelite.agent import eventtext
from kubelite.agent.actions import KillReason, StartFailure, StopContainer
from kubelite.agent.eventtext import Event
from kubelite.model.pod import ContainerSpec, PodSpec, ProbeType
from kubelite.runtime.interface import ContainerStatus

MIN_STOP_TIMEOUT = 2  # TERM-2 step 4
MIN_DELETION_GRACE = 1  # TERM-1


def deletion_grace(pod: PodSpec, previous: int | None = None) -> int:
    """TERM-1: the deletion grace period; the smallest one seen wins, and never below 1 s."""
    grace = pod.deletion_grace_period_seconds
    if grace is None:
        grace = pod.termination_grace_period_seconds
    if previous is not None:
        grace = min(grace, previous)
    return max(grace, MIN_DELETION_GRACE)


def kill_grace(pod: PodSpec, container: ContainerSpec, reason: KillReason) -> int:
    """TERM-1 / PR-7: deletion grace if set, else the probe's own TGPS, else the pod's TGPS."""
    if pod.deletion_grace_period_seconds is not None:
        return pod.deletion_grace_period_seconds
    probe_type = {KillReason.LIVENESS: ProbeType.LIVENESS, KillReason.STARTUP: ProbeType.STARTUP}
    if reason in probe_type:
        probe = container.probe(probe_type[reason])
        if probe is not None and probe.termination_grace_period_seconds is not None:
            return probe.termination_grace_period_seconds
    return pod.termination_grace_period_seconds


def stop_container(
    pod: PodSpec,
    container: ContainerSpec,
    status: ContainerStatus,
    reason: KillReason,
    message: str,
    *,
    grace: int | None = None,
    wait_for: tuple[str, ...] = (),
) -> StopContainer:
    """One container kill, with its Killing event (TERM-2 step 1, HK-4)."""
    seconds = kill_grace(pod, container, reason) if grace is None else grace
    return StopContainer(
        container_id=status.id,
        name=container.name,
        kind=container.kind,
        reason=reason,
        message=message,
        grace_seconds=seconds,
        pre_stop=container.pre_stop is not None,
        event=eventtext.killing(container, message),
        wait_for=wait_for,
    )


def wait_for(pod: PodSpec, running: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """SC-11: whose exit each running container waits for before its stop signal.

    App and regular init containers wait for nobody. A sidecar waits for every running app
    container and for the next sidecar declared after it, if that one is running, so sidecars
    are signalled one at a time in reverse declaration order. Without sidecars: nobody waits.
    """
    alive = set(running)
    apps = tuple(c.name for c in pod.containers if c.name in alive)
    order: dict[str, tuple[str, ...]] = {name: () for name in alive}
    later_sidecar: str | None = None
    for c in reversed(pod.init_containers):
        if not c.is_sidecar:
            continue
        if c.name in alive:
            behind = (later_sidecar,) if later_sidecar and later_sidecar in alive else ()
            order[c.name] = apps + behind
        later_sidecar = c.name
    return order


def kill_pod_stops(
    pod: PodSpec,
    running: Iterable[tuple[ContainerSpec, ContainerStatus]],
    grace: int | None = None,
) -> tuple[StopContainer, ...]:
    """Every running container of the pod, each with ``Stopping container <name>`` and the
    SC-11 ordering. ``grace`` overrides the per-container grace (deletion, eviction)."""
    pairs = tuple(running)
    order = wait_for(pod, (c.name for c, _ in pairs))
    return tuple(
        stop_container(
            pod,
            spec,
            status,
            KillReason.STOP,
            eventtext.stopping_message(spec),
            grace=grace,
            wait_for=order.get(spec.name, ()),
        )
        for spec, status in pairs
    )


def runs_pre_stop(stop: StopContainer) -> bool:
    """HK-4: preStop runs only if the container has one and the grace is > 0."""
    return stop.pre_stop and stop.grace_seconds > 0


def wait_budget(grace: int, pre_stop_seconds: float) -> float:
    """TERM-2 step 3: how long the SC-11 wait may last after preStop took its whole seconds."""
    return max(grace - int(pre_stop_seconds), 0)


def stop_timeout(grace: int, pre_stop_seconds: float = 0.0, wait_seconds: float = 0.0) -> int:
    """TERM-2 steps 2-4 / SC-11.4: grace minus whole seconds spent, at least 2 s."""
    return max(grace - int(pre_stop_seconds) - int(wait_seconds), MIN_STOP_TIMEOUT)


def post_start_failed(
    pod: PodSpec, spec: ContainerSpec, status: ContainerStatus, detail: str
) -> tuple[StopContainer, StartFailure, tuple[Event, ...]]:
    """HK-3: after a failed postStart: the kill to carry out, the waiting reason to record
    (``PostStartHookError`` with the detailed handler message), and the Warning event."""
    stop = stop_container(
        pod, spec, status, KillReason.POST_START, eventtext.POST_START_KILL_MESSAGE
    )
    failure = StartFailure(reason="PostStartHookError", message=detail)
    return stop, failure, (eventtext.failed_post_start(spec),)
