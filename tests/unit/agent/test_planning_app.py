"""plan_pod for app containers, back-off, deletion and terminal pods
(APP-1..APP-3, SYNC-2..SYNC-8, BO-2, BO-2a, BO-5, TERM-1, TERM-5, HK-3)."""

import pytest

from kubelite.agent.actions import KillPod, KillReason, StartContainer
from kubelite.agent.backoff import BackoffEntry, BackoffState, crash_key
from kubelite.agent.labels import SPEC_HASH, spec_hash
from kubelite.agent.observed import ObservedPod
from kubelite.agent.planning import plan_pod
from kubelite.agent.predicates import should_restart
from kubelite.agent.probestate import ProbeResults, Result
from kubelite.agent.termination import post_start_failed
from kubelite.model.pod import PodSpec, ProbeType
from kubelite.runtime.interface import ContainerState, ContainerStatus
from tests.unit.agent.builders import (
    T0,
    c,
    describe,
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
TWO = pod([c("web"), c("db")])


def plan(
    spec: PodSpec,
    obs: ObservedPod,
    probes: ProbeResults | None = None,
    backoff: BackoffState | None = None,
    **kw: object,
) -> list[str]:
    return describe(
        plan_pod(spec, obs, probes or ProbeResults(), backoff or BackoffState(), NOW, **kw)
    )  # type: ignore[arg-type]


def test_app1_every_app_container_starts_in_the_same_sync_in_spec_order() -> None:
    assert plan(TWO, observed()) == ["start web #None", "start db #None"]


def test_sync3_sync4_a_first_sync_creates_the_sandbox_before_starting() -> None:
    assert plan(TWO, ObservedPod()) == ["create sandbox 0", "start web #None", "start db #None"]


def test_sync4_start_actions_carry_the_labels_and_the_abort_rule() -> None:
    spec = pod([c("app")], [c("init")])
    p = plan_pod(spec, observed(), ProbeResults(), BackoffState(), NOW)
    start = p.actions[0]
    assert isinstance(start, StartContainer)
    assert start.abort_on_failure and start.labels[SPEC_HASH] == spec_hash(spec.init_containers[0])


@pytest.mark.parametrize(
    ("case", "policy", "state", "code", "restart"),
    [
        ("Always restarts an exit 0", "Always", ContainerState.EXITED, 0, True),
        ("OnFailure leaves an exit 0 alone", "OnFailure", ContainerState.EXITED, 0, False),
        ("OnFailure restarts an OOM kill (137)", "OnFailure", ContainerState.EXITED, 137, True),
        ("Never leaves an exit 1 alone", "Never", ContainerState.EXITED, 1, False),
        ("a created instance is started under Never", "Never", ContainerState.CREATED, 0, True),
        ("an unknown instance is started under Never", "Never", ContainerState.UNKNOWN, 0, True),
        ("a running instance is not restarted", "Always", ContainerState.RUNNING, 0, False),
    ],
)
def test_app2_should_a_container_be_restarted(
    case: str, policy: str, state: ContainerState, code: int, restart: bool
) -> None:
    spec = pod([c("app")], restart=policy)
    obs = observed(with_state(exited(spec, "app", code), state))
    assert should_restart(spec, spec.containers[0], obs) is restart, case


def test_app2_a_deleted_pod_never_restarts_anything() -> None:
    spec = pod([c("app")], deleted=T0)
    assert not should_restart(spec, spec.containers[0], observed())


def test_app2_an_unknown_container_is_killed_before_it_is_restarted() -> None:
    spec = pod([c("app")])
    assert plan(spec, observed(with_state(running(spec, "app"), ContainerState.UNKNOWN))) == [
        'stop app: Container is in "unknown" state, try killing it before restart',
        "start app #1",
    ]


def test_sync7_a_restart_gets_the_previous_restart_count_plus_one() -> None:
    spec = pod([c("app")])
    obs = observed(exited(spec, "app", 1, attempt=4, finished=T0 + 1))
    key = crash_key(spec, spec.containers[0], spec_hash(spec.containers[0]))
    state = BackoffState().with_entry(key, BackoffEntry(10.0, T0))
    assert plan(spec, obs, backoff=state) == ["start app #5"]


# ------------------------------------------------------------------------------ APP-3

LIVE = pod([c("app", livenessProbe=probe(terminationGracePeriodSeconds=5))], tgps=45)
LIVE_NEVER = pod([c("app", livenessProbe=probe())], restart="Never")


def failing(probe_type: ProbeType, cid: str = "app-0") -> ProbeResults:
    return ProbeResults.of({(cid, probe_type): Result.FAILURE})


def test_app3_a_liveness_failure_kills_and_restarts_with_the_probe_grace() -> None:
    p = plan_pod(
        LIVE, observed(running(LIVE, "app")), failing(ProbeType.LIVENESS), BackoffState(), NOW
    )
    assert describe(p) == [
        "stop app: Container app failed liveness probe, will be restarted",
        "start app #1",
    ]
    assert p.actions[0].grace_seconds == 5  # type: ignore[union-attr]  # PR-7


def test_app3_a_liveness_failure_under_never_kills_without_restart_suffix() -> None:
    spec = pod([c("app", livenessProbe=probe()), c("other")], restart="Never")
    obs = observed(running(spec, "app"), running(spec, "other"))
    assert plan(spec, obs, failing(ProbeType.LIVENESS)) == [
        "stop app: Container app failed liveness probe"
    ]


def test_sync3_a_liveness_failure_of_the_only_container_under_never_kills_the_pod() -> None:
    """SYNC-3 step 4: nothing is kept or restarted, so the pod kill (Stopping container) wins."""
    p = plan(LIVE_NEVER, observed(running(LIVE_NEVER, "app")), failing(ProbeType.LIVENESS))
    assert p == ["kill pod: stop [app] sandboxes [sb0]"]


def test_app3_a_startup_failure_kills_with_the_pod_grace_when_the_probe_has_none() -> None:
    spec = pod([c("app", startupProbe=probe())], tgps=45)
    p = plan_pod(
        spec, observed(running(spec, "app")), failing(ProbeType.STARTUP), BackoffState(), NOW
    )
    assert describe(p) == [
        "stop app: Container app failed startup probe, will be restarted",
        "start app #1",
    ]
    assert p.actions[0].grace_seconds == 45  # type: ignore[union-attr]


def test_app3_sync8_an_image_change_restarts_even_under_never() -> None:
    old = pod([c("app")], restart="Never")
    new = pod([c("app", "busybox:2")], restart="Never")
    assert plan(new, observed(running(old, "app"))) == [
        "stop app: Container app definition changed, will be restarted",
        "start app #1",
    ]


def test_sync8_only_name_and_image_are_hashed() -> None:
    a = pod([c("app", env=[{"name": "A", "value": "1"}])]).containers[0]
    b = pod([c("app")]).containers[0]
    assert spec_hash(a) == spec_hash(b)


def test_bo2a_a_probe_restart_checks_the_instance_before_the_running_one() -> None:
    """The older exit is 95 s old, longer than the 10 s delay: the restart is immediate."""
    spec = LIVE
    obs = observed(
        exited(spec, "app", 1, attempt=0, at=T0, finished=T0 + 5),
        running(spec, "app", attempt=1, at=T0 + 6, id="app-1"),
    )
    key = crash_key(spec, spec.containers[0], spec_hash(spec.containers[0]))
    state = BackoffState().with_entry(key, BackoffEntry(10.0, T0 + 6))
    p = plan_pod(spec, obs, failing(ProbeType.LIVENESS, "app-1"), state, NOW)
    assert describe(p)[-1] == "start app #2"
    assert p.backoff.get(key) == BackoffEntry(20.0, NOW)


def test_bo2_bo5_a_container_in_back_off_waits_with_the_kubelet_message() -> None:
    spec = pod([c("app")])
    obs = observed(exited(spec, "app", 1, attempt=1, at=NOW - 3, finished=NOW - 2))
    key = crash_key(spec, spec.containers[0], spec_hash(spec.containers[0]))
    state = BackoffState().with_entry(key, BackoffEntry(40.0, NOW - 3))
    p = plan_pod(spec, obs, ProbeResults(), state, NOW)
    assert describe(p) == ["back-off app 40s"]
    failure = p.start_failures["app"]
    assert (failure.reason, failure.message) == (
        "CrashLoopBackOff",
        "back-off 40s restarting failed container=app pod=p_ns(uid-1)",
    )
    event = p.actions[0].event  # type: ignore[union-attr]
    assert (event.type, event.reason, event.message) == (
        "Warning",
        "BackOff",
        "Back-off restarting failed container app in pod p_ns(uid-1)",
    )
    assert p.resync_after == 38.0  # BO-6


def test_sync6_an_app_container_in_back_off_does_not_hold_up_the_others() -> None:
    obs = observed(exited(TWO, "web", 1, attempt=1, at=NOW - 3, finished=NOW - 2))
    key = crash_key(TWO, TWO.containers[0], spec_hash(TWO.containers[0]))
    state = BackoffState().with_entry(key, BackoffEntry(10.0, NOW - 3))
    assert plan(TWO, obs, backoff=state) == ["back-off web 10s", "start db #None"]


# --------------------------------------------------------------- SYNC-3 step 4, SYNC-2


def test_sync3_never_pod_whose_containers_all_exited_is_killed() -> None:
    spec = pod([c("app")], restart="Never")
    assert plan(spec, observed(exited(spec, "app", 0))) == ["kill pod: stop [] sandboxes [sb0]"]


def test_sync2_term5_a_terminal_phase_stops_what_still_runs_and_starts_nothing() -> None:
    spec = pod([c("a"), c("b")], restart="Never")
    obs = observed(running(spec, "a"), exited(spec, "b", 1))
    p = plan_pod(spec, obs, ProbeResults(), BackoffState(), NOW, phase="Failed")
    assert describe(p) == ["kill pod: stop [a] sandboxes [sb0]"] and p.terminating


@pytest.mark.parametrize(
    ("case", "restart", "app_exit", "starts"),
    [
        ("Never: an app container that exited stays terminated", "Never", 0, ["logs"]),
        ("Never: even after a failure", "Never", 1, ["logs"]),
        ("OnFailure: a succeeded one stays terminated", "OnFailure", 0, ["logs"]),
        ("OnFailure: a failed one runs again", "OnFailure", 1, ["app", "logs"]),
        ("Always: it runs again", "Always", 0, ["app", "logs"]),
    ],
)
def test_sc14_only_sidecars_and_failed_onfailure_containers_leave_terminated(
    case: str, restart: str, app_exit: int, starts: list[str]
) -> None:
    """The kubelet's status manager refuses a status that takes a regular container of a Never
    pod (or a succeeded one of an OnFailure pod) from terminated back to running; the planner
    never starts one, so kubelite never writes such a status. Sidecars are exempt."""
    spec = pod([c("app"), c("web")], [sidecar("logs")], restart)
    obs = observed(
        exited(spec, "logs", 0), running(spec, "web"), exited(spec, "app", app_exit, at=T0 + 10)
    )
    p = plan_pod(spec, obs, ProbeResults(), BackoffState(), NOW)
    started = sorted(a.name for a in p.actions if isinstance(a, StartContainer))
    assert started == starts, case


# ---------------------------------------------------------------------- deletion, TERM-1


def test_app2_term1_a_deleted_pod_is_killed_with_its_deletion_grace() -> None:
    spec = pod([c("app")], [sidecar("logs")], deleted=T0, deletion_grace=12)
    obs = observed(running(spec, "logs"), running(spec, "app"))
    p = plan_pod(spec, obs, ProbeResults(), BackoffState(), NOW)
    assert describe(p) == ["kill pod: stop [logs<app>, app] sandboxes [sb0]"]
    kill = p.actions[0]
    assert isinstance(kill, KillPod)
    assert [s.grace_seconds for s in kill.stops] == [12, 12]
    assert [s.event.message for s in kill.stops] == [
        "Stopping container logs",
        "Stopping container app",
    ]
    assert not p.finished


def test_term1_a_forced_deletion_still_gives_one_second() -> None:
    spec = pod([c("app")], deleted=T0, deletion_grace=0)
    p = plan_pod(spec, observed(running(spec, "app")), ProbeResults(), BackoffState(), NOW)
    assert p.actions[0].stops[0].grace_seconds == 1  # type: ignore[union-attr]


def test_term1_the_smallest_grace_seen_wins() -> None:
    spec = pod([c("app")], deleted=T0, deletion_grace=30)
    p = plan_pod(
        spec, observed(running(spec, "app")), ProbeResults(), BackoffState(), NOW, grace_override=4
    )
    assert p.actions[0].stops[0].grace_seconds == 4  # type: ignore[union-attr]


def test_app2_a_deleted_pod_with_everything_stopped_is_finished() -> None:
    spec = pod([c("app")], deleted=T0)
    obs = observed(exited(spec, "app", 0), sandboxes=(sandbox(ready=False),))
    p = plan_pod(spec, obs, ProbeResults(), BackoffState(), NOW)
    assert p.actions == () and p.finished and p.terminating


# ------------------------------------------------------------------------------- HK-3


def test_hk3_a_failed_post_start_hook_kills_with_tgps_and_records_the_error() -> None:
    spec = pod([c("app", lifecycle={"postStart": {"exec": {"command": ["false"]}}})], tgps=20)
    ctr: ContainerStatus = running(spec, "app")
    stop, failure, events = post_start_failed(
        spec, spec.containers[0], ctr, "Exec lifecycle hook ([false]) ..."
    )
    assert (stop.reason, stop.message, stop.grace_seconds) == (
        KillReason.POST_START,
        "FailedPostStartHook",
        20,
    )
    assert stop.event.reason == "Killing"
    assert (failure.reason, failure.message) == (
        "PostStartHookError",
        "Exec lifecycle hook ([false]) ...",
    )
    assert [(e.type, e.reason, e.message) for e in events] == [
        ("Warning", "FailedPostStartHook", "PostStartHook failed")
    ]
