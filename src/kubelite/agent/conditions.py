"""Pod conditions, one small function each (CO-1..CO-6).

Each function takes the already-built container statuses and the phase and returns a
condition without timestamps; ``with_transition_times`` then fills ``lastTransitionTime``
from the previous conditions (CO-1: it only moves when ``status`` changes).
"""

from __future__ import annotations

from collections.abc import Sequence

from kubelite.model.objects import JSON, Obj, by_name
from kubelite.model.pod import PodSpec, format_time

Condition = Obj
Status = JSON

KUBELET_OWNED = (
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
)


def _cond(type_: str, ok: bool, reason: str = "", message: str = "") -> Condition:
    c: Condition = {"type": type_, "status": "True" if ok else "False"}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def _go_list(names: Sequence[str]) -> str:
    """Go's %s of a []string: ``[a b]``."""
    return "[" + " ".join(names) + "]"


def ready_to_start_containers(sandbox_ready: bool) -> Condition:
    """CO-2: a ready sandbox exists and no new one is needed."""
    return _cond("PodReadyToStartContainers", sandbox_ready)


def initialized(
    pod: PodSpec, init_statuses: Sequence[Status], app_statuses: Sequence[Status], phase: str
) -> Condition:
    """CO-3."""
    if pod.init_containers and not init_statuses and not app_statuses:
        return _cond("Initialized", False, "UnknownContainerStatuses")
    inits = by_name(init_statuses)
    unknown: list[str] = []
    incomplete: list[str] = []
    for c in pod.init_containers:
        st = inits.get(c.name)
        if st is None:
            unknown.append(c.name)
        elif st.get("started" if c.is_sidecar else "ready") is not True:
            incomplete.append(c.name)
    if phase == "Succeeded" and not unknown:
        return _cond("Initialized", True, "PodCompleted")
    if any("running" in s["state"] or "terminated" in s["state"] for s in app_statuses):
        return _cond("Initialized", True)  # SC-12
    parts = []
    if unknown:
        parts.append(f"containers with unknown status: {_go_list(unknown)}")
    if incomplete:
        parts.append(f"containers with incomplete status: {_go_list(incomplete)}")
    if parts:
        return _cond("Initialized", False, "ContainersNotInitialized", ", ".join(parts))
    return _cond("Initialized", True)


def containers_ready(
    pod: PodSpec, init_statuses: Sequence[Status], app_statuses: Sequence[Status], phase: str
) -> Condition:
    """CO-4: sidecars and app containers (SC-7), never regular init containers."""
    if not init_statuses and not app_statuses:
        return _cond("ContainersReady", False, "UnknownContainerStatuses")
    inits, apps = by_name(init_statuses), by_name(app_statuses)
    unknown: list[str] = []
    unready: list[str] = []
    members = [(c.name, inits) for c in pod.sidecars] + [(c.name, apps) for c in pod.containers]
    for name, table in members:
        st = table.get(name)
        if st is None:
            unknown.append(name)
        elif st.get("ready") is not True:
            unready.append(name)
    if phase == "Succeeded" and not unknown:
        return _cond("ContainersReady", False, "PodCompleted")
    if phase == "Failed":
        return _cond("ContainersReady", False, "PodFailed")
    parts = []
    if unknown:
        parts.append(f"containers with unknown status: {_go_list(unknown)}")
    if unready:
        parts.append(f"containers with unready status: {_go_list(unready)}")
    if parts:
        return _cond("ContainersReady", False, "ContainersNotReady", ", ".join(parts))
    return _cond("ContainersReady", True)


def ready(pod: PodSpec, containers_ready_cond: Condition, others: Sequence[Status]) -> Condition:
    """CO-5: ContainersReady, then every readiness gate."""
    if containers_ready_cond["status"] != "True":
        return {**containers_ready_cond, "type": "Ready"}
    existing = {str(c.get("type")): c for c in others}
    messages = []
    for gate in pod.readiness_gates:
        cond = existing.get(gate)
        if cond is None:
            messages.append(
                f'corresponding condition of pod readiness gate "{gate}" does not exist.'
            )
        elif cond.get("status") != "True":
            status = cond.get("status")
            messages.append(
                f'the status of pod readiness gate "{gate}" is not "True", but {status}'
            )
    if messages:
        return _cond("Ready", False, "ReadinessGatesNotReady", ", ".join(messages))
    return _cond("Ready", True)


def pod_scheduled() -> Condition:
    """CO-6."""
    return _cond("PodScheduled", True)


def with_transition_times(
    conditions: Sequence[Condition], previous: Sequence[Status], now: float
) -> list[Condition]:
    """CO-1: keep lastTransitionTime unless the status changed; lastProbeTime is null."""
    old = {str(c.get("type")): c for c in previous}
    out = []
    for c in conditions:
        before = old.get(c["type"])
        if (
            before is not None
            and before.get("status") == c["status"]
            and before.get("lastTransitionTime")
        ):
            stamp = before["lastTransitionTime"]
        else:
            stamp = format_time(now)
        out.append({**c, "lastProbeTime": None, "lastTransitionTime": stamp})
    return out


def order(kubelet: Sequence[Condition], previous: Sequence[Status]) -> list[Condition]:
    """CO-1: foreign conditions first, then DisruptionTarget, then the kubelet's in order."""
    foreign = [
        dict(c) for c in previous if c.get("type") not in (*KUBELET_OWNED, "DisruptionTarget")
    ]
    disruption = [dict(c) for c in previous if c.get("type") == "DisruptionTarget"]
    rank = {t: i for i, t in enumerate(KUBELET_OWNED)}
    return foreign + disruption + sorted(kubelet, key=lambda c: rank[c["type"]])
