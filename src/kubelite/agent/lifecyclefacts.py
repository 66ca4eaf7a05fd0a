"""The facts of a pod's lifecycle record (``timeline.record``), worked out from what the agent
decides and sees: the runtime's snapshot, the status it publishes, its plan, its events and
its probe results. Pure: every function takes the moment and the earlier view as data and
returns new facts (plain dicts, as they travel to the API) and the next view.

Times are microseconds since the epoch. The runtime's own times (a container's creation,
start and exit) are used as the runtime recorded them; other facts are stamped by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubelite.agent.actions import BackedOff, KillPod, KillReason, PodPlan, StopContainer
from kubelite.agent.eventtext import Event
from kubelite.model.objects import JSON
from kubelite.model.pod import ProbeType, parse_time
from kubelite.runtime.interface import ContainerState, ContainerStatus
from kubelite.timeline import record as rec

Fact = dict[str, Any]

# The waiting reasons that say a start failed (CS-3), recorded when a container turns to one.
FAILED_START_REASONS = frozenset(
    {
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "ErrImagePull",
        "ImagePullBackOff",
        "ErrImageNeverPull",
        "InvalidImageName",
        "PostStartHookError",
    }
)
# Pod events that say the sandbox (or a volume of it) could not be made.
SANDBOX_FAILURES = frozenset({"FailedCreatePodSandBox", "FailedMount"})
KILL_REASONS = {
    KillReason.LIVENESS: "LivenessProbeFailed",
    KillReason.STARTUP: "StartupProbeFailed",
    KillReason.CHANGED: "SpecChanged",
    KillReason.UNKNOWN: "Unknown",
    KillReason.POST_START: "PostStartHookFailed",
}
PROBE_NAMES = {
    ProbeType.STARTUP: rec.STARTUP,
    ProbeType.READINESS: rec.READINESS,
    ProbeType.LIVENESS: rec.LIVENESS,
}
SIGNALS = {9: "SIGKILL", 15: "SIGTERM", 2: "SIGINT", 1: "SIGHUP", 3: "SIGQUIT", 6: "SIGABRT"}
_FIELD_PATH = re.compile(r"^spec\.(?:initContainers|containers|ephemeralContainers)\{(.+)\}$")


def micros(seconds: float) -> int:
    """Seconds since the epoch as whole microseconds."""
    return round(seconds * 1_000_000)


def fact(at: int, kind: str, container: str = "", **keys: Any) -> Fact:
    """A fact; keys that are None are left out."""
    out: Fact = {"at": at, "type": kind}
    if container:
        out["container"] = container
    out.update({k: v for k, v in keys.items() if v is not None})
    return out


# --------------------------------------------------------------------------- the pod


def container_table(pod: JSON) -> list[Fact]:
    """Every container of the spec with its kind and its index in its own list, init and
    sidecars first (spec order), then app containers, then ephemeral ones."""
    spec = pod.get("spec") or {}
    out: list[Fact] = []
    for i, c in enumerate(spec.get("initContainers") or ()):
        kind = rec.SIDECAR if c.get("restartPolicy") == "Always" else rec.INIT
        out.append({"name": str(c.get("name", "")), "kind": kind, "index": i})
    for i, c in enumerate(spec.get("containers") or ()):
        out.append({"name": str(c.get("name", "")), "kind": rec.APP, "index": i})
    for i, c in enumerate(spec.get("ephemeralContainers") or ()):
        out.append({"name": str(c.get("name", "")), "kind": rec.EPHEMERAL, "index": i})
    return [c for c in out if c["name"]]


def _time(value: object) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return micros(parse_time(value))
    except ValueError:
        return None


def first_facts(pod: JSON) -> list[Fact]:
    """What the pod says of its past when the agent first sees it: its creation, and the
    conditions it already has (PodScheduled, set by the scheduler) at their transition times."""
    out: list[Fact] = []
    created = _time((pod.get("metadata") or {}).get("creationTimestamp"))
    if created is not None:
        out.append(fact(created, rec.POD_CREATED))
    for c in (pod.get("status") or {}).get("conditions") or ():
        at = _time(c.get("lastTransitionTime"))
        if at is not None and c.get("type") in rec.CONDITIONS:
            out.append(
                fact(
                    at,
                    rec.CONDITION_CHANGED,
                    condition=c["type"],
                    status=c.get("status"),
                    reason=c.get("reason") or None,
                )
            )
    return sorted(out, key=lambda f: int(f["at"]))


def deletion_fact(before: JSON | None, after: JSON, at: int) -> Fact | None:
    """The deletion request, when this version of the pod is the first to carry it."""
    old = (before or {}).get("metadata") or {}
    new = after.get("metadata") or {}
    if not new.get("deletionTimestamp") or old.get("deletionTimestamp"):
        return None
    grace = new.get("deletionGracePeriodSeconds")
    return fact(at, rec.DELETION_REQUESTED, gracePeriodSeconds=grace)


# --------------------------------------------------------------------------- the status


def _conditions(status: JSON) -> dict[str, tuple[str, str]]:
    return {
        str(c.get("type")): (str(c.get("status")), str(c.get("reason") or ""))
        for c in status.get("conditions") or ()
        if c.get("type") in rec.CONDITIONS
    }


def _container_statuses(status: JSON) -> dict[str, JSON]:
    out: dict[str, JSON] = {}
    for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or ():
            out[str(cs.get("name"))] = cs
    return out


def _waiting(cs: JSON | None) -> tuple[str, str]:
    waiting = ((cs or {}).get("state") or {}).get("waiting") or {}
    return str(waiting.get("reason") or ""), str(waiting.get("message") or "")


def status_facts(before: JSON | None, after: JSON, at: int) -> list[Fact]:
    """What changed between two statuses the agent published: the phase, each condition's
    status, each container's readiness, and a container turning to a failed start's waiting
    reason (CS-3)."""
    old = before or {}
    out: list[Fact] = []
    if after.get("phase") and after.get("phase") != old.get("phase"):
        out.append(fact(at, rec.PHASE_CHANGED, phase=after["phase"], reason=after.get("reason")))
    was = _conditions(old)
    for name, (status, reason) in _conditions(after).items():
        if was.get(name, ("", ""))[0] != status:
            out.append(
                fact(
                    at, rec.CONDITION_CHANGED, condition=name, status=status, reason=reason or None
                )
            )
    old_cs = _container_statuses(old)
    for name, cs in _container_statuses(after).items():
        prev = old_cs.get(name)
        ready = cs.get("ready") is True
        if ready != ((prev or {}).get("ready") is True):
            out.append(fact(at, rec.CONTAINER_READY, name, ready=ready))
        reason, message = _waiting(cs)
        if reason in FAILED_START_REASONS and _waiting(prev) != (reason, message):
            out.append(fact(at, rec.START_FAILED, name, reason=reason, message=message or None))
    return out


def terminal(status: JSON) -> bool:
    return status.get("phase") in ("Succeeded", "Failed")


# --------------------------------------------------------------------------- the runtime


@dataclass(frozen=True, slots=True)
class Instance:
    """What the record has said of one container instance so far."""

    name: str
    attempt: int
    state: ContainerState


@dataclass(frozen=True, slots=True)
class RuntimeView:
    """The container instances the record knows, by runtime ID."""

    instances: Mapping[str, Instance] = field(default_factory=dict)

    def name_of(self, container_id: str) -> str:
        found = self.instances.get(container_id)
        return found.name if found else ""


def _exit_signal(code: int | None) -> str | None:
    if code is None or code <= 128:
        return None
    return SIGNALS.get(code - 128, f"signal {code - 128}")


def runtime_facts(
    view: RuntimeView,
    containers: Iterable[ContainerStatus],
    signalled: Mapping[str, int] | None = None,
) -> tuple[list[Fact], RuntimeView]:
    """New facts from a snapshot of the pod's containers: each instance's creation, start and
    exit, once each, at the runtime's own times. Instances that are gone stay in the view.

    ``signalled`` holds when the agent first signalled an instance (by runtime ID): a
    signalled instance did not exit before that. The runtime's exit time is its exit file's
    modification time, from the kernel's coarse clock, up to a tick (~4 ms) behind the
    clock the signal was stamped with; a container that exits at once on SIGTERM would
    otherwise seem to have exited before it was sent."""
    sent = signalled or {}
    out: list[Fact] = []
    known = dict(view.instances)
    for c in sorted(containers, key=lambda c: (c.created_at, c.attempt)):
        seen = known.get(c.id)
        ids: dict[str, Any] = {"attempt": c.attempt, "containerID": c.id}
        if seen is None:
            out.append(fact(micros(c.created_at), rec.CONTAINER_CREATED, c.name, **ids))
        started = seen is not None and seen.state is not ContainerState.CREATED
        if not started and c.started_at is not None:
            out.append(fact(micros(c.started_at), rec.CONTAINER_STARTED, c.name, **ids))
        exited = seen is not None and seen.state is ContainerState.EXITED
        if not exited and c.state is ContainerState.EXITED:
            at = c.finished_at if c.finished_at is not None else c.started_at or c.created_at
            out.append(
                fact(
                    max(micros(at), sent.get(c.id, 0)),
                    rec.CONTAINER_EXITED,
                    c.name,
                    **ids,
                    exitCode=c.exit_code,
                    reason=c.reason or None,
                    signal=_exit_signal(c.exit_code),
                )
            )
        state = c.state
        if state is ContainerState.UNKNOWN and seen is not None:
            state = seen.state
        known[c.id] = Instance(c.name, c.attempt, state)
    return out, RuntimeView(known)


# --------------------------------------------------------------------------- decisions


def _stops(plan: PodPlan) -> list[StopContainer]:
    out: list[StopContainer] = []
    for action in plan.actions:
        if isinstance(action, KillPod):
            out.extend(action.stops)
        elif isinstance(action, StopContainer):
            out.append(action)
    return out


def kill_reason(stop: StopContainer, *, deleting: bool, evicted: bool) -> str:
    """Why a container is stopped, in the record's words."""
    if stop.reason is KillReason.STOP:
        if evicted:
            return "Eviction"
        return "PodDeletion" if deleting else "PodTerminated"
    return KILL_REASONS[stop.reason]


def plan_facts(
    plan: PodPlan,
    at: int,
    *,
    deleting: bool,
    evicted: bool,
    backing_off: frozenset[str],
    killing: frozenset[str],
) -> tuple[list[Fact], frozenset[str], frozenset[str]]:
    """The kills the plan asks for (once per container instance: ``killing`` holds the IDs
    already recorded) and the back-off waits it starts (once per wait: ``backing_off`` holds
    the containers waiting already). Returns the facts and both sets as they are now."""
    out: list[Fact] = []
    kills = set(killing)
    for stop in _stops(plan):
        if stop.container_id in kills:
            continue
        kills.add(stop.container_id)
        out.append(
            fact(
                at,
                rec.KILL_REQUESTED,
                stop.name,
                reason=kill_reason(stop, deleting=deleting, evicted=evicted),
                gracePeriodSeconds=stop.grace_seconds,
                message=stop.message,
            )
        )
    waiting = set(backing_off)
    for action in plan.of_type(BackedOff):
        assert isinstance(action, BackedOff)
        if action.name in waiting:
            continue
        waiting.add(action.name)
        out.append(fact(at, rec.BACK_OFF, action.name, seconds=round(action.delay, 3)))
    return out, frozenset(waiting), frozenset(kills)


def container_of(event: Event) -> str:
    """The container an event is about (its fieldPath, EV-1), "" for a pod event."""
    found = _FIELD_PATH.match(event.field_path)
    return found.group(1) if found else ""


def event_facts(
    event: Event, at: int, pulling: frozenset[str]
) -> tuple[list[Fact], frozenset[str]]:
    """Image pulls, from the events that tell of them: Pulling opens a pull of the container,
    Pulled or Failed closes it (``pulling``: the containers with a pull open); and the
    sandbox failures (FailedCreatePodSandBox, FailedMount)."""
    name = container_of(event)
    if not name:
        if event.reason in SANDBOX_FAILURES:
            return [fact(at, rec.SANDBOX_FAILED, message=event.message)], pulling
        return [], pulling
    image = _quoted(event.message)
    if event.reason == "Pulling":
        return [fact(at, rec.IMAGE_PULLING, name, image=image)], pulling | {name}
    if name not in pulling:
        return [], pulling
    if event.reason == "Pulled":
        return [fact(at, rec.IMAGE_PULLED, name, image=image)], pulling - {name}
    if event.reason == "Failed":
        failed = fact(at, rec.IMAGE_PULL_FAILED, name, image=image, message=event.message)
        return [failed], pulling - {name}
    return [], pulling


def _quoted(message: str) -> str | None:
    """The image a pull event names (between the first pair of double quotes)."""
    start = message.find('"')
    end = message.find('"', start + 1)
    return message[start + 1 : end] if start >= 0 and end > start else None


# --------------------------------------------------------------------------- probes


def probe_fact(
    at: int, container: str, probe: ProbeType, attempt: int, result: str, message: str
) -> Fact:
    return fact(
        at, rec.PROBE, container, probe=PROBE_NAMES[probe], result=result,
        message=message or None, attempt=attempt,
    )  # fmt: skip


def fold_probe(previous: Mapping[str, Any] | None, new: Fact) -> Fact | None:
    """``previous`` (the last result of the same probe of the same container) with ``new``
    folded in, if ``new`` repeats it (same instance, result and message); else None."""
    if previous is None:
        return None
    same = ("container", "probe", "attempt", "result", "message")
    if any(previous.get(k) != new.get(k) for k in same):
        return None
    count = int(previous.get("count") or 1) + 1
    return {**previous, "count": count, "last": new["at"]}


def probe_key(f: Mapping[str, Any]) -> tuple[str, str]:
    return str(f.get("container", "")), str(f.get("probe", ""))


def ordered(facts: Sequence[Fact]) -> list[Fact]:
    """Facts by time; equal times keep their order."""
    return sorted(facts, key=lambda f: int(f["at"]))
