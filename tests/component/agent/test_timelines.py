"""The worked timelines of §13 (TL-1..TL-8), end to end through a running NodeAgent.

Unlike ``tests/unit/agent/test_timelines.py`` (the pure core, acted out by hand), here the
real pod worker, executor, image step, probe tasks and hook runner act on a FakeRuntime, and
time is virtual. Each test asserts what a user would see: kubectl rows, events, statuses.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from kubelite.agent.probestate import Outcome, RawResult
from kubelite.clock import ManualClock
from kubelite.images.interface import ImageNotFound
from tests.component.agent.harness import (
    FakeProbes,
    Node,
    Stop,
    c,
    exec_probe,
    pod,
    sidecar,
)

# --------------------------------------------------------------------------------- TL-1


async def test_tl1_a_failed_init_container_under_never_fails_the_pod_and_stops_the_sandbox(
    tmp_path: Path,
) -> None:
    """TL-1 / INIT-4 / PH-1 4a: Init:Error, phase Failed, nothing restarted, sandbox stopped."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("init-a", runs=2.0, exit_code=1)
        node.add(pod("tl1", [c("app")], [c("init-a")], "Never"))
        await node.advance(0)
        assert node.kubectl("tl1") == ["0/1 Init:0/1 0"]
        assert node.condition("tl1", "PodReadyToStartContainers") == ("True", "")

        await node.advance_to(30)
        assert node.kubectl("tl1") == ["0/1 Init:0/1 0", "0/1 Init:Error 0"]
        st = node.status("tl1")
        assert st["phase"] == "Failed"
        assert node.state("tl1", "init-a") == ("terminated", "Error")
        assert node.state("tl1", "app") == ("waiting", "PodInitializing")
        assert node.condition("tl1", "Ready") == ("False", "PodFailed")
        assert node.condition("tl1", "ContainersReady") == ("False", "PodFailed")
        assert node.condition("tl1", "Initialized")[0] == "False"
        assert node.condition("tl1", "PodReadyToStartContainers") == ("False", "")
        assert node.reasons("tl1") == ["Pulled init-a", "Created init-a", "Started init-a"]
        assert node.runtime.created("init-a") == 1 and node.runtime.created("app") == 0
        assert node.runtime.call_names().count("stop_sandbox") == 1
        (sandbox,) = node.runtime.sandboxes.values()
        assert not sandbox.status.ready


async def test_tl1_under_on_failure_the_init_container_restarts_with_back_off(
    tmp_path: Path,
) -> None:
    """TL-1 step 4 / INIT-3 / BO-4: restarted at once, then after 10 s, 20 s; Pending."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("init-a", runs=1.0, exit_code=1)
        node.add(pod("tl1", [c("app")], [c("init-a")], "OnFailure"))
        await node.advance_to(60)
        starts = [round(t) for t in node.event_times("tl1", "Started")]
        assert starts == [0, 1, 12, 33]  # exits at 1, 2, 13: delays 0, 10, 20
        assert node.status("tl1")["phase"] == "Pending"
        assert node.kubectl("tl1") == [
            "0/1 Init:0/1 0",
            "0/1 Init:Error 0",
            "0/1 Init:0/1 1",
            "0/1 Init:Error 1",
            "0/1 Init:CrashLoopBackOff 1",
            "0/1 Init:0/1 2",
            "0/1 Init:Error 2",
            "0/1 Init:CrashLoopBackOff 2",
            "0/1 Init:0/1 3",
            "0/1 Init:Error 3",
            "0/1 Init:CrashLoopBackOff 3",
        ]
        assert node.runtime.created("app") == 0


# --------------------------------------------------------------------------------- TL-2


async def test_tl2_sidecar_with_startup_probe_gates_the_app_whose_readiness_makes_the_pod_ready(
    tmp_path: Path,
) -> None:
    """TL-2 / SC-2 / PH-1 / CO-3 / KC-2: Init:0/2 → Init:1/2 → PodInitializing → Running."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script("setup", runs=3.0, exit_code=0)
        rt.script_exec(["started?"], container="proxy", exit_code=1, times=2)
        rt.script_exec(["ready?"], container="app", exit_code=1, stdout=b"not yet", times=1)
        proxy = sidecar("proxy", startupProbe=exec_probe("started?", periodSeconds=1))
        app = c("app", readinessProbe=exec_probe("ready?", periodSeconds=5))
        node.add(pod("tl2", [app], [c("setup"), proxy]))

        await node.advance_to(1)
        assert node.row("tl2") == "0/2 Init:0/2 0"
        assert node.status("tl2")["phase"] == "Pending"

        await node.advance_to(4)  # setup exited 0 at 3; proxy started, startup probe failing
        assert node.container("tl2", "setup")["ready"] is True
        proxy_status = node.container("tl2", "proxy")
        assert proxy_status["started"] is False and "running" in proxy_status["state"]
        assert node.row("tl2") == "0/2 Init:1/2 0"
        assert node.status("tl2")["phase"] == "Pending"
        assert rt.created("app") == 0

        await node.advance_to(12)
        assert node.container("tl2", "proxy")["started"] is True
        assert node.condition("tl2", "Initialized") == ("True", "")
        assert node.status("tl2")["phase"] == "Running"
        assert node.condition("tl2", "Ready") == ("True", "")
        assert node.row("tl2") == "2/2 Running 0"
        assert node.kubectl("tl2") == [
            "0/2 Init:0/2 0",
            "0/2 Init:1/2 0",
            "1/2 PodInitializing 0",
            "1/2 Running 0",
            "2/2 Running 0",
        ]
        assert node.messages("tl2", "Unhealthy") == [
            "Startup probe failed: ",
            "Startup probe failed: ",
            "Readiness probe failed: not yet",
        ]
        started = node.event_times("tl2", "Started")
        assert [round(t) for t in started] == [0, 3, 5]  # setup, proxy, app after 2 failures

        # step 6: proxy crashes later: restarted (SC-4), pod stays Running and Initialized
        await rt.crash(rt.container_named("proxy").id, 1)
        await node.advance(0.5)
        assert node.status("tl2")["phase"] == "Running"
        assert node.condition("tl2", "Initialized") == ("True", "")
        assert node.container("tl2", "proxy")["restartCount"] == 1
        assert rt.created("proxy") == 2


async def test_tl2_a_sidecar_in_back_off_shows_init_crash_loop_on_a_running_pod(
    tmp_path: Path,
) -> None:
    """TL-2 step 6 / SC-12 / KC-2: `1/2 Init:CrashLoopBackOff 1` while the pod is Running."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        node.add(pod("tl2", [c("app")], [sidecar("proxy")]))
        await node.advance_to(5)
        assert node.row("tl2") == "2/2 Running 0"
        await rt.crash(rt.container_named("proxy").id, 1)  # restarted at once (BO-4)
        await node.advance_to(6)
        await rt.crash(rt.container_named("proxy").id, 1)  # now in back-off
        await node.advance_to(7)
        assert node.row("tl2").startswith("1/2 Init:CrashLoopBackOff 1")
        assert node.status("tl2")["phase"] == "Running"
        assert node.condition("tl2", "Initialized") == ("True", "")
        assert node.condition("tl2", "Ready") == ("False", "ContainersNotReady")
        await node.advance_to(17)
        assert node.row("tl2").startswith("2/2 Running 2")


# --------------------------------------------------------------------------------- TL-3


async def test_tl3_a_job_with_a_sidecar_succeeds_once_the_sidecar_is_stopped(
    tmp_path: Path,
) -> None:
    """TL-3 / SC-10: job exits 0 → Killing `Stopping container logs` with grace 30 → the
    sidecar's 143 is ignored → Succeeded, `0/2 Completed 0`; the sidecar is not restarted."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("job", runs=5.0, exit_code=0)
        node.add(pod("tl3", [c("job")], [sidecar("logs")], "Never"))
        await node.advance_to(30)
        assert node.kubectl("tl3") == [
            "0/2 Init:0/1 0",
            "1/2 PodInitializing 0",
            "2/2 Running 0",
            "1/2 Completed 0",
            "0/2 Completed 0",
        ]
        st = node.status("tl3")
        assert st["phase"] == "Succeeded"
        assert node.container("tl3", "logs")["state"]["terminated"]["exitCode"] == 143
        assert node.condition("tl3", "Initialized") == ("True", "PodCompleted")
        assert node.condition("tl3", "ContainersReady") == ("False", "PodCompleted")
        assert node.condition("tl3", "PodReadyToStartContainers") == ("False", "")
        assert node.messages("tl3", "Killing") == ["Stopping container logs"]
        assert node.runtime.stops == [Stop(5.0, "logs", 30)]
        assert node.runtime.created("logs") == 1


async def test_tl3_a_job_that_fails_fails_the_pod(tmp_path: Path) -> None:
    """TL-3 step 5: job exit 1 under Never → Failed, `0/2 Error 0`."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("job", runs=5.0, exit_code=1)
        node.add(pod("tl3", [c("job")], [sidecar("logs")], "Never"))
        await node.advance_to(30)
        assert node.status("tl3")["phase"] == "Failed"
        assert node.row("tl3") == "0/2 Error 0"
        assert node.runtime.created("job") == 1


async def test_tl3_under_on_failure_a_failed_job_restarts_and_the_sidecar_keeps_running(
    tmp_path: Path,
) -> None:
    """TL-3 step 5 / APP-2: OnFailure and exit 1: job restarted, logs untouched."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("job", runs=5.0, exit_code=1)
        node.runtime.script("job", attempt=1, runs=5.0, exit_code=0)
        node.add(pod("tl3", [c("job")], [sidecar("logs")], "OnFailure"))
        await node.advance_to(30)
        assert node.runtime.created("job") == 2
        assert node.status("tl3")["phase"] == "Succeeded"
        assert node.runtime.created("logs") == 1
        assert [s.name for s in node.runtime.stops] == ["logs"]


# --------------------------------------------------------------------------------- TL-4


async def test_tl4_deletion_stops_sidecars_in_reverse_order_after_the_app_with_the_grace_left(
    tmp_path: Path,
) -> None:
    """TL-4 / SC-11 / TERM-2 / HK-4: Killing for all at t0; app SIGTERM at 5 (timeout 25);
    s2 at 25 (timeout 5); s1 at 26 (timeout 30-3-23 = 4), SIGKILLed at 30; then Succeeded."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script("app", on_term=20.0, term_exit_code=0)
        rt.script("s2", on_term=1.0)
        rt.script("s1", on_term=None)
        rt.script_exec(["drain"], container="s1", takes=3.0)
        s1 = sidecar("s1", lifecycle={"preStop": {"exec": {"command": ["drain"]}}})
        s2 = sidecar("s2")
        app = c("app", lifecycle={"preStop": {"sleep": {"seconds": 5}}})
        uid = node.add(pod("tl4", [app], [s1, s2]))
        await node.advance_to(10)
        assert node.row("tl4") == "3/3 Running 0"

        node.pods.delete_pod(uid)
        await node.advance(0)
        t0 = node.now()
        assert node.row("tl4") == "3/3 Terminating 0"
        killing = node.posted("tl4", "Killing")
        assert {p.container for p in killing} == {"app", "s1", "s2"}
        assert all(p.t == t0 for p in killing)
        assert all(p.event.message == f"Stopping container {p.container}" for p in killing)

        await node.advance(40)
        assert [(s.t - t0, s.name, s.timeout) for s in rt.stops] == [
            (5.0, "app", 25),
            (25.0, "s2", 5),
            (26.0, "s1", 4),
        ]
        assert node.pod("tl4") is None  # removed once everything stopped (TERM-4)
        final = node.statuses[-1][1]["status"]
        assert final["phase"] == "Succeeded"  # app exited 0, even under Always
        exits = {
            s["name"]: s["state"]["terminated"]["exitCode"]
            for s in final["initContainerStatuses"] + final["containerStatuses"]
        }
        assert exits == {"app": 0, "s1": 137, "s2": 143}
        assert rt.sandboxes == {}  # cleaned up
        assert rt.created("s1") == rt.created("s2") == 1  # no restarts while terminating (SC-4)


async def test_tl4_when_the_app_uses_up_the_grace_both_sidecars_get_the_two_second_minimum(
    tmp_path: Path,
) -> None:
    """TL-4 step 6 / SC-11.5: app ignores SIGTERM → SIGKILL at 30; s1 and s2 both signalled at
    30 with the 2 s minimum stop timeout."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script("app", on_term=None)
        rt.script("s1", on_term=None)
        rt.script("s2", on_term=None)
        uid = node.add(pod("tl4", [c("app")], [sidecar("s1"), sidecar("s2")]))
        await node.advance_to(10)
        node.pods.delete_pod(uid)
        await node.advance(60)
        assert sorted((s.t - 10, s.name, s.timeout) for s in rt.stops) == [
            (0.0, "app", 30),
            (30.0, "s1", 2),
            (30.0, "s2", 2),
        ]
        assert node.pod("tl4") is None
        assert node.statuses[-1][1]["status"]["phase"] == "Failed"  # app 137


# --------------------------------------------------------------------------------- TL-5


async def test_tl5_a_crash_loop_restarts_after_0_10_20_40_80_160_300_seconds(
    tmp_path: Path,
) -> None:
    """TL-5 / BO-2..BO-5: the delays double from 10 s to 300 s; the waiting message names
    the current delay; each back-off sync posts Warning BackOff."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("app", runs=1.0, exit_code=1)
        uid = node.add(pod("tl5", [c("app")]))
        await node.advance_to(0.5)
        assert node.row("tl5") == "1/1 Running 0"
        await node.advance_to(1.5)
        assert node.kubectl("tl5") == [
            "0/1 ContainerCreating 0",
            "1/1 Running 0",
            "0/1 Error 0",
            "1/1 Running 1",
        ]
        await node.advance_to(2.5)
        assert node.row("tl5") == "0/1 CrashLoopBackOff 1 (0s ago)"
        waiting = node.container("tl5", "app")["state"]["waiting"]
        assert waiting == {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 10s restarting failed container=app pod=tl5_default({uid})",
        }
        assert node.container("tl5", "app")["lastState"]["terminated"]["exitCode"] == 1
        assert node.messages("tl5", "BackOff")[0] == (
            f"Back-off restarting failed container app in pod tl5_default({uid})"
        )
        assert node.posted("tl5", "BackOff")[0].event.type == "Warning"

        await node.advance_to(1000)
        starts = [round(t) for t in node.event_times("tl5", "Started")]
        gaps = [b - a - 1 for a, b in itertools.pairwise(starts)]  # minus the 1 s run
        assert gaps == [0, 10, 20, 40, 80, 160, 300, 300]
        messages = {
            s["state"]["waiting"]["message"].split(" restarting")[0]
            for _, p in node.statuses
            for s in p["status"].get("containerStatuses", [])
            if "waiting" in s["state"] and s["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        }
        assert messages == {
            "back-off 10s",
            "back-off 20s",
            "back-off 40s",
            "back-off 1m20s",
            "back-off 2m40s",
            "back-off 5m0s",
        }
        assert node.status("tl5")["phase"] == "Running"  # PH-1 4e under Always


# --------------------------------------------------------------------------------- TL-6


async def test_tl6_a_liveness_failure_kills_and_restarts_the_container(tmp_path: Path) -> None:
    """TL-6 / PR-5 / PR-7 / APP-3 / BO-2a: three Unhealthy, then Killing with
    `, will be restarted`, stop with the pod's grace, restarted at once with restartCount 1."""
    clock = ManualClock(1_700_000_000.0)
    probes = FakeProbes(clock)
    async with Node.running(tmp_path, clock=clock, probes=probes) as node:
        liveness = {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 10}
        node.add(pod("tl6", [c("app", livenessProbe=liveness)], tgps=20))
        await node.advance_to(95)
        probes.answers[("app", "liveness")] = lambda status: (
            RawResult(Outcome.FAILURE, "HTTP probe failed with statuscode: 500")
            if status.attempt == 0
            else RawResult(Outcome.SUCCESS)
        )
        await node.advance_to(130)
        unhealthy = node.posted("tl6", "Unhealthy")
        assert [p.event.message for p in unhealthy] == [
            "Liveness probe failed: HTTP probe failed with statuscode: 500"
        ] * 3
        assert node.messages("tl6", "Killing") == [
            "Container app failed liveness probe, will be restarted"
        ]
        kill_at = node.event_times("tl6", "Killing")[0]
        assert kill_at == unhealthy[-1].t
        assert [(s.name, s.timeout) for s in node.runtime.stops] == [("app", 20)]
        assert node.reasons("tl6")[-4:] == [
            "Killing app",
            "Pulled app",
            "Created app",
            "Started app",
        ]
        assert node.event_times("tl6", "Started")[-1] == kill_at  # immediate (BO-2a)
        status = node.container("tl6", "app")
        assert status["restartCount"] == 1
        assert status["lastState"]["terminated"]["exitCode"] == 143
        assert status["lastState"]["terminated"]["reason"] == "Error"
        assert node.row("tl6").startswith("1/1 Running 1")


async def test_tl6_under_never_a_liveness_failure_leaves_the_pod_failed(tmp_path: Path) -> None:
    """TL-6 step 5 / APP-3: not restarted; the whole pod goes (SYNC-3 step 4) but the Killing
    text stays the liveness one, without `, will be restarted` (acceptance LH-05); Failed."""
    clock = ManualClock(1_700_000_000.0)
    probes = FakeProbes(clock)
    probes.set("app", "liveness", Outcome.FAILURE, "HTTP probe failed with statuscode: 500")
    async with Node.running(tmp_path, clock=clock, probes=probes) as node:
        liveness = {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 10}
        node.add(pod("tl6", [c("app", livenessProbe=liveness)], restart="Never"))
        await node.advance_to(60)
        assert node.messages("tl6", "Killing") == ["Container app failed liveness probe"]
        assert node.runtime.created("app") == 1
        assert node.status("tl6")["phase"] == "Failed"
        assert node.row("tl6") == "0/1 Error 0"


async def test_tl6_under_never_the_liveness_kill_message_has_no_restart_suffix(
    tmp_path: Path,
) -> None:
    """TL-6 step 5 / APP-3: another app container keeps the pod: `Container app failed
    liveness probe`, app stays terminated, the pod stays Running (PH-1 4d)."""
    clock = ManualClock(1_700_000_000.0)
    probes = FakeProbes(clock)
    probes.set("app", "liveness", Outcome.FAILURE, "HTTP probe failed with statuscode: 500")
    async with Node.running(tmp_path, clock=clock, probes=probes) as node:
        liveness = {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 10}
        node.add(pod("tl6", [c("app", livenessProbe=liveness), c("web")], restart="Never"))
        await node.advance_to(60)
        assert node.messages("tl6", "Killing") == ["Container app failed liveness probe"]
        assert node.runtime.created("app") == 1
        assert node.state("tl6", "app") == ("terminated", "Error")
        assert node.status("tl6")["phase"] == "Running"
        assert node.row("tl6") == "1/2 Error 0"


# --------------------------------------------------------------------------------- TL-7


async def test_tl7_a_missing_image_shows_err_image_pull_then_image_pull_back_off(
    tmp_path: Path,
) -> None:
    """TL-7 / BO-9 / CS-3: pulls at 0, 10, 30, 70 …; ErrImagePull then ImagePullBackOff; the
    phase stays Pending and restartCount 0."""
    async with Node.running(tmp_path) as node:
        image = "nope:1.0"
        err = 'failed to resolve reference "docker.io/library/nope:1.0": not found'
        node.images.fail_pull(image, ImageNotFound(err), times=100)
        node.add(pod("tl7", [c("app", image)]))
        await node.advance(0)
        # the sync right after the sandbox's finds the pull in back-off (the kubelet's ≈1 s)
        assert node.kubectl("tl7") == [
            "0/1 ContainerCreating 0",
            "0/1 ErrImagePull 0",
            "0/1 ImagePullBackOff 0",
        ]
        err_status = next(
            s["status"]["containerStatuses"][0]["state"]["waiting"]
            for _, s in node.statuses
            if s["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ErrImagePull"
        )
        assert err_status == {"reason": "ErrImagePull", "message": err}
        assert [(p.event.type, p.event.reason, p.event.message) for p in node.posted("tl7")][
            :3
        ] == [
            ("Normal", "Pulling", 'Pulling image "nope:1.0"'),
            ("Warning", "Failed", f'Failed to pull image "nope:1.0": {err}'),
            ("Warning", "Failed", "Error: ErrImagePull"),
        ]
        await node.advance_to(5)
        assert node.row("tl7") == "0/1 ImagePullBackOff 0"
        assert node.container("tl7", "app")["state"]["waiting"] == {
            "reason": "ImagePullBackOff",
            "message": 'Back-off pulling image "nope:1.0"',
        }
        backoff = node.posted("tl7", "BackOff")
        assert backoff and backoff[0].event.type == "Normal"
        assert backoff[0].event.message == 'Back-off pulling image "nope:1.0"'
        assert "Error: ImagePullBackOff" in node.messages("tl7", "Failed")

        await node.advance_to(700)
        pulls = [round(t - 1_700_000_000.0) for t, _ in node.images.pulls]
        assert pulls[:7] == [0, 10, 30, 70, 150, 310, 610]
        assert node.status("tl7")["phase"] == "Pending"
        assert node.container("tl7", "app")["restartCount"] == 0
        assert set(node.kubectl("tl7")[1:]) == {"0/1 ErrImagePull 0", "0/1 ImagePullBackOff 0"}
        # a sync in pull back-off touches nothing, so it must not spin: one sync every 10 s
        # (BO-6), 71 up to t700, 7 of them pulls, plus the one right after the sandbox's
        assert len(node.posted("tl7", "BackOff")) == 71 - 7 + 1


async def test_tl7_the_pod_starts_once_the_image_can_be_pulled(tmp_path: Path) -> None:
    """TL-7 / BO-9: the retry after the back-off pulls, posts Pulled, and starts the app."""
    async with Node.running(tmp_path) as node:
        node.images.fail_pull("late:1.0", ImageNotFound("not found"), times=1)
        node.add(pod("tl7", [c("app", "late:1.0")]))
        await node.advance_to(15)
        assert node.row("tl7") == "1/1 Running 0"
        assert node.kubectl("tl7") == [
            "0/1 ContainerCreating 0",
            "0/1 ErrImagePull 0",
            "0/1 ImagePullBackOff 0",
            "1/1 Running 0",
        ]
        assert node.messages("tl7", "Pulled")[-1].startswith(
            'Successfully pulled image "late:1.0" in '
        )


# --------------------------------------------------------------------------------- TL-8


async def test_tl8_a_failed_post_start_hook_kills_the_container_and_backs_off(
    tmp_path: Path,
) -> None:
    """TL-8 / HK-3 / CS-3: Created, Started, FailedPostStartHook, Killing `FailedPostStartHook`
    with grace TGPS; waiting PostStartHookError with the detailed message; then back-off."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script_exec(["false"], container="app", exit_code=1, stdout=b"boom")
        app = c("app", lifecycle={"postStart": {"exec": {"command": ["false"]}}})
        uid = node.add(pod("tl8", [app], tgps=15))
        await node.advance(0)
        first = [
            "Pulled app",
            "Created app",
            "Started app",
            "FailedPostStartHook app",
            "Killing app",
        ]
        # 2nd start at once (BO-4). Removing the first instance (container GC) wakes the worker
        # once more, and that sync posts BackOff again: the recorder merges the two (EV-1).
        merged = [reason for reason, _ in itertools.groupby(node.reasons("tl8"))]
        assert merged == first + first + ["BackOff app"]
        assert set(node.messages("tl8", "FailedPostStartHook")) == {"PostStartHook failed"}
        assert set(node.messages("tl8", "Killing")) == {"FailedPostStartHook"}
        assert [(s.name, s.timeout) for s in rt.stops] == [("app", 15), ("app", 15)]
        waiting = next(
            w
            for _, p in node.statuses
            if (w := p["status"]["containerStatuses"][0]["state"].get("waiting"))
            and w["reason"] == "PostStartHookError"
        )
        assert waiting["message"].startswith(
            f'Exec lifecycle hook ([false]) for Container "app" in Pod "tl8_default({uid})" failed'
        )
        assert node.kubectl("tl8") == [
            "0/1 ContainerCreating 0",
            "0/1 PostStartHookError 0",
            "0/1 PostStartHookError 1",
            "0/1 CrashLoopBackOff 1",
        ]
        await node.advance_to(60)
        starts = [round(t) for t in node.event_times("tl8", "Started")]
        assert starts == [0, 0, 10, 30]


async def test_hk3_the_kill_after_a_failed_post_start_runs_the_pre_stop_hook_within_the_grace(
    tmp_path: Path,
) -> None:
    """HK-3 / HK-4: the kubelet kills the container through its normal kill path: Killing
    `FailedPostStartHook`, then the preStop hook, then the stop signal with what is left of
    the grace period (15 s - 4 s in the hook)."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script_exec(["false"], container="app", exit_code=1)
        rt.script_exec(["sh", "-c", "drain"], container="app", takes=4.0)
        hooks = {
            "postStart": {"exec": {"command": ["false"]}},
            "preStop": {"exec": {"command": ["sh", "-c", "drain"]}},
        }
        node.add(pod("hk3", [c("app", lifecycle=hooks)], restart="Never", tgps=15))
        await node.advance_to(10)
        assert node.reasons("hk3") == [
            "Pulled app",
            "Created app",
            "Started app",
            "FailedPostStartHook app",
            "Killing app",
        ]
        assert node.messages("hk3", "Killing") == ["FailedPostStartHook"]
        execs = [call.args[1] for call in rt.calls_of("exec_sync")]
        assert execs == [("false",), ("sh", "-c", "drain")]
        assert [(s.name, round(s.t), s.timeout) for s in rt.stops] == [("app", 4, 11)]
        assert node.state("hk3", "app")[0] == "terminated"
