"""``pod_status``: the API ``status`` of a pod from the runtime snapshot and recorded facts.

SYNC-2: each sync builds this first; its phase decides whether ``plan_pod`` may start
anything. Everything is derived from the runtime records (timestamps, exit codes) plus the
few facts the runtime cannot know, passed in as ``StatusFacts``; no I/O, ``now`` is an
argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from kubelite.agent import conditions as co
from kubelite.agent.actions import StartFailure
from kubelite.agent.containerstatus import (
    LOST_ON_TERMINATION,
    ContainerFacts,
    app_container_statuses,
    ephemeral_container_statuses,
    init_container_statuses,
    lost,
    message_limit,
)
from kubelite.agent.eventtext import DEADLINE_MESSAGE, DEADLINE_REASON
from kubelite.agent.observed import ObservedPod
from kubelite.agent.phase import (
    TERMINAL,
    compute_phase,
    deadline_exceeded,
    sticky_phase,
)
from kubelite.agent.predicates import sandbox_needed
from kubelite.agent.probestate import ProbeResults
from kubelite.model.pod import PodSpec, format_time, parse_time
from kubelite.model.resources import qos_class


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class StatusFacts:
    """What ``pod_status`` needs besides the spec, the snapshot and the probe results."""

    # the pod's current API status (CS-2, PH-2, CO-1)
    previous: Mapping[str, Any] = field(default_factory=_empty)
    # last failed start by container name (CS-3); the executor's "reason cache"
    start_failures: Mapping[str, StartFailure] = field(default_factory=_empty)
    # termination-message text by container ID, as read per TM-2 (see termmessage)
    termination_messages: Mapping[str, str] = field(default_factory=_empty)
    # containers whose postStart hook is still running (HK-2)
    in_post_start: frozenset[str] = frozenset()
    # The kubelet has stopped every container for deletion or completion (PH-1 4e, TERM-4).
    terminal: bool = False
    host_ip: str = ""
    pod_ip: str = ""  # "" means the sandbox's IP, if any (PH-7)
    reason: str = ""  # a pod-level failure such as Evicted (PH-5): forces Failed
    message: str = ""
    static: bool = False
    require_ip: bool = False  # see predicates.sandbox_needed


def with_api_conditions(
    previous: Mapping[str, Any], api_status: Mapping[str, Any]
) -> dict[str, Any]:
    """CO-1 / CO-5: ``previous`` (the status the agent last worked out) with the conditions it
    does not own (readiness gates, DisruptionTarget …) taken from the API object as it is
    now, as the kubelet copies them from the pod it was given: another writer may have set
    them since."""
    own = [c for c in previous.get("conditions") or () if c.get("type") in co.KUBELET_OWNED]
    foreign = [
        c for c in api_status.get("conditions") or () if c.get("type") not in co.KUBELET_OWNED
    ]
    return {**previous, "conditions": foreign + own}


def _start_time(previous: Mapping[str, Any], now: float) -> float:
    """PH-7: set on the first status write, never changed afterwards."""
    stamp = previous.get("startTime")
    return parse_time(stamp) if isinstance(stamp, str) else now


def _finalize(statuses: list[dict[str, Any]]) -> None:
    """TERM-4: at the final write, a container still shown running cannot be found any more."""
    for st in statuses:
        if "running" in st["state"]:
            st["state"] = lost(LOST_ON_TERMINATION)
            st["ready"] = False
            if "started" in st:  # ephemeral containers have none
                st["started"] = False


def _phase(
    pod: PodSpec,
    inits: list[dict[str, Any]],
    apps: list[dict[str, Any]],
    facts: StatusFacts,
    start: float,
    now: float,
) -> tuple[str, str, str]:
    """PH-1, PH-2, PH-4, PH-5, TERM-4: phase, reason and message."""
    previous = facts.previous
    phase = compute_phase(pod, inits, apps, terminal=facts.terminal, static=facts.static)
    reason, message = facts.reason, facts.message
    if reason:
        phase = "Failed"  # PH-5
    elif deadline_exceeded(pod, start, now) or previous.get("reason") == DEADLINE_REASON:
        phase, reason, message = "Failed", DEADLINE_REASON, DEADLINE_MESSAGE  # PH-4
    if facts.terminal and not facts.static and phase not in TERMINAL:
        phase = "Failed"  # TERM-4
    old_phase = previous.get("phase")
    phase = sticky_phase(phase, old_phase)
    if not reason and phase == old_phase:  # PH-2: unchanged phase keeps reason and message
        reason, message = str(previous.get("reason", "")), str(previous.get("message", ""))
    return phase, reason, message


def _conditions(
    pod: PodSpec,
    observed: ObservedPod,
    inits: list[dict[str, Any]],
    apps: list[dict[str, Any]],
    phase: str,
    facts: StatusFacts,
    now: float,
) -> list[dict[str, Any]]:
    previous = list(facts.previous.get("conditions") or ())
    sandbox_ok = not sandbox_needed(observed, require_ip=facts.require_ip)
    containers_ready = co.containers_ready(pod, inits, apps, phase)
    own = [
        co.ready_to_start_containers(sandbox_ok),
        co.initialized(pod, inits, apps, phase),
        co.ready(pod, containers_ready, previous),
        containers_ready,
        co.pod_scheduled(),
    ]
    return co.order(co.with_transition_times(own, previous, now), previous)


def pod_status(
    pod: PodSpec | Mapping[str, Any],
    observed: ObservedPod,
    probes: ProbeResults,
    facts: StatusFacts,
    now: float,
) -> dict[str, Any]:
    """The whole API ``status`` of the pod (PH-*, CO-*, CS-*, PH-7, QOS-1)."""
    pod = pod if isinstance(pod, PodSpec) else PodSpec.of(pod)
    previous = facts.previous
    cfacts = ContainerFacts(
        previous={
            str(s.get("name")): s
            for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")
            for s in previous.get(key) or ()
        },
        start_failures=facts.start_failures,
        termination_messages=facts.termination_messages,
        in_post_start=facts.in_post_start,
        message_limit=message_limit(pod),
    )
    inits = init_container_statuses(pod, observed, probes, cfacts)
    apps = app_container_statuses(pod, observed, probes, cfacts)
    ephemeral = ephemeral_container_statuses(pod, observed, probes, cfacts)
    if facts.terminal:
        _finalize(inits)
        _finalize(apps)
        _finalize(ephemeral)
    start = _start_time(previous, now)
    phase, reason, message = _phase(pod, inits, apps, facts, start, now)
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": _conditions(pod, observed, inits, apps, phase, facts, now),
        "startTime": format_time(start),
        "qosClass": previous.get("qosClass") or qos_class(pod.raw.get("spec") or {}),
        "containerStatuses": apps,
    }
    if pod.init_containers:
        status["initContainerStatuses"] = inits
    if ephemeral:
        status["ephemeralContainerStatuses"] = ephemeral
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    _addresses(status, observed, facts, host_network=pod.host_network)
    return status


def _addresses(
    status: dict[str, Any], observed: ObservedPod, facts: StatusFacts, *, host_network: bool
) -> None:
    """PH-7: hostIP always; podIP once the sandbox exists (the node IP for hostNetwork)."""
    if facts.host_ip:
        status["hostIP"] = facts.host_ip
        status["hostIPs"] = [{"ip": facts.host_ip}]
    sandbox = observed.newest_sandbox
    ip = facts.pod_ip or (sandbox.ip if sandbox is not None and sandbox.ip else "")
    if not ip and host_network and sandbox is not None:
        ip = facts.host_ip
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
