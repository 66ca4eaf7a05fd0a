"""API container statuses from runtime records (CS-1..CS-7, INIT-10, INIT-11, TM-3, TM-4), for
init, app and ephemeral containers.

For each container of the spec the newest runtime instance gives ``state`` and the one before
it ``lastState``. Facts that the runtime does not keep come in as arguments: the previous API
status (CS-1, CS-2), the last failed start per container (CS-3) and the termination-message
text the executor read from the file or the log (TM-2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from kubelite.agent.actions import StartFailure
from kubelite.agent.ephemeral import ephemeral_specs
from kubelite.agent.observed import ObservedPod
from kubelite.agent.predicates import exited_zero, should_restart
from kubelite.agent.probestate import ProbeResults, is_ready, is_started
from kubelite.model.pod import ContainerKind, ContainerSpec, PodSpec, format_time
from kubelite.runtime.interface import ContainerState, ContainerStatus

RUNTIME_NAME = "kubelite"  # containerID = "kubelite://<id>" (CS-7)
STATUS_UNKNOWN = "ContainerStatusUnknown"
LOST_ON_TERMINATION = "The container could not be located when the pod was terminated"
LOST_ON_DELETION = (  # CS-2: two spaces before "The container used", as the kubelet writes it
    "The container could not be located when the pod was deleted.  The container used to be Running"
)
MESSAGE_BUDGET = 12288  # TM-4

Status = dict[str, Any]


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ContainerFacts:
    """What the status needs beyond the runtime snapshot."""

    # previous API statuses by name
    previous: Mapping[str, Mapping[str, Any]] = field(default_factory=_empty)
    # last failed start by container name (CS-3)
    start_failures: Mapping[str, StartFailure] = field(default_factory=_empty)
    # containers whose postStart hook is still running (HK-2)
    in_post_start: frozenset[str] = frozenset()
    termination_messages: Mapping[str, str] = field(
        default_factory=_empty
    )  # by container ID (TM-2 text)
    message_limit: int = MESSAGE_BUDGET  # bytes per message, see ``message_limit``


def message_limit(pod: PodSpec) -> int:
    """TM-4: each terminated message is cut to 12288 / (app + init containers) bytes."""
    return MESSAGE_BUDGET // max(len(pod.containers) + len(pod.init_containers), 1)


def container_id(runtime_id: str) -> str:
    return f"{RUNTIME_NAME}://{runtime_id}"


def runtime_id(api_container_id: str) -> str:
    """The runtime's own ID inside an API ``containerID`` (``<runtime>://<id>``, CS-7)."""
    _, sep, rest = api_container_id.partition("://")
    return rest if sep else api_container_id


def started_instances(pod_status: Mapping[str, Any]) -> frozenset[str]:
    """Runtime IDs of the instances a pod's API status reports ``started: true`` (CS-5).

    PR-5: liveness and readiness workers read ``started`` from the status the pod worker last
    worked out (the kubelet's read it from its status manager), not from the startup probe's
    result itself: a startup success is written as started-but-not-ready before any
    readiness probe can make the container ready."""
    found: set[str] = set()
    for key in ("initContainerStatuses", "containerStatuses"):
        for entry in pod_status.get(key) or ():
            cid = entry.get("containerID")
            if entry.get("started") and isinstance(cid, str) and cid:
                found.add(runtime_id(cid))
    return frozenset(found)


def _cut(message: str, limit: int) -> str:
    data = message.encode()
    return message if len(data) <= limit else data[:limit].decode(errors="ignore")


def _message(status: ContainerStatus, facts: ContainerFacts) -> str:
    """TM-3: the runtime's message, then ``": "`` and the termination message."""
    parts = [status.message, facts.termination_messages.get(status.id, "")]
    return _cut(": ".join(p for p in parts if p), facts.message_limit)


def _time(value: float | None) -> str | None:
    return format_time(value) if value is not None else None


def terminated(status: ContainerStatus, facts: ContainerFacts) -> Status:
    state: Status = {"exitCode": status.exit_code if status.exit_code is not None else 0}
    if status.reason:
        state["reason"] = status.reason
    message = _message(status, facts)
    if message:
        state["message"] = message
    state["startedAt"] = _time(status.started_at)
    state["finishedAt"] = _time(status.finished_at)
    state["containerID"] = container_id(status.id)
    return {"terminated": state}


def lost(message: str) -> Status:
    return {"terminated": {"exitCode": 137, "reason": STATUS_UNKNOWN, "message": message}}


def _was_running(previous: Mapping[str, Any] | None) -> bool:
    return bool(previous) and "running" in (previous or {}).get("state", {})


def _from_instance(
    instance: ContainerStatus, previous: Mapping[str, Any] | None, facts: ContainerFacts
) -> tuple[Status, int]:
    """CS-1: the API state of one runtime instance, and its restartCount."""
    if instance.state is ContainerState.RUNNING:
        return {"running": {"startedAt": _time(instance.started_at)}}, instance.attempt
    if instance.state is ContainerState.EXITED:
        return terminated(instance, facts), instance.attempt
    if instance.state is ContainerState.UNKNOWN and _was_running(previous):
        count = int((previous or {}).get("restartCount", 0)) + 1
        return lost(LOST_ON_TERMINATION), count
    return {"waiting": {}}, instance.attempt  # created, or unknown otherwise


def default_waiting(pod: PodSpec) -> Status:
    """INIT-10: ``PodInitializing`` if the pod has init containers, else ``ContainerCreating``."""
    return {
        "waiting": {"reason": "PodInitializing" if pod.init_containers else "ContainerCreating"}
    }


def _without_instance(pod: PodSpec, spec: ContainerSpec, facts: ContainerFacts) -> Status:
    """CS-1 last row and CS-2: no runtime record of this container at all."""
    status: Status = {"state": default_waiting(pod), "lastState": {}, "restartCount": 0}
    previous = facts.previous.get(spec.name)
    if not previous:
        return status
    if "terminated" in previous.get("state", {}):
        return {**previous}  # carried over as it was
    status["restartCount"] = int(previous.get("restartCount", 0))
    status["lastState"] = dict(previous.get("lastState") or {})
    if _was_running(previous) and "terminated" not in status["lastState"]:
        status["lastState"] = lost(LOST_ON_DELETION)
        if not pod.being_deleted:
            status["restartCount"] += 1
    return status


def _base(
    pod: PodSpec, spec: ContainerSpec, observed: ObservedPod, facts: ContainerFacts
) -> Status:
    instances = observed.instances(spec.name)
    if not instances:
        return _without_instance(pod, spec, facts)
    previous = facts.previous.get(spec.name)
    state, count = _from_instance(instances[0], previous, facts)
    last: Status = {}
    if len(instances) > 1:
        last, _ = _from_instance(instances[1], previous, facts)
    return {
        "state": state,
        "lastState": last,
        "restartCount": count,
        "image": instances[0].image,
        "imageID": instances[0].image_id,
        "containerID": container_id(instances[0].id),
    }


def _apply_start_failure(
    pod: PodSpec, spec: ContainerSpec, observed: ObservedPod, facts: ContainerFacts, st: Status
) -> None:
    """CS-3: a container that will be (re)started shows its last failed start as waiting."""
    if spec.kind is ContainerKind.INIT and exited_zero(observed, spec):
        return  # a regular init container that succeeded is never restarted
    failure = facts.start_failures.get(spec.name)
    if failure is None or not should_restart(pod, spec, observed):
        return
    if "terminated" in st["state"]:
        st["lastState"] = st["state"]
    waiting: dict[str, str] = {"reason": failure.reason}
    if failure.message:
        waiting["message"] = failure.message
    st["state"] = {"waiting": waiting}


def _hold_during_post_start(
    pod: PodSpec, spec: ContainerSpec, facts: ContainerFacts, st: Status
) -> None:
    """HK-2: until postStart returns, the sync has not ended and the API still shows the state
    written before it (a new container is not reported running before its hook is done)."""
    previous = facts.previous.get(spec.name)
    before = dict((previous or {}).get("state") or {})
    st["state"] = before if before and "running" not in before else default_waiting(pod)
    if previous and previous.get("lastState"):
        st["lastState"] = dict(previous["lastState"])


def container_status(
    pod: PodSpec,
    spec: ContainerSpec,
    observed: ObservedPod,
    probes: ProbeResults,
    facts: ContainerFacts,
) -> Status:
    """One entry of initContainerStatuses/containerStatuses (CS-1..CS-7)."""
    st = _base(pod, spec, observed, facts)
    _apply_start_failure(pod, spec, observed, facts, st)
    if spec.name in facts.in_post_start:
        _hold_during_post_start(pod, spec, facts, st)
    newest = observed.newest(spec.name)
    running = "running" in st["state"] and newest is not None
    started = running and newest is not None and is_started(spec, newest, probes)
    ready = running and newest is not None and is_ready(spec, newest, probes)
    if spec.kind is ContainerKind.INIT:  # INIT-11: a regular init container that exited 0
        ready = st["state"].get("terminated", {}).get("exitCode") == 0
    entry: Status = {
        "name": spec.name,
        "state": st["state"],
        "lastState": st.get("lastState") or {},
        "ready": ready,
        "restartCount": st.get("restartCount", 0),
        "image": st.get("image") or spec.image,
        "imageID": st.get("imageID", ""),
        "started": started,
    }
    if st.get("containerID"):
        entry["containerID"] = st["containerID"]
    return entry


def init_container_statuses(
    pod: PodSpec, observed: ObservedPod, probes: ProbeResults, facts: ContainerFacts
) -> list[Status]:
    """CS-6 / INIT-11: in spec order."""
    return [container_status(pod, c, observed, probes, facts) for c in pod.init_containers]


def app_container_statuses(
    pod: PodSpec, observed: ObservedPod, probes: ProbeResults, facts: ContainerFacts
) -> list[Status]:
    """CS-6: sorted by name, byte order."""
    statuses = [container_status(pod, c, observed, probes, facts) for c in pod.containers]
    return sorted(statuses, key=lambda s: str(s["name"]).encode())


def ephemeral_container_statuses(
    pod: PodSpec, observed: ObservedPod, probes: ProbeResults, facts: ContainerFacts
) -> list[Status]:
    """``ephemeralContainerStatuses``, sorted by name (CS-6). The kubelet's prober never
    looks at them, so they are never ready and have no ``started`` at all."""
    statuses = []
    for spec in ephemeral_specs(pod):
        entry = container_status(pod, spec, observed, probes, facts)
        entry["ready"] = False
        entry.pop("started", None)
        statuses.append(entry)
    return sorted(statuses, key=lambda s: str(s["name"]).encode())
