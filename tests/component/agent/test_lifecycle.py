"""Init containers, sidecars, restart policies and config errors through a running NodeAgent.

Each test drives one pod on the FakeRuntime on virtual time and checks what the kubelet
rules say the user sees: which containers ran and when, their statuses, and the kubectl row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.agent.probestate import Outcome, RawResult
from kubelite.clock import ManualClock
from tests.component.agent.harness import T0, FakeProbes, Node, c, exec_probe, pod, sidecar

# --------------------------------------------------------------------------------- init


async def test_init_containers_run_one_at_a_time_in_spec_order_before_the_app(
    tmp_path: Path,
) -> None:
    """INIT-1 / SYNC-5: init-b is created only after init-a exited 0; the app after both."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("init-a", runs=2.0)
        node.runtime.script("init-b", runs=3.0)
        node.add(pod("p", [c("app")], [c("init-a"), c("init-b")]))
        await node.advance_to(10)
        created = [(round(p.t), p.container) for p in node.posted("p", "Created")]
        assert created == [(0, "init-a"), (2, "init-b"), (5, "app")]
        assert node.kubectl("p") == [
            "0/1 Init:0/2 0",
            "0/1 Init:1/2 0",
            "0/1 PodInitializing 0",
            "1/1 Running 0",
        ]
        assert node.container("p", "init-a")["state"]["terminated"]["reason"] == "Completed"
        assert node.condition("p", "Initialized") == ("True", "")


async def test_a_failed_init_container_holds_back_the_next_one_until_it_succeeds(
    tmp_path: Path,
) -> None:
    """INIT-1 / INIT-3 / SYNC-6: init-a fails once, is restarted at once and then succeeds;
    init-b never runs before that; RESTARTS counts init-a's restart until initialized."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("init-a", attempt=0, runs=1.0, exit_code=1)
        node.runtime.script("init-a", attempt=1, runs=1.0, exit_code=0)
        node.runtime.script("init-b", runs=1.0)
        node.add(pod("p", [c("app")], [c("init-a"), c("init-b")]))
        await node.advance_to(1.5)
        assert node.runtime.created("init-b") == 0
        assert node.row("p") == "0/1 Init:0/2 1 (0s ago)"
        await node.advance_to(5)
        assert [p.container for p in node.posted("p", "Created")] == [
            "init-a",
            "init-a",
            "init-b",
            "app",
        ]
        assert node.row("p") == "1/1 Running 0"  # KC-4: init restarts drop out


async def test_init_containers_are_not_run_again_when_an_app_container_restarts(
    tmp_path: Path,
) -> None:
    """INIT-7 (b): the last init container succeeded, so an app crash restarts only the app."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script("init-a", runs=1.0)
        node.add(pod("p", [c("app")], [c("init-a")]))
        await node.advance_to(3)
        assert node.row("p") == "1/1 Running 0"
        await rt.crash(rt.container_named("app").id, 1)
        await node.advance_to(30)
        assert rt.created("init-a") == 1
        assert rt.created("app") == 2
        assert node.row("p").startswith("1/1 Running 1")


async def test_init_containers_are_not_run_again_once_their_records_are_gone(
    tmp_path: Path,
) -> None:
    """INIT-7 (a): with the init records garbage-collected, a running app container is proof
    enough that the pod initialized: a crash of the other app container re-runs nothing."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script("init-a", runs=1.0)
        node.add(pod("p", [c("app"), c("web")], [c("init-a")]))
        await node.advance_to(3)
        await rt.remove_container(rt.container_named("init-a").id)  # container GC
        await rt.crash(rt.container_named("app").id, 1)
        await node.advance_to(30)
        assert rt.created("init-a") == 1
        assert rt.created("app") == 2


async def test_init_containers_run_again_when_every_app_exited_and_their_records_are_gone(
    tmp_path: Path,
) -> None:
    """INIT-9 (last case): neither INIT-7 (a) nor (b) holds, so init starts again at 0."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        rt.script("init-a", runs=1.0)
        node.add(pod("p", [c("app")], [c("init-a")]))
        await node.advance_to(3)
        await rt.remove_container(rt.container_named("init-a").id)
        await rt.crash(rt.container_named("app").id, 1)
        await node.advance_to(30)
        assert rt.created("init-a") == 2
        assert rt.created("app") == 2


# --------------------------------------------------------------------------------- sidecars


async def test_a_sidecar_that_exits_before_it_started_is_restarted_even_under_never(
    tmp_path: Path,
) -> None:
    """SC-3 / BO-7: the sidecar exits before its startup probe passed: restarted with back-off
    under Never; the app waits; the pod stays Pending."""
    clock = ManualClock(T0)
    probes = FakeProbes(clock)  # the startup probe passes from the third instance on
    probes.answers[("proxy", "startup")] = lambda status: RawResult(
        Outcome.SUCCESS if status.attempt >= 2 else Outcome.FAILURE
    )
    async with Node.running(tmp_path, clock=clock, probes=probes) as node:
        rt = node.runtime
        rt.script("proxy", attempt=0, runs=1.0, exit_code=1)
        rt.script("proxy", attempt=1, runs=1.0, exit_code=1)
        proxy = sidecar("proxy", startupProbe=exec_probe("up?", periodSeconds=1))
        node.add(pod("p", [c("app")], [proxy], "Never"))
        await node.advance_to(5)
        assert rt.created("proxy") == 2  # at 0 and, no back-off record yet, at 1
        assert node.row("p") == "0/2 Init:CrashLoopBackOff 1 (3s ago)"
        assert node.status("p")["phase"] == "Pending"
        assert rt.created("app") == 0
        await node.advance_to(15)
        assert rt.created("proxy") == 3  # at 12: 10 s after the exit at 2
        assert rt.created("app") == 1
        assert node.row("p").startswith("2/2 Running 2")


async def test_a_started_sidecar_that_exits_0_is_restarted_under_never(tmp_path: Path) -> None:
    """SC-4: any exit of a started sidecar, 0 included, restarts it whatever the policy."""
    async with Node.running(tmp_path) as node:
        rt = node.runtime
        node.add(pod("p", [c("app")], [sidecar("proxy")], "Never"))
        await node.advance_to(2)
        await rt.crash(rt.container_named("proxy").id, 0)
        await node.advance_to(3)
        assert rt.created("proxy") == 2
        assert node.container("p", "proxy")["restartCount"] == 1
        assert node.status("p")["phase"] == "Running"
        assert rt.created("app") == 1


# --------------------------------------------------------------------------------- APP-2


@pytest.mark.parametrize(
    ("policy", "code", "restarted", "phase"),
    [
        ("Always", 0, True, "Running"),
        ("Always", 1, True, "Running"),
        ("OnFailure", 0, False, "Succeeded"),
        ("OnFailure", 1, True, "Running"),
        ("Never", 0, False, "Succeeded"),
        ("Never", 1, False, "Failed"),
    ],
)
async def test_an_exited_app_container_restarts_as_its_pods_restart_policy_says(
    tmp_path: Path, policy: str, code: int, restarted: bool, phase: str
) -> None:
    """APP-2 / PH-1: Always restarts; OnFailure only after a non-zero exit; Never never."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("app", attempt=0, runs=2.0, exit_code=code)
        node.add(pod("p", [c("app")], restart=policy))
        await node.advance_to(5)
        assert node.runtime.created("app") == (2 if restarted else 1)
        assert node.status("p")["phase"] == phase


async def test_under_on_failure_only_the_failed_app_container_is_restarted(
    tmp_path: Path,
) -> None:
    """APP-2 / SYNC-6: of two app containers, the one that exited 0 stays terminated."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("ok", runs=1.0, exit_code=0)
        node.runtime.script("bad", attempt=0, runs=1.0, exit_code=2)
        node.add(pod("p", [c("ok"), c("bad")], restart="OnFailure"))
        await node.advance_to(5)
        assert node.runtime.created("ok") == 1
        assert node.runtime.created("bad") == 2
        assert node.state("p", "ok") == ("terminated", "Completed")
        assert node.row("p") == "1/2 NotReady 1 (4s ago)"  # KC-2 step 5: Completed + running


# --------------------------------------------------------------------------------- config


CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}


async def test_a_missing_config_map_is_a_create_container_config_error_until_it_appears(
    tmp_path: Path,
) -> None:
    """CS-3 / EV-2: `configmap "settings" not found` as waiting message and `Error: …` event;
    retried every 10 s (SYNC-1) and started once the ConfigMap exists."""
    async with Node.running(tmp_path) as node:
        env = [
            {
                "name": "MODE",
                "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}},
            }
        ]
        node.add(pod("p", [c("app", env=env)]))
        await node.advance_to(1)
        assert node.row("p") == "0/1 CreateContainerConfigError 0"
        assert node.container("p", "app")["state"]["waiting"] == {
            "reason": "CreateContainerConfigError",
            "message": 'configmap "settings" not found',
        }
        assert set(node.messages("p", "Failed")) == {'Error: configmap "settings" not found'}
        assert node.runtime.created("app") == 0

        await node.advance_to(25)  # tried at 0 (twice: once more after the sandbox), 10, 20
        assert len(node.messages("p", "Failed")) == 4

        node.pods.add_object({**CONFIG, "data": {"mode": "fast"}})
        await node.advance_to(36)
        assert node.row("p") == "1/1 Running 0"
        (create,) = node.runtime.calls_of("create_container")
        assert ("MODE", "fast") in create.args[1].env


async def test_tm2_a_log_that_cannot_be_read_gives_the_kubelets_message(tmp_path: Path) -> None:
    """FallbackToLogsOnError with a log the agent cannot read: the terminated message says so,
    in the kubelet's words, and the pod's sync goes on."""
    async with Node.running(tmp_path) as node:
        node.runtime.script("app", runs=1.0, exit_code=2)
        app = c("app", terminationMessagePolicy="FallbackToLogsOnError")
        node.add(pod("tm", [app], restart="Never"))
        await node.advance_to(0.5)
        node.runtime.container_named("app").log_path.mkdir(parents=True)  # unreadable as a file
        await node.advance_to(2)
        assert node.state("tm", "app") == ("terminated", "Error")
        terminated = node.container("tm", "app")["state"]["terminated"]
        assert terminated["message"] == (
            "Error on reading termination message from logs: Is a directory"
        )
        assert node.status("tm")["phase"] == "Failed"
