"""Deleting pods through a running NodeAgent: grace periods, back-off, force deletion.

StaticPods plays the API server's part: ``delete_pod`` marks the pod (deletionTimestamp and
grace), the agent stops it and calls ``finish_deletion``; ``force_delete`` removes the object at
once, as ``--grace-period=0 --force`` does.
"""

from __future__ import annotations

from pathlib import Path

from tests.component.agent.harness import Node, Stop, c, pod, sidecar


def final_phase(node: Node, name: str) -> str:
    return next(
        str(p["status"]["phase"])
        for _, p in reversed(node.statuses)
        if p["metadata"]["name"] == name
    )


async def test_deleting_a_pod_in_crash_loop_back_off_ends_it_without_a_restart(
    tmp_path: Path,
) -> None:
    """APP-2 / TERM-4: a deleted pod is never restarted; with nothing running it is finished
    at once (no waiting for the back-off), Failed, and everything is removed."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script("app", runs=1.0, exit_code=1)
        uid = node.add(pod("p", [c("app")]))
        await node.advance_to(5)
        assert node.row("p").startswith("0/1 CrashLoopBackOff 1")
        logs = node.settings.pod_logs_dir / f"default_p_{uid}"
        logs.mkdir(parents=True, exist_ok=True)
        node.pods.delete_pod(uid)
        await node.advance(0)
        assert node.pod("p") is None
        assert logs.exists()  # kept a while for `kubectl logs` (a finalizer may hold the pod)
        assert node.pods.removed.is_set()
        assert rt.created("app") == 2
        assert final_phase(node, "p") == "Failed"
        assert node.messages("p", "Killing") == []  # nothing was running
        assert rt.containers == {} and rt.sandboxes == {} and rt.volumes == {}
        await node.advance(60)
        assert rt.created("app") == 2


async def test_a_deletion_grace_period_overrides_the_pods_and_bounds_pre_stop(
    tmp_path: Path,
) -> None:
    """TERM-1 / HK-4 / TERM-2: `delete --grace-period=5` on a TGPS-60 pod: preStop (sleep 100)
    is cut off at 5 s, then the stop gets the 2 s minimum; SIGKILL → 137 → Failed."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("app", on_term=None)
        app = c("app", lifecycle={"preStop": {"sleep": {"seconds": 100}}})
        uid = node.add(pod("p", [app], tgps=60))
        await node.advance_to(10)
        node.pods.delete_pod(uid, grace=5)
        await node.advance(0)
        assert node.row("p") == "1/1 Terminating 0"
        await node.advance(30)
        assert node.runtime.stops == [Stop(15.0, "app", 2)]
        assert node.pod("p") is None
        assert final_phase(node, "p") == "Failed"


async def test_without_sidecars_every_container_is_stopped_at_once_with_the_pods_grace(
    tmp_path: Path,
) -> None:
    """TERM-2: no SC-11 ordering without sidecars; each stop gets the deletion grace (TGPS)."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("a", on_term=3.0, term_exit_code=0)
        node.runtime.script("b", on_term=1.0, term_exit_code=0)
        uid = node.add(pod("p", [c("a"), c("b")], tgps=20))
        await node.advance_to(10)
        node.pods.delete_pod(uid)
        await node.advance(30)
        assert sorted(node.runtime.stops, key=lambda s: s.name) == [
            Stop(10.0, "a", 20),
            Stop(10.0, "b", 20),
        ]
        removed_at = max(t for t, _ in node.statuses)
        assert removed_at == 13.0  # when the slower one exited
        assert final_phase(node, "p") == "Succeeded"


async def test_a_second_deletion_with_a_shorter_grace_shortens_the_stop_in_progress(
    tmp_path: Path,
) -> None:
    """TERM-1: the kubelet uses the smallest grace it has seen, also for a stop already under
    way: grace 30, then 5 two seconds later → SIGKILL at 2 + 5 instead of 30."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("app", on_term=None)
        uid = node.add(pod("p", [c("app")]))
        await node.advance_to(10)
        node.pods.delete_pod(uid, grace=30)
        await node.advance(2)
        node.pods.delete_pod(uid, grace=5)
        await node.advance(30)
        assert [(s.t, s.timeout) for s in node.runtime.stops] == [(10.0, 30), (12.0, 5)]
        assert node.pod("p") is None
        exited = node.statuses[-1][1]["status"]["containerStatuses"][0]["state"]["terminated"]
        assert exited["exitCode"] == 137
        assert max(t for t, _ in node.statuses) == 17.0


async def test_a_force_deleted_pod_is_stopped_with_the_minimum_grace(tmp_path: Path) -> None:
    """TERM-1: `--grace-period=0 --force` removes the object (REMOVED); the agent still stops
    the containers with 1 s, which TERM-2 raises to the 2 s minimum; sidecars still in SC-11
    order; everything is cleaned up."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script("app", on_term=None)
        rt.script("logs", on_term=None)
        uid = node.add(pod("p", [c("app")], [sidecar("logs")]))
        await node.advance_to(10)
        node.pods.force_delete(uid)
        await node.advance(0)
        assert node.pod("p") is None  # gone from the API at once
        await node.advance(10)
        assert rt.stops == [Stop(10.0, "app", 2), Stop(11.0, "logs", 2)]
        assert rt.containers == {} and rt.sandboxes == {}
        assert node.pods.removed.is_set()


async def test_force_deleting_a_pod_that_is_already_terminating_cuts_its_grace_short(
    tmp_path: Path,
) -> None:
    """TERM-1: graceful delete (30 s), then a force delete: the stop under way is redone with
    the minimum grace."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script("app", on_term=None)
        uid = node.add(pod("p", [c("app")]))
        await node.advance_to(10)
        node.pods.delete_pod(uid)
        await node.advance(3)
        node.pods.force_delete(uid)
        await node.advance(10)
        assert [(s.t, s.timeout) for s in rt.stops] == [(10.0, 30), (13.0, 2)]
        assert rt.containers == {}
