"""The NodeAgent as a whole: several pods, a restart of the agent, errors in one pod's sync."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kubelite.clock import ManualClock
from tests.component.agent.harness import T0, Node, Stop, TimedRuntime, c, pod, sidecar


async def test_a_restarted_agent_adopts_running_containers_without_restarting_anything(
    tmp_path: Path,
) -> None:
    """SYNC-3 / INIT-7 / SYNC-7: a second agent on the same runtime state finds the pod
    initialized and running: no container is created, stopped or re-run, the counts stay 0;
    and it can still delete the pod in SC-11 order."""
    clock = ManualClock(T0)
    runtime = TimedRuntime(clock, data_dir=tmp_path / "fake")
    manifest = pod("p", [c("app")], [c("init-a"), sidecar("logs")])
    manifest["metadata"]["uid"] = "uid-adopted"
    try:
        runtime.script("init-a", runs=1.0)
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as first:
            first.add(manifest)
            await first.advance_to(5)
            assert first.row("p") == "2/2 Running 0"
        calls = len(runtime.calls)

        async with Node.running(tmp_path, clock=clock, runtime=runtime) as second:
            second.add(manifest)
            await second.advance_to(60)
            made = {call.method for call in runtime.calls[calls:]}
            assert made <= {"list_sandboxes", "list_containers"}
            assert second.kubectl("p") == ["2/2 Running 0"]
            assert second.state("p", "init-a") == ("terminated", "Completed")
            assert second.container("p", "app")["restartCount"] == 0
            assert second.reasons("p") == []

            second.pods.delete_pod("uid-adopted")
            await second.advance(5)
            assert runtime.stops == [Stop(60.0, "app", 30), Stop(60.0, "logs", 30)]
            assert second.pod("p") is None
    finally:
        await runtime.close()


async def test_an_unexpected_error_in_one_pods_sync_leaves_the_node_and_other_pods_running(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SYNC-1: a sync that raises is logged and retried 10 s later; the agent's other
    workers (and the agent itself) carry on."""
    async with Node.running(tmp_path) as node:
        node.runtime.fail_next("create_container", ValueError("a bug"))
        with caplog.at_level(logging.ERROR, logger="kubelite.agent.podworker"):
            node.add(pod("first", [c("app")]))
            await node.advance(0)
        assert "sync of default/first failed" in caplog.text
        node.add(pod("second", [c("app")]))
        await node.advance(1)
        assert node.row("second") == "1/1 Running 0"
        assert node.row("first") == "0/1 ContainerCreating 0"
        await node.advance_to(11)
        assert node.row("first") == "1/1 Running 0"


async def test_each_pod_gets_its_own_worker_and_its_own_back_off(tmp_path: Path) -> None:
    """BO-1: back-off is per pod and container: one crashing pod does not delay another."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("app", pod="crashy", runs=1.0, exit_code=1)
        node.add(pod("crashy", [c("app")]))
        node.add(pod("steady", [c("app")]))
        await node.advance_to(30)
        assert node.row("steady") == "1/1 Running 0"
        assert node.row("crashy").startswith("0/1 CrashLoopBackOff")
        assert node.runtime.created("app") == 1 + 3  # steady once; crashy at 0, 1 and 12
