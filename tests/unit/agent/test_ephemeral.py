"""Ephemeral containers in the pure core: which sync starts them (``ephemeralplan`` through
``plan_pod``), how they are stopped, and ``ephemeralContainerStatuses`` (``pod_status``)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.agent import labels
from kubelite.agent.actions import KillPod, StartContainer, StartFailure
from kubelite.agent.backoff import BackoffState
from kubelite.agent.ephemeral import (
    EphemeralSpec,
    ephemeral_specs,
    find_container,
    joins_target,
    oom_score_adj,
)
from kubelite.agent.observed import ObservedPod
from kubelite.agent.planning import plan_pod
from kubelite.agent.podstatus import StatusFacts, pod_status
from kubelite.agent.probestate import ProbeResults
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import ContainerState, ContainerStatus
from tests.unit.agent.builders import T0, c, describe, exited, observed, pod, running, sidecar

NOW = T0 + 100


def debug(name: str = "debug", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox:1.36", "stdin": True, "tty": True, **extra}


def with_debug(*entries: dict[str, Any], **kw: Any) -> PodSpec:
    containers = kw.pop("containers", [c("web")])
    return pod(containers, kw.pop("init", None), ephemeralContainers=list(entries), **kw)


def instance(
    spec: PodSpec, name: str, state: ContainerState = ContainerState.RUNNING, code: int = 0
) -> ContainerStatus:
    found = find_container(spec, name)
    assert isinstance(found, EphemeralSpec)
    done = state is ContainerState.EXITED
    return ContainerStatus(
        id=f"{name}-0", sandbox_id="sb0", name=name, attempt=0, state=state,
        image=found.image, image_id="sha256:abc", created_at=T0 + 10, started_at=T0 + 10,
        finished_at=T0 + 20 if done else None, exit_code=code if done else None,
        reason=("Completed" if code == 0 else "Error") if done else "",
        labels=labels.container_labels(spec, found),
    )  # fmt: skip


def plan(spec: PodSpec, obs: ObservedPod, **kw: Any) -> list[str]:
    return describe(plan_pod(spec, obs, ProbeResults(), BackoffState(), NOW, **kw))


def starts(spec: PodSpec, obs: ObservedPod) -> list[StartContainer]:
    p = plan_pod(spec, obs, ProbeResults(), BackoffState(), NOW)
    return [a for a in p.actions if isinstance(a, StartContainer)]


# -------------------------------------------------------------------------- planning

ONE = with_debug(debug(targetContainerName="web"))


def test_a_new_ephemeral_container_is_started_once_beside_the_running_app() -> None:
    spec = ONE
    assert plan(spec, observed(running(spec, "web"))) == ["start debug #None"]


def test_an_ephemeral_container_that_ran_is_never_started_again_whatever_its_exit() -> None:
    spec = ONE
    for code in (0, 1):
        obs = observed(running(spec, "web"), instance(spec, "debug", ContainerState.EXITED, code))
        assert plan(spec, obs) == []


def test_a_running_ephemeral_container_is_left_alone() -> None:
    spec = ONE
    assert plan(spec, observed(running(spec, "web"), instance(spec, "debug"))) == []


def test_ephemeral_containers_start_before_init_containers_still_to_run() -> None:
    spec = with_debug(debug(), init=[c("first"), c("second")])
    obs = observed(exited(spec, "first"))
    assert plan(spec, obs) == ["start debug #None", "start second #None"]


def test_nothing_ephemeral_starts_in_a_sync_that_makes_the_sandbox() -> None:
    assert plan(ONE, ObservedPod()) == ["create sandbox 0", "start web #None"]


def test_nothing_ephemeral_starts_in_a_pod_that_is_done() -> None:
    spec = with_debug(debug(), restart="Never")
    obs = observed(exited(spec, "web"))
    assert plan(spec, obs, phase="Succeeded") == ["kill pod: stop [] sandboxes [sb0]"]


def test_a_start_names_the_targets_running_instance() -> None:
    spec = ONE
    (start,) = starts(spec, observed(running(spec, "web", id="web-live")))
    assert (start.target, start.target_id) == ("web", "web-live")
    assert start.labels[labels.CONTAINER_KIND] == "ephemeral"
    assert not start.abort_on_failure


def test_a_target_that_is_not_running_leaves_the_start_without_one() -> None:
    spec = with_debug(
        debug(targetContainerName="web"), restart="Never", containers=[c("web"), c("db")]
    )
    (start,) = starts(spec, observed(exited(spec, "web", 1), running(spec, "db")))
    assert (start.target, start.target_id) == ("web", "")


def test_deletion_stops_a_running_ephemeral_container_with_its_own_field_path() -> None:
    spec = with_debug(debug(), deleted=T0 + 50, containers=[c("web")], init=[sidecar("proxy")])
    obs = observed(running(spec, "proxy"), running(spec, "web"), instance(spec, "debug"))
    p = plan_pod(spec, obs, ProbeResults(), BackoffState(), NOW)
    (kill,) = [a for a in p.actions if isinstance(a, KillPod)]
    stops = {s.name: s for s in kill.stops}
    assert list(stops) == ["proxy", "web", "debug"]
    assert stops["debug"].event.field_path == "spec.ephemeralContainers{debug}"
    assert stops["debug"].event.message == "Stopping container debug"
    assert stops["debug"].wait_for == () and stops["proxy"].wait_for == ("web",)


# -------------------------------------------------------------------------- the view


def test_the_view_reads_every_entry_in_spec_order() -> None:
    spec = with_debug(debug("b"), debug("a", targetContainerName="web"))
    assert [(e.name, e.target, e.index) for e in ephemeral_specs(spec)] == [
        ("b", "", 0),
        ("a", "web", 1),
    ]
    assert find_container(spec, "a") is not None and find_container(spec, "nope") is None


@pytest.mark.parametrize(
    ("extra", "joins"),
    [({}, True), ({"shareProcessNamespace": True}, False), ({"hostPID": True}, False)],
    ids=["own namespaces", "a shared namespace", "the node's namespace"],
)
def test_a_target_is_joined_only_while_each_container_has_its_own_pid_namespace(
    extra: dict[str, Any], joins: bool
) -> None:
    assert joins_target(with_debug(debug(), **extra)) is joins


GUARANTEED = {"cpu": "1", "memory": "1Gi"}


@pytest.mark.parametrize(
    ("resources", "score"),
    [
        ({"limits": GUARANTEED, "requests": GUARANTEED}, -997),
        ({}, 1000),
        ({"requests": {"memory": "1Gi"}}, 999),
    ],
    ids=["Guaranteed", "BestEffort", "Burstable"],
)
def test_qos_3_an_ephemeral_containers_oom_score_follows_the_pods_class(
    resources: dict[str, Any], score: int
) -> None:
    assert oom_score_adj(with_debug(debug(), containers=[c("web", resources=resources)])) == score


# -------------------------------------------------------------------------- status


def status(spec: PodSpec, obs: ObservedPod, **facts: Any) -> dict[str, Any]:
    return pod_status(spec, obs, ProbeResults(), StatusFacts(**facts), NOW)


def test_a_pod_without_ephemeral_containers_reports_no_list() -> None:
    spec = pod([c("web")])
    assert "ephemeralContainerStatuses" not in status(spec, observed(running(spec, "web")))


def test_a_running_ephemeral_container_is_never_ready_nor_started_and_the_pod_stays_ready() -> None:
    spec = ONE
    st = status(spec, observed(running(spec, "web"), instance(spec, "debug")))
    (entry,) = st["ephemeralContainerStatuses"]
    assert entry["state"] == {"running": {"startedAt": "2023-11-14T22:13:30Z"}}
    assert entry["ready"] is False and "started" not in entry
    assert entry["containerID"] == "kubelite://debug-0" and entry["restartCount"] == 0
    ready = {x["type"]: x["status"] for x in st["conditions"]}
    assert st["phase"] == "Running" and ready["Ready"] == "True"
    assert [s["name"] for s in st["containerStatuses"]] == ["web"]


def test_an_exited_ephemeral_container_changes_neither_phase_nor_readiness() -> None:
    spec = ONE
    obs = observed(running(spec, "web"), instance(spec, "debug", ContainerState.EXITED, 42))
    st = status(spec, obs)
    (entry,) = st["ephemeralContainerStatuses"]
    assert entry["state"]["terminated"]["exitCode"] == 42
    assert entry["state"]["terminated"]["reason"] == "Error"
    assert st["phase"] == "Running"


@pytest.mark.parametrize(
    ("init", "reason"), [(None, "ContainerCreating"), ([c("setup")], "PodInitializing")]
)
def test_one_not_yet_started_waits_as_the_pods_containers_would(
    init: list[dict[str, Any]] | None, reason: str
) -> None:
    spec = with_debug(debug(), init=init)
    (entry,) = status(spec, observed())["ephemeralContainerStatuses"]
    assert entry["state"] == {"waiting": {"reason": reason}} and entry["ready"] is False


def test_a_failed_start_shows_its_reason() -> None:
    spec = ONE
    failure = StartFailure("CreateContainerConfigError", "unable to find target container web")
    (entry,) = status(spec, observed(), start_failures={"debug": failure})[
        "ephemeralContainerStatuses"
    ]
    assert entry["state"] == {
        "waiting": {
            "reason": "CreateContainerConfigError",
            "message": "unable to find target container web",
        }
    }


def test_statuses_are_sorted_by_name() -> None:
    spec = with_debug(debug("zeta"), debug("alpha"))
    names = [s["name"] for s in status(spec, observed())["ephemeralContainerStatuses"]]
    assert names == ["alpha", "zeta"]


def test_the_final_status_shows_a_still_running_one_as_lost_without_a_started_field() -> None:
    spec = ONE
    st = status(spec, observed(instance(spec, "debug")), terminal=True)
    (entry,) = st["ephemeralContainerStatuses"]
    assert entry["state"]["terminated"]["reason"] == "ContainerStatusUnknown"
    assert "started" not in entry
