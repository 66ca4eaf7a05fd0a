"""A Deployment's status and conditions with the deployment controller's reasons and
messages."""

from __future__ import annotations

import copy
from typing import Any

from kubelite.clock import rfc3339
from kubelite.controllers import deployment_status as ds

NOW = 1_700_000_000.0


def deployment(
    replicas: int = 3,
    *,
    status: dict[str, Any] | None = None,
    generation: int = 2,
    deadline: int | None = 600,
    paused: bool = False,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "paused": paused,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
        },
    }
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return {
        "metadata": {"name": "web", "generation": generation},
        "spec": spec,
        "status": status or {},
    }


def rs(name: str, replicas: int, ready: int, available: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "uid": name},
        "spec": {"replicas": replicas},
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": available},
    }


def cond(status: dict[str, Any], kind: str) -> dict[str, Any]:
    found = ds.get_condition(status, kind)
    assert found is not None
    return dict(found)


def test_the_counts_are_summed_over_the_replicasets_and_available_is_judged() -> None:
    new, old = rs("new", 2, 2, 1), rs("old", 2, 2, 2)
    status = ds.calculate([old, new], new, deployment(3), NOW)
    assert {
        k: status[k]
        for k in (
            "observedGeneration",
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        )
    } == {
        "observedGeneration": 2,
        "replicas": 4,
        "updatedReplicas": 2,
        "readyReplicas": 4,
        "availableReplicas": 3,
        "unavailableReplicas": 1,
    }
    assert cond(status, "Available") == {
        "type": "Available",
        "status": "True",
        "lastUpdateTime": rfc3339(NOW),
        "lastTransitionTime": rfc3339(NOW),
        "reason": "MinimumReplicasAvailable",
        "message": "Deployment has minimum availability.",
    }


def test_too_few_available_pods_make_the_deployment_unavailable() -> None:
    status = ds.calculate([rs("new", 4, 1, 1)], None, deployment(4), NOW)
    got = cond(status, "Available")
    assert (got["status"], got["reason"], got["message"]) == (
        "False",
        "MinimumReplicasUnavailable",
        "Deployment does not have minimum availability.",
    )


def test_progress_is_reported_and_keeps_its_transition_time() -> None:
    earlier = rfc3339(NOW - 60)
    before = {
        "replicas": 3,
        "updatedReplicas": 1,
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetCreated",
                "message": 'Created new replica set "web-1"',
                "lastUpdateTime": earlier,
                "lastTransitionTime": earlier,
            }
        ],
    }
    d = deployment(3, status=before)
    new = rs("web-1", 2, 2, 2)
    status = ds.rollout_status([rs("old", 1, 1, 1), new], new, d, NOW)
    got = cond(status, "Progressing")
    assert (got["reason"], got["message"]) == (
        "ReplicaSetUpdated",
        'ReplicaSet "web-1" is progressing.',
    )
    assert got["lastUpdateTime"] == rfc3339(NOW) and got["lastTransitionTime"] == earlier


def test_a_complete_rollout_says_the_new_replicaset_has_successfully_progressed() -> None:
    d = deployment(3, generation=2)
    new = rs("web-1", 3, 3, 3)
    status = ds.rollout_status([new], new, d, NOW)
    got = cond(status, "Progressing")
    assert (got["status"], got["reason"], got["message"]) == (
        "True",
        "NewReplicaSetAvailable",
        'ReplicaSet "web-1" has successfully progressed.',
    )
    assert [c["type"] for c in status["conditions"]] == ["Available", "Progressing"]


def test_no_progress_within_the_deadline_is_progress_deadline_exceeded() -> None:
    stale = rfc3339(NOW - 700)
    st = {
        "replicas": 1,
        "updatedReplicas": 1,
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "ReplicaSetUpdated",
                "message": "x",
                "lastUpdateTime": stale,
                "lastTransitionTime": stale,
            }
        ],
    }
    d = deployment(1, status=st)
    new = rs("web-1", 1, 0, 0)
    status = ds.rollout_status([new], new, d, NOW)
    got = cond(status, "Progressing")
    assert (got["status"], got["reason"], got["message"]) == (
        "False",
        "ProgressDeadlineExceeded",
        'ReplicaSet "web-1" has timed out progressing.',
    )
    young = copy.deepcopy(d)
    young["status"]["conditions"][0]["lastUpdateTime"] = rfc3339(NOW - 100)
    assert ds.requeue_after(young, young["status"], NOW) == 501.0


def test_without_a_deadline_there_is_no_progressing_condition() -> None:
    st = {"conditions": [{"type": "Progressing", "status": "True", "reason": "x"}]}
    new = rs("web-1", 1, 1, 1)
    status = ds.rollout_status([new], new, deployment(1, status=st, deadline=None), NOW)
    assert ds.get_condition(status, "Progressing") is None


def test_pausing_and_resuming_set_unknown_progressing_conditions() -> None:
    paused = ds.paused_condition(deployment(paused=True), NOW)
    assert paused is not None and (paused["status"], paused["reason"], paused["message"]) == (
        "Unknown",
        "DeploymentPaused",
        "Deployment is paused",
    )
    st: dict[str, Any] = {"conditions": [paused]}
    resumed = ds.paused_condition(deployment(status=st), NOW)
    assert resumed is not None and (resumed["reason"], resumed["message"]) == (
        "DeploymentResumed",
        "Deployment is resumed",
    )
    assert ds.paused_condition(deployment(paused=True, status=st), NOW) is None


def test_an_unchanged_condition_is_not_rewritten() -> None:
    status: dict[str, Any] = {}
    first = ds.new_condition("Available", "True", "MinimumReplicasAvailable", "m", NOW - 50)
    ds.set_condition(status, first)
    ds.set_condition(
        status, ds.new_condition("Available", "True", "MinimumReplicasAvailable", "m", NOW)
    )
    assert status["conditions"] == [first]


def test_a_replicaset_failure_is_copied_to_the_deployment() -> None:
    failing = rs("web-1", 2, 0, 0)
    failing["status"]["conditions"] = [
        {
            "type": "ReplicaFailure",
            "status": "True",
            "reason": "FailedCreate",
            "message": "quota",
            "lastTransitionTime": rfc3339(NOW - 5),
        }
    ]
    got = ds.replica_failure([failing], failing, NOW)
    assert got is not None and (got["reason"], got["message"]) == ("FailedCreate", "quota")
