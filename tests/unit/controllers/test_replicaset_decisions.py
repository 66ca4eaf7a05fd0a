"""The ReplicaSet controller's decisions: claiming pods, how many to create, which to delete
first, and the status it reports."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.clock import rfc3339
from kubelite.controllers import replicaset as rs
from kubelite.model import labelselector

NOW = 1_700_000_000.0
OWNER = {
    "apiVersion": "apps/v1",
    "kind": "ReplicaSet",
    "metadata": {"name": "web-abc", "namespace": "default", "uid": "rs-1", "generation": 3},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}},
}


def ref(uid: str = "rs-1", name: str = "web-abc") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    owner: dict[str, Any] | None = None,
    node: str = "n1",
    phase: str = "Running",
    ready_since: float | None = None,
    created: float = NOW - 1000,
    restarts: int = 0,
    deleting: bool = False,
    cost: int | None = None,
    ns: str = "default",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": ns,
        "uid": f"uid-{name}",
        "labels": {"app": "web"} if labels is None else labels,
        "creationTimestamp": rfc3339(created),
    }
    if owner is not None:
        meta["ownerReferences"] = [owner]
    if deleting:
        meta["deletionTimestamp"] = rfc3339(NOW)
    if cost is not None:
        meta["annotations"] = {rs.DELETION_COST: str(cost)}
    status: dict[str, Any] = {
        "phase": phase,
        "containerStatuses": [{"name": "c", "restartCount": restarts}],
    }
    if ready_since is not None:
        status["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(ready_since)}
        ]
    return {"metadata": meta, "spec": {"nodeName": node}, "status": status}


def selects(p: Any) -> bool:
    return labelselector.selects({"matchLabels": {"app": "web"}}, p)


def names(pods: Any) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


def test_an_owner_keeps_its_pods_adopts_orphans_and_releases_what_it_no_longer_selects() -> None:
    pods = [
        pod("mine", owner=ref()),
        pod("orphan"),
        pod("relabelled", labels={"app": "other"}, owner=ref()),
        pod("theirs", owner=ref(uid="rs-2", name="other")),
        pod("orphan-other-labels", labels={"app": "db"}),
        pod("orphan-going", deleting=True),
        pod("other-namespace", ns="kube-system"),
    ]
    claims = rs.claim(OWNER, pods, selects)
    assert names(claims.owned) == ["mine"]
    assert names(claims.adopt) == ["orphan"]
    assert names(claims.release) == ["relabelled"]


def test_an_owner_being_deleted_adopts_and_releases_nothing() -> None:
    owner = {**OWNER, "metadata": {**OWNER["metadata"], "deletionTimestamp": rfc3339(NOW)}}
    pods = [
        pod("mine", owner=ref()),
        pod("orphan"),
        pod("relabelled", labels={"app": "x"}, owner=ref()),
    ]
    claims = rs.claim(owner, pods, selects)
    assert (names(claims.owned), claims.adopt, claims.release) == (["mine"], (), ())


@pytest.mark.parametrize(
    ("have", "want", "create", "delete"),
    [
        pytest.param(0, 3, 3, 0, id="none: create all"),
        pytest.param(2, 3, 1, 0, id="one missing"),
        pytest.param(3, 3, 0, 0, id="right: nothing"),
        pytest.param(3, 1, 0, 2, id="two too many"),
        pytest.param(2, 0, 0, 2, id="scaled to zero: delete all"),
        pytest.param(0, 700, 500, 0, id="at most 500 at a time"),
    ],
)
def test_scaling_brings_the_pods_to_the_replicas(
    have: int, want: int, create: int, delete: int
) -> None:
    plan = rs.scaling([pod(f"p{i}", owner=ref()) for i in range(have)], want, NOW)
    assert (plan.create, len(plan.delete)) == (create, delete)


def test_creations_go_in_slow_start_batches() -> None:
    assert rs.slow_start_batches(10) == [1, 2, 4, 3]
    assert rs.slow_start_batches(1) == [1]
    assert rs.slow_start_batches(0) == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(pod("a", node=""), pod("b"), id="unscheduled before scheduled"),
        pytest.param(
            pod("a", phase="Pending"), pod("b", phase="Running"), id="pending before running"
        ),
        pytest.param(
            pod("a", phase="Unknown"), pod("b", phase="Running"), id="unknown before running"
        ),
        pytest.param(pod("a"), pod("b", ready_since=NOW - 100), id="not ready before ready"),
        pytest.param(
            pod("a", cost=-5, ready_since=NOW - 100),
            pod("b", ready_since=NOW - 100),
            id="lower deletion cost first",
        ),
        pytest.param(
            pod("a", ready_since=NOW - 10),
            pod("b", ready_since=NOW - 10_000),
            id="ready for less time first",
        ),
        pytest.param(pod("a", restarts=4), pod("b", restarts=1), id="more restarts first"),
        pytest.param(pod("a", created=NOW - 10), pod("b", created=NOW - 10_000), id="newer first"),
    ],
)
def test_the_pods_deleted_first_are_ranked_as_the_replicaset_controller_ranks_them(
    first: Any, second: Any
) -> None:
    assert names(rs.deletion_order([second, first], NOW)) == ["a", "b"]


def test_ready_times_in_the_same_power_of_two_fall_back_to_the_uid() -> None:
    a = pod("a", ready_since=NOW - 1000, restarts=0)
    b = pod("b", ready_since=NOW - 1001, restarts=9)
    assert names(rs.deletion_order([b, a], NOW)) == ["a", "b"]


def test_a_pod_from_the_template_is_named_after_its_owner_and_controlled_by_it() -> None:
    template = {
        "metadata": {"labels": {"app": "web"}, "annotations": {"a": "1"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    made = rs.pod_from_template(OWNER, template, ref())
    assert made["metadata"] == {
        "generateName": "web-abc-",
        "labels": {"app": "web"},
        "annotations": {"a": "1"},
        "ownerReferences": [ref()],
    }
    assert made["spec"] == template["spec"] and made["spec"] is not template["spec"]


def test_the_status_counts_ready_and_available_pods_and_the_observed_generation() -> None:
    pods = [
        pod("a", ready_since=NOW - 100),
        pod("b", ready_since=NOW - 5),
        pod("c"),
        pod("d", labels={"app": "web"}, ready_since=NOW - 100),
    ]
    labels = {"app": "web", "extra": "x"}
    pods[0]["metadata"]["labels"] = labels
    status = rs.replica_status(OWNER, pods, labels, now=NOW, min_ready_seconds=10)
    assert status == {
        "replicas": 4,
        "fullyLabeledReplicas": 1,
        "readyReplicas": 3,
        "availableReplicas": 2,
        "observedGeneration": 3,
    }


def test_a_failed_create_sets_the_replica_failure_condition_and_success_clears_it() -> None:
    failed = rs.replica_status(
        OWNER, [], {}, now=NOW, min_ready_seconds=0, failure=("FailedCreate", "pods is forbidden")
    )
    assert failed["conditions"] == [
        {
            "type": "ReplicaFailure",
            "status": "True",
            "reason": "FailedCreate",
            "message": "pods is forbidden",
            "lastTransitionTime": rfc3339(NOW),
        }
    ]
    recovered = rs.replica_status({**OWNER, "status": failed}, [], {}, now=NOW, min_ready_seconds=0)
    assert "conditions" not in recovered


def test_the_next_availability_check_is_when_the_first_ready_pod_passes_min_ready_seconds() -> None:
    pods = [pod("a", ready_since=NOW - 4), pod("b", ready_since=NOW - 8), pod("c")]
    assert rs.next_availability_check(pods, 10, NOW) == 2
    assert rs.next_availability_check(pods, 0, NOW) is None
