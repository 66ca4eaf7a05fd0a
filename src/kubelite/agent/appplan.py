"""Which app containers to start, keep or kill in one sync (APP-1..APP-3, SYNC-3 step 3).

Only consulted once the pod is initialized (INIT-7). A running container is kept unless its
image changed or a committed liveness/startup result is Failure; a container that is not
running is started again when ``predicates.should_restart`` (APP-2) says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelite.agent import eventtext
from kubelite.agent.actions import KillReason, StopContainer
from kubelite.agent.observed import ObservedPod
from kubelite.agent.predicates import definition_changed, should_restart
from kubelite.agent.probestate import ProbeResults, Result
from kubelite.agent.termination import stop_container
from kubelite.model.pod import ContainerSpec, PodSpec, ProbeType, RestartPolicy
from kubelite.runtime.interface import ContainerState, ContainerStatus


@dataclass(frozen=True, slots=True)
class AppDecision:
    to_start: tuple[int, ...] = ()  # indexes into spec.containers, spec order
    to_kill: tuple[StopContainer, ...] = ()
    keep_count: int = 0  # running containers left as they are


def _kill_for(
    pod: PodSpec, spec: ContainerSpec, status: ContainerStatus, probes: ProbeResults
) -> tuple[KillReason, bool] | None:
    """APP-3: why a running container must go, and whether it comes back; None keeps it."""
    restart = pod.restart_policy is not RestartPolicy.NEVER
    if definition_changed(spec, status):
        return KillReason.CHANGED, True  # whatever the restartPolicy
    if probes.get(status.id, ProbeType.LIVENESS) is Result.FAILURE:
        return KillReason.LIVENESS, restart
    if probes.get(status.id, ProbeType.STARTUP) is Result.FAILURE:
        return KillReason.STARTUP, restart
    return None


def _message(spec: ContainerSpec, reason: KillReason, restart: bool) -> str:
    if reason is KillReason.CHANGED:
        return eventtext.changed_kill_message(spec)
    if reason is KillReason.LIVENESS:
        return eventtext.liveness_kill_message(spec, restart=restart)
    return eventtext.startup_kill_message(spec, restart=restart)


def compute_app_actions(pod: PodSpec, observed: ObservedPod, probes: ProbeResults) -> AppDecision:
    starts: list[int] = []
    kills: list[StopContainer] = []
    keep = 0
    for i, spec in enumerate(pod.containers):
        status = observed.newest(spec.name)
        if status is None or status.state is not ContainerState.RUNNING:
            if should_restart(pod, spec, observed):
                starts.append(i)
                if status is not None and status.state is ContainerState.UNKNOWN:
                    msg = eventtext.unknown_kill_message(spec)
                    kills.append(stop_container(pod, spec, status, KillReason.UNKNOWN, msg))
            continue
        verdict = _kill_for(pod, spec, status, probes)
        if verdict is None:
            keep += 1
            continue
        reason, restart = verdict
        if restart:
            starts.append(i)
        msg = _message(spec, reason, restart)
        kills.append(stop_container(pod, spec, status, reason, msg))
    return AppDecision(to_start=tuple(starts), to_kill=tuple(kills), keep_count=keep)
