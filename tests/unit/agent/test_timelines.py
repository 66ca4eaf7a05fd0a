"""The worked timelines of §13 (TL-1..TL-8), replayed through plan_pod and pod_status.

Each step is (what the runtime did, now) → the plan and the kubectl-visible container states.
"""

from kubelite.agent import eventtext
from kubelite.agent.actions import KillPod, StartFailure
from kubelite.agent.backoff import BackoffState, pull_failed, pull_in_backoff, pull_key
from kubelite.agent.gotext import go_duration
from kubelite.agent.probestate import (
    INITIAL,
    Outcome,
    RawResult,
    Result,
    new_worker,
    observe_container,
    record,
)
from kubelite.agent.termination import post_start_failed, stop_timeout, wait_budget
from kubelite.model.pod import ProbeType
from tests.unit.agent.builders import c, describe, pod, probe, sidecar
from tests.unit.agent.sim import Sim

T = 1_700_000_000.0


# --------------------------------------------------------------------------------- TL-1


def test_tl1_init_failure_under_never() -> None:
    sim = Sim(pod([c("app")], [c("init-a")], "Never"))
    st = sim.status(T)  # step 1, before the sandbox
    assert st["phase"] == "Pending"
    assert sim.condition("PodReadyToStartContainers") == ("False", "")
    assert sim.condition("Initialized") == ("False", "ContainersNotInitialized")
    assert next(x for x in st["conditions"] if x["type"] == "Initialized")["message"] == (
        "containers with incomplete status: [init-a]"
    )
    assert sim.condition("Ready") == ("False", "ContainersNotReady")
    assert sim.condition("PodScheduled") == ("True", "")
    assert sim.state("init-a") == sim.state("app") == ("waiting", "PodInitializing")
    assert sim.kubectl(T) == "0/1 Init:0/1 0"

    assert describe(sim.sync(T)) == ["create sandbox 0", "start init-a #None"]  # step 2
    assert sim.condition("PodReadyToStartContainers") == ("True", "")
    assert sim.state("init-a") == ("running", "")
    assert sim.kubectl(T) == "0/1 Init:0/1 0"

    sim.exit("init-a", 1, T + 2)  # step 3
    plan = sim.sync(T + 3)
    assert describe(plan) == ["kill pod: stop [] sandboxes [sb0]"] and plan.terminating
    assert sim.previous["phase"] == "Failed"
    assert sim.state("init-a") == ("terminated", "Error")
    assert sim.state("app") == ("waiting", "PodInitializing")
    assert sim.condition("ContainersReady") == ("False", "PodFailed")
    assert sim.condition("Ready") == ("False", "PodFailed")
    assert sim.condition("Initialized")[0] == "False"
    assert sim.condition("PodReadyToStartContainers") == ("False", "")
    assert sim.kubectl(T + 3) == "0/1 Init:Error 0"
    assert sim.sync(T + 4).finished


def test_tl1_step4_init_failure_under_onfailure_crash_loops_while_pending() -> None:
    sim = Sim(pod([c("app")], [c("init-a")], "OnFailure"))
    sim.sync(T)
    sim.exit("init-a", 1, T + 1)
    assert describe(sim.sync(T + 2)) == ["start init-a #1"]  # first crash: at once (BO-4)
    sim.exit("init-a", 1, T + 3)
    assert describe(sim.sync(T + 4)) == ["prune init-a-0", "back-off init-a 10s"]  # INIT-12
    assert sim.state("init-a") == ("waiting", "CrashLoopBackOff")
    assert sim.container("init-a")["restartCount"] == 1
    assert sim.kubectl(T + 4) == "0/1 Init:CrashLoopBackOff 1 (1s ago)"
    assert sim.previous["phase"] == "Pending"
    assert describe(sim.sync(T + 13)) == ["start init-a #2"]
    assert sim.previous["phase"] == "Pending"


# --------------------------------------------------------------------------------- TL-2


def test_tl2_init_sidecar_with_startup_probe_and_app() -> None:
    spec = pod(
        [c("app", readinessProbe=probe())],
        [c("setup"), sidecar("proxy", startupProbe=probe(periodSeconds=1))],
    )
    sim = Sim(spec)
    sim.sync(T)
    assert sim.previous["phase"] == "Pending" and sim.state("setup") == ("running", "")  # 1
    assert sim.kubectl(T) == "0/2 Init:0/2 0"

    sim.exit("setup", 0, T + 3)  # 2
    assert describe(sim.sync(T + 4)) == ["start proxy #None"]
    assert sim.container("setup")["ready"] is True
    assert sim.container("proxy")["started"] is False
    assert sim.previous["phase"] == "Pending"
    assert sim.kubectl(T + 4) == "0/2 Init:1/2 0"
    assert describe(sim.sync(T + 5)) == []  # the startup probe has not passed

    sim.probes[("proxy-0", ProbeType.STARTUP)] = Result.SUCCESS  # 3
    st = sim.status(T + 6)
    assert (sim.container("proxy")["started"], sim.container("proxy")["ready"]) == (True, True)
    assert sim.condition("Initialized") == ("True", "")
    assert st["phase"] == "Pending"
    assert sim.kubectl(T + 6) == "1/2 PodInitializing 0"
    assert describe(sim.sync(T + 7)) == ["start app #None"]

    assert sim.previous["phase"] == "Running"  # 4
    assert sim.condition("ContainersReady") == ("False", "ContainersNotReady")
    assert sim.kubectl(T + 7) == "1/2 Running 0"

    sim.probes[("app-0", ProbeType.READINESS)] = Result.SUCCESS  # 5
    sim.status(T + 8)
    assert sim.kubectl(T + 8) == "2/2 Running 0"
    assert sim.condition("ContainersReady") == ("True", "")
    assert sim.condition("Ready") == ("True", "")

    sim.exit("proxy", 1, T + 100)  # 6: the sidecar crashes, restarted at once (SC-4)
    assert describe(sim.sync(T + 101)) == ["start proxy #1"]
    assert sim.container("proxy")["restartCount"] == 1
    assert sim.previous["phase"] == "Running"
    assert sim.condition("Initialized") == ("True", "")
    assert sim.condition("Ready") == ("False", "ContainersNotReady")
    sim.exit("proxy", 1, T + 102)
    assert describe(sim.sync(T + 103)) == ["prune proxy-0", "back-off proxy 10s"]
    assert sim.state("proxy") == ("waiting", "CrashLoopBackOff")
    assert sim.previous["phase"] == "Running"
    assert sim.state("app") == ("running", "")
    assert sim.kubectl(T + 103) == "1/2 Init:CrashLoopBackOff 1 (1s ago)"


# --------------------------------------------------------------------------------- TL-3


def _job(policy: str) -> Sim:
    sim = Sim(pod([c("job")], [sidecar("logs")], policy))
    assert describe(sim.sync(T)) == ["create sandbox 0", "start logs #None"]
    assert describe(sim.sync(T + 1)) == ["start job #None"]
    assert sim.previous["phase"] == "Running"
    assert sim.condition("Ready") == ("True", "")
    assert sim.kubectl(T + 1) == "2/2 Running 0"
    return sim


def test_tl3_job_with_a_sidecar_under_never_succeeds() -> None:
    sim = _job("Never")
    sim.exit("job", 0, T + 5)
    assert sim.status(T + 5)["phase"] == "Running"  # step 2: the sidecar still runs
    assert sim.state("job") == ("terminated", "Completed")
    assert sim.kubectl(T + 5) == "1/2 Completed 0"
    plan = sim.sync(T + 6)  # step 3: SC-10
    kill = plan.actions[0]
    assert isinstance(kill, KillPod)
    assert [(s.event.reason, s.message, s.grace_seconds) for s in kill.stops] == [
        ("Killing", "Stopping container logs", 30)
    ]
    assert sim.state("logs") == ("terminated", "Error")  # step 4: 143
    assert sim.previous["phase"] == "Succeeded"
    assert sim.condition("Initialized") == ("True", "PodCompleted")
    assert sim.condition("ContainersReady") == ("False", "PodCompleted")
    assert sim.condition("Ready") == ("False", "PodCompleted")
    assert sim.condition("PodReadyToStartContainers") == ("False", "")
    assert sim.kubectl(T + 6) == "0/2 Completed 0"
    assert sim.sync(T + 7).finished


def test_tl3_step5_job_exit_1_under_never_fails() -> None:
    sim = _job("Never")
    sim.exit("job", 1, T + 5)
    sim.sync(T + 6)
    assert sim.previous["phase"] == "Failed"
    assert sim.state("job") == ("terminated", "Error")
    assert sim.kubectl(T + 6) == "0/2 Error 0"


def test_tl3_step5_job_exit_1_under_onfailure_restarts_the_job_and_keeps_the_sidecar() -> None:
    sim = _job("OnFailure")
    sim.exit("job", 1, T + 5)
    assert describe(sim.sync(T + 6)) == ["start job #1"]
    assert sim.state("logs") == ("running", "")


# --------------------------------------------------------------------------------- TL-4


def test_tl4_deletion_with_two_sidecars_and_prestop_hooks() -> None:
    sleep5 = {"preStop": {"sleep": {"seconds": 5}}}
    exec3 = {"preStop": {"exec": {"command": ["sleep", "3"]}}}
    spec = pod([c("app", lifecycle=sleep5)], [sidecar("s1", lifecycle=exec3), sidecar("s2")])
    sim = Sim(spec)
    sim.sync(T)
    sim.sync(T + 1)
    sim.sync(T + 2)
    assert sim.previous["phase"] == "Running"
    deleted = pod(
        [c("app", lifecycle=sleep5)],
        [sidecar("s1", lifecycle=exec3), sidecar("s2")],
        deleted=T + 10,
    )
    sim.spec = deleted
    t0 = T + 10
    sim.status(t0)
    assert sim.kubectl(t0) == "3/3 Terminating 0"  # KC-2 step 6, before anything stopped
    plan = sim.sync(t0)
    kill = plan.actions[0]
    assert isinstance(kill, KillPod)
    by_name = {s.name: s for s in kill.stops}
    assert {n: s.event.message for n, s in by_name.items()} == {  # step 1: all Killing at t0
        "s1": "Stopping container s1",
        "s2": "Stopping container s2",
        "app": "Stopping container app",
    }
    assert {n: s.wait_for for n, s in by_name.items()} == {
        "s1": ("app", "s2"),
        "s2": ("app",),
        "app": (),
    }
    assert {n: (s.pre_stop, s.grace_seconds) for n, s in by_name.items()} == {
        "s1": (True, 30),
        "s2": (False, 30),
        "app": (True, 30),
    }
    assert stop_timeout(30, pre_stop_seconds=5) == 25  # step 2: app at t5
    assert stop_timeout(30, 0, wait_seconds=25) == 5  # step 3: s2 at t25
    assert stop_timeout(30, 3, wait_seconds=23) == 4  # step 4: s1 at t26
    assert wait_budget(30, 3) == 27  # s1's wait would be cut at t30 (step 6)
    assert stop_timeout(30, 0, wait_seconds=30) == 2  # step 6: 2 s minimum
    # step 5: app exited 143 on SIGTERM: Failed, even under Always (TERM-4)
    assert sim.sync(t0 + 31).finished
    assert sim.status(t0 + 31)["phase"] == "Failed"


def test_tl4_step5_a_deleted_pod_whose_app_exits_0_succeeds() -> None:
    spec = pod([c("app")], [sidecar("s1")])
    sim = Sim(spec, stop_codes={"app": 0})
    sim.sync(T)
    sim.sync(T + 1)
    sim.spec = pod([c("app")], [sidecar("s1")], deleted=T + 5)
    sim.sync(T + 5)
    assert sim.sync(T + 6).finished
    assert sim.status(T + 6)["phase"] == "Succeeded"


# --------------------------------------------------------------------------------- TL-5


def test_tl5_crash_loop_back_off_sequence() -> None:
    sim = Sim(pod([c("app")]))
    sim.sync(T)
    assert sim.state("app") == ("running", "")
    assert sim.kubectl(T) == "1/1 Running 0"
    sim.exit("app", 1, T + 0.1)
    assert sim.status(T + 0.1)["phase"] == "Running"
    assert sim.state("app") == ("terminated", "Error")
    assert sim.kubectl(T + 0.1) == "0/1 Error 0"
    assert describe(sim.sync(T + 1.1)) == ["start app #1"]  # no record: at once
    assert sim.kubectl(T + 1.1) == "1/1 Running 1 (1s ago)"
    sim.exit("app", 1, T + 1.2)
    # container GC (containergc): only the newest dead instance is kept
    assert describe(sim.sync(T + 2.2)) == ["prune app-0", "back-off app 10s"]
    assert sim.kubectl(T + 2.2) == "0/1 CrashLoopBackOff 1 (1s ago)"
    assert sim.state("app") == ("waiting", "CrashLoopBackOff")
    assert sim.container("app")["state"]["waiting"]["message"] == (
        "back-off 10s restarting failed container=app pod=p_ns(uid-1)"
    )
    assert sim.container("app")["lastState"]["terminated"]["exitCode"] == 1
    assert sim.container("app")["restartCount"] == 1
    assert sim.events[-1].message == "Back-off restarting failed container app in pod p_ns(uid-1)"

    waits, messages, now, finished = [], [], T + 2.2, T + 1.2
    for _ in range(7):
        now = finished
        while True:
            now += 1.0
            plan = sim.sync(now)
            if any(a.startswith("start") for a in describe(plan)):
                break
            messages.append(sim.container("app")["state"]["waiting"]["message"].split()[1])
        waits.append(round(now - finished))
        assert [i.state.value for i in sim.observed().instances("app")] == ["running", "exited"]
        finished = now + 0.1
        sim.exit("app", 1, finished)
    assert waits == [10, 20, 40, 80, 160, 300, 300]
    assert list(dict.fromkeys(messages)) == ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s"]
    assert sim.container("app")["restartCount"] == 8


def test_tl5_an_instance_that_ran_over_600s_restarts_at_once() -> None:
    sim = Sim(pod([c("app")]))
    sim.sync(T)
    sim.exit("app", 1, T + 1)
    sim.sync(T + 2)  # immediate restart, record created
    sim.exit("app", 1, T + 700)
    assert describe(sim.sync(T + 701)) == ["prune app-0", "start app #2"]


# --------------------------------------------------------------------------------- TL-6


def test_tl6_liveness_failure_restarts_the_container() -> None:
    spec = pod([c("app", livenessProbe=probe(httpGet={"path": "/healthz", "port": 80}))])
    sim = Sim(spec)
    sim.sync(T)
    live = spec.containers[0].probes[ProbeType.LIVENESS]
    worker = observe_container(new_worker(live), "app-0")
    bad = RawResult(Outcome.FAILURE, "HTTP probe failed with statuscode: 500")
    events = []
    for _ in range(3):  # step 1: t100, t110, t120
        out = record(worker, spec.containers[0], bad)
        worker, events = out.worker, events + list(out.events)
    assert [e.message for e in events] == [
        "Liveness probe failed: HTTP probe failed with statuscode: 500"
    ] * 3
    assert worker.committed is Result.FAILURE
    sim.probes[("app-0", ProbeType.LIVENESS)] = worker.committed

    plan = sim.sync(T + 120)  # steps 2-3: killed and restarted in the same sync
    assert describe(plan) == [
        "stop app: Container app failed liveness probe, will be restarted",
        "start app #1",
    ]
    assert sim.container("app")["restartCount"] == 1
    assert sim.container("app")["lastState"]["terminated"]["exitCode"] == 143
    assert sim.container("app")["lastState"]["terminated"]["reason"] == "Error"
    fresh = observe_container(worker, "app-1")  # step 4
    assert fresh.committed is INITIAL[ProbeType.LIVENESS] is Result.SUCCESS
    assert INITIAL[ProbeType.READINESS] is Result.FAILURE


def test_tl6_step5_liveness_failure_under_never_leaves_the_container_terminated() -> None:
    spec = pod([c("app", livenessProbe=probe())], restart="Never")
    sim = Sim(spec)
    sim.sync(T)
    sim.probes[("app-0", ProbeType.LIVENESS)] = Result.FAILURE
    sim.sync(T + 120)
    assert sim.state("app") == ("terminated", "Error")
    assert sim.previous["phase"] == "Failed"


# --------------------------------------------------------------------------------- TL-7


def test_tl7_image_pull_failure_and_pull_back_off() -> None:
    spec = pod([c("app", "nope:1")])
    app = spec.containers[0]
    err = "rpc error: not found"
    sim = Sim(spec, start_errors={"app": StartFailure("ErrImagePull", err)})
    sim.sync(T)  # step 1
    assert sim.state("app") == ("waiting", "ErrImagePull")
    assert sim.kubectl(T) == "0/1 ErrImagePull 0"
    assert [
        e.message
        for e in (
            eventtext.pulling(app),
            eventtext.failed_pull(app, err),
            eventtext.failed(app, "ErrImagePull"),
        )
    ] == [
        'Pulling image "nope:1"',
        'Failed to pull image "nope:1": rpc error: not found',
        "Error: ErrImagePull",
    ]
    key = pull_key("uid-1", "nope:1")
    state = pull_failed(BackoffState(), key, T)
    assert pull_in_backoff(state, key, T + 5)  # step 2
    sim.start_errors["app"] = StartFailure("ImagePullBackOff", 'Back-off pulling image "nope:1"')
    sim.sync(T + 5)
    assert sim.container("app")["state"] == {
        "waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "nope:1"'}
    }
    assert sim.kubectl(T + 5) == "0/1 ImagePullBackOff 0"
    assert (
        eventtext.pull_backoff(app).type,
        eventtext.failed(app, "ImagePullBackOff").message,
    ) == (
        "Normal",
        "Error: ImagePullBackOff",
    )
    delays, now = [], T  # step 3: 10 s, 20 s, ... up to 300 s
    for _ in range(7):
        entry = state.get(key)
        assert entry is not None
        delays.append(go_duration(entry.delay))
        now += entry.delay
        state = pull_failed(state, key, now)
    assert delays == ["10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s"]
    assert sim.previous["phase"] == "Pending"
    assert sim.container("app")["restartCount"] == 0


# --------------------------------------------------------------------------------- TL-8


def test_tl8_post_start_failure_is_restarted_like_a_crash() -> None:
    spec = pod([c("app", lifecycle={"postStart": {"exec": {"command": ["false"]}}})])
    sim = Sim(spec)
    detail = (
        'Exec lifecycle hook ([false]) for Container "app" in Pod "p_ns(uid-1)" failed - '
        "error: command 'false' exited with 1, message: \"\""
    )

    def hook_fails(now: float) -> None:
        stop, failure, events = post_start_failed(
            spec, spec.containers[0], sim.newest("app"), detail
        )
        sim.events.extend(events)
        sim.apply_stop = stop  # type: ignore[attr-defined]
        sim._stop(stop, now)
        sim.failures["app"] = failure

    sim.sync(T)
    hook_fails(T)  # step 1
    assert sim.reasons()[-4:] == ["Created", "Started", "FailedPostStartHook", "Killing"]
    sim.status(T + 1)  # step 2
    assert sim.container("app")["state"] == {
        "waiting": {"reason": "PostStartHookError", "message": detail}
    }
    assert sim.kubectl(T + 1) == "0/1 PostStartHookError 0"
    assert describe(sim.sync(T + 1)) == ["start app #1"]  # first failure: at once
    hook_fails(T + 1)
    assert describe(sim.sync(T + 2)) == ["prune app-0", "back-off app 10s"]
    assert sim.state("app") == ("waiting", "CrashLoopBackOff")
    assert sim.kubectl(T + 2) == "0/1 CrashLoopBackOff 1 (1s ago)"
