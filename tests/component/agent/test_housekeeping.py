"""Housekeeping: once its source is synced, the agent removes the pods the source never
delivered (the kubelet's HandlePodCleanups), and only those.

A first agent runs a pod and is stopped, leaving its sandbox, running containers, back-off
checkpoint and log folder behind (a crashed ``kubelite run``, or a pod force-deleted while the
agent was down); a second agent on the same runtime and data dir is fed by a source that does
or does not deliver that pod again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubelite.agent.checkpoint import BackoffCheckpoints
from kubelite.agent.housekeeping import HOUSEKEEPING_SECONDS, ORPHAN_STOP_TIMEOUT
from kubelite.agent.node import LOG_RETENTION_SECONDS
from kubelite.agent.static import StaticPods
from kubelite.clock import ManualClock
from kubelite.runtime.interface import ContainerState
from kubelite.runtime.logs import pod_log_dir
from tests.component.agent.harness import T0, Node, TimedRuntime, c, pod

OLD_UID = "uid-old"


def _manifest(name: str, uid: str) -> dict[str, object]:
    manifest = pod(name, [c("app"), c("crashy")])
    manifest["metadata"]["uid"] = uid
    manifest["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    return manifest


async def _leave_a_pod_behind(tmp_path: Path, runtime: TimedRuntime, clock: ManualClock) -> Path:
    """Run pod ``old`` (app runs, crashy crash-loops) under a first agent, then stop that agent.
    Returns the pod's log folder (which the real runtime's log files would have made)."""
    runtime.script("crashy", runs=1.0, exit_code=1)
    async with Node.running(tmp_path, clock=clock, runtime=runtime) as first:
        first.add(_manifest("old", OLD_UID))
        await first.advance_to(5)
        stored = first.pod("old")
        assert stored is not None
        logs = pod_log_dir(first.settings.pod_logs_dir, *_identity(stored))
    (logs / "app").mkdir(parents=True)
    (logs / "app" / "0.log").write_text("2023-11-14T22:13:20Z stdout F hello\n")
    return logs


def _identity(pod: dict[str, Any]) -> tuple[str, str, str]:
    meta = pod["metadata"]
    return meta["namespace"], meta["name"], meta["uid"]


def _checkpoints(node: Node) -> BackoffCheckpoints:
    return BackoffCheckpoints(node.settings.agent_dir / "backoff")


async def test_a_pod_the_source_never_delivers_is_stopped_and_everything_it_left_removed(
    tmp_path: Path,
) -> None:
    clock = ManualClock(T0)
    runtime = TimedRuntime(clock, data_dir=tmp_path / "fake")
    try:
        logs = await _leave_a_pod_behind(tmp_path, runtime, clock)
        (old_sandbox,) = await runtime.list_sandboxes(OLD_UID)
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as second:
            assert _checkpoints(second).path(OLD_UID).exists()
            assert OLD_UID in runtime.volumes
            second.add(_manifest("new", "uid-new"))
            second.pods.mark_synced()
            start = second.now()
            await second.advance(HOUSEKEEPING_SECONDS + 0.5)

            assert await runtime.list_sandboxes(OLD_UID) == []
            assert [c for c in await runtime.list_containers(old_sandbox.id)] == []
            old_stops = [s for s in runtime.stops if s.t >= start and s.name == "app"]
            assert [s.timeout for s in old_stops] == [ORPHAN_STOP_TIMEOUT] == [2]
            assert OLD_UID not in runtime.volumes
            assert not _checkpoints(second).path(OLD_UID).exists()
            assert not logs.exists()
            # the pod the source did deliver runs on, untouched
            (new_sandbox,) = await runtime.list_sandboxes("uid-new")
            assert new_sandbox.ready
            new = await runtime.list_containers(new_sandbox.id)
            assert any(c.name == "app" and c.state is ContainerState.RUNNING for c in new)
            assert second.status("new")["phase"] == "Running"
            assert "uid-new" in runtime.volumes
            assert second.events == [p for p in second.events if p.pod == "new"]
    finally:
        await runtime.close()


async def test_a_delivered_pod_is_adopted_and_never_cleaned_up(tmp_path: Path) -> None:
    """SYNC-3: the restarted agent adopts the running pod its source delivers again."""
    clock = ManualClock(T0)
    runtime = TimedRuntime(clock, data_dir=tmp_path / "fake")
    try:
        logs = await _leave_a_pod_behind(tmp_path, runtime, clock)
        made = runtime.created("app")
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as second:
            second.add(_manifest("old", OLD_UID))
            second.pods.mark_synced()
            start = second.now()
            await second.advance(10 * HOUSEKEEPING_SECONDS)
            assert [s for s in runtime.stops if s.t >= start and s.name == "app"] == []
            assert runtime.created("app") == made
            assert "remove_sandbox" not in runtime.call_names()
            assert "remove_volumes" not in runtime.call_names()
            assert [s.ready for s in await runtime.list_sandboxes(OLD_UID)] == [True]
            assert _checkpoints(second).path(OLD_UID).exists()
            assert logs.exists()
            assert second.status("old")["phase"] == "Running"
    finally:
        await runtime.close()


async def test_nothing_is_cleaned_up_before_the_source_is_synced(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    runtime = TimedRuntime(clock, data_dir=tmp_path / "fake")
    try:
        logs = await _leave_a_pod_behind(tmp_path, runtime, clock)
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as second:
            start = second.now()
            await second.advance(60)
            assert [s for s in runtime.stops if s.t >= start] == []
            assert [s.ready for s in await runtime.list_sandboxes(OLD_UID)] == [True]
            assert OLD_UID in runtime.volumes
            assert _checkpoints(second).path(OLD_UID).exists()
            assert logs.exists()

            second.pods.mark_synced()
            synced = second.now()
            gone = await second.until(
                lambda: not runtime.sandboxes and not logs.exists(), within=10, step=0.5
            )
            assert gone - synced <= HOUSEKEEPING_SECONDS + 0.5
            assert not _checkpoints(second).path(OLD_UID).exists()
    finally:
        await runtime.close()


async def test_a_checkpoint_left_without_pod_or_sandbox_is_removed(tmp_path: Path) -> None:
    async with Node.running(tmp_path) as node:
        checkpoints = _checkpoints(node)
        checkpoints.directory.mkdir(parents=True)
        checkpoints.path("uid-long-gone").write_text('{"version": 1, "entries": {}}')
        node.pods.mark_synced()
        await node.advance(HOUSEKEEPING_SECONDS + 0.5)
        assert checkpoints.uids() == []


async def test_a_pod_delivered_while_its_orphan_is_being_removed_starts_after_the_removal(
    tmp_path: Path,
) -> None:
    """The cleanup and a new worker for the same uid never act at once: the worker waits."""
    clock = ManualClock(T0)
    runtime = TimedRuntime(clock, data_dir=tmp_path / "fake")
    try:
        runtime.script("app", on_term=None)  # ignores SIGTERM: the stop takes the full 2 s
        await _leave_a_pod_behind(tmp_path, runtime, clock)
        async with Node.running(tmp_path, clock=clock, runtime=runtime) as second:
            second.pods.mark_synced()
            await second.advance(HOUSEKEEPING_SECONDS + 0.5)  # the stop is under way
            assert runtime.sandboxes and "remove_sandbox" not in runtime.call_names()
            added = len(runtime.calls)
            again = _manifest("old", OLD_UID)
            again["spec"]["containers"].append(c("late"))  # would start in the doomed sandbox
            second.add(again)
            await second.advance(5)
            names = runtime.call_names()
            removed = names.index("remove_sandbox")
            acts = {"prepare_volumes", "run_sandbox", "create_container", "start_container"}
            assert not acts & set(names[added:removed]), names[added:removed]
            assert names.index("remove_volumes", removed) < names.index("run_sandbox", removed)
            (sandbox,) = await runtime.list_sandboxes(OLD_UID)
            assert sandbox.ready and sandbox.attempt == 0
            assert second.status("old")["phase"] == "Running"
    finally:
        await runtime.close()


async def test_static_pods_send_synced_once_after_the_pods_added_before_it() -> None:
    source = StaticPods(clock=ManualClock(T0), node_name="node-1")
    source.add_pod(pod("a", [c("app")]))
    source.mark_synced()
    source.mark_synced()
    source.add_pod(pod("b", [c("app")]))
    updates = source.updates()
    seen = [await anext(updates) for _ in range(3)]
    await updates.aclose()
    kinds = [(u.kind.value, u.pod.get("metadata", {}).get("name", "")) for u in seen]
    assert kinds == [("set", "a"), ("synced", ""), ("set", "b")]


async def test_a_finished_pods_logs_stay_a_minute_for_kubectl_logs(tmp_path: Path) -> None:
    """A deleted pod held by a finalizer is still asked for its logs: its log folder outlives
    the pod's worker for LOG_RETENTION_SECONDS, then housekeeping removes it."""
    async with Node.running(tmp_path) as node:
        node.pods.mark_synced()
        uid = node.add(pod("p", [c("app")]))
        await node.advance(1)
        stored = node.pod("p")
        assert stored is not None
        logs = pod_log_dir(node.settings.pod_logs_dir, *_identity(stored))
        logs.mkdir(parents=True, exist_ok=True)
        node.pods.delete_pod(uid, grace=0)
        await node.advance(LOG_RETENTION_SECONDS - 5)
        assert node.pod("p") is None and logs.exists()
        await node.advance(10)
        assert not logs.exists()
