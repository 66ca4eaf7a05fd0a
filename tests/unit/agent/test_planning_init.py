"""plan_pod for init containers and sidecars (INIT-*, SC-2..SC-6, SC-10, SYNC-3, SYNC-6)."""

from kubelite.agent.backoff import BackoffEntry, BackoffState, crash_key
from kubelite.agent.labels import spec_hash
from kubelite.agent.observed import ObservedPod
from kubelite.agent.planning import plan_pod
from kubelite.agent.probestate import ProbeResults, Result
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

TWO_INITS = pod([c("app")], [c("init-a"), c("init-b")])
NEVER = pod([c("app")], [c("init-a")], "Never")
ONFAILURE = pod([c("app")], [c("init-a")], "OnFailure")
NOW = T0 + 100


def plan(
    spec: PodSpec,
    obs: ObservedPod,
    probes: ProbeResults | None = None,
    backoff: BackoffState | None = None,
    now: float = NOW,
) -> list[str]:
    return describe(plan_pod(spec, obs, probes or ProbeResults(), backoff or BackoffState(), now))


def results(*entries: tuple[str, ProbeType, Result]) -> ProbeResults:
    return ProbeResults.of({(cid, t): r for cid, t, r in entries})


# ----------------------------------------------------------------------------- INIT-1


def test_init1_a_new_pod_gets_a_sandbox_and_only_its_first_init_container() -> None:
    assert plan(TWO_INITS, ObservedPod()) == ["create sandbox 0", "start init-a #None"]


def test_init1_nothing_starts_while_the_first_init_container_runs() -> None:
    assert plan(TWO_INITS, observed(running(TWO_INITS, "init-a"))) == []


def test_init1_the_next_init_container_starts_once_the_previous_succeeded() -> None:
    assert plan(TWO_INITS, observed(exited(TWO_INITS, "init-a", 0))) == ["start init-b #None"]


def test_init1_app_containers_start_once_the_last_init_container_succeeded() -> None:
    obs = observed(exited(TWO_INITS, "init-a", 0), exited(TWO_INITS, "init-b", 0))
    assert plan(TWO_INITS, obs) == ["start app #None"]


# --------------------------------------------------------------------- INIT-2, INIT-3


def test_init2_init3_an_oom_killed_init_container_failed_even_with_exit_0_and_restarts() -> None:
    obs = observed(exited(TWO_INITS, "init-a", 0, reason="OOMKilled"))
    assert plan(TWO_INITS, obs) == ["start init-a #1"]


def test_init3_only_the_failed_init_container_is_restarted_under_onfailure() -> None:
    spec = pod([c("app")], [c("init-a"), c("init-b")], "OnFailure")
    obs = observed(exited(spec, "init-a", 0), exited(spec, "init-b", 1, at=T0 + 2))
    assert plan(spec, obs) == ["start init-b #1"]


def test_init3_bo7_a_failed_init_container_goes_through_back_off() -> None:
    first = exited(ONFAILURE, "init-a", 1, attempt=1, at=T0 + 50, finished=NOW - 3)
    key = crash_key(
        ONFAILURE, ONFAILURE.init_containers[0], spec_hash(ONFAILURE.init_containers[0])
    )
    state = BackoffState().with_entry(key, BackoffEntry(10.0, T0 + 50))
    assert plan(ONFAILURE, observed(first), backoff=state) == ["back-off init-a 10s"]


# --------------------------------------------------------------------- INIT-4, INIT-5


def test_init4_a_failed_init_container_under_never_kills_the_pod_and_starts_nothing() -> None:
    spec = pod([c("app")], [sidecar("logs"), c("init-a")], "Never")
    obs = observed(running(spec, "logs"), exited(spec, "init-a", 1, at=T0 + 1))
    assert plan(spec, obs) == ["kill pod: stop [logs] sandboxes [sb0]"]


def test_init5_an_unknown_init_container_is_killed_and_restarted() -> None:
    obs = observed(with_state(running(ONFAILURE, "init-a"), ContainerState.UNKNOWN))
    assert plan(ONFAILURE, obs) == [
        'stop init-a: Init container is in "unknown" state, try killing it before restart',
        "start init-a #1",
    ]


def test_init5_an_unknown_init_container_under_never_is_a_failure() -> None:
    obs = observed(with_state(running(NEVER, "init-a"), ContainerState.UNKNOWN))
    assert plan(NEVER, obs) == ["kill pod: stop [init-a] sandboxes [sb0]"]


# --------------------------------------------------------------------- INIT-6..INIT-8


def test_init6_a_created_but_never_started_init_container_is_started_again() -> None:
    obs = observed(with_state(running(TWO_INITS, "init-a"), ContainerState.CREATED))
    assert plan(TWO_INITS, obs) == ["start init-a #1"]


def test_init7a_a_running_app_container_means_initialized_even_without_init_records() -> None:
    assert plan(TWO_INITS, observed(running(TWO_INITS, "app"))) == []


def test_init7_editing_a_finished_init_containers_image_has_no_effect() -> None:
    old = exited(TWO_INITS, "init-a", 0)
    edited = pod([c("app")], [c("init-a", "busybox:2"), c("init-b")])
    obs = observed(old, exited(TWO_INITS, "init-b", 0), running(TWO_INITS, "app"))
    assert plan(edited, obs) == []


def test_init9_exited_app_containers_without_init_records_run_init_again() -> None:
    """INIT-7 (a) does not hold for exited app containers: the sequence restarts at 0."""
    assert plan(TWO_INITS, observed(exited(TWO_INITS, "app", 0)))[-1] == "start init-a #None"


def test_init8_a_running_regular_init_container_is_not_restarted_for_a_new_image() -> None:
    edited = pod([c("app")], [c("init-a", "busybox:2"), c("init-b")])
    assert plan(edited, observed(running(TWO_INITS, "init-a"))) == []


def test_init8_an_init_container_not_yet_started_uses_the_new_image() -> None:
    edited = pod([c("app")], [c("init-a"), c("init-b", "busybox:2")])
    p = plan_pod(
        edited, observed(exited(TWO_INITS, "init-a", 0)), ProbeResults(), BackoffState(), NOW
    )
    assert [a.image for a in p.actions] == ["busybox:2"]  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- INIT-9


def test_init9_a_lost_sandbox_reruns_every_init_container_from_the_first() -> None:
    obs = observed(
        exited(TWO_INITS, "init-a", 0, id="a0"),
        exited(TWO_INITS, "init-b", 0, id="b0", at=T0 + 1),
        exited(TWO_INITS, "app", 137, at=T0 + 2),
        sandboxes=(sandbox(0, ready=False),),
    )
    p = plan_pod(TWO_INITS, obs, ProbeResults(), BackoffState(), NOW)
    assert describe(p) == ["prune b0, a0", "create sandbox 1", "start init-a #1"]
    sandbox_action = p.actions[1]
    assert [e.reason for e in sandbox_action.events] == ["SandboxChanged"]  # type: ignore[union-attr]


def test_init9_the_running_containers_of_a_dead_sandbox_are_killed_first() -> None:
    obs = observed(
        exited(TWO_INITS, "init-a", 0, id="a0"),
        running(TWO_INITS, "app"),
        sandboxes=(sandbox(0, ready=False),),
    )
    assert plan(TWO_INITS, obs)[:2] == ["kill pod: stop [app] sandboxes [sb0]", "prune a0"]


def test_init9_never_pod_that_lost_its_sandbox_is_killed_not_recreated() -> None:
    obs = observed(
        exited(NEVER, "init-a", 0), running(NEVER, "app"), sandboxes=(sandbox(0, ready=False),)
    )
    assert plan(NEVER, obs) == ["kill pod: stop [app] sandboxes [sb0]"]


def test_init9_onfailure_pod_whose_apps_all_succeeded_gets_no_new_sandbox() -> None:
    obs = observed(
        exited(ONFAILURE, "init-a", 0),
        exited(ONFAILURE, "app", 0),
        sandboxes=(sandbox(0, ready=False),),
    )
    assert plan(ONFAILURE, obs) == []


def test_sync3_two_ready_sandboxes_mean_a_new_one() -> None:
    obs = observed(sandboxes=(sandbox(0, at=T0), sandbox(1, at=T0 + 1)))
    assert plan(pod([c("app")]), obs) == [
        "kill pod: stop [] sandboxes [sb1, sb0]",
        "create sandbox 2",
        "start app #None",
    ]


# ---------------------------------------------------------------------------- INIT-12


def test_init12_only_the_newest_exited_instance_of_an_init_container_is_kept() -> None:
    obs = observed(
        exited(ONFAILURE, "init-a", 1, attempt=0, id="old", at=T0),
        exited(ONFAILURE, "init-a", 1, attempt=1, id="new", at=T0 + 10, finished=T0 + 11),
    )
    assert plan(ONFAILURE, obs)[0] == "prune old"


# ----------------------------------------------------------------------------- sidecars

PROXY = pod([c("app")], [sidecar("proxy", startupProbe=probe()), c("init-b")])


def test_sc2_a_sidecar_whose_startup_probe_has_not_passed_holds_the_next_init_container() -> None:
    assert plan(PROXY, observed(running(PROXY, "proxy"))) == []


def test_sc2_a_started_sidecar_lets_the_next_init_container_start() -> None:
    probes = results(("proxy-0", ProbeType.STARTUP, Result.SUCCESS))
    assert plan(PROXY, observed(running(PROXY, "proxy")), probes) == ["start init-b #None"]


def test_sc2_a_sidecar_without_startup_probe_is_started_once_running() -> None:
    spec = pod([c("app")], [sidecar("logs")])
    assert plan(spec, observed(running(spec, "logs"))) == ["start app #None"]


def test_sc2_sidecar_readiness_is_never_waited_for() -> None:
    spec = pod([c("app")], [sidecar("logs", readinessProbe=probe())])
    probes = results(("logs-0", ProbeType.READINESS, Result.FAILURE))
    assert plan(spec, observed(running(spec, "logs")), probes) == ["start app #None"]


def test_sc3_a_sidecar_that_exits_before_starting_is_restarted_even_under_never() -> None:
    spec = pod([c("app")], [sidecar("proxy", startupProbe=probe())], "Never")
    assert plan(spec, observed(exited(spec, "proxy", 0))) == ["start proxy #1"]


def test_sc3_a_failed_startup_probe_kills_and_restarts_the_sidecar() -> None:
    probes = results(("proxy-0", ProbeType.STARTUP, Result.FAILURE))
    assert plan(PROXY, observed(running(PROXY, "proxy")), probes) == [
        "stop proxy: Init container proxy failed startup probe",
        "start proxy #1",
    ]


def test_sc4_sc12_a_sidecar_that_exits_0_after_initialization_is_restarted() -> None:
    spec = pod([c("app")], [sidecar("logs")], "Never")
    obs = observed(exited(spec, "logs", 0), running(spec, "app"))
    assert plan(spec, obs) == ["start logs #1"]


def test_sc5_a_liveness_failure_kills_and_restarts_the_sidecar() -> None:
    spec = pod([c("app")], [sidecar("logs", livenessProbe=probe())])
    probes = results(("logs-0", ProbeType.LIVENESS, Result.FAILURE))
    obs = observed(running(spec, "logs"), running(spec, "app"))
    assert plan(spec, obs, probes) == [
        "stop logs: Init container logs failed liveness probe",
        "start logs #1",
    ]


def test_sc6_a_running_sidecar_with_a_new_image_is_restarted() -> None:
    old = pod([c("app")], [sidecar("logs")])
    new = pod([c("app")], [sidecar("logs", "busybox:2")])
    obs = observed(running(old, "logs"), running(old, "app"))
    assert plan(new, obs) == ["stop logs: Init container logs definition changed", "start logs #1"]


def test_sc10_a_finished_never_pod_kills_its_sidecars_without_restarting_them() -> None:
    spec = pod([c("job")], [sidecar("logs")], "Never")
    obs = observed(running(spec, "logs"), exited(spec, "job", 0, at=T0 + 1))
    p = plan_pod(spec, obs, ProbeResults(), BackoffState(), NOW)
    assert describe(p) == ["kill pod: stop [logs] sandboxes [sb0]"]
    stop = p.actions[0].stops[0]  # type: ignore[union-attr]
    assert (stop.message, stop.grace_seconds) == ("Stopping container logs", 30)


def test_sc10_an_onfailure_pod_with_a_failed_job_keeps_its_sidecar_and_restarts_the_job() -> None:
    spec = pod([c("job")], [sidecar("logs")], "OnFailure")
    obs = observed(running(spec, "logs"), exited(spec, "job", 1, at=T0 + 1))
    assert plan(spec, obs) == ["start job #1"]


# ----------------------------------------------------------------------------- SYNC-6


def _crashed(spec: PodSpec, name: str, finished: float) -> tuple[ContainerStatus, BackoffState]:
    ctr = spec.container(name)
    assert ctr is not None
    key = crash_key(spec, ctr, spec_hash(ctr))
    return exited(
        spec, name, 1, attempt=1, at=finished - 1, finished=finished
    ), BackoffState().with_entry(key, BackoffEntry(10.0, finished - 1))


def test_sync6_a_sidecar_in_back_off_does_not_hold_up_the_app_containers() -> None:
    spec = pod([c("app"), c("app2")], [sidecar("logs")])
    crashed, state = _crashed(spec, "logs", NOW - 2)
    obs = observed(crashed, running(spec, "app"), exited(spec, "app2", 1, finished=T0 + 1))
    assert plan(spec, obs, backoff=state) == ["back-off logs 10s", "start app2 #1"]


def test_sync6_a_regular_init_container_in_back_off_drops_the_rest_of_the_sync() -> None:
    spec = pod([c("app")], [c("init-a"), sidecar("logs")], "OnFailure")
    crashed, state = _crashed(spec, "init-a", NOW - 2)
    p = plan_pod(spec, observed(crashed), ProbeResults(), state, NOW)
    assert describe(p) == ["back-off init-a 10s"]
    assert p.resync_after == 8.0
    assert p.start_failures["init-a"].reason == "CrashLoopBackOff"
