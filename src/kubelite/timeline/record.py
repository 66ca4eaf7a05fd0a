"""The pod lifecycle record's shape: the ``PodLifecycle`` object (``kubelite.dev/v1alpha1``)
the node agent publishes for each pod, and the words its facts are written in.

One vocabulary for the three parts that handle it: the agent writes facts in it
(``agent.lifecycle*``), the API serves and prints the object (``registry.podlifecycles``), and
the picture is drawn from it (``timeline.layout``). Pure; no I/O. The object::

    apiVersion: kubelite.dev/v1alpha1
    kind: PodLifecycle
    metadata: {name: <pod>, namespace: <ns>, ownerReferences: [<the Pod>]}
    podUID: <the pod's uid>
    nodeName: <the node that ran it>
    containers:               # every container, in the pod's order: init (and sidecars), app,
    - {name: write-config, kind: init, index: 0}       # then ephemeral; ``index`` is the
    - {name: monitor, kind: sidecar, index: 1}          # position in the container's own
    - {name: app, kind: app, index: 0}                  # spec list
    facts:                    # ordered by ``at``: microseconds since the epoch (UTC)
    - {at: 1700000000000000, type: PodCreated}
    - {at: 1700000000512345, type: ContainerStarted, container: app, attempt: 0, ...}
    droppedFacts: 0           # facts removed by the bound (``MAX_FACTS``), oldest first

A fact is a flat JSON object: ``at``, ``type`` and, for a container's facts, ``container``;
the other keys per type are listed in ``FACT_KEYS``. Probe results that repeat the previous
result of the same probe of the same container instance are folded into that fact: ``count``
results, the last at ``last`` (µs), so a healthy pod's record does not grow with every tick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

GROUP: Final = "kubelite.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "PodLifecycle"
PLURAL: Final = "podlifecycles"
SINGULAR: Final = "podlifecycle"

MAX_FACTS: Final = 2000  # per pod; beyond it the bound drops facts (``agent.lifecyclebound``)

# --------------------------------------------------------------------------- container kinds

INIT: Final = "init"
SIDECAR: Final = "sidecar"  # an init container with restartPolicy Always (a native sidecar)
APP: Final = "app"
EPHEMERAL: Final = "ephemeral"
KIND_ORDER: Final = (INIT, SIDECAR, APP, EPHEMERAL)

# --------------------------------------------------------------------------- pod facts

POD_CREATED: Final = "PodCreated"  # metadata.creationTimestamp
DELETION_REQUESTED: Final = "DeletionRequested"  # gracePeriodSeconds
PHASE_CHANGED: Final = "PhaseChanged"  # phase, reason?
CONDITION_CHANGED: Final = "ConditionChanged"  # condition, status ("True"/"False"), reason?
SANDBOX_CREATING: Final = "SandboxCreating"  # attempt
SANDBOX_READY: Final = "SandboxReady"  # attempt, ip?
SANDBOX_FAILED: Final = "SandboxFailed"  # attempt, message
SANDBOX_STOPPED: Final = "SandboxStopped"
POD_FINISHED: Final = "PodFinished"  # every container stopped, final status written

# --------------------------------------------------------------------------- container facts

IMAGE_PULLING: Final = "ImagePulling"  # image
IMAGE_PULLED: Final = "ImagePulled"  # image
IMAGE_PULL_FAILED: Final = "ImagePullFailed"  # image, message
CONTAINER_CREATED: Final = "ContainerCreated"  # attempt (= its restartCount), containerID
CONTAINER_STARTED: Final = "ContainerStarted"  # attempt, containerID
CONTAINER_EXITED: Final = "ContainerExited"  # attempt, containerID, exitCode, reason, signal?
CONTAINER_READY: Final = "ContainerReady"  # ready (bool), as the pod's status reports it
START_FAILED: Final = "StartFailed"  # reason, message (CreateContainerError …)
BACK_OFF: Final = "BackOff"  # seconds: the wait before the next restart (CrashLoopBackOff)
PROBE: Final = "Probe"  # probe, result, message?, attempt, count?, last?
HOOK_STARTED: Final = "HookStarted"  # hook (postStart | preStop)
HOOK_FINISHED: Final = "HookFinished"  # hook, outcome (Succeeded | Failed | CutShort), message?
KILL_REQUESTED: Final = "KillRequested"  # reason, gracePeriodSeconds, message
SIGNAL_SENT: Final = "SignalSent"  # signal (SIGTERM or the stop signal, SIGKILL)

FACT_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    POD_CREATED: (),
    DELETION_REQUESTED: ("gracePeriodSeconds",),
    PHASE_CHANGED: ("phase", "reason"),
    CONDITION_CHANGED: ("condition", "status", "reason"),
    SANDBOX_CREATING: ("attempt",),
    SANDBOX_READY: ("attempt", "ip"),
    SANDBOX_FAILED: ("attempt", "message"),
    SANDBOX_STOPPED: (),
    POD_FINISHED: (),
    IMAGE_PULLING: ("container", "image"),
    IMAGE_PULLED: ("container", "image"),
    IMAGE_PULL_FAILED: ("container", "image", "message"),
    CONTAINER_CREATED: ("container", "attempt", "containerID"),
    CONTAINER_STARTED: ("container", "attempt", "containerID"),
    CONTAINER_EXITED: ("container", "attempt", "containerID", "exitCode", "reason", "signal"),
    CONTAINER_READY: ("container", "ready"),
    START_FAILED: ("container", "reason", "message"),
    BACK_OFF: ("container", "seconds"),
    PROBE: ("container", "probe", "result", "message", "attempt", "count", "last"),
    HOOK_STARTED: ("container", "hook"),
    HOOK_FINISHED: ("container", "hook", "outcome", "message"),
    KILL_REQUESTED: ("container", "reason", "gracePeriodSeconds", "message"),
    SIGNAL_SENT: ("container", "signal"),
}

# Probe kinds and results, as the record spells them.
STARTUP: Final = "startup"
READINESS: Final = "readiness"
LIVENESS: Final = "liveness"
PROBE_KINDS: Final = (STARTUP, READINESS, LIVENESS)
SUCCESS: Final = "success"
FAILURE: Final = "failure"
UNKNOWN: Final = "unknown"  # counted as a failure by the kubelet (PR-5)
WARNING: Final = "warning"  # a redirect to another host: counted as a success
ERROR: Final = "error"  # the probe machinery failed: the result was thrown away (PR-5)
PROBE_OK: Final = frozenset({SUCCESS, WARNING})

POST_START: Final = "postStart"
PRE_STOP: Final = "preStop"
HOOK_SUCCEEDED: Final = "Succeeded"
HOOK_FAILED: Final = "Failed"
HOOK_CUT_SHORT: Final = "CutShort"  # the grace period ran out (or the pod worker stopped it)

# The pod conditions drawn as bands, top to bottom, after the phase.
CONDITIONS: Final = (
    "PodScheduled",
    "PodReadyToStartContainers",
    "Initialized",
    "ContainersReady",
    "Ready",
)

# Facts that are not transitions: the bound may drop them first.
REPEATABLE: Final = frozenset({PROBE})


# --------------------------------------------------------------------------- reading


def facts(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The record's facts that have a time and a type (anything else is skipped)."""
    return [
        f
        for f in record.get("facts") or ()
        if isinstance(f, Mapping)
        and isinstance(f.get("at"), int)
        and not isinstance(f.get("at"), bool)
        and isinstance(f.get("type"), str)
    ]


def containers(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The containers table, each entry with a name (anything else is skipped)."""
    return [
        c
        for c in record.get("containers") or ()
        if isinstance(c, Mapping) and isinstance(c.get("name"), str) and c.get("name")
    ]


def kind_rank(kind: object) -> int:
    """Where a container kind's lanes go: init, sidecar, app, ephemeral (unknown last)."""
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def last_transition(fs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The newest fact that is not a repeatable one (a probe result)."""
    found: Mapping[str, Any] | None = None
    for f in reversed(fs):
        if f.get("type") not in REPEATABLE:
            found = f
            break
    if found is None and fs:
        found = fs[-1]
    return found


def summary(fact: Mapping[str, Any]) -> str:
    """One short line for a fact, as ``kubectl get podlifecycles`` shows the last one."""
    kind = str(fact.get("type", ""))
    who = f"{fact['container']} " if fact.get("container") else ""
    if kind == CONDITION_CHANGED:
        return f"{fact.get('condition')}={fact.get('status')}"
    if kind == PHASE_CHANGED:
        return f"phase {fact.get('phase')}"
    if kind == CONTAINER_EXITED:
        return f"{who}exited ({fact.get('exitCode')})"
    if kind == PROBE:
        return f"{who}{fact.get('probe')} {fact.get('result')}"
    if kind == SIGNAL_SENT:
        return f"{who}{fact.get('signal')}"
    if kind == KILL_REQUESTED:
        return f"{who}kill ({fact.get('reason')})"
    if kind in (HOOK_STARTED, HOOK_FINISHED):
        verb = "started" if kind == HOOK_STARTED else str(fact.get("outcome", "")).lower()
        return f"{who}{fact.get('hook')} {verb}"
    return f"{who}{kind}"
