"""Probe tasks driving a running NodeAgent: kills, readiness, and probes while terminating."""

from __future__ import annotations

from pathlib import Path

from kubelite.agent.probestate import Outcome, RawResult
from kubelite.clock import ManualClock
from tests.component.agent.harness import T0, FakeProbes, Node, ProbeAnswer, c, pod, sidecar

HTTP = {"httpGet": {"path": "/healthz", "port": 80}, "periodSeconds": 10}


def fails_first_instance(output: str) -> ProbeAnswer:
    return lambda status: RawResult(
        Outcome.FAILURE if status.attempt == 0 else Outcome.SUCCESS, output
    )


async def test_a_sidecar_failing_liveness_is_killed_without_the_restart_suffix(
    tmp_path: Path,
) -> None:
    """SC-5 / EV-2: `Init container proxy failed liveness probe`; restarted; app untouched."""
    clock = ManualClock(T0)
    probes = FakeProbes(clock)
    probes.answers[("proxy", "liveness")] = fails_first_instance("down")
    async with Node.running(tmp_path, clock=clock, probes=probes) as node:
        node.add(pod("p", [c("app")], [sidecar("proxy", livenessProbe=HTTP)]))
        await node.advance_to(40)
        assert node.messages("p", "Killing") == ["Init container proxy failed liveness probe"]
        assert node.runtime.created("proxy") == 2
        assert node.runtime.created("app") == 1
        assert node.container("p", "proxy")["restartCount"] == 1


async def test_an_app_failing_its_startup_probe_is_killed_and_restarted(tmp_path: Path) -> None:
    """APP-3 / PR-7: `Container app failed startup probe, will be restarted`; until then the
    container is running but not started and not ready."""
    clock = ManualClock(T0)
    probes = FakeProbes(clock)
    probes.answers[("app", "startup")] = fails_first_instance("no")
    startup = {**HTTP, "periodSeconds": 1, "failureThreshold": 3}
    async with Node.running(tmp_path, clock=clock, probes=probes) as node:
        node.add(pod("p", [c("app", startupProbe=startup)]))
        await node.advance_to(1.5)
        status = node.container("p", "app")
        assert "running" in status["state"] and status["started"] is False
        assert node.row("p") == "0/1 Running 0"
        await node.advance_to(10)
        assert node.messages("p", "Killing") == [
            "Container app failed startup probe, will be restarted"
        ]
        assert node.container("p", "app")["started"] is True
        assert node.row("p").startswith("1/1 Running 1")


async def test_readiness_failures_make_the_pod_unready_but_never_kill(tmp_path: Path) -> None:
    """PR-7: readiness sets `ready` and the Ready condition; nothing is killed for it."""
    clock = ManualClock(T0)
    probes = FakeProbes(clock)
    async with Node.running(tmp_path, clock=clock, probes=probes) as node:
        node.add(pod("p", [c("app", readinessProbe={**HTTP, "failureThreshold": 1})]))
        await node.advance_to(5)
        assert node.row("p") == "1/1 Running 0"
        probes.set("app", "readiness", Outcome.FAILURE, "HTTP probe failed with statuscode: 503")
        await node.advance_to(15)
        assert node.row("p") == "0/1 Running 0"
        assert node.condition("p", "Ready") == ("False", "ContainersNotReady")
        assert node.messages("p", "Unhealthy") == [
            "Readiness probe failed: HTTP probe failed with statuscode: 503"
        ]
        probes.set("app", "readiness", Outcome.SUCCESS)
        await node.advance_to(25)
        assert node.row("p") == "1/1 Running 0"
        assert node.messages("p", "Killing") == []


async def test_while_a_pod_terminates_liveness_stops_and_readiness_goes_on(
    tmp_path: Path,
) -> None:
    """PR-5 / TERM-5 / TL-4 step 1: after the delete, a failing liveness probe kills nothing
    more; readiness is still probed during the grace period."""
    clock = ManualClock(T0)
    probes = FakeProbes(clock)
    async with Node.running(tmp_path, clock=clock, probes=probes) as node:
        node.runtime.script("app", on_term=None)
        app = c("app", livenessProbe=HTTP, readinessProbe=HTTP)
        uid = node.add(pod("p", [app], tgps=60))
        await node.advance_to(5)
        node.pods.delete_pod(uid)
        probes.set("app", "liveness", Outcome.FAILURE, "dying")
        await node.advance_to(50)
        assert node.messages("p", "Killing") == ["Stopping container app"]
        during = [(t - T0, kind) for t, _, kind in probes.calls if t - T0 > 5]
        assert ("liveness" in {k for _, k in during}) is False
        assert [t for t, k in during if k == "readiness"] == [10.0, 20.0, 30.0, 40.0, 50.0]


async def test_every_new_instance_is_probed_as_soon_as_it_runs_the_first_one_included(
    tmp_path: Path,
) -> None:
    """PR-5 (probing.update): a new container ID gets its first tick at once, then one per
    period; the first instance used to wait a whole period (its kick was lost)."""
    clock = ManualClock(T0)
    probes = FakeProbes(clock)
    async with Node.running(tmp_path, clock=clock, probes=probes) as node:
        node.runtime.script("app", attempt=0, runs=15.0, exit_code=1)
        node.add(pod("p", [c("app", livenessProbe=HTTP)]))
        await node.advance_to(26)
        assert [t - T0 for t, _, _ in probes.calls] == [0.0, 10.0, 15.0, 25.0]
