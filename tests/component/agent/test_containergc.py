"""Container GC through a running NodeAgent (containergc; INIT-12, SYNC-4 (b), SYNC-7, APP-4,
BO-2a): a crash-looping container keeps one dead instance, with its log, and nothing a user can
ask for goes missing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubelite.clock import ManualClock
from kubelite.runtime.interface import ContainerConfig, ContainerState
from tests.component.agent.harness import T0, Node, TimedRuntime, c, pod


class LoggingRuntime(TimedRuntime):
    """Writes each instance's log file at create, as conmon does on a real node."""

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        cid = await super().create_container(sandbox_id, config)
        config.log_path.parent.mkdir(parents=True, exist_ok=True)
        config.log_path.write_text(f"2023-11-14T22:13:20Z stdout F attempt {config.attempt}\n")
        return cid


def _instances(rt: TimedRuntime, name: str) -> list[Any]:
    return [x.status for x in rt.containers.values() if x.status.name == name]


async def test_a_crash_looping_app_keeps_one_dead_instance_and_its_log(tmp_path: Path) -> None:
    """Five crashes (BO-4: restarts at once, then after 10, 20, 40 and 80 s). After every step
    the runtime holds at most one dead instance and the log folder only the files of the
    instances it holds; restartCount counts 0..5 (SYNC-7) and every lastState names an
    instance that is still there with its log (APP-4, ``kubectl logs --previous``)."""
    clock = ManualClock(T0)
    rt = LoggingRuntime(clock, data_dir=tmp_path / "fake")
    rt.script("app", runs=1.0, exit_code=1)
    try:
        async with Node.running(tmp_path, clock=clock, runtime=rt) as node:
            uid = node.add(pod("crashy", [c("app")]))
            logs = node.settings.pod_logs_dir / f"default_crashy_{uid}" / "app"
            seen = 0
            while node.now() < 200 and rt.created("app") < 6:
                await node.advance(0.5)
                instances = _instances(rt, "app")
                dead = [i for i in instances if i.state is not ContainerState.RUNNING]
                assert len(dead) <= 1, (node.now(), instances)
                assert sorted(p.name for p in logs.iterdir()) == sorted(
                    i.log_path.name for i in instances
                )
                for _, written in node.statuses[seen:]:
                    status = written["status"]["containerStatuses"][0]
                    last = status["lastState"].get("terminated")
                    if status["restartCount"] == 0:
                        continue
                    assert last is not None and last["exitCode"] == 1, status
                seen = len(node.statuses)
                if node.statuses:  # kubectl logs --previous reads lastState's instance (kubelet)
                    last = node.container("crashy", "app")["lastState"].get("terminated")
                    by_id = {f"kubelite://{i.id}": i for i in instances}
                    assert last is None or by_id[last["containerID"]].log_path.exists()
            await node.advance(0.5)

            counts = [w["status"]["containerStatuses"][0]["restartCount"] for _, w in node.statuses]
            assert list(dict.fromkeys(counts)) == [0, 1, 2, 3, 4, 5]
            assert node.container("crashy", "app")["lastState"]["terminated"]["exitCode"] == 1
            assert [i.attempt for i in _instances(rt, "app")] == [4, 5]
            assert sorted(p.name for p in logs.iterdir()) == ["4.log", "5.log"]
            assert len(rt.calls_of("remove_container")) == 4
            assert node.row("crashy").startswith("1/1 Running 5")
    finally:
        await rt.close()  # handed in, so the node does not close it
