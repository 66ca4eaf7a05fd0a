"""The lifecycle record a real NodeAgent keeps, on FakeRuntime and virtual time: facts come in
the order things happened, from the agent's own decisions (kills, back-off), its status
(phase, conditions, readiness), the runtime (creation, start, exit) and its wrappers
(sandbox, signals, hooks, probes)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.agent.lifecycle import LifecycleBook
from kubelite.agent.lifecyclestatic import RecordedStaticPods
from kubelite.agent.probestate import Outcome
from kubelite.clock import ManualClock
from kubelite.timeline import record as rec
from tests.component.agent import harness
from tests.component.agent.harness import T0, FakeProbes, Node, c, exec_probe, pod, sidecar


@pytest.fixture
def book(monkeypatch: pytest.MonkeyPatch) -> Iterator[LifecycleBook]:
    """Every harness node's pods keep their records in this book."""
    clock = ManualClock(T0)
    found = LifecycleBook(clock=clock, node_name="node-1")
    monkeypatch.setattr(
        harness, "StaticPods", functools.partial(RecordedStaticPods, lifecycle=found)
    )
    yield found


def running(tmp: Path, book: LifecycleBook, **kwargs: Any) -> Any:
    clock = book._clock  # the book and the node share one virtual clock
    assert isinstance(clock, ManualClock)
    return Node.running(tmp, clock=clock, **kwargs)


def facts(book: LifecycleBook, uid: str) -> list[dict[str, Any]]:
    record = book.get(uid)
    assert record is not None
    return record.object()["facts"]


def seconds(f: dict[str, Any]) -> float:
    return round(f["at"] / 1e6 - T0, 3)


def story(fs: list[dict[str, Any]], *types: str) -> list[tuple[str, str]]:
    """(type, container) of the facts of these types, in order."""
    return [(f["type"], f.get("container", "")) for f in fs if f["type"] in types]


def init_and_sidecar() -> dict[str, Any]:
    return pod(
        "web",
        [c("app", readinessProbe=exec_probe("true", periodSeconds=5))],
        init=[c("write-config"), sidecar("monitor")],
        tgps=30,
    )


async def test_init_containers_run_in_order_then_the_sidecar_then_the_app(
    tmp_path: Path, book: LifecycleBook
) -> None:
    async with running(tmp_path, book) as node:
        node.runtime.script("write-config", runs=1.0, exit_code=0)
        uid = node.add(init_and_sidecar())
        await node.advance_to(20)
        fs = facts(book, uid)
    assert story(fs, rec.CONTAINER_STARTED, rec.CONTAINER_EXITED) == [
        (rec.CONTAINER_STARTED, "write-config"),
        (rec.CONTAINER_EXITED, "write-config"),
        (rec.CONTAINER_STARTED, "monitor"),
        (rec.CONTAINER_STARTED, "app"),
    ]
    exited = next(f for f in fs if f["type"] == rec.CONTAINER_EXITED)
    assert (exited["exitCode"], exited["reason"], exited["attempt"]) == (0, "Completed", 0)
    assert [f["type"] for f in fs[:2]] == [rec.POD_CREATED, rec.PHASE_CHANGED]
    assert story(fs, rec.SANDBOX_CREATING, rec.SANDBOX_READY) == [
        (rec.SANDBOX_CREATING, ""),
        (rec.SANDBOX_READY, ""),
    ]
    assert [f["at"] for f in fs] == sorted(f["at"] for f in fs)
    record = book.get(uid)
    assert record is not None
    assert record.object()["containers"] == [
        {"name": "write-config", "kind": "init", "index": 0},
        {"name": "monitor", "kind": "sidecar", "index": 1},
        {"name": "app", "kind": "app", "index": 0},
    ]


async def test_conditions_and_the_phase_are_recorded_as_they_change(
    tmp_path: Path, book: LifecycleBook
) -> None:
    async with running(tmp_path, book) as node:
        node.runtime.script("write-config", runs=1.0, exit_code=0)
        uid = node.add(init_and_sidecar())
        await node.advance_to(20)
        fs = facts(book, uid)
    conditions = [(f["condition"], f["status"]) for f in fs if f["type"] == rec.CONDITION_CHANGED]
    assert conditions.index(("Initialized", "True")) < conditions.index(("Ready", "True"))
    assert ("ContainersReady", "True") in conditions
    phases = [f["phase"] for f in fs if f["type"] == rec.PHASE_CHANGED]
    assert phases == ["Pending", "Running"]
    ready = story(fs, rec.CONTAINER_READY)
    # a completed init container counts as ready, as the kubelet reports it
    assert [name for _, name in ready] == ["write-config", "monitor", "app"]


async def test_repeated_probe_results_are_folded_into_one_fact(
    tmp_path: Path, book: LifecycleBook
) -> None:
    async with running(tmp_path, book) as node:
        node.runtime.script("write-config", runs=1.0, exit_code=0)
        uid = node.add(init_and_sidecar())
        await node.advance_to(60)
        fs = facts(book, uid)
    probes = [f for f in fs if f["type"] == rec.PROBE]
    assert len(probes) == 1
    (probe,) = probes
    assert (probe["container"], probe["probe"], probe["result"]) == ("app", "readiness", "success")
    assert probe["count"] >= 10 and probe["last"] > probe["at"]


async def test_on_deletion_the_app_is_signalled_and_exits_before_the_sidecar(
    tmp_path: Path, book: LifecycleBook
) -> None:
    async with running(tmp_path, book) as node:
        node.runtime.script("write-config", runs=1.0, exit_code=0)
        node.runtime.script("app", on_term=2.0, term_exit_code=0)
        node.runtime.script("monitor", on_term=1.0, term_exit_code=0)
        uid = node.add(init_and_sidecar())
        await node.advance_to(20)
        node.pods.delete_pod(uid)
        await node.advance(40)
        fs = facts(book, uid)

    def at(kind: str, container: str) -> float:
        return next(
            seconds(f) for f in fs if (f["type"], f.get("container", "")) == (kind, container)
        )

    # SC-11: the app gets its stop signal at once; the sidecar only once the app has exited
    assert at(rec.DELETION_REQUESTED, "") == 20.0
    assert at(rec.KILL_REQUESTED, "app") == at(rec.KILL_REQUESTED, "monitor") == 20.0
    assert at(rec.SIGNAL_SENT, "app") == 20.0
    assert at(rec.CONTAINER_EXITED, "app") == 22.0
    assert at(rec.SIGNAL_SENT, "monitor") == 22.0
    assert at(rec.CONTAINER_EXITED, "monitor") == 23.0
    assert fs[-1]["type"] == rec.POD_FINISHED
    deletion = next(f for f in fs if f["type"] == rec.DELETION_REQUESTED)
    assert deletion["gracePeriodSeconds"] == 30 and seconds(deletion) == 20.0
    kill = next(f for f in fs if f["type"] == rec.KILL_REQUESTED)
    assert (kill["reason"], kill["gracePeriodSeconds"]) == ("PodDeletion", 30)
    signals = [
        (f["container"], f["signal"], seconds(f)) for f in fs if f["type"] == rec.SIGNAL_SENT
    ]
    assert signals == [("app", "SIGTERM", 20.0), ("monitor", "SIGTERM", 22.0)]
    phases = [f["phase"] for f in fs if f["type"] == rec.PHASE_CHANGED]
    assert phases[-1] == "Succeeded"


async def test_a_container_that_ignores_sigterm_gets_sigkill_when_its_grace_ends(
    tmp_path: Path, book: LifecycleBook
) -> None:
    async with running(tmp_path, book) as node:
        node.runtime.script("app", on_term=None)
        uid = node.add(pod("p", [c("app")], tgps=5))
        await node.advance_to(3)
        node.pods.delete_pod(uid)
        await node.advance(20)
        fs = facts(book, uid)
    signals = [(f["signal"], seconds(f)) for f in fs if f["type"] == rec.SIGNAL_SENT]
    assert signals == [("SIGTERM", 3.0), ("SIGKILL", 8.0)]
    exited = next(f for f in fs if f["type"] == rec.CONTAINER_EXITED)
    assert (exited["exitCode"], exited["signal"]) == (137, "SIGKILL")


async def test_a_crash_loop_records_each_exit_and_one_back_off_per_wait(
    tmp_path: Path, book: LifecycleBook
) -> None:
    async with running(tmp_path, book) as node:
        node.runtime.script("app", runs=1.0, exit_code=1)
        uid = node.add(pod("p", [c("app")]))
        await node.advance_to(40)
        fs = facts(book, uid)
    waits = [(f["seconds"], seconds(f)) for f in fs if f["type"] == rec.BACK_OFF]
    exits = [(f["attempt"], f["exitCode"]) for f in fs if f["type"] == rec.CONTAINER_EXITED]
    assert [w for w, _ in waits][:2] == [10.0, 20.0]
    assert exits[:3] == [(0, 1), (1, 1), (2, 1)]
    created = [f["attempt"] for f in fs if f["type"] == rec.CONTAINER_CREATED]
    assert created[:3] == [0, 1, 2]
    assert story(fs, rec.START_FAILED) == []


async def test_a_liveness_failure_records_the_probe_results_and_the_kill(
    tmp_path: Path, book: LifecycleBook
) -> None:
    probes = FakeProbes(clock=book._clock)  # type: ignore[arg-type]
    async with running(tmp_path, book, probes=probes) as node:
        probe = exec_probe("check", periodSeconds=2, failureThreshold=2)
        app = c("app", livenessProbe=probe)
        uid = node.add(pod("p", [app], tgps=10))
        await node.advance_to(5)
        probes.set("app", "liveness", Outcome.FAILURE, "it hurts")
        await node.advance_to(12)
        fs = facts(book, uid)
    results = [(f["result"], f.get("count", 1)) for f in fs if f["type"] == rec.PROBE]
    assert results[0][0] == "success" and results[1] == ("failure", 2)
    failed = next(f for f in fs if f["type"] == rec.PROBE and f["result"] == "failure")
    assert failed["message"] == "it hurts"
    kill = next(f for f in fs if f["type"] == rec.KILL_REQUESTED)
    assert (kill["reason"], kill["gracePeriodSeconds"]) == ("LivenessProbeFailed", 10)


async def test_hooks_are_recorded_as_spans_with_their_outcome(
    tmp_path: Path, book: LifecycleBook
) -> None:
    async with running(tmp_path, book) as node:
        node.runtime.script("app", on_term=0.5, term_exit_code=0)
        hooks = {"postStart": {"sleep": {"seconds": 2}}, "preStop": {"sleep": {"seconds": 100}}}
        uid = node.add(pod("p", [c("app", lifecycle=hooks)], tgps=4))
        await node.advance_to(5)
        node.pods.delete_pod(uid)
        await node.advance(30)
        fs = facts(book, uid)
    hooks_seen = [
        (f["type"], f["hook"], f.get("outcome", ""), seconds(f))
        for f in fs
        if f["type"] in (rec.HOOK_STARTED, rec.HOOK_FINISHED)
    ]
    assert hooks_seen[:2] == [
        (rec.HOOK_STARTED, "postStart", "", hooks_seen[0][3]),
        (rec.HOOK_FINISHED, "postStart", "Succeeded", round(hooks_seen[0][3] + 2, 3)),
    ]
    assert hooks_seen[2:] == [
        (rec.HOOK_STARTED, "preStop", "", 5.0),
        (rec.HOOK_FINISHED, "preStop", "CutShort", 9.0),
    ]


async def test_a_pod_whose_source_keeps_no_records_records_nothing(tmp_path: Path) -> None:
    async with Node.running(tmp_path) as node:
        node.add(pod("p", [c("app")]))
        await node.advance_to(3)
        assert not hasattr(node.pods, "lifecycle")


async def test_forgetting_a_pod_drops_its_record(tmp_path: Path, book: LifecycleBook) -> None:
    async with running(tmp_path, book) as node:
        uid = node.add(pod("p", [c("app")]))
        await node.advance_to(2)
    assert book.forget(uid) is not None
    assert book.get(uid) is None


def test_a_pod_an_agent_worked_on_before_records_no_old_transitions_again() -> None:
    book = LifecycleBook(clock=ManualClock(T0))
    pod_seen = pod("p", [c("app")])
    pod_seen["metadata"] |= {"uid": "u", "namespace": "default"}
    pod_seen["status"] = {
        "phase": "Running",
        "startTime": "2023-11-14T22:13:20Z",
        "conditions": [{"type": "Ready", "status": "True"}],
    }
    record = book.recorder(pod_seen)
    record.status({**pod_seen["status"]})
    record.status({**pod_seen["status"], "phase": "Succeeded"})
    assert [f["type"] for f in record.facts] == [rec.PHASE_CHANGED]


class _SteppedClock(ManualClock):
    """A wall clock a test can step back, while the monotonic clock goes on."""

    def __init__(self, start: float) -> None:
        super().__init__(start)
        self.offset = 0.0

    def now(self) -> float:
        return super().now() + self.offset


def test_facts_are_stamped_on_the_wall_clock_and_never_go_back() -> None:
    """One time base with the runtime's (wall-clock) times; a step back holds the stamps."""
    clock = _SteppedClock(T0)
    book = LifecycleBook(clock=clock)
    assert book.now() == T0 * 1_000_000
    clock.offset = 0.004  # NTP slewed the wall clock ahead of the monotonic clock
    assert book.now() == T0 * 1_000_000 + 4_000
    clock.offset = -10.0  # stepped back
    assert book.now() == T0 * 1_000_000 + 4_000
