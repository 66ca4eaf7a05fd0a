"""Probe result tracking (PR-5, PR-7, PR-8, CS-5)."""

from dataclasses import replace

import pytest

from kubelite.agent.probestate import (
    Outcome,
    ProbeResults,
    ProbeWorker,
    RawResult,
    Result,
    TickDecision,
    due_on_start,
    is_ready,
    is_started,
    needs_immediate_readiness,
    new_worker,
    observe_container,
    pod_deleting,
    record,
    tick_decision,
)
from kubelite.model.pod import ProbeType
from kubelite.runtime.interface import ContainerState
from tests.unit.agent.builders import T0, c, exited, pod, probe, running, with_state

SPEC = pod(
    [
        c(
            "app",
            livenessProbe=probe(failureThreshold=3),
            readinessProbe=probe(successThreshold=2, initialDelaySeconds=5),
            startupProbe=probe(failureThreshold=2),
        )
    ]
)
APP = SPEC.containers[0]
LIVENESS = APP.probes[ProbeType.LIVENESS]
READINESS = APP.probes[ProbeType.READINESS]
STARTUP = APP.probes[ProbeType.STARTUP]
FAIL = RawResult(Outcome.FAILURE, "HTTP probe failed with statuscode: 500")
OK = RawResult(Outcome.SUCCESS)


def worker(probe_spec: object, cid: str = "app-0") -> ProbeWorker:
    return observe_container(new_worker(probe_spec), cid)  # type: ignore[arg-type]


def feed(w: ProbeWorker, *raws: RawResult) -> list[Result | None]:
    committed = []
    for raw in raws:
        w = record(w, APP, raw).worker
        committed.append(w.committed)
    return committed


@pytest.mark.parametrize(
    ("probe_type", "initial"),
    [
        (ProbeType.STARTUP, Result.UNKNOWN),
        (ProbeType.LIVENESS, Result.SUCCESS),
        (ProbeType.READINESS, Result.FAILURE),
    ],
)
def test_pr5_a_new_container_id_resets_the_result(probe_type: ProbeType, initial: Result) -> None:
    w = worker(APP.probes[probe_type], "old")
    w = replace(
        w,
        committed=Result.SUCCESS if initial is not Result.SUCCESS else Result.FAILURE,
        on_hold=True,
    )
    w = observe_container(w, "new")
    assert (w.committed, w.on_hold, w.streak, w.container_id) == (initial, False, 0, "new")


def test_pr5_the_same_container_id_keeps_the_state() -> None:
    w = replace(worker(LIVENESS), streak=2)
    assert observe_container(w, "app-0") is w


def test_pr5_liveness_commits_failure_only_after_failure_threshold_in_a_row() -> None:
    assert feed(worker(LIVENESS), FAIL, FAIL, OK, FAIL, FAIL, FAIL) == [
        Result.SUCCESS,
        Result.SUCCESS,
        Result.SUCCESS,
        Result.SUCCESS,
        Result.SUCCESS,
        Result.FAILURE,
    ]


def test_pr5_readiness_commits_success_after_success_threshold() -> None:
    assert feed(worker(READINESS), OK, OK) == [Result.FAILURE, Result.SUCCESS]


def test_pr5_a_committed_liveness_failure_puts_the_worker_on_hold_until_a_new_id() -> None:
    w = worker(LIVENESS)
    for _ in range(3):
        w = record(w, APP, FAIL).worker
    assert w.on_hold
    ctr = running(SPEC, "app")
    assert tick_decision(w, ctr, started=True, will_restart=True, now=T0 + 100) is TickDecision.SKIP
    fresh = observe_container(w, "app-1")
    new_ctr = running(SPEC, "app", attempt=1, id="app-1")
    assert (
        tick_decision(fresh, new_ctr, started=True, will_restart=True, now=T0 + 100)
        is TickDecision.PROBE
    )


def test_pr5_any_committed_startup_result_puts_the_worker_on_hold() -> None:
    out = record(worker(STARTUP), APP, OK)
    assert out.worker.committed is Result.SUCCESS and out.worker.on_hold and out.changed


def test_pr7_every_raw_failure_emits_unhealthy_even_below_the_threshold() -> None:
    out = record(worker(LIVENESS), APP, FAIL)
    assert [e.message for e in out.events] == [
        "Liveness probe failed: HTTP probe failed with statuscode: 500"
    ]
    assert not out.changed


def test_pr5_a_raw_unknown_counts_as_failure_without_an_event() -> None:
    w = worker(LIVENESS)
    outs = []
    for _ in range(3):
        out = record(w, APP, RawResult(Outcome.UNKNOWN))
        w = out.worker
        outs.append(out.events)
    assert w.committed is Result.FAILURE and outs == [(), (), ()]


def test_pr5_a_warning_counts_as_success_and_emits_probe_warning() -> None:
    out = record(worker(READINESS), APP, RawResult(Outcome.WARNING, "Probe terminated redirects"))
    assert out.worker.last_raw is Result.SUCCESS
    assert [(e.reason, e.message) for e in out.events] == [
        ("ProbeWarning", "Readiness probe warning: Probe terminated redirects")
    ]


def test_pr5_a_machinery_error_is_reported_and_thrown_away() -> None:
    w = worker(LIVENESS)
    w = record(w, APP, FAIL).worker
    out = record(w, APP, RawResult(Outcome.UNKNOWN, error='unknown port "web"'))
    assert out.worker.streak == 1 and out.worker.last_raw is Result.FAILURE
    assert out.events[0].message == (
        'Liveness probe errored and resulted in unknown state: unknown port "web"'
    )


@pytest.mark.parametrize(
    ("case", "probe_type", "state", "started", "now", "decision"),
    [
        (
            "a container that is not running is skipped",
            ProbeType.LIVENESS,
            ContainerState.CREATED,
            False,
            T0 + 50,
            TickDecision.SKIP,
        ),
        (
            "startup runs before the container has started",
            ProbeType.STARTUP,
            ContainerState.RUNNING,
            False,
            T0 + 50,
            TickDecision.PROBE,
        ),
        (
            "startup stops running once started",
            ProbeType.STARTUP,
            ContainerState.RUNNING,
            True,
            T0 + 50,
            TickDecision.SKIP,
        ),
        (
            "liveness waits for the start",
            ProbeType.LIVENESS,
            ContainerState.RUNNING,
            False,
            T0 + 50,
            TickDecision.SKIP,
        ),
        (
            "liveness runs once started",
            ProbeType.LIVENESS,
            ContainerState.RUNNING,
            True,
            T0 + 50,
            TickDecision.PROBE,
        ),
        (
            "readiness waits for initialDelaySeconds from startedAt",
            ProbeType.READINESS,
            ContainerState.RUNNING,
            True,
            T0 + 4,
            TickDecision.SKIP,
        ),
        (
            "readiness runs after initialDelaySeconds",
            ProbeType.READINESS,
            ContainerState.RUNNING,
            True,
            T0 + 5,
            TickDecision.PROBE,
        ),
    ],
)
def test_pr5_when_a_tick_probes(
    case: str,
    probe_type: ProbeType,
    state: ContainerState,
    started: bool,
    now: float,
    decision: TickDecision,
) -> None:
    ctr = with_state(running(SPEC, "app"), state)
    w = worker(APP.probes[probe_type])
    assert tick_decision(w, ctr, started=started, will_restart=True, now=now) is decision, case


def test_pr5_the_worker_ends_when_the_container_exited_for_good() -> None:
    done = exited(SPEC, "app", 1)
    w = worker(LIVENESS)
    assert tick_decision(w, done, started=False, will_restart=False, now=T0) is TickDecision.STOP
    assert tick_decision(w, done, started=False, will_restart=True, now=T0) is TickDecision.SKIP


def test_pr5_on_pod_deletion_liveness_and_startup_commit_success_and_stop() -> None:
    w = pod_deleting(replace(worker(LIVENESS), committed=Result.FAILURE))
    assert (w.committed, w.stopped) == (Result.SUCCESS, True)
    r = worker(READINESS)
    assert pod_deleting(r) is r


def test_pr5_readiness_is_triggered_at_once_for_a_started_container_without_a_run() -> None:
    r = worker(READINESS)
    assert needs_immediate_readiness(r, started=True, running=True)
    assert not needs_immediate_readiness(record(r, APP, OK).worker, started=True, running=True)


def test_cs5_pr7_started_and_ready_follow_committed_results() -> None:
    ctr = running(SPEC, "app")
    none = ProbeResults()
    assert not is_started(APP, ctr, none)
    started_only = ProbeResults.of({("app-0", ProbeType.STARTUP): Result.SUCCESS})
    assert is_started(APP, ctr, started_only) and not is_ready(APP, ctr, started_only)
    both = ProbeResults.of(
        {
            ("app-0", ProbeType.STARTUP): Result.SUCCESS,
            ("app-0", ProbeType.READINESS): Result.SUCCESS,
        }
    )
    assert is_ready(APP, ctr, both)


def test_pr8_a_container_without_probes_is_started_and_ready_while_running() -> None:
    plain = pod([c("x")])
    ctr = running(plain, "x")
    assert is_started(plain.containers[0], ctr, ProbeResults())
    assert is_ready(plain.containers[0], ctr, ProbeResults())
    assert not is_ready(plain.containers[0], exited(plain, "x"), ProbeResults())


def test_results_are_gathered_from_workers() -> None:
    workers = {"a": worker(LIVENESS), "b": new_worker(READINESS)}
    assert ProbeResults.from_workers(workers).results == {
        ("app-0", ProbeType.LIVENESS): Result.SUCCESS
    }


@pytest.mark.parametrize(
    ("case", "probe_spec", "stopped", "before", "after", "due"),
    [
        ("readiness of an instance that just started", READINESS, False, set(), {"app-0"}, True),
        ("liveness of an instance that just started", LIVENESS, False, set(), {"app-0"}, True),
        ("the startup probe is never due on start", STARTUP, False, set(), {"app-0"}, False),
        ("started before: not due again", READINESS, False, {"app-0"}, {"app-0"}, False),
        ("another instance that started is not this one", READINESS, False, set(), {"x"}, False),
        ("a stopped worker stays stopped", LIVENESS, True, set(), {"app-0"}, False),
    ],
)
def test_pr5_liveness_and_readiness_tick_at_once_when_the_status_first_says_started(
    case: str,
    probe_spec: object,
    stopped: bool,
    before: set[str],
    after: set[str],
    due: bool,
) -> None:
    w = replace(worker(probe_spec), stopped=stopped)
    assert due_on_start(w, frozenset(before), frozenset(after)) is due, case
