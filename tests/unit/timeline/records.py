"""Fixed lifecycle records for the layout and drawing tests: the init-and-sidecar example
from creation to deletion, and a crash-looping container with probes."""

from __future__ import annotations

from typing import Any

from kubelite.timeline import record as rec

T0 = 1_700_000_000_000_000  # µs


def s(seconds: float) -> int:
    return T0 + round(seconds * 1e6)


def _f(at: float, kind: str, **keys: Any) -> dict[str, Any]:
    return {"at": s(at), "type": kind, **keys}


def init_and_sidecar() -> dict[str, Any]:
    """write-config (init) runs and exits 0, monitor (sidecar) starts and stays, app starts and
    turns ready; on deletion app gets SIGTERM first, monitor after app has exited."""
    facts = [
        _f(0, rec.POD_CREATED),
        _f(0, rec.CONDITION_CHANGED, condition="PodScheduled", status="True"),
        _f(0.05, rec.PHASE_CHANGED, phase="Pending"),
        _f(0.05, rec.CONDITION_CHANGED, condition="Initialized", status="False",
           reason="ContainersNotInitialized"),
        _f(0.05, rec.CONDITION_CHANGED, condition="Ready", status="False",
           reason="ContainersNotReady"),
        _f(0.05, rec.CONDITION_CHANGED, condition="ContainersReady", status="False",
           reason="ContainersNotReady"),
        _f(0.1, rec.SANDBOX_CREATING, attempt=0),
        _f(0.4, rec.SANDBOX_READY, attempt=0, ip="10.88.0.5"),
        _f(0.45, rec.CONDITION_CHANGED, condition="PodReadyToStartContainers", status="True"),
        _f(0.5, rec.IMAGE_PULLING, container="write-config", image="busybox:1.36"),
        _f(1.5, rec.IMAGE_PULLED, container="write-config", image="busybox:1.36"),
        _f(1.6, rec.CONTAINER_CREATED, container="write-config", attempt=0, containerID="a1"),
        _f(1.7, rec.CONTAINER_STARTED, container="write-config", attempt=0, containerID="a1"),
        _f(1.9, rec.CONTAINER_EXITED, container="write-config", attempt=0, containerID="a1",
           exitCode=0, reason="Completed"),
        _f(2.0, rec.CONTAINER_CREATED, container="monitor", attempt=0, containerID="b1"),
        _f(2.1, rec.CONTAINER_STARTED, container="monitor", attempt=0, containerID="b1"),
        _f(2.15, rec.CONTAINER_READY, container="monitor", ready=True),
        _f(2.2, rec.CONDITION_CHANGED, condition="Initialized", status="True"),
        _f(2.3, rec.CONTAINER_CREATED, container="app", attempt=0, containerID="c1"),
        _f(2.4, rec.CONTAINER_STARTED, container="app", attempt=0, containerID="c1"),
        _f(2.45, rec.PHASE_CHANGED, phase="Running"),
        _f(3.4, rec.PROBE, container="app", probe="readiness", result="failure",
           message="connection refused", attempt=0),
        _f(4.4, rec.PROBE, container="app", probe="readiness", result="success", attempt=0,
           count=4, last=s(7.4)),
        _f(4.5, rec.CONTAINER_READY, container="app", ready=True),
        _f(4.5, rec.CONDITION_CHANGED, condition="ContainersReady", status="True"),
        _f(4.5, rec.CONDITION_CHANGED, condition="Ready", status="True"),
        _f(8.0, rec.DELETION_REQUESTED, gracePeriodSeconds=30),
        _f(8.01, rec.KILL_REQUESTED, container="app", reason="PodDeletion",
           gracePeriodSeconds=30, message="Stopping container app"),
        _f(8.01, rec.KILL_REQUESTED, container="monitor", reason="PodDeletion",
           gracePeriodSeconds=30, message="Stopping container monitor"),
        _f(8.02, rec.SIGNAL_SENT, container="app", signal="SIGTERM"),
        _f(8.1, rec.CONTAINER_EXITED, container="app", attempt=0, containerID="c1", exitCode=0,
           reason="Completed"),
        _f(8.15, rec.SIGNAL_SENT, container="monitor", signal="SIGTERM"),
        _f(8.2, rec.CONTAINER_EXITED, container="monitor", attempt=0, containerID="b1",
           exitCode=0, reason="Completed"),
        _f(8.3, rec.CONDITION_CHANGED, condition="Ready", status="False",
           reason="PodCompleted"),
        _f(8.3, rec.CONDITION_CHANGED, condition="ContainersReady", status="False",
           reason="PodCompleted"),
        _f(8.35, rec.SANDBOX_STOPPED),
        _f(8.4, rec.PHASE_CHANGED, phase="Succeeded"),
        _f(8.45, rec.POD_FINISHED),
    ]  # fmt: skip
    return {
        "apiVersion": rec.API_VERSION,
        "kind": rec.KIND,
        "metadata": {"name": "web-with-monitor", "namespace": "default"},
        "podUID": "uid-1",
        "nodeName": "node-1",
        "containers": [
            {"name": "write-config", "kind": "init", "index": 0},
            {"name": "monitor", "kind": "sidecar", "index": 1},
            {"name": "app", "kind": "app", "index": 0},
        ],
        "facts": facts,
        "droppedFacts": 0,
    }


def crash_loop() -> dict[str, Any]:
    """One app container that exits 1 twice, backs off 10 s then 20 s, with a liveness probe
    that fails and gets it killed (SIGKILL after its grace), and a postStart hook."""
    facts = [
        _f(0, rec.POD_CREATED),
        _f(0.1, rec.PHASE_CHANGED, phase="Pending"),
        _f(0.2, rec.SANDBOX_CREATING, attempt=0),
        _f(0.5, rec.SANDBOX_READY, attempt=0),
        _f(1, rec.CONTAINER_CREATED, container="app", attempt=0, containerID="x0"),
        _f(1.1, rec.CONTAINER_STARTED, container="app", attempt=0, containerID="x0"),
        _f(1.1, rec.HOOK_STARTED, container="app", hook="postStart"),
        _f(1.6, rec.HOOK_FINISHED, container="app", hook="postStart", outcome="Succeeded"),
        _f(1.7, rec.PHASE_CHANGED, phase="Running"),
        _f(4, rec.CONTAINER_EXITED, container="app", attempt=0, containerID="x0", exitCode=1,
           reason="Error"),
        _f(4.1, rec.BACK_OFF, container="app", seconds=10),
        _f(4.3, rec.BACK_OFF, container="app", seconds=10),
        _f(14.2, rec.CONTAINER_CREATED, container="app", attempt=1, containerID="x1"),
        _f(14.3, rec.CONTAINER_STARTED, container="app", attempt=1, containerID="x1"),
        _f(17.3, rec.PROBE, container="app", probe="liveness", result="failure", attempt=1,
           message="HTTP probe failed with statuscode: 500", count=3, last=s(19.3)),
        _f(19.35, rec.KILL_REQUESTED, container="app", reason="LivenessProbeFailed",
           gracePeriodSeconds=2, message="Container app failed liveness probe, will be restarted"),
        _f(19.4, rec.SIGNAL_SENT, container="app", signal="SIGTERM"),
        _f(21.4, rec.SIGNAL_SENT, container="app", signal="SIGKILL"),
        _f(21.45, rec.CONTAINER_EXITED, container="app", attempt=1, containerID="x1",
           exitCode=137, reason="Error", signal="SIGKILL"),
        _f(21.5, rec.BACK_OFF, container="app", seconds=20),
        _f(25, rec.START_FAILED, container="sidekick", reason="CreateContainerConfigError",
           message='secret "s" not found'),
    ]  # fmt: skip
    return {
        "apiVersion": rec.API_VERSION,
        "kind": rec.KIND,
        "metadata": {"name": "crasher", "namespace": "demo"},
        "podUID": "uid-2",
        "containers": [
            {"name": "app", "kind": "app", "index": 0},
            {"name": "sidekick", "kind": "app", "index": 1},
        ],
        "facts": facts,
    }
