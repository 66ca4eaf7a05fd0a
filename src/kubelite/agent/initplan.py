"""Which init containers and sidecars to start or kill in one sync (INIT-*, SC-2..SC-6).

The kubelet walks the init containers from last to first: the newest evidence of progress is
at the end of the list (earlier records may have been garbage-collected), and once it finds
how far initialization got it only looks for sidecars to keep running (INIT-7, SC-2).
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelite.agent import eventtext
from kubelite.agent.actions import KillReason, StopContainer
from kubelite.agent.observed import ObservedPod
from kubelite.agent.predicates import definition_changed
from kubelite.agent.probestate import ProbeResults, Result
from kubelite.agent.termination import stop_container
from kubelite.model.pod import ContainerSpec, PodSpec, ProbeType, RestartPolicy
from kubelite.runtime.interface import ContainerState, ContainerStatus


@dataclass(frozen=True, slots=True)
class InitDecision:
    to_start: tuple[int, ...] = ()  # indexes into spec.initContainers, spec order
    to_kill: tuple[StopContainer, ...] = ()
    initialized: bool = False
    failed: bool = False  # INIT-4: a regular init container failed under Never: kill the pod


def init_failed(status: ContainerStatus) -> bool:
    """INIT-2: non-zero exit, OOMKilled whatever the code, or unknown state."""
    if status.state is ContainerState.UNKNOWN:
        return True
    if status.state is not ContainerState.EXITED:
        return False
    return status.exit_code != 0 or status.reason == "OOMKilled"


def app_container_active(pod: PodSpec, observed: ObservedPod) -> bool:
    """INIT-7 (a): an app container exists in ``created`` or ``running`` state (not exited)."""
    active = (ContainerState.CREATED, ContainerState.RUNNING)
    for c in pod.containers:
        newest = observed.newest(c.name)
        if newest is not None and newest.state in active:
            return True
    return False


class _Walk:
    """Accumulates the decision while walking the init containers backwards."""

    def __init__(self, pod: PodSpec, initialized: bool) -> None:
        self.pod = pod
        self.initialized = initialized
        self.previously_initialized = initialized
        self.starts: list[int] = []
        self.kills: list[StopContainer] = []

    def kill(self, spec: ContainerSpec, status: ContainerStatus, why: KillReason, msg: str) -> None:
        self.kills.append(stop_container(self.pod, spec, status, why, msg))


def _running_sidecar(
    walk: _Walk, i: int, spec: ContainerSpec, status: ContainerStatus, probes: ProbeResults
) -> None:
    """SC-2 (gating), SC-5 (probe kills), SC-6 (image change) for a running sidecar."""
    if spec.probe(ProbeType.STARTUP) is not None:
        startup = probes.get(status.id, ProbeType.STARTUP)
        if startup is None or startup is Result.UNKNOWN:
            return  # not started yet: later init containers keep waiting (SC-3)
        if startup is Result.FAILURE:
            walk.kill(
                spec, status, KillReason.STARTUP, eventtext.startup_kill_message(spec, restart=True)
            )
            walk.starts.append(i)
            return
    if i == len(walk.pod.init_containers) - 1:
        walk.initialized = True  # INIT-7 (b): the last one has started
    elif not walk.previously_initialized:
        walk.starts.append(i + 1)  # SC-2: started for the first time, move on
    if definition_changed(spec, status):
        walk.kill(spec, status, KillReason.CHANGED, eventtext.changed_kill_message(spec))
        walk.starts.append(i)
        return
    if probes.get(status.id, ProbeType.LIVENESS) is Result.FAILURE:
        msg = eventtext.liveness_kill_message(spec, restart=True)
        walk.kill(spec, status, KillReason.LIVENESS, msg)
        walk.starts.append(i)


def _one(
    walk: _Walk, i: int, spec: ContainerSpec, status: ContainerStatus, probes: ProbeResults
) -> bool:
    """Handle init container ``i``; False means the pod must be killed (INIT-4, INIT-5)."""
    restart_on_failure = walk.pod.restart_policy is not RestartPolicy.NEVER
    if status.state is ContainerState.CREATED:
        walk.starts.append(i)  # INIT-6
    elif status.state is ContainerState.RUNNING:
        if spec.is_sidecar:
            _running_sidecar(walk, i, spec, status, probes)
        # a running regular init container: wait for it to finish (INIT-1)
    elif status.state is ContainerState.EXITED:
        if spec.is_sidecar:
            walk.starts.append(i)  # SC-3, SC-4: whatever the exit code and restartPolicy
        elif init_failed(status):
            if not restart_on_failure:
                return False  # INIT-4
            walk.starts.append(i)  # INIT-3: only the failed one again
        elif i == len(walk.pod.init_containers) - 1:
            walk.initialized = True  # INIT-7 (b)
        else:
            walk.starts.append(i + 1)  # INIT-1: the next one
    else:  # unknown state
        if not spec.is_sidecar and not restart_on_failure:
            return False  # INIT-5 under Never counts as a failure
        walk.kill(spec, status, KillReason.UNKNOWN, eventtext.unknown_kill_message(spec))
        walk.starts.append(i)  # INIT-5
    return True


def compute_init_actions(pod: PodSpec, observed: ObservedPod, probes: ProbeResults) -> InitDecision:
    """INIT-1..INIT-7, SC-2..SC-6: what to do with the init containers this sync."""
    if not pod.init_containers:
        return InitDecision(initialized=True)
    walk = _Walk(pod, app_container_active(pod, observed))
    for i in reversed(range(len(pod.init_containers))):
        spec = pod.init_containers[i]
        status = observed.newest(spec.name)
        if status is None:
            if walk.previously_initialized and spec.is_sidecar:
                walk.starts.append(i)  # a sidecar whose records vanished is started again
            continue
        if walk.previously_initialized and not spec.is_sidecar:
            continue  # INIT-7: regular init containers never re-run after initialization
        if not _one(walk, i, spec, status, probes):
            return InitDecision(failed=True, initialized=walk.initialized)
        walk.previously_initialized = True
    if not walk.previously_initialized:
        walk.starts.append(0)  # nothing has run yet: begin with initContainers[0]
    return InitDecision(
        to_start=tuple(sorted(set(walk.starts))),
        to_kill=tuple(walk.kills),
        initialized=walk.initialized,
    )
