"""Ephemeral containers on a node (virtual time, FakeRuntime): added to a running pod they are
started once with their events, reported in ``ephemeralContainerStatuses`` without touching the
pod's readiness or phase, never restarted, joined to their target's PID namespace, refused
while the target is not running, and stopped with the pod."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.component.agent.harness import Node, c, pod


def add_debug(node: Node, pod_name: str, **extra: Any) -> None:
    """What the ephemeralcontainers subresource does to the pod the node watches."""
    current = node.pod(pod_name)
    assert current is not None
    entry = {"name": "debug", "image": "busybox:1.36", "stdin": True, "tty": True, **extra}
    current["spec"].setdefault("ephemeralContainers", []).append(entry)
    node.pods.add_pod(current)


def ephemeral(node: Node, pod_name: str) -> dict[str, Any]:
    (entry,) = node.status(pod_name)["ephemeralContainerStatuses"]
    return dict(entry)


async def test_a_debug_container_starts_once_in_the_targets_pid_namespace(tmp_path: Path) -> None:
    async with Node.running(tmp_path) as node:
        node.runtime.script("debug", runs=20.0, exit_code=3)
        node.add(pod("web", [c("app"), c("sidecar-ish")]))
        await node.advance_to(5)
        assert node.row("web") == "2/2 Running 0"
        app_id = next(cid for cid, ct in node.runtime.containers.items() if ct.status.name == "app")

        add_debug(node, "web", targetContainerName="app")
        await node.advance_to(10)
        created = [call.args[1] for call in node.runtime.calls_of("create_container")]
        (config,) = [cfg for cfg in created if cfg.name == "debug"]
        assert config.pid_target == app_id
        assert config.labels["kubelite.io/container-kind"] == "ephemeral"
        assert config.stdin and config.tty
        events = [(p.short, p.event.field_path) for p in node.posted("web")[-2:]]
        assert events == [
            ("Created debug", "spec.ephemeralContainers{debug}"),
            ("Started debug", "spec.ephemeralContainers{debug}"),
        ]
        entry = ephemeral(node, "web")
        assert "running" in entry["state"] and entry["ready"] is False and "started" not in entry
        assert node.row("web") == "2/2 Running 0"

        await node.advance_to(400)  # it exits at 25 s; no restart, no back-off, ever
        assert ephemeral(node, "web")["state"]["terminated"]["exitCode"] == 3
        assert node.runtime.created("debug") == 1
        assert node.row("web") == "2/2 Running 0"
        assert node.status("web")["phase"] == "Running"
        assert node.condition("web", "Ready") == ("True", "")


async def test_a_shared_pid_namespace_is_kept_instead_of_the_target(tmp_path: Path) -> None:
    async with Node.running(tmp_path) as node:
        node.add(pod("web", [c("app")], shareProcessNamespace=True))
        await node.advance_to(5)
        add_debug(node, "web", targetContainerName="app")
        await node.advance_to(10)
        (config,) = [
            call.args[1]
            for call in node.runtime.calls_of("create_container")
            if call.args[1].name == "debug"
        ]
        assert config.pid_target == ""


async def test_a_target_that_is_not_running_fails_the_start_as_the_kubelet_does(
    tmp_path: Path,
) -> None:
    async with Node.running(tmp_path) as node:
        node.runtime.script("app", runs=1.0, exit_code=1)
        node.add(pod("web", [c("app"), c("db")], restart="Never"))
        await node.advance_to(5)
        add_debug(node, "web", targetContainerName="app")
        await node.advance_to(8)
        failed = node.posted("web", "Failed")
        assert [(p.event.message, p.event.field_path) for p in failed][:1] == [
            ("Error: unable to find target container app", "spec.ephemeralContainers{debug}")
        ]
        assert ephemeral(node, "web")["state"] == {
            "waiting": {
                "reason": "CreateContainerConfigError",
                "message": "unable to find target container app",
            }
        }
        assert node.runtime.created("debug") == 0


async def test_deleting_the_pod_stops_the_debug_container_too(tmp_path: Path) -> None:
    async with Node.running(tmp_path) as node:
        uid = node.add(pod("web", [c("app")], tgps=5))
        await node.advance_to(5)
        add_debug(node, "web")
        await node.advance_to(10)
        node.pods.delete_pod(uid)
        await node.advance_to(20)
        killing = [(p.short, p.event.field_path) for p in node.posted("web", "Killing")]
        assert sorted(killing) == [
            ("Killing app", "spec.containers{app}"),
            ("Killing debug", "spec.ephemeralContainers{debug}"),
        ]
        assert {s.name for s in node.runtime.stops} == {"app", "debug"}
        assert node.pod("web") is None
