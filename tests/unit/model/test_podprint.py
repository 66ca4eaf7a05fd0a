"""kubectl's pod columns (§7): pod dicts in, the exact strings kubectl prints out."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.clock import parse_rfc3339, rfc3339
from kubelite.model.podprint import human_duration, pod_row

NOW = parse_rfc3339("2024-05-01T12:00:00Z")


def ago(seconds: float) -> str:
    return rfc3339(NOW - seconds)


# ----------------------------------------------------------------- tiny builders of statuses


def running(name: str, *, ready: bool = True, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "state": {"running": {"startedAt": ago(30)}},
        "ready": ready,
        "started": True,
        "restartCount": restarts,
        **extra,
    }


def waiting(name: str, reason: str = "", *, restarts: int = 0, **extra: Any) -> dict[str, Any]:
    state = {"reason": reason} if reason else {}
    return {
        "name": name,
        "state": {"waiting": state},
        "ready": False,
        "started": False,
        "restartCount": restarts,
        **extra,
    }


def terminated(
    name: str, code: int, reason: str = "", *, restarts: int = 0, signal: int = 0, **extra: Any
) -> dict[str, Any]:
    term: dict[str, Any] = {"exitCode": code}
    if reason:
        term["reason"] = reason
    if signal:
        term["signal"] = signal
    return {
        "name": name,
        "state": {"terminated": term},
        "ready": False,
        "started": False,
        "restartCount": restarts,
        **extra,
    }


def last_exit(seconds_ago: float) -> dict[str, Any]:
    return {"lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(seconds_ago)}}}


def pod(
    *,
    containers: tuple[str, ...] = ("app",),
    init: tuple[str, ...] = (),
    sidecars: tuple[str, ...] = (),
    statuses: list[dict[str, Any]] | None = None,
    init_statuses: list[dict[str, Any]] | None = None,
    phase: str = "Pending",
    conditions: dict[str, str] | None = None,
    **extra_status: Any,
) -> dict[str, Any]:
    """``init`` lists the init containers in order; names also in ``sidecars`` are sidecars."""
    status: dict[str, Any] = {"phase": phase, **extra_status}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if conditions:
        status["conditions"] = [{"type": t, "status": s} for t, s in conditions.items()]
    spec: dict[str, Any] = {"containers": [{"name": c} for c in containers]}
    if init:
        spec["initContainers"] = [
            {"name": c, **({"restartPolicy": "Always"} if c in sidecars else {})} for c in init
        ]
    return {
        "metadata": {"name": "web", "creationTimestamp": ago(300)},
        "spec": spec,
        "status": status,
    }


def triple(p: dict[str, Any]) -> tuple[str, str, str]:
    row = pod_row(p, NOW)
    return row.ready, row.status, row.restarts


# ----------------------------------------------------------------- KC-5 ages

AGES = [
    (-5, "<invalid>"),
    (-1.5, "0s"),
    (0, "0s"),
    (45, "45s"),
    (119.9, "119s"),
    (120, "2m"),
    (330, "5m30s"),
    (599, "9m59s"),
    (600, "10m"),
    (179 * 60 + 59, "179m"),
    (3 * 3600, "3h"),
    (3 * 3600 + 600, "3h10m"),
    (8 * 3600, "8h"),
    (47 * 3600, "47h"),
    (48 * 3600, "2d"),
    (53 * 3600, "2d5h"),
    (8 * 86400, "8d"),
    (365 * 86400, "365d"),
    (730 * 86400, "2y"),
    (740 * 86400, "2y10d"),
    (8 * 365 * 86400 + 86400, "8y"),
]


@pytest.mark.parametrize(("seconds", "text"), AGES)
def test_human_duration_matches_kubectl(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


# ----------------------------------------------------------------- KC-2 .. KC-4, KC-6

CASES: list[tuple[str, dict[str, Any], tuple[str, str, str]]] = [
    ("a pod without statuses shows its phase", pod(), ("0/1", "Pending", "0")),
    (
        "a status reason wins over the phase",
        pod(phase="Failed", reason="Evicted"),
        ("0/1", "Evicted", "0"),
    ),
    (
        "a scheduling-gated pod says so",
        {
            **pod(),
            "status": {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                ],
            },
        },
        ("0/1", "SchedulingGated", "0"),
    ),
    (
        "a pulling image shows ContainerCreating",
        pod(statuses=[waiting("app", "ContainerCreating")]),
        ("0/1", "ContainerCreating", "0"),
    ),
    (
        "the first of two init containers running shows Init:0/2",
        pod(init=("a", "b"), init_statuses=[running("a"), waiting("b", "PodInitializing")]),
        ("0/1", "Init:0/2", "0"),
    ),
    (
        "init containers done, app not created shows PodInitializing",
        pod(
            init=("a",),
            init_statuses=[terminated("a", 0, "Completed")],
            statuses=[waiting("app", "PodInitializing")],
        ),
        ("0/1", "PodInitializing", "0"),
    ),
    (
        "a failed init container in back-off",
        pod(
            init=("a",),
            init_statuses=[waiting("a", "CrashLoopBackOff", restarts=2, **last_exit(5))],
            statuses=[waiting("app", "PodInitializing")],
        ),
        ("0/1", "Init:CrashLoopBackOff", "2 (5s ago)"),
    ),
    (
        "a failed init container under Never",
        pod(init=("a",), init_statuses=[terminated("a", 1, "Error")], phase="Failed"),
        ("0/1", "Init:Error", "0"),
    ),
    (
        "an OOM-killed init container",
        pod(init=("a",), init_statuses=[terminated("a", 137, "OOMKilled")]),
        ("0/1", "Init:OOMKilled", "0"),
    ),
    (
        "an init image that cannot be pulled",
        pod(init=("a",), init_statuses=[waiting("a", "ImagePullBackOff")]),
        ("0/1", "Init:ImagePullBackOff", "0"),
    ),
    (
        "an init container killed by a signal without a reason",
        pod(init=("a",), init_statuses=[terminated("a", 137, signal=9)]),
        ("0/1", "Init:Signal:9", "0"),
    ),
    (
        "an init container with only an exit code",
        pod(init=("a",), init_statuses=[terminated("a", 2)]),
        ("0/1", "Init:ExitCode:2", "0"),
    ),
    (
        "a started ready sidecar is counted and the scan goes on (KC-6 row)",
        pod(
            init=("a", "side", "b"),
            sidecars=("side",),
            init_statuses=[terminated("a", 0, "Completed"), running("side"), running("b")],
        ),
        ("1/2", "Init:2/3", "0"),
    ),
    (
        "a running ready app",
        pod(statuses=[running("app")], phase="Running"),
        ("1/1", "Running", "0"),
    ),
    (
        "a running app that is not ready",
        pod(statuses=[running("app", ready=False)], phase="Running"),
        ("0/1", "Running", "0"),
    ),
    (
        "an app that exited 0 before back-off",
        pod(statuses=[terminated("app", 0, "Completed")], phase="Running"),
        ("0/1", "Completed", "0"),
    ),
    (
        "an app in back-off",
        pod(
            statuses=[waiting("app", "CrashLoopBackOff", restarts=3, **last_exit(125))],
            phase="Running",
        ),
        ("0/1", "CrashLoopBackOff", "3 (2m5s ago)"),
    ),
    (
        "an app that exited 1 under Never",
        pod(statuses=[terminated("app", 1, "Error")], phase="Failed"),
        ("0/1", "Error", "0"),
    ),
    (
        "an app killed by a signal without a reason",
        pod(statuses=[terminated("app", 143, signal=15)], phase="Failed"),
        ("0/1", "Signal:15", "0"),
    ),
    (
        "an app with only an exit code",
        pod(statuses=[terminated("app", 3)], phase="Failed"),
        ("0/1", "ExitCode:3", "0"),
    ),
    (
        "all apps exited 0 under Never",
        pod(
            containers=("a", "b"),
            statuses=[terminated("a", 0, "Completed"), terminated("b", 0, "Completed")],
            phase="Succeeded",
        ),
        ("0/2", "Completed", "0"),
    ),
    (
        "one app done and one running and ready, pod not Ready, shows NotReady",
        pod(
            containers=("a", "b"),
            statuses=[terminated("a", 0, "Completed"), running("b")],
            phase="Running",
        ),
        ("1/2", "NotReady", "0"),
    ),
    (
        "one app done and one running and ready, pod Ready, shows Running",
        pod(
            containers=("a", "b"),
            statuses=[terminated("a", 0, "Completed"), running("b")],
            phase="Running",
            conditions={"Ready": "True"},
        ),
        ("1/2", "Running", "0"),
    ),
    (
        "the first container in name order with a reason wins",
        pod(
            containers=("a", "b"),
            statuses=[waiting("a", "CreateContainerConfigError"), waiting("b", "ErrImagePull")],
        ),
        ("0/2", "CreateContainerConfigError", "0"),
    ),
    (
        "a missing ConfigMap",
        pod(statuses=[waiting("app", "CreateContainerConfigError")]),
        ("0/1", "CreateContainerConfigError", "0"),
    ),
    (
        "sidecar and main both running and ready",
        pod(
            init=("side",),
            sidecars=("side",),
            init_statuses=[running("side")],
            statuses=[running("app")],
            phase="Running",
            conditions={"Initialized": "True", "Ready": "True"},
        ),
        ("2/2", "Running", "0"),
    ),
    (
        "a deleted pod still stopping shows Terminating",
        {
            **pod(statuses=[running("app")], phase="Running"),
            "metadata": {"name": "web", "creationTimestamp": ago(9), "deletionTimestamp": ago(1)},
        },
        ("1/1", "Terminating", "0"),
    ),
    (
        "a deleted pod on a lost node shows Unknown",
        {
            **pod(statuses=[running("app")], phase="Running", reason="NodeLost"),
            "metadata": {"name": "web", "creationTimestamp": ago(9), "deletionTimestamp": ago(1)},
        },
        ("1/1", "Unknown", "0"),
    ),
    (
        "a deleted pod that is already terminal keeps its status",
        {
            **pod(statuses=[terminated("app", 0, "Completed")], phase="Succeeded"),
            "metadata": {"name": "web", "creationTimestamp": ago(9), "deletionTimestamp": ago(1)},
        },
        ("0/1", "Completed", "0"),
    ),
    (
        "regular init restarts count while initializing (KC-4)",
        pod(
            init=("a", "b"),
            init_statuses=[
                terminated("a", 0, "Completed", restarts=2, **last_exit(60)),
                running("b"),
            ],
        ),
        ("0/1", "Init:1/2", "2 (60s ago)"),
    ),
    (
        "regular init restarts drop out once initialized (KC-4)",
        pod(
            init=("a",),
            init_statuses=[terminated("a", 0, "Completed", restarts=2, **last_exit(60))],
            statuses=[running("app")],
            phase="Running",
            conditions={"Initialized": "True"},
        ),
        ("1/1", "Running", "0"),
    ),
    (
        "restarts without a known finish time are a bare number",
        pod(statuses=[running("app", restarts=4)], phase="Running"),
        ("1/1", "Running", "4"),
    ),
]


@pytest.mark.parametrize(("p", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_kubectl_columns(p: dict[str, Any], expected: tuple[str, str, str]) -> None:
    assert triple(p) == expected


# ----------------------------------------------------------------- §13 timelines

TIMELINES: list[tuple[str, dict[str, Any], tuple[str, str, str]]] = [
    (
        "TL-1.1 before the sandbox",
        pod(
            init=("init-a",),
            init_statuses=[waiting("init-a", "PodInitializing")],
            statuses=[waiting("app", "PodInitializing")],
        ),
        ("0/1", "Init:0/1", "0"),
    ),
    (
        "TL-1.3 init-a exits 1 under Never",
        pod(
            init=("init-a",),
            init_statuses=[terminated("init-a", 1, "Error")],
            statuses=[waiting("app", "PodInitializing")],
            phase="Failed",
        ),
        ("0/1", "Init:Error", "0"),
    ),
    (
        "TL-2.2 proxy started but its startup probe has not passed",
        pod(
            init=("setup", "proxy"),
            sidecars=("proxy",),
            init_statuses=[
                terminated("setup", 0, "Completed"),
                {**running("proxy", ready=False), "started": False},
            ],
            statuses=[waiting("app", "PodInitializing")],
        ),
        ("0/2", "Init:1/2", "0"),
    ),
    (
        "TL-2.3 proxy started, app not running yet",
        pod(
            init=("setup", "proxy"),
            sidecars=("proxy",),
            init_statuses=[terminated("setup", 0, "Completed"), running("proxy")],
            statuses=[waiting("app", "PodInitializing")],
            conditions={"Initialized": "True"},
        ),
        ("1/2", "PodInitializing", "0"),
    ),
    (
        "TL-2.4 app running, readiness not yet passed",
        pod(
            init=("setup", "proxy"),
            sidecars=("proxy",),
            init_statuses=[terminated("setup", 0, "Completed"), running("proxy")],
            statuses=[running("app", ready=False)],
            phase="Running",
            conditions={"Initialized": "True"},
        ),
        ("1/2", "Running", "0"),
    ),
    (
        "TL-2.5 readiness passes",
        pod(
            init=("setup", "proxy"),
            sidecars=("proxy",),
            init_statuses=[terminated("setup", 0, "Completed"), running("proxy")],
            statuses=[running("app")],
            phase="Running",
            conditions={"Initialized": "True", "Ready": "True"},
        ),
        ("2/2", "Running", "0"),
    ),
    (
        "TL-2.6 proxy in back-off on a Running pod",
        pod(
            init=("setup", "proxy"),
            sidecars=("proxy",),
            init_statuses=[
                terminated("setup", 0, "Completed"),
                waiting("proxy", "CrashLoopBackOff", restarts=1, **last_exit(7)),
            ],
            statuses=[running("app")],
            phase="Running",
            conditions={"Initialized": "True"},
        ),
        ("1/2", "Init:CrashLoopBackOff", "1 (7s ago)"),
    ),
    (
        "TL-3.2 job exited 0, sidecar still running",
        pod(
            containers=("job",),
            init=("logs",),
            sidecars=("logs",),
            init_statuses=[running("logs")],
            statuses=[terminated("job", 0, "Completed")],
            phase="Running",
            conditions={"Initialized": "True"},
        ),
        ("1/2", "Completed", "0"),
    ),
    (
        "TL-3.4 sidecar stopped, phase Succeeded",
        pod(
            containers=("job",),
            init=("logs",),
            sidecars=("logs",),
            init_statuses=[terminated("logs", 143, "Error")],
            statuses=[terminated("job", 0, "Completed")],
            phase="Succeeded",
            conditions={"Initialized": "True"},
        ),
        ("0/2", "Completed", "0"),
    ),
    (
        "TL-3.5 job exited 1",
        pod(
            containers=("job",),
            init=("logs",),
            sidecars=("logs",),
            init_statuses=[terminated("logs", 143, "Error")],
            statuses=[terminated("job", 1, "Error")],
            phase="Failed",
            conditions={"Initialized": "True"},
        ),
        ("0/2", "Error", "0"),
    ),
    (
        "TL-5 first crash",
        pod(statuses=[terminated("app", 1, "Error")], phase="Running"),
        ("0/1", "Error", "0"),
    ),
    (
        "TL-5 restarted once",
        pod(statuses=[running("app", restarts=1, **last_exit(1))], phase="Running"),
        ("1/1", "Running", "1 (1s ago)"),
    ),
    (
        "TL-5 in back-off",
        pod(
            statuses=[waiting("app", "CrashLoopBackOff", restarts=1, **last_exit(1))],
            phase="Running",
        ),
        ("0/1", "CrashLoopBackOff", "1 (1s ago)"),
    ),
    (
        "TL-7 image pull failure",
        pod(statuses=[waiting("app", "ErrImagePull")]),
        ("0/1", "ErrImagePull", "0"),
    ),
    (
        "TL-8 postStart failure",
        pod(statuses=[waiting("app", "PostStartHookError", restarts=1, **last_exit(2))]),
        ("0/1", "PostStartHookError", "1 (2s ago)"),
    ),
]


@pytest.mark.parametrize(
    ("p", "expected"), [c[1:] for c in TIMELINES], ids=[c[0] for c in TIMELINES]
)
def test_timeline_triples(p: dict[str, Any], expected: tuple[str, str, str]) -> None:
    assert triple(p) == expected


def test_wide_columns_and_age() -> None:
    p = pod(statuses=[running("app")], phase="Running", podIP="10.0.0.7")
    p["spec"]["nodeName"] = "node-1"
    p["spec"]["readinessGates"] = [{"conditionType": "a"}, {"conditionType": "b"}]
    p["status"]["conditions"] = [{"type": "a", "status": "True"}]
    row = pod_row(p, NOW)
    assert (row.name, row.age, row.ip, row.node) == ("web", "5m", "10.0.0.7", "node-1")
    assert (row.nominated_node, row.readiness_gates) == ("<none>", "1/2")
    bare = pod_row(pod(), NOW)
    assert (bare.ip, bare.node, bare.readiness_gates) == ("<none>", "<none>", "<none>")
