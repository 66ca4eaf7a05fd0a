"""A restarted node agent keeps each pod's back-off (SYNC-3, BO-1..BO-4): the table is saved
under the agent's folder when it changes and read when the pod's worker starts again."""

from __future__ import annotations

import json
from pathlib import Path

from kubelite.agent.backoff import BackoffEntry, BackoffState
from kubelite.agent.checkpoint import BackoffCheckpoints
from kubelite.clock import ManualClock
from tests.component.agent.harness import T0, Node, TimedRuntime, c, pod


def _crashy(uid: str) -> dict[str, object]:
    manifest = pod("crashy", [c("app")])
    manifest["metadata"]["uid"] = uid
    return manifest


async def test_a_restarted_agent_keeps_a_crash_looping_containers_back_off(
    tmp_path: Path,
) -> None:
    """BO-2 / BO-4: crashes at 1, 2 and ~13 s leave a 20 s back-off from ~13 s. An agent
    restarted inside it starts nothing until the delay has run out, shows CrashLoopBackOff
    with the same delay, and keeps the restart count."""
    clock = ManualClock(T0)
    runtime = TimedRuntime(clock, data_dir=tmp_path / "fake")
    manifest = _crashy("uid-crashy")
    runtime.script("app", runs=1.0, exit_code=1)
    try:
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as first:
            first.add(manifest)
            await first.advance_to(20)
            assert first.row("crashy").startswith("0/1 CrashLoopBackOff 2")
            made = runtime.created("app")
            last_exit = runtime.container_named("app").finished_at
        assert made == 3 and last_exit is not None
        saved = BackoffCheckpoints(first.settings.agent_dir / "backoff").load("uid-crashy")
        assert [e.delay for e in saved.entries.values()] == [20.0]

        async with Node.running(tmp_path, clock=clock, runtime=runtime) as second:
            second.add(manifest)
            await second.advance(1)
            assert runtime.created("app") == made  # not started at once: still in back-off
            waiting = second.container("crashy", "app")["state"]["waiting"]
            assert waiting["reason"] == "CrashLoopBackOff"
            assert waiting["message"].startswith("back-off 20s restarting failed container=app")
            assert second.container("crashy", "app")["restartCount"] == 2
            started = await second.until(lambda: runtime.created("app") > made, within=60)
            assert last_exit - T0 + 20 <= started <= last_exit - T0 + 20 + 15  # BO-6
            await second.advance(0.5)
            assert second.container("crashy", "app")["restartCount"] == 3
    finally:
        await runtime.close()


async def test_deleting_the_pod_removes_its_back_off_checkpoint(tmp_path: Path) -> None:
    async with Node.running(tmp_path) as node:
        node.runtime.script("app", runs=1.0, exit_code=1)
        node.add(_crashy("uid-gone"))
        await node.advance_to(5)
        checkpoints = BackoffCheckpoints(node.settings.agent_dir / "backoff")
        assert checkpoints.path("uid-gone").exists()
        node.pods.delete_pod("uid-gone")
        await node.advance(5)
        assert node.pod("crashy") is None
        assert not checkpoints.path("uid-gone").exists()


def test_checkpoints_round_trip_and_a_broken_file_counts_as_none(tmp_path: Path) -> None:
    checkpoints = BackoffCheckpoints(tmp_path / "backoff")
    assert checkpoints.load("u1") == BackoffState()
    state = BackoffState().with_entry("p_ns_u1_app_1", BackoffEntry(40.0, T0 + 3.5))
    checkpoints.save("u1", state)
    assert checkpoints.load("u1") == state
    assert json.loads(checkpoints.path("u1").read_text())["version"] == 1
    checkpoints.path("u1").write_text("{not json")
    assert checkpoints.load("u1") == BackoffState()
    checkpoints.save("u1", BackoffState())  # an empty table leaves no file
    assert not checkpoints.path("u1").exists()


async def test_a_restarted_agent_does_not_rerun_init_containers_whose_records_are_gone(
    tmp_path: Path,
) -> None:
    """INIT-7 (a) / SYNC-3: the exited init records are removed while the agent is down (what
    the acceptance hook REMOVE_EXITED_CONTAINERS does); the running app proves the pod
    initialized, so the new agent re-runs nothing and restarts nothing."""
    clock = ManualClock(T0)
    runtime = TimedRuntime(clock, data_dir=tmp_path / "fake")
    manifest = pod("p", [c("app")], [c("init-a"), c("init-b")])
    manifest["metadata"]["uid"] = "uid-p"
    runtime.script("init-a", runs=1.0)
    runtime.script("init-b", runs=1.0)
    try:
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as first:
            first.add(manifest)
            await first.advance_to(5)
            assert first.row("p") == "1/1 Running 0"
            stored = first.pod("p")
        assert stored is not None
        manifest = stored  # the API keeps the last status written (CS-2)
        for cs in await runtime.list_containers():
            if cs.name.startswith("init-"):
                await runtime.remove_container(cs.id)
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as second:
            second.add(manifest)
            await second.advance_to(70)
            assert (runtime.created("init-a"), runtime.created("init-b")) == (1, 1)
            assert runtime.created("app") == 1
            assert second.kubectl("p") == ["1/1 Running 0"]
            assert second.container("p", "app")["restartCount"] == 0
            for name in ("init-a", "init-b"):
                assert second.container("p", name)["restartCount"] == 0
                assert "running" not in second.container("p", name)["state"]
    finally:
        await runtime.close()


async def test_a_sandbox_and_its_records_gone_while_the_agent_was_down_reinitialize_the_pod(
    tmp_path: Path,
) -> None:
    """INIT-9 / SYNC-4 (c): the sandbox and every container record are gone when the agent
    comes back (the acceptance hook KILL_POD_SANDBOX, `kubelite runtime kill-pod`): a new
    sandbox, the init containers run again in order before the app, the emptyDir is kept.
    With no old sandbox record there is no SandboxChanged event."""
    clock = ManualClock(T0)
    runtime = TimedRuntime(clock, data_dir=tmp_path / "fake")
    manifest = pod("p", [c("app")], [c("init-a")])
    manifest["metadata"]["uid"] = "uid-p"
    manifest["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    runtime.script("init-a", runs=1.0)
    try:
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as first:
            first.add(manifest)
            await first.advance_to(5)
            assert first.row("p") == "1/1 Running 0"
        for sb in await runtime.list_sandboxes():  # `kubelite runtime kill-pod`
            await runtime.stop_sandbox(sb.id)
            await runtime.remove_sandbox(sb.id)
        assert "scratch" in runtime.volumes["uid-p"]
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as second:
            second.add(manifest)
            await second.advance_to(20)
            assert [s.ready for s in await runtime.list_sandboxes()] == [True]
            created = [call.args[1].name for call in runtime.calls_of("create_container")]
            assert created == ["init-a", "app", "init-a", "app"]
            assert second.status("p")["phase"] == "Running"
            assert "remove_volumes" not in runtime.call_names()
            assert "scratch" in runtime.volumes["uid-p"]
    finally:
        await runtime.close()


async def test_a_dead_sandbox_with_its_records_gets_sandbox_changed_and_counts_on(
    tmp_path: Path,
) -> None:
    """INIT-9 / EV: the sandbox died and every container with it while the agent was down,
    but their records are kept: the agent posts SandboxChanged, makes sandbox attempt 1, runs
    the init container again before the app, and restart counts go on (SYNC-7)."""
    clock = ManualClock(T0)
    runtime = TimedRuntime(clock, data_dir=tmp_path / "fake")
    manifest = pod("p", [c("app")], [c("init-a")])
    manifest["metadata"]["uid"] = "uid-p"
    runtime.script("init-a", runs=1.0)
    try:
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as first:
            first.add(manifest)
            await first.advance_to(5)
            assert first.row("p") == "1/1 Running 0"
        for sb in await runtime.list_sandboxes():
            await runtime.stop_sandbox(sb.id)
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as second:
            second.add(manifest)
            await second.advance_to(20)
            assert second.reasons("p").count("SandboxChanged") == 1
            ready = [s for s in await runtime.list_sandboxes() if s.ready]
            assert [s.attempt for s in ready] == [1]
            created = [call.args[1].name for call in runtime.calls_of("create_container")]
            assert created == ["init-a", "app", "init-a", "app"]
            assert second.status("p")["phase"] == "Running"
            assert second.container("p", "app")["restartCount"] == 1
            assert second.container("p", "init-a")["restartCount"] == 1
    finally:
        await runtime.close()
