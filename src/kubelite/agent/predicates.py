"""The questions about a pod that both the planner and the status builder ask.

Planning decides what to start and kill; the status side reports what the user sees; both must
give the same answer to "is a new sandbox needed", "will this container be started again" and
"did this container's definition change", or the status would promise a restart the planner
never makes. So the answers live here, and ``planning``/``initplan``/``appplan``,
``podstatus``/``containerstatus`` and the executor depend on this module, never on each other.
Pure: every input is an argument.
"""

from __future__ import annotations

from kubelite.agent import labels
from kubelite.agent.observed import ObservedPod
from kubelite.model.pod import ContainerSpec, PodSpec, RestartPolicy
from kubelite.runtime.interface import ContainerState, ContainerStatus


def sandbox_needed(observed: ObservedPod, *, require_ip: bool = False) -> bool:
    """SYNC-3 step 1: none, the newest not ready, more than one ready, or no IP.

    ``require_ip`` is for runtimes with a pod network; today's loopback-only sandboxes have no
    IP and must not be recreated for it.
    """
    newest = observed.newest_sandbox
    if newest is None or not newest.ready:
        return True
    if sum(1 for s in observed.sandboxes if s.ready) > 1:
        return True
    return require_ip and newest.ip is None


def exited_zero(observed: ObservedPod, spec: ContainerSpec) -> bool:
    """The container's newest instance has exited with code 0."""
    newest = observed.newest(spec.name)
    return newest is not None and newest.state is ContainerState.EXITED and newest.exit_code == 0


def should_restart(pod: PodSpec, spec: ContainerSpec, observed: ObservedPod) -> bool:
    """APP-2 (ShouldContainerBeRestarted); sidecars always restart unless deleted (SC-4)."""
    if pod.being_deleted:
        return False
    newest = observed.newest(spec.name)
    if newest is None:
        return True
    if newest.state is ContainerState.RUNNING:
        return False
    if newest.state in (ContainerState.CREATED, ContainerState.UNKNOWN):
        return True
    if spec.is_sidecar:
        return True
    if pod.restart_policy is RestartPolicy.NEVER:
        return False
    if pod.restart_policy is RestartPolicy.ON_FAILURE:
        return newest.exit_code != 0  # OOMKilled is 137, so it restarts
    return True


def definition_changed(spec: ContainerSpec, status: ContainerStatus) -> bool:
    """SYNC-8: the hash recorded at start differs from the spec's (name + image)."""
    recorded = labels.hash_of(status.labels)
    return recorded is not None and recorded != labels.spec_hash(spec)
