"""The facts worked out from what the agent sees and decides: pure functions, fixed inputs."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.agent import lifecyclefacts as lf
from kubelite.agent.actions import BackedOff, KillPod, KillReason, PodPlan, StartFailure
from kubelite.agent.eventtext import Event
from kubelite.agent.termination import stop_container
from kubelite.model.pod import ContainerKind, PodSpec, ProbeType
from kubelite.runtime.interface import ContainerState, ContainerStatus
from kubelite.timeline import record as rec

AT = 1_700_000_000_000_000


def pod(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "default", "uid": "u",
                     "creationTimestamp": "2023-11-14T22:13:20Z"},
        "spec": {"containers": [{"name": "app", "image": "x"}], **spec},
    }  # fmt: skip


def instance(
    cid: str, state: ContainerState, *, attempt: int = 0, started: float | None = None,
    finished: float | None = None, code: int | None = None, reason: str = "",
) -> ContainerStatus:  # fmt: skip
    return ContainerStatus(
        id=cid, sandbox_id="s", name="app", attempt=attempt, state=state, image="x",
        image_id="", created_at=1_700_000_001.0, started_at=started, finished_at=finished,
        exit_code=code, reason=reason,
    )  # fmt: skip


def test_the_container_table_lists_init_sidecar_app_and_ephemeral_with_their_index() -> None:
    body = pod(
        initContainers=[{"name": "a"}, {"name": "b", "restartPolicy": "Always"}],
        ephemeralContainers=[{"name": "debug"}],
    )
    assert lf.container_table(body) == [
        {"name": "a", "kind": "init", "index": 0},
        {"name": "b", "kind": "sidecar", "index": 1},
        {"name": "app", "kind": "app", "index": 0},
        {"name": "debug", "kind": "ephemeral", "index": 0},
    ]


def test_a_pod_first_seen_tells_its_creation_and_its_scheduling() -> None:
    body = pod()
    body["status"] = {"conditions": [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2023-11-14T22:13:21Z"},
        {"type": "Other", "status": "True", "lastTransitionTime": "2023-11-14T22:13:21Z"},
    ]}  # fmt: skip
    assert lf.first_facts(body) == [
        {"at": 1_700_000_000_000_000, "type": rec.POD_CREATED},
        {"at": 1_700_000_001_000_000, "type": rec.CONDITION_CHANGED,
         "condition": "PodScheduled", "status": "True"},
    ]  # fmt: skip


def test_the_deletion_is_told_once_with_its_grace() -> None:
    before = pod()
    after = pod()
    after["metadata"] |= {"deletionTimestamp": "x", "deletionGracePeriodSeconds": 30}
    assert lf.deletion_fact(before, after, AT) == {
        "at": AT,
        "type": rec.DELETION_REQUESTED,
        "gracePeriodSeconds": 30,
    }
    assert lf.deletion_fact(after, after, AT) is None


def test_status_changes_give_phase_condition_readiness_and_failed_start_facts() -> None:
    before = {"phase": "Pending", "conditions": [{"type": "Ready", "status": "False"}],
              "containerStatuses": [{"name": "app", "ready": False}]}  # fmt: skip
    after = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [
            {"name": "app", "ready": True},
            {"name": "side", "ready": False, "state": {"waiting": {
                "reason": "CreateContainerConfigError", "message": 'secret "s" not found'}}},
        ],
    }  # fmt: skip
    assert lf.status_facts(before, after, AT) == [
        {"at": AT, "type": rec.PHASE_CHANGED, "phase": "Running"},
        {"at": AT, "type": rec.CONDITION_CHANGED, "condition": "Ready", "status": "True"},
        {"at": AT, "type": rec.CONTAINER_READY, "container": "app", "ready": True},
        {"at": AT, "type": rec.START_FAILED, "container": "side",
         "reason": "CreateContainerConfigError", "message": 'secret "s" not found'},
    ]  # fmt: skip
    assert lf.status_facts(after, after, AT) == []


def test_an_instance_is_told_created_started_and_exited_once_each_at_the_runtimes_times() -> None:
    view = lf.RuntimeView()
    running = instance("c1", ContainerState.RUNNING, started=1_700_000_002.0)
    facts, view = lf.runtime_facts(view, [running])
    assert [(f["type"], f["at"]) for f in facts] == [
        (rec.CONTAINER_CREATED, 1_700_000_001_000_000),
        (rec.CONTAINER_STARTED, 1_700_000_002_000_000),
    ]
    assert lf.runtime_facts(view, [running])[0] == []
    killed = instance("c1", ContainerState.EXITED, started=1_700_000_002.0,
                      finished=1_700_000_009.5, code=137, reason="Error")  # fmt: skip
    facts, view = lf.runtime_facts(view, [killed])
    assert facts == [
        {"at": 1_700_000_009_500_000, "type": rec.CONTAINER_EXITED, "container": "app",
         "attempt": 0, "containerID": "c1", "exitCode": 137, "reason": "Error",
         "signal": "SIGKILL"},
    ]  # fmt: skip
    assert view.name_of("c1") == "app"


def test_a_container_that_never_started_is_told_created_and_exited_only() -> None:
    failed = instance("c2", ContainerState.EXITED, finished=1_700_000_001.5, code=128,
                      reason="StartError")  # fmt: skip
    facts, _ = lf.runtime_facts(lf.RuntimeView(), [failed])
    assert [f["type"] for f in facts] == [rec.CONTAINER_CREATED, rec.CONTAINER_EXITED]


def test_a_signalled_instance_exits_no_earlier_than_its_signal() -> None:
    """The exit file's time is the kernel's coarse clock, up to a tick behind the signal's."""
    view = lf.RuntimeView()
    running = instance("c1", ContainerState.RUNNING, started=1_700_000_002.0)
    _, view = lf.runtime_facts(view, [running])
    sent = 1_700_000_005_002_000
    exited = instance("c1", ContainerState.EXITED, started=1_700_000_002.0,
                      finished=1_700_000_004.999, code=143, reason="Error")  # fmt: skip
    facts, _ = lf.runtime_facts(view, [exited], {"c1": sent})
    assert [(f["type"], f["at"]) for f in facts] == [(rec.CONTAINER_EXITED, sent)]
    later = instance("c1", ContainerState.EXITED, started=1_700_000_002.0,
                     finished=1_700_000_006.0, code=143, reason="Error")  # fmt: skip
    facts, _ = lf.runtime_facts(view, [later], {"c1": sent})
    assert [f["at"] for f in facts] == [1_700_000_006_000_000]


def _plan(*actions: Any) -> PodPlan:
    return PodPlan(actions=tuple(actions))


def test_a_kill_is_told_once_per_instance_with_its_reason_and_grace() -> None:
    spec = PodSpec.of(pod(terminationGracePeriodSeconds=20))
    app = spec.containers[0]
    status = instance("c1", ContainerState.RUNNING)
    stop = stop_container(spec, app, status, KillReason.STOP, "Stopping container app")
    plan = _plan(KillPod(why="", stops=(stop,), sandbox_ids=()))
    facts, _, killing = lf.plan_facts(plan, AT, deleting=True, evicted=False,
                                      backing_off=frozenset(), killing=frozenset())  # fmt: skip
    assert facts == [{"at": AT, "type": rec.KILL_REQUESTED, "container": "app",
                      "reason": "PodDeletion", "gracePeriodSeconds": 20,
                      "message": "Stopping container app"}]  # fmt: skip
    again, _, _ = lf.plan_facts(plan, AT + 1, deleting=True, evicted=False,
                                backing_off=frozenset(), killing=killing)  # fmt: skip
    assert again == []


@pytest.mark.parametrize(
    ("reason", "deleting", "evicted", "words"),
    [
        (KillReason.STOP, False, False, "PodTerminated"),
        (KillReason.STOP, True, True, "Eviction"),
        (KillReason.LIVENESS, False, False, "LivenessProbeFailed"),
        (KillReason.STARTUP, False, False, "StartupProbeFailed"),
        (KillReason.POST_START, False, False, "PostStartHookFailed"),
    ],
)
def test_kill_reasons_read_as_the_cause(
    reason: KillReason, deleting: bool, evicted: bool, words: str
) -> None:
    spec = PodSpec.of(pod())
    stop = stop_container(spec, spec.containers[0], instance("c", ContainerState.RUNNING),
                          reason, "")  # fmt: skip
    assert lf.kill_reason(stop, deleting=deleting, evicted=evicted) == words


def test_a_back_off_is_told_once_per_wait() -> None:
    event = Event("Warning", "BackOff", "Back-off restarting failed container")
    wait = BackedOff("app", ContainerKind.APP, StartFailure("CrashLoopBackOff", ""), 20.0, event)
    facts, waiting, _ = lf.plan_facts(_plan(wait), AT, deleting=False, evicted=False,
                                      backing_off=frozenset(), killing=frozenset())  # fmt: skip
    assert facts == [{"at": AT, "type": rec.BACK_OFF, "container": "app", "seconds": 20.0}]
    again, _, _ = lf.plan_facts(_plan(wait), AT, deleting=False, evicted=False,
                                backing_off=waiting, killing=frozenset())  # fmt: skip
    assert again == []


def test_image_pulls_are_told_from_their_events() -> None:
    path = "spec.initContainers{init}"
    pulling = Event("Normal", "Pulling", 'Pulling image "busybox:1.36"', path)
    facts, open_ = lf.event_facts(pulling, AT, frozenset())
    assert facts == [{"at": AT, "type": rec.IMAGE_PULLING, "container": "init",
                      "image": "busybox:1.36"}]  # fmt: skip
    failed = Event("Warning", "Failed", 'Failed to pull image "busybox:1.36": no such host', path)
    facts, open_ = lf.event_facts(failed, AT + 5, open_)
    assert facts[0]["type"] == rec.IMAGE_PULL_FAILED and open_ == frozenset()
    # a Failed event with no pull open (a create error) is no pull fact
    assert lf.event_facts(failed, AT + 6, open_)[0] == []


def test_a_sandbox_failure_event_is_told() -> None:
    event = Event("Warning", "FailedMount", 'MountVolume.SetUp failed for volume "v" : boom')
    facts, _ = lf.event_facts(event, AT, frozenset())
    assert facts == [{"at": AT, "type": rec.SANDBOX_FAILED, "message": event.message}]


def test_a_probe_result_repeating_the_last_one_is_folded_into_it() -> None:
    first = lf.probe_fact(AT, "app", ProbeType.READINESS, 0, "success", "")
    second = lf.probe_fact(AT + 10, "app", ProbeType.READINESS, 0, "success", "")
    assert lf.fold_probe(first, second) == {**first, "count": 2, "last": AT + 10}
    third = lf.probe_fact(AT + 20, "app", ProbeType.READINESS, 0, "failure", "refused")
    assert lf.fold_probe(first, third) is None
    other_instance = lf.probe_fact(AT + 20, "app", ProbeType.READINESS, 1, "success", "")
    assert lf.fold_probe(first, other_instance) is None
