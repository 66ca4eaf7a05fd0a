"""The ``kubectl get pods`` row of a Pod, worked out exactly as kubectl shows it (§7, KC-*).

PURE: a Pod dict as stored and the current time in, strings out. The API's Table handler and
``kubelite run`` both print from here, so the STATUS a user sees is computed in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kubelite.clock import parse_rfc3339
from kubelite.model.objects import JSON
from kubelite.model.pod import TERMINAL_PHASES

NONE = "<none>"


@dataclass(frozen=True, slots=True)
class PodRow:
    name: str
    ready: str  # "1/2" (KC-3)
    status: str  # KC-2
    restarts: str  # "2 (5m ago)" (KC-4)
    age: str  # KC-5
    ip: str  # the -o wide columns (KC-1): "<none>" when empty
    node: str
    nominated_node: str
    readiness_gates: str


def human_duration(seconds: float) -> str:
    """apimachinery's HumanDuration (KC-5): about two significant figures."""
    s = int(seconds)  # truncation toward zero, as a Go int conversion
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return f"{days}d" if hours % 24 == 0 else f"{days}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8 and days % 365 != 0:
        return f"{years}y{days % 365}d"
    return f"{years}y"


def _since(timestamp: str | None, now: float) -> str:
    if not timestamp:
        return "<unknown>"
    return human_duration(now - parse_rfc3339(timestamp))


@dataclass(slots=True)
class _Tally:
    """Restart count and the newest lastState finish time over some containers (KC-4)."""

    restarts: int = 0
    last_finished: float | None = None

    def add(self, status: JSON) -> None:
        self.restarts += int(status.get("restartCount") or 0)
        finished = (((status.get("lastState") or {}).get("terminated")) or {}).get("finishedAt")
        if finished:
            t = parse_rfc3339(finished)
            if self.last_finished is None or t > self.last_finished:
                self.last_finished = t


def _condition_true(pod_status: JSON, kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True"
        for c in pod_status.get("conditions") or ()
    )


def _terminated_reason(term: JSON, prefix: str) -> str:
    """KC-2: a terminated state without a reason shows its signal or exit code."""
    if term.get("reason"):
        return prefix + str(term["reason"])
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


def _scan_init(
    statuses: Sequence[JSON], sidecars: set[str], n_init: int, ready: list[int]
) -> tuple[str | None, bool, _Tally, _Tally]:
    """KC-2 step 3. Returns (reason or None, initializing, all seen, sidecars seen)."""
    seen, sidecar_seen = _Tally(), _Tally()
    for i, cs in enumerate(statuses):
        seen.add(cs)
        is_sidecar = cs.get("name") in sidecars
        if is_sidecar:
            sidecar_seen.add(cs)
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        if term is not None and int(term.get("exitCode") or 0) == 0:
            continue
        if is_sidecar and cs.get("started") is True:
            if cs.get("ready"):
                ready[0] += 1
            continue
        if term is not None:
            return _terminated_reason(term, "Init:"), True, seen, sidecar_seen
        if waiting is not None and waiting.get("reason") not in (None, "", "PodInitializing"):
            return f"Init:{waiting['reason']}", True, seen, sidecar_seen
        return f"Init:{i}/{n_init}", True, seen, sidecar_seen
    return None, False, seen, sidecar_seen


def _scan_app(statuses: Sequence[JSON], reason: str, ready: list[int]) -> tuple[str, bool]:
    """KC-2 step 4: backwards, so the first container in name order with a reason wins."""
    has_running = False
    for cs in reversed(statuses):
        state = cs.get("state") or {}
        waiting, term = state.get("waiting"), state.get("terminated")
        if waiting is not None and waiting.get("reason"):
            reason = str(waiting["reason"])
        elif term is not None:
            reason = _terminated_reason(term, "")
        elif cs.get("ready") and state.get("running") is not None:
            has_running = True
            ready[0] += 1
    return reason, has_running


def pod_row(pod: JSON, now: float) -> PodRow:
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    init_specs = spec.get("initContainers") or ()
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or ()) + len(sidecars)  # KC-3
    ready = [0]

    phase = str(status.get("phase") or "")
    reason = str(status.get("reason") or "") or phase  # KC-2 step 1
    for c in status.get("conditions") or ():  # step 2
        if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_reason, initializing, tally, sidecar_tally = _scan_init(
        status.get("initContainerStatuses") or (), sidecars, len(init_specs), ready
    )
    if init_reason is not None:
        reason = init_reason
    if not initializing or _condition_true(status, "Initialized"):  # step 4
        tally = sidecar_tally  # KC-4: regular init restarts drop out once initialized
        app = status.get("containerStatuses") or ()
        for cs in app:
            tally.add(cs)
        reason, has_running = _scan_app(app, reason, ready)
        if reason == "Completed" and has_running:  # step 5
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"

    if meta.get("deletionTimestamp"):  # step 6
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in TERMINAL_PHASES:
            reason = "Terminating"

    restarts = str(tally.restarts)
    if tally.restarts != 0 and tally.last_finished is not None:
        restarts = f"{tally.restarts} ({human_duration(now - tally.last_finished)} ago)"

    return PodRow(
        name=str(meta.get("name", "")),
        ready=f"{ready[0]}/{total}",
        status=reason,
        restarts=restarts,
        age=_since(meta.get("creationTimestamp"), now),
        ip=_pod_ip(status),
        node=str(spec.get("nodeName") or NONE),
        nominated_node=str(status.get("nominatedNodeName") or NONE),
        readiness_gates=_readiness_gates(spec, status),
    )


def _pod_ip(status: JSON) -> str:
    ips = status.get("podIPs") or ()
    if ips and ips[0].get("ip"):
        return str(ips[0]["ip"])
    return str(status.get("podIP") or NONE)


def _readiness_gates(spec: JSON, status: JSON) -> str:
    """KC-1: ``<true count>/<gate count>``, or ``<none>`` without gates."""
    gates = [g.get("conditionType") for g in spec.get("readinessGates") or ()]
    if not gates:
        return NONE
    true = sum(1 for g in gates if _condition_true(status, str(g)))
    return f"{true}/{len(gates)}"
