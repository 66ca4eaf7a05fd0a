"""pod_status: phase, conditions, container statuses (PH-*, CO-*, CS-*, INIT-10/11, TM-3/4,
TERM-4, QOS-1)."""

from typing import Any

import pytest

from kubelite.agent.actions import StartFailure
from kubelite.agent.containerstatus import started_instances
from kubelite.agent.observed import ObservedPod
from kubelite.agent.podstatus import StatusFacts, pod_status, with_api_conditions
from kubelite.agent.probestate import ProbeResults, Result
from kubelite.model.pod import PodSpec, ProbeType, format_time
from kubelite.runtime.interface import ContainerState
from tests.unit.agent.builders import (
    T0,
    c,
    exited,
    observed,
    pod,
    probe,
    running,
    sandbox,
    sidecar,
    with_state,
)

NOW = T0 + 100


def status(
    spec: PodSpec,
    obs: ObservedPod,
    probes: ProbeResults | None = None,
    now: float = NOW,
    **facts: Any,
) -> dict[str, Any]:
    return pod_status(spec, obs, probes or ProbeResults(), StatusFacts(**facts), now)


def cond(st: dict[str, Any], type_: str) -> tuple[str, str, str]:
    c_ = next(x for x in st["conditions"] if x["type"] == type_)
    return c_["status"], c_.get("reason", ""), c_.get("message", "")


def states(st: dict[str, Any], key: str = "containerStatuses") -> dict[str, dict[str, Any]]:
    return {s["name"]: s["state"] for s in st.get(key, [])}


STARTED = ProbeResults.of({("proxy-0", ProbeType.STARTUP): Result.SUCCESS})
SC = pod([c("app")], [c("init1"), sidecar("proxy", startupProbe=probe())])
JOB = pod([c("job")], [sidecar("logs")], "Never")


# -------------------------------------------------------------------------- PH-1, PH-3


@pytest.mark.parametrize(
    ("case", "spec", "obs", "probes", "phase"),
    [
        ("nothing created yet is Pending", SC, ObservedPod(), None, "Pending"),
        ("init1 running is Pending", SC, observed(running(SC, "init1")), None, "Pending"),
        (
            "a sidecar running but not started is Pending",
            SC,
            observed(exited(SC, "init1"), running(SC, "proxy")),
            None,
            "Pending",
        ),
        (
            "a started sidecar with the app still waiting is Pending (4c)",
            SC,
            observed(exited(SC, "init1"), running(SC, "proxy")),
            STARTED,
            "Pending",
        ),
        (
            "the app running is Running",
            SC,
            observed(exited(SC, "init1"), running(SC, "proxy"), running(SC, "app")),
            STARTED,
            "Running",
        ),
        (
            "Always with the app waiting after a crash is Running (4e)",
            pod([c("app")]),
            observed(exited(pod([c("app")]), "app", 1)),
            None,
            "Running",
        ),
        (
            "Never: app exited 0 while a sidecar runs is Running (4d)",
            pod([c("job")], [sidecar("logs")], "Never"),
            observed(running(JOB, "logs"), exited(JOB, "job", 0)),
            None,
            "Running",
        ),
        (
            "Never: app exited 0 and the sidecar stopped (143) is Succeeded (SC-9)",
            pod([c("job")], [sidecar("logs")], "Never"),
            observed(
                exited(pod([c("job")], [sidecar("logs")]), "logs", 143),
                exited(pod([c("job")], [sidecar("logs")]), "job", 0),
            ),
            None,
            "Succeeded",
        ),
        (
            "Never: app exited 1, sidecar stopped is Failed",
            pod([c("job")], [sidecar("logs")], "Never"),
            observed(
                exited(pod([c("job")], [sidecar("logs")]), "logs", 0),
                exited(pod([c("job")], [sidecar("logs")]), "job", 1),
            ),
            None,
            "Failed",
        ),
        (
            "OnFailure: app exited 1 will be restarted: Running",
            pod([c("job")], restart="OnFailure"),
            observed(exited(pod([c("job")]), "job", 1)),
            None,
            "Running",
        ),
        (
            "Never: a regular init container exited 1 is Failed (4a)",
            pod([c("app")], [c("init1")], "Never"),
            observed(exited(SC, "init1", 1)),
            None,
            "Failed",
        ),
    ],
)
def test_ph1_ph3_phase(
    case: str, spec: PodSpec, obs: ObservedPod, probes: ProbeResults | None, phase: str
) -> None:
    assert status(spec, obs, probes)["phase"] == phase, case


def test_ph3_apps_waiting_in_back_off_and_an_unstarted_sidecar_is_pending() -> None:
    spec = pod([c("app")], [sidecar("proxy", startupProbe=probe())])
    obs = observed(running(spec, "proxy"), exited(spec, "app", 1))
    failures = {"app": StartFailure("CrashLoopBackOff", "back-off 10s ...")}
    assert status(spec, obs, start_failures=failures)["phase"] == "Pending"


def test_ph2_a_terminal_phase_is_never_left() -> None:
    spec = pod([c("app")])
    st = status(spec, observed(running(spec, "app")), previous={"phase": "Succeeded"})
    assert st["phase"] == "Succeeded"


def test_ph2_an_unchanged_phase_keeps_reason_and_message() -> None:
    spec = pod([c("app")])
    prev = {"phase": "Running", "reason": "R", "message": "M"}
    st = status(spec, observed(running(spec, "app")), previous=prev)
    assert (st["reason"], st["message"]) == ("R", "M")


def test_ph4_active_deadline_fails_the_pod_with_its_reason() -> None:
    spec = pod([c("app")], activeDeadlineSeconds=60)
    prev = {"startTime": format_time(T0)}
    st = status(spec, observed(running(spec, "app")), previous=prev, now=T0 + 60)
    assert (st["phase"], st["reason"], st["message"]) == (
        "Failed",
        "DeadlineExceeded",
        "Pod was active on the node longer than the specified deadline",
    )
    assert (
        status(spec, observed(running(spec, "app")), previous=prev, now=T0 + 59)["phase"]
        == "Running"
    )


def test_ph5_an_eviction_fails_the_pod_with_reason_evicted() -> None:
    spec = pod([c("app")])
    msg = 'Usage of EmptyDir volume "v" exceeds the limit "1Mi". '
    st = status(spec, observed(running(spec, "app")), reason="Evicted", message=msg)
    assert (st["phase"], st["reason"], st["message"]) == ("Failed", "Evicted", msg)


def test_ph7_start_time_is_set_once_and_kept() -> None:
    spec = pod([c("app")])
    assert status(spec, ObservedPod())["startTime"] == format_time(NOW)
    assert status(spec, ObservedPod(), previous={"startTime": format_time(T0)})[
        "startTime"
    ] == format_time(T0)


def test_ph7_qos1_qos_class_and_addresses() -> None:
    spec = pod([c("app")])
    sb = sandbox()
    obs = ObservedPod.of(
        [type(sb)(**{**{f: getattr(sb, f) for f in sb.__slots__}, "ip": "10.0.0.5"})], []
    )  # type: ignore[attr-defined]
    st = status(spec, obs, host_ip="192.168.1.2")
    assert st["qosClass"] == "BestEffort"
    assert (st["hostIP"], st["podIP"], st["podIPs"]) == (
        "192.168.1.2",
        "10.0.0.5",
        [{"ip": "10.0.0.5"}],
    )


# --------------------------------------------------------------------------- TERM-4


def test_term4_a_deleted_always_pod_ends_succeeded_when_its_app_exited_0() -> None:
    spec = pod([c("app")], [sidecar("s")], deleted=T0)
    obs = observed(
        exited(spec, "s", 137), exited(spec, "app", 0), sandboxes=(sandbox(ready=False),)
    )
    assert status(spec, obs, terminal=True)["phase"] == "Succeeded"


def test_term4_a_deleted_always_pod_ends_failed_when_its_app_was_killed() -> None:
    spec = pod([c("app")], deleted=T0)
    obs = observed(exited(spec, "app", 143), sandboxes=(sandbox(ready=False),))
    assert status(spec, obs, terminal=True)["phase"] == "Failed"


def test_term4_a_pod_still_pending_at_the_final_write_is_failed() -> None:
    spec = pod([c("app")], deleted=T0)
    assert status(spec, ObservedPod(), terminal=True)["phase"] == "Failed"


# ----------------------------------------------------------------------------- CO-*


def test_co1_conditions_are_ordered_and_foreign_ones_come_first() -> None:
    spec = pod([c("app")])
    prev = {
        "conditions": [
            {"type": "example.com/gate", "status": "True"},
            {"type": "DisruptionTarget", "status": "True"},
        ]
    }
    st = status(spec, ObservedPod(), previous=prev)
    assert [x["type"] for x in st["conditions"]] == [
        "example.com/gate",
        "DisruptionTarget",
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]


def test_co1_last_transition_time_moves_only_when_the_status_changes() -> None:
    spec = pod([c("app")])
    first = status(spec, ObservedPod(), now=T0)
    same = status(spec, ObservedPod(), previous=first, now=T0 + 5)
    flipped = status(spec, observed(running(spec, "app")), previous=first, now=T0 + 9)
    stamp = {x["type"]: x["lastTransitionTime"] for x in same["conditions"]}
    assert stamp["Ready"] == format_time(T0)
    assert {x["type"]: x["lastTransitionTime"] for x in flipped["conditions"]}[
        "Ready"
    ] == format_time(T0 + 9)
    assert all(x["lastProbeTime"] is None for x in same["conditions"])


def test_co2_ready_to_start_containers_follows_the_sandbox() -> None:
    spec = pod([c("app")])
    assert cond(status(spec, ObservedPod()), "PodReadyToStartContainers") == ("False", "", "")
    assert cond(status(spec, observed()), "PodReadyToStartContainers") == ("True", "", "")
    gone = observed(sandboxes=(sandbox(ready=False),))
    assert cond(status(spec, gone), "PodReadyToStartContainers")[0] == "False"


def test_co3_initialized_lists_incomplete_init_containers() -> None:
    st = status(SC, observed(exited(SC, "init1"), running(SC, "proxy")))
    assert cond(st, "Initialized") == (
        "False",
        "ContainersNotInitialized",
        "containers with incomplete status: [proxy]",
    )


def test_co3_initialized_is_true_without_init_containers_even_before_a_sandbox() -> None:
    assert cond(status(pod([c("app")]), ObservedPod()), "Initialized") == ("True", "", "")


def test_co3_sc12_a_crashed_sidecar_does_not_uninitialize_a_running_pod() -> None:
    obs = observed(exited(SC, "init1"), exited(SC, "proxy", 1), running(SC, "app"))
    assert cond(status(SC, obs), "Initialized") == ("True", "", "")


def test_co3_co4_a_succeeded_pod_is_initialized_and_not_ready_with_pod_completed() -> None:
    spec = pod([c("job")], [sidecar("logs")], "Never")
    obs = observed(exited(spec, "logs", 143), exited(spec, "job", 0))
    st = status(spec, obs)
    assert cond(st, "Initialized") == ("True", "PodCompleted", "")
    assert cond(st, "ContainersReady") == ("False", "PodCompleted", "")
    assert cond(st, "Ready") == ("False", "PodCompleted", "")


def test_co4_a_failed_pod_is_not_ready_with_pod_failed() -> None:
    spec = pod([c("app")], [c("init-a")], "Never")
    st = status(spec, observed(exited(spec, "init-a", 1)))
    assert cond(st, "ContainersReady") == ("False", "PodFailed", "")


def test_co4_sc7_unready_sidecars_and_apps_are_listed() -> None:
    spec = pod([c("app", readinessProbe=probe())], [sidecar("proxy", readinessProbe=probe())])
    st = status(spec, observed(running(spec, "proxy"), running(spec, "app")))
    assert cond(st, "ContainersReady") == (
        "False",
        "ContainersNotReady",
        "containers with unready status: [proxy app]",
    )


def test_co4_all_ready_is_true() -> None:
    spec = pod([c("app")], [sidecar("proxy")])
    st = status(spec, observed(running(spec, "proxy"), running(spec, "app")))
    assert cond(st, "ContainersReady") == ("True", "", "")
    assert cond(st, "Ready") == ("True", "", "")


def test_co5_readiness_gates_must_be_true() -> None:
    spec = pod([c("app")], readinessGates=[{"conditionType": "a/x"}, {"conditionType": "a/y"}])
    prev = {"conditions": [{"type": "a/y", "status": "False"}]}
    st = status(spec, observed(running(spec, "app")), previous=prev)
    assert cond(st, "Ready") == (
        "False",
        "ReadinessGatesNotReady",
        'corresponding condition of pod readiness gate "a/x" does not exist., '
        'the status of pod readiness gate "a/y" is not "True", but False',
    )


def test_co6_pod_scheduled_is_true() -> None:
    assert cond(status(pod([c("app")]), ObservedPod()), "PodScheduled") == ("True", "", "")


# ------------------------------------------------------------------------------ CS-*


def test_init10_without_records_every_container_waits_pod_initializing() -> None:
    st = status(SC, ObservedPod())
    assert states(st, "initContainerStatuses") == {
        "init1": {"waiting": {"reason": "PodInitializing"}},
        "proxy": {"waiting": {"reason": "PodInitializing"}},
    }
    assert states(st) == {"app": {"waiting": {"reason": "PodInitializing"}}}


def test_init10_cs1_without_init_containers_the_default_is_container_creating() -> None:
    assert states(status(pod([c("app")]), ObservedPod())) == {
        "app": {"waiting": {"reason": "ContainerCreating"}}
    }


def test_cs1_running_created_and_exited_instances() -> None:
    spec = pod([c("a"), c("b"), c("d")])
    obs = observed(
        running(spec, "a"),
        with_state(running(spec, "b"), ContainerState.CREATED),
        exited(spec, "d", 2, attempt=3, finished=T0 + 4),
    )
    st = status(spec, obs)
    assert states(st) == {
        "a": {"running": {"startedAt": format_time(T0)}},
        "b": {"waiting": {}},
        "d": {
            "terminated": {
                "exitCode": 2,
                "reason": "Error",
                "startedAt": format_time(T0),
                "finishedAt": format_time(T0 + 4),
                "containerID": "kubelite://d-3",
            }
        },
    }
    d = next(s for s in st["containerStatuses"] if s["name"] == "d")
    assert (d["restartCount"], d["containerID"], d["imageID"], d["image"]) == (
        3,
        "kubelite://d-3",
        "sha256:abc",
        "busybox",
    )


def test_cs1_app4_the_previous_instance_becomes_last_state() -> None:
    spec = pod([c("app")])
    obs = observed(
        exited(spec, "app", 143, attempt=0, finished=T0 + 1),
        running(spec, "app", attempt=1, at=T0 + 2),
    )
    entry = status(spec, obs)["containerStatuses"][0]
    assert entry["restartCount"] == 1
    assert entry["lastState"]["terminated"]["exitCode"] == 143


def test_cs1_an_unknown_instance_that_was_running_is_terminated_unknown() -> None:
    spec = pod([c("app")])
    prev = {"containerStatuses": [{"name": "app", "state": {"running": {}}, "restartCount": 2}]}
    obs = observed(with_state(running(spec, "app", attempt=2), ContainerState.UNKNOWN))
    entry = status(spec, obs, previous=prev)["containerStatuses"][0]
    assert entry["state"] == {
        "terminated": {
            "exitCode": 137,
            "reason": "ContainerStatusUnknown",
            "message": "The container could not be located when the pod was terminated",
        }
    }
    assert entry["restartCount"] == 3


def test_cs2_a_running_container_that_disappears_keeps_waiting_with_an_unknown_last_state() -> None:
    spec = pod([c("app")])
    prev = {"containerStatuses": [{"name": "app", "state": {"running": {}}, "restartCount": 1}]}
    entry = status(spec, observed(), previous=prev)["containerStatuses"][0]
    assert entry["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert entry["lastState"]["terminated"]["message"] == (
        "The container could not be located when the pod was deleted.  "
        "The container used to be Running"
    )
    assert entry["restartCount"] == 2


def test_cs2_a_previous_terminated_status_is_carried_over() -> None:
    spec = pod([c("app")], [c("init")])
    done = {"terminated": {"exitCode": 0, "reason": "Completed"}}
    prev = {"initContainerStatuses": [{"name": "init", "state": done, "restartCount": 0}]}
    st = status(spec, observed(running(spec, "app")), previous=prev)
    assert st["initContainerStatuses"][0]["state"] == done
    assert st["initContainerStatuses"][0]["ready"] is True


@pytest.mark.parametrize(
    ("case", "failure", "expected"),
    [
        (
            "ErrImagePull",
            StartFailure("ErrImagePull", "not found"),
            {"reason": "ErrImagePull", "message": "not found"},
        ),
        (
            "ImagePullBackOff",
            StartFailure("ImagePullBackOff", 'Back-off pulling image "x"'),
            {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x"'},
        ),
        (
            "CreateContainerConfigError",
            StartFailure("CreateContainerConfigError", 'configmap "x" not found'),
            {"reason": "CreateContainerConfigError", "message": 'configmap "x" not found'},
        ),
    ],
)
def test_cs3_a_failed_start_shows_as_waiting_with_its_reason(
    case: str, failure: StartFailure, expected: dict[str, str]
) -> None:
    spec = pod([c("app")])
    entry = status(spec, observed(), start_failures={"app": failure})["containerStatuses"][0]
    assert entry["state"] == {"waiting": expected}, case


def test_cs3_bo5_crash_loop_back_off_moves_the_exit_to_last_state() -> None:
    spec = pod([c("app")])
    msg = "back-off 10s restarting failed container=app pod=p_ns(uid-1)"
    obs = observed(exited(spec, "app", 1, attempt=1))
    entry = status(spec, obs, start_failures={"app": StartFailure("CrashLoopBackOff", msg)})[
        "containerStatuses"
    ][0]
    assert entry["state"] == {"waiting": {"reason": "CrashLoopBackOff", "message": msg}}
    assert entry["lastState"]["terminated"]["exitCode"] == 1
    assert entry["restartCount"] == 1


def test_cs3_a_container_that_will_not_restart_shows_terminated() -> None:
    spec = pod([c("app")], restart="Never")
    obs = observed(exited(spec, "app", 1))
    entry = status(spec, obs, start_failures={"app": StartFailure("CrashLoopBackOff", "x")})[
        "containerStatuses"
    ][0]
    assert "terminated" in entry["state"]


def test_cs3_a_succeeded_regular_init_container_ignores_old_start_failures() -> None:
    spec = pod([c("app")], [c("init")])
    st = status(
        spec,
        observed(exited(spec, "init", 0)),
        start_failures={"init": StartFailure("ErrImagePull", "x")},
    )
    assert "terminated" in st["initContainerStatuses"][0]["state"]


def test_cs5_init11_started_and_ready() -> None:
    spec = pod(
        [c("app", readinessProbe=probe())], [c("init"), sidecar("proxy", startupProbe=probe())]
    )
    obs = observed(exited(spec, "init", 0), running(spec, "proxy"), running(spec, "app"))
    st = status(spec, obs, STARTED)
    flags = {
        s["name"]: (s["started"], s["ready"])
        for s in st["initContainerStatuses"] + st["containerStatuses"]
    }
    assert flags == {"init": (False, True), "proxy": (True, True), "app": (True, False)}


def test_cs6_app_statuses_are_sorted_by_name_and_init_statuses_keep_spec_order() -> None:
    spec = pod([c("zeta"), c("Alpha"), c("beta")], [c("z-init"), c("a-init")])
    st = status(spec, ObservedPod())
    assert [s["name"] for s in st["containerStatuses"]] == ["Alpha", "beta", "zeta"]
    assert [s["name"] for s in st["initContainerStatuses"]] == ["z-init", "a-init"]


def test_tm3_the_termination_message_is_appended_to_the_runtime_message() -> None:
    spec = pod([c("app")])
    ctr = exited(spec, "app", 1)
    ctr = type(ctr)(**{**{f: getattr(ctr, f) for f in ctr.__slots__}, "message": "oom"})  # type: ignore[attr-defined]
    st = status(spec, observed(ctr), termination_messages={ctr.id: "bye"}, previous={})
    assert st["containerStatuses"][0]["state"]["terminated"]["message"] == "oom: bye"


def test_tm4_messages_are_cut_to_an_equal_share_of_12288_bytes() -> None:
    spec = pod([c("a"), c("b")], [c("i")])
    ctr = exited(spec, "a", 1)
    st = status(spec, observed(ctr), termination_messages={ctr.id: "x" * 10000})
    message = next(s for s in st["containerStatuses"] if s["name"] == "a")["state"]["terminated"][
        "message"
    ]
    assert len(message) == 4096


@pytest.mark.parametrize(
    ("case", "status", "started"),
    [
        ("an empty status starts nothing", {}, set()),
        (
            "app and sidecar statuses that say started",
            {
                "initContainerStatuses": [
                    {"name": "proxy", "started": True, "containerID": "kubelite://p1"}
                ],
                "containerStatuses": [
                    {"name": "app", "started": True, "containerID": "kubelite://a1"}
                ],
            },
            {"p1", "a1"},
        ),
        (
            "a container not started yet",
            {
                "containerStatuses": [
                    {"name": "app", "started": False, "containerID": "kubelite://a"}
                ]
            },
            set(),
        ),
        ("a status without a container ID", {"containerStatuses": [{"started": True}]}, set()),
    ],
)
def test_pr5_cs5_the_probes_read_started_instances_from_the_written_status(
    case: str, status: dict[str, Any], started: set[str]
) -> None:
    assert started_instances(status) == frozenset(started), case


def test_co1_co5_conditions_the_kubelet_does_not_own_come_from_the_api_object() -> None:
    mine = {
        "phase": "Running",
        "conditions": [
            {"type": "old-gate", "status": "False"},
            {"type": "Ready", "status": "False"},
        ],
    }
    api = {
        "phase": "Pending",
        "conditions": [
            {"type": "example.com/lb", "status": "True"},
            {"type": "Ready", "status": "True"},
        ],
    }
    merged = with_api_conditions(mine, api)
    assert merged["phase"] == "Running"
    assert merged["conditions"] == [
        {"type": "example.com/lb", "status": "True"},
        {"type": "Ready", "status": "False"},
    ]
