"""The layout of fixed records: lanes in kind order, spans per state, probe ticks, marks,
grace windows and bands, each with its id; the same record always gives the same layout."""

from __future__ import annotations

import pytest

from kubelite.timeline import layout as lay
from kubelite.timeline import record as rec
from tests.unit.timeline import records
from tests.unit.timeline.records import s


def test_the_same_record_gives_the_same_layout() -> None:
    assert lay.layout(records.init_and_sidecar()) == lay.layout(records.init_and_sidecar())


def test_lanes_go_init_then_sidecar_then_app_whatever_the_table_order() -> None:
    record = records.init_and_sidecar()
    record["containers"].reverse()
    got = lay.layout(record)
    assert [(ln.id, ln.kind, ln.row) for ln in got.lanes] == [
        ("lane-write-config", "init", 0),
        ("lane-monitor", "sidecar", 1),
        ("lane-app", "app", 2),
    ]
    assert [ln.detail for ln in got.lanes] == [
        "init container 1",
        "native sidecar (init 2)",
        "app container",
    ]


def test_a_container_only_named_by_facts_gets_a_lane_at_the_end() -> None:
    record = records.init_and_sidecar()
    record["facts"].append(
        {"at": s(5), "type": rec.CONTAINER_STARTED, "container": "debugger", "attempt": 0}
    )
    got = lay.layout(record)
    assert got.lanes[-1].container == "debugger" and got.lanes[-1].kind == ""


def _spans(got: lay.Layout, container: str) -> list[tuple[str, str, float, float]]:
    return [
        (sp.id, sp.state, round(sp.start, 2), round(sp.end, 2))
        for sp in got.spans
        if sp.container == container
    ]


def test_an_init_container_pulls_runs_and_stays_exited_ok() -> None:
    got = lay.layout(records.init_and_sidecar())
    assert _spans(got, "write-config") == [
        ("span-write-config-0", lay.PULLING, 0.5, 1.5),
        ("span-write-config-1", lay.CREATED, 1.6, 1.7),
        ("span-write-config-2", lay.RUNNING, 1.7, 1.9),
        ("span-write-config-3", lay.EXITED_OK, 1.9, round(got.end, 2)),
    ]


def test_an_app_runs_then_turns_ready_and_is_stopped_after_the_deletion() -> None:
    got = lay.layout(records.init_and_sidecar())
    states = [(state, start, end) for _, state, start, end in _spans(got, "app")]
    assert states[:3] == [(lay.CREATED, 2.3, 2.4), (lay.RUNNING, 2.4, 4.5), (lay.READY, 4.5, 8.1)]
    assert states[3][0] == lay.EXITED_OK


def test_the_sidecar_gets_its_stop_signal_after_the_app_has_exited() -> None:
    got = lay.layout(records.init_and_sidecar())
    term = {m.container: m.at for m in got.marks if m.kind == lay.SIGTERM}
    exits = {m.container: m.at for m in got.marks if m.kind == lay.EXIT}
    assert term["app"] < exits["app"] < term["monitor"] < exits["monitor"]


def test_a_kill_request_opens_a_grace_window_of_its_period() -> None:
    got = lay.layout(records.init_and_sidecar())
    assert [(g.id, g.container, round(g.start, 2), g.seconds) for g in got.graces] == [
        ("grace-app-0", "app", 8.01, 30.0),
        ("grace-monitor-0", "monitor", 8.01, 30.0),
    ]


def test_a_folded_probe_fact_gives_one_tick_per_result_evenly_spaced() -> None:
    got = lay.layout(records.init_and_sidecar())
    ticks = [(t.id, round(t.at, 2), t.ok) for t in got.probes]
    assert ticks == [
        ("probe-readiness-app-0", 3.4, False),
        ("probe-readiness-app-1", 4.4, True),
        ("probe-readiness-app-2", 5.4, True),
        ("probe-readiness-app-3", 6.4, True),
        ("probe-readiness-app-4", 7.4, True),
    ]


def test_bands_hold_the_phase_the_sandbox_and_each_condition_in_order() -> None:
    got = lay.layout(records.init_and_sidecar())
    assert [b.id for b in got.bands] == [
        "band-Phase",
        "band-Sandbox",
        "band-PodScheduled",
        "band-PodReadyToStartContainers",
        "band-Initialized",
        "band-ContainersReady",
        "band-Ready",
    ]
    ready = next(b for b in got.bands if b.name == "Ready")
    assert [(sg.id, sg.value, round(sg.start, 2)) for sg in ready.segments] == [
        ("band-Ready-0", "False", 0.05),
        ("band-Ready-1", "True", 4.5),
        ("band-Ready-2", "False", 8.3),
    ]
    phase = next(b for b in got.bands if b.name == "Phase")
    assert [sg.value for sg in phase.segments] == ["Pending", "Running", "Succeeded"]


def test_the_pod_marks_are_the_deletion_and_the_end() -> None:
    got = lay.layout(records.init_and_sidecar())
    pod = [(m.id, m.kind, m.label) for m in got.marks if not m.container]
    assert pod == [
        ("mark-deletion-0", lay.DELETION, "deletion requested (grace 30s)"),
        ("mark-finished-0", lay.FINISHED, "all stopped"),
    ]


def test_a_crash_loop_shows_each_instance_its_exit_and_one_back_off_per_wait() -> None:
    got = lay.layout(records.crash_loop())
    states = [state for _, state, _, _ in _spans(got, "app")]
    assert states == [
        lay.CREATED,
        lay.RUNNING,
        lay.EXITED_FAILED,
        lay.BACKING_OFF,  # said twice in the record, one wait
        lay.CREATED,
        lay.RUNNING,
        lay.EXITED_FAILED,
        lay.BACKING_OFF,
    ]
    backoff = [sp for sp in got.spans if sp.state == lay.BACKING_OFF]
    assert round(backoff[0].start, 1) == 4.1 and round(backoff[0].end, 1) == 14.1
    assert backoff[0].label == "back-off 10s" and not backoff[0].open
    assert backoff[1].open  # 20 s from 21.5: past the record's end
    exits = [(m.label, m.failed) for m in got.marks if m.kind == lay.EXIT]
    assert exits == [("exit 1", True), ("exit 137 (SIGKILL)", True)]
    running = [sp for sp in got.spans if sp.state == lay.RUNNING]
    assert [sp.attempt for sp in running] == [0, 1]


def test_a_liveness_kill_has_its_sigterm_then_sigkill_after_the_grace() -> None:
    got = lay.layout(records.crash_loop())
    marks = [(m.kind, round(m.at, 2)) for m in got.marks if m.container == "app"]
    assert marks[-4:] == [
        (lay.KILL, 19.35),
        (lay.SIGTERM, 19.4),
        (lay.SIGKILL, 21.4),
        (lay.EXIT, 21.45),
    ]
    assert [(g.seconds, round(g.end, 2)) for g in got.graces] == [(2.0, 21.35)]


def test_hooks_are_spans_with_their_outcome() -> None:
    got = lay.layout(records.crash_loop())
    assert [(h.id, h.hook, round(h.start, 1), round(h.end, 1), h.outcome) for h in got.hooks] == [
        ("hook-app-0", "postStart", 1.1, 1.6, "Succeeded")
    ]


def test_a_start_failure_is_a_failed_mark_on_its_lane() -> None:
    got = lay.layout(records.crash_loop())
    (mark,) = [m for m in got.marks if m.container == "sidekick"]
    assert (mark.kind, mark.label, mark.failed) == (
        lay.START_FAILED,
        "CreateContainerConfigError",
        True,
    )


def test_a_running_pod_is_drawn_up_to_now() -> None:
    record = records.init_and_sidecar()
    record["facts"] = record["facts"][:26]  # before the deletion
    now = s(60) / 1e6
    got = lay.layout(record, now=now)
    assert got.end == pytest.approx(60)
    app = [sp for sp in got.spans if sp.container == "app"]
    assert app[-1].state == lay.READY and app[-1].open and app[-1].end == pytest.approx(60)


def test_an_empty_record_has_its_lanes_and_a_minimal_axis() -> None:
    record = records.init_and_sidecar()
    record["facts"] = []
    got = lay.layout(record)
    assert len(got.lanes) == 3 and got.end == lay.MIN_EXTENT and not got.spans


def test_facts_out_of_order_are_read_in_time_order() -> None:
    record = records.init_and_sidecar()
    facts = record["facts"]
    facts.append(facts.pop(0))  # PodCreated last
    facts.insert(0, facts.pop(20))  # a probe result first
    assert lay.layout(record) == lay.layout(records.init_and_sidecar())


def test_malformed_facts_are_skipped() -> None:
    record = records.init_and_sidecar()
    record["facts"] += [{"type": "ContainerStarted"}, "x", {"at": "soon", "type": "Probe"}]
    assert lay.layout(record) == lay.layout(records.init_and_sidecar())


def test_an_ephemeral_container_gets_the_last_lane() -> None:
    record = records.init_and_sidecar()
    record["containers"].insert(0, {"name": "debugger", "kind": "ephemeral", "index": 0})
    got = lay.layout(record)
    assert (got.lanes[-1].container, got.lanes[-1].detail) == ("debugger", "ephemeral container")
