"""Kubelet-exact details seen from outside: what watchers see, how often events come."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelite.agent.probestate import Outcome, RawResult
from kubelite.clock import ManualClock
from tests.component.agent.harness import T0, FakeProbes, Node, c, pod

PERIODIC = {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 10}


def app_flags(node: Node, name: str = "app") -> list[tuple[float, bool, bool]]:
    """(time, started, ready) of container ``name`` in every status write, in order."""
    out: list[tuple[float, bool, bool]] = []
    for t, stored in node.statuses:
        for entry in (stored.get("status") or {}).get("containerStatuses", []):
            if entry["name"] == name:
                out.append((t, bool(entry.get("started")), bool(entry.get("ready"))))
    return out


def distinct(flags: list[tuple[float, bool, bool]]) -> list[tuple[bool, bool]]:
    seen: list[tuple[bool, bool]] = []
    for _, started, ready in flags:
        if not seen or seen[-1] != (started, ready):
            seen.append((started, ready))
    return seen


@pytest.mark.parametrize(
    ("startup_period", "readiness_period", "startup_failures"),
    [(1, 1, 0), (10, 10, 0), (10, 10, 2), (3, 7, 1)],
)
async def test_a_startup_probe_success_is_published_as_started_then_readiness_makes_it_ready(
    tmp_path: Path, startup_period: int, readiness_period: int, startup_failures: int
) -> None:
    """PR-5 / PR-7 / CS-5: started=true with ready=false is written first; the readiness probe
    that runs at once afterwards makes it ready in a second write, as the kubelet does (the
    two workers used to tick together and the first write had both)."""
    clock = ManualClock(T0)
    probes = FakeProbes(clock)
    answers = [Outcome.FAILURE] * startup_failures
    probes.answers[("app", "startup")] = lambda _s: RawResult(
        answers.pop() if answers else Outcome.SUCCESS, "not yet"
    )
    startup = {**PERIODIC, "periodSeconds": startup_period}
    readiness = {**PERIODIC, "periodSeconds": readiness_period}
    async with Node.running(tmp_path, clock=clock, probes=probes) as node:
        node.add(pod("p", [c("app", startupProbe=startup, readinessProbe=readiness)]))
        await node.advance_to(60)
        assert distinct(app_flags(node)) == [(False, False), (True, False), (True, True)]
        started_at = next(t for t, s, _ in app_flags(node) if s)
        ready_at = next(t for t, _, r in app_flags(node) if r)
        assert ready_at == started_at  # no period in between: the readiness run is immediate
        kinds = [k for _, _, k in probes.calls]
        assert kinds.index("readiness") > kinds.index("startup")


def echo_status_writes(node: Node) -> None:
    """Make the node's source behave like the API's watch: every status write comes back to
    the agent as a changed pod (with a new resourceVersion), as ``apiclient`` delivers it."""
    write = node.pods.write_status
    versions = iter(range(1000, 10**6))

    async def echoing(manifest: dict[str, Any], status: dict[str, Any]) -> None:
        await write(manifest, status)
        stored = node.pod(manifest["metadata"]["name"])
        if stored is not None:
            stored["metadata"]["resourceVersion"] = str(next(versions))
            node.pods.add_pod(stored)

    node.pods.write_status = echoing  # type: ignore[method-assign,assignment]


@pytest.mark.parametrize("echo", [False, True], ids=["static source", "API watch"])
async def test_a_crash_loop_posts_back_off_once_per_crash_and_then_every_10_seconds(
    tmp_path: Path, echo: bool
) -> None:
    """BO-5 / BO-6 / SYNC-1: one BackOff per sync that meets the back-off, and such syncs come
    from the exit itself and then the 10 s back-off resync only: not from the agent's own
    status writes coming back through the watch, nor from the relist noticing an exit the
    worker has already handled (`describe` used to show `x15 over 60s`)."""
    async with Node.running(tmp_path) as node:
        if echo:
            echo_status_writes(node)
        node.runtime.script("app", runs=1.0, exit_code=1)
        node.add(pod("p", [c("app")]))
        await node.advance_to(60)
        assert [round(t) for t in node.event_times("p", "Started")] == [0, 1, 12, 33]
        assert [round(t, 1) for t in node.event_times("p", "BackOff")] == [
            2.0,  # the second crash: 10 s back-off
            13.0,  # the third: 20 s
            23.0,
            34.0,  # the fourth: 40 s
            44.0,
            54.0,
        ]


async def test_a_readiness_gate_set_by_someone_else_makes_the_pod_ready(tmp_path: Path) -> None:
    """CO-5 / SYNC-1: a status change from another writer that sets a readiness gate's
    condition is the one status-only change that syncs the pod (the kubelet's reconcile),
    and the condition is taken from the API object, as the kubelet copies foreign ones."""
    async with Node.running(tmp_path) as node:
        echo_status_writes(node)
        node.add(pod("p", [c("app")], readinessGates=[{"conditionType": "example.com/lb"}]))
        await node.advance_to(5)
        assert node.condition("p", "Ready") == ("False", "ReadinessGatesNotReady")
        stored = node.pod("p")
        assert stored is not None
        stored["status"]["conditions"].insert(0, {"type": "example.com/lb", "status": "True"})
        node.pods.add_pod(stored)
        await node.advance_to(6)
        assert node.condition("p", "Ready") == ("True", "")
        assert node.condition("p", "example.com/lb") == ("True", "")
