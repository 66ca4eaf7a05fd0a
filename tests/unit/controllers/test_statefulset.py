"""The StatefulSet controller's decisions: stable identities and claims, OrderedReady and
Parallel pod management, scale-down from the highest ordinal, rolling updates down to the
partition, the claims' retention owners, the status counts, and the revisions."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.controllers import statefulset as ss
from kubelite.controllers import statefulsetrevisions as rv
from kubelite.controllers.statefulsetpods import SetView, new_pod

NOW = 1_700_000_000.0


def sts(replicas: int = 3, image: str = "db:1", **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "db",
            "namespace": "shop",
            "uid": "sts-uid",
            "generation": 4,
            "annotations": {"team": "data"},
        },
        "spec": {
            "replicas": replicas,
            "serviceName": "db",
            "podManagementPolicy": "OrderedReady",
            "selector": {"matchLabels": {"app": "db"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "containers": [{"name": "db", "image": image}],
                    "volumes": [{"name": "data", "emptyDir": {}}, {"name": "conf", "emptyDir": {}}],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data", "labels": {"tier": "disk"}},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Retain",
                "whenScaled": "Retain",
            },
            **spec,
        },
        "status": {},
    }


REV1 = rv.new_revision(sts(image="db:1"), 1, 0)
REV2 = rv.new_revision(sts(image="db:2"), 2, 0)
SAME = ss.Revisions(REV1, REV1)
ROLLING = ss.Revisions(REV1, REV2)


def pod(
    ordinal: int,
    *,
    rev: dict[str, Any] = REV1,
    phase: str = "Running",
    ready: bool = True,
    deleting: bool = False,
) -> dict[str, Any]:
    made = new_pod(SetView.of(sts()), ordinal, rv.template_of(rev), rv.name_of(rev))
    made["metadata"]["uid"] = f"pod-{ordinal}"
    if deleting:
        made["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    cond = {
        "type": "Ready",
        "status": "True" if ready else "False",
        "lastTransitionTime": "2020-01-01T00:00:00Z",
    }
    made["status"] = {"phase": phase, "conditions": [cond]}
    return made


def claims_for(*ordinals: int) -> dict[str, Any]:
    return {f"data-db-{o}": {"metadata": {"name": f"data-db-{o}"}} for o in ordinals}


def summary(actions: list[Any]) -> list[str]:
    out = []
    for a in actions:
        if isinstance(a, ss.CreatePod):
            out.append(f"create pod {a.pod['metadata']['name']}")
        elif isinstance(a, ss.CreateClaim):
            out.append(f"create claim {a.claim['metadata']['name']}")
        elif isinstance(a, ss.DeletePod):
            out.append(f"delete pod {a.name}")
        elif isinstance(a, ss.SetClaimOwners):
            out.append(f"own claim {a.name}")
    return out


SCENARIOS = [
    (
        "OrderedReady makes the first pod and its claim only",
        sts(),
        [],
        {},
        SAME,
        ["create claim data-db-0", "create pod db-0"],
    ),
    (
        "the next pod waits for the one before to be ready",
        sts(),
        [pod(0, ready=False)],
        claims_for(0),
        SAME,
        [],
    ),
    (
        "once it is ready the next one is made",
        sts(),
        [pod(0)],
        claims_for(0),
        SAME,
        ["create claim data-db-1", "create pod db-1"],
    ),
    (
        "Parallel makes every pod at once",
        sts(podManagementPolicy="Parallel"),
        [],
        {},
        SAME,
        [
            "create claim data-db-0",
            "create pod db-0",
            "create claim data-db-1",
            "create pod db-1",
            "create claim data-db-2",
            "create pod db-2",
        ],
    ),
    (
        "scaling down removes the highest ordinal first, one at a time",
        sts(replicas=1),
        [pod(0), pod(1), pod(2)],
        claims_for(0, 1, 2),
        SAME,
        ["delete pod db-2"],
    ),
    (
        "scaling down waits while a pod is terminating",
        sts(replicas=1),
        [pod(0), pod(1), pod(2, deleting=True)],
        claims_for(0, 1, 2),
        SAME,
        [],
    ),
    (
        "Parallel scales down all at once",
        sts(replicas=1, podManagementPolicy="Parallel"),
        [pod(0), pod(1), pod(2)],
        claims_for(0, 1, 2),
        SAME,
        ["delete pod db-2", "delete pod db-1"],
    ),
    (
        "a failed pod is deleted to be made again",
        sts(),
        [pod(0, phase="Failed")],
        claims_for(0),
        SAME,
        ["delete pod db-0"],
    ),
    (
        "a rolling update replaces the highest ordinal first",
        sts(),
        [pod(0), pod(1), pod(2)],
        claims_for(0, 1, 2),
        ROLLING,
        ["delete pod db-2"],
    ),
    (
        "the next pod is replaced once the updated one is healthy",
        sts(),
        [pod(0), pod(1), pod(2, rev=REV2)],
        claims_for(0, 1, 2),
        ROLLING,
        ["delete pod db-1"],
    ),
    (
        "the rolling update waits for an updated pod that is not ready",
        sts(),
        [pod(0), pod(1), pod(2, rev=REV2, ready=False)],
        claims_for(0, 1, 2),
        ROLLING,
        [],
    ),
    (
        "pods below the partition are left alone",
        sts(updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}),
        [pod(0), pod(1), pod(2, rev=REV2)],
        claims_for(0, 1, 2),
        ROLLING,
        [],
    ),
    (
        "OnDelete replaces nothing",
        sts(updateStrategy={"type": "OnDelete"}),
        [pod(0), pod(1), pod(2)],
        claims_for(0, 1, 2),
        ROLLING,
        [],
    ),
    (
        "a claim deleted under a running pod is made again",
        sts(replicas=1),
        [pod(0)],
        {},
        SAME,
        ["create claim data-db-0"],
    ),
]


@pytest.mark.parametrize(
    ("case", "the_set", "pods", "claims", "revs", "expected"),
    SCENARIOS,
    ids=[s[0] for s in SCENARIOS],
)
def test_the_controller_does_what_upstream_does(
    case: str,
    the_set: Any,
    pods: list[Any],
    claims: dict[str, Any],
    revs: ss.Revisions,
    expected: list[str],
) -> None:
    assert summary(ss.plan(the_set, pods, claims, revs, NOW).actions) == expected


def test_a_new_pod_has_its_stable_identity_and_its_claims_volume() -> None:
    actions = ss.plan(sts(), [], {}, SAME, NOW).actions
    made = next(a.pod for a in actions if isinstance(a, ss.CreatePod))
    meta, spec = made["metadata"], made["spec"]
    assert (meta["name"], meta["generateName"], meta["namespace"]) == ("db-0", "db-", "shop")
    assert meta["labels"] == {
        "app": "db",
        "controller-revision-hash": rv.name_of(REV1),
        "statefulset.kubernetes.io/pod-name": "db-0",
        "apps.kubernetes.io/pod-index": "0",
    }
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": "db",
            "uid": "sts-uid",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert (spec["hostname"], spec["subdomain"]) == ("db-0", "db")
    assert spec["volumes"] == [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}},
        {"name": "conf", "emptyDir": {}},
    ]
    events = [a for a in actions if isinstance(a, ss.Event)]
    assert [e.message for e in events] == [
        "create Claim data-db-0 Pod db-0 in StatefulSet db success",
        "create Pod db-0 in StatefulSet db successful",
    ]


def test_a_claim_carries_the_templates_and_the_selectors_labels() -> None:
    actions = ss.plan(sts(), [], {}, SAME, NOW).actions
    claim = next(a.claim for a in actions if isinstance(a, ss.CreateClaim))
    assert claim["metadata"]["labels"] == {"tier": "disk", "app": "db"}
    assert "ownerReferences" not in claim["metadata"]  # Retain/Retain
    assert claim["spec"]["resources"] == {"requests": {"storage": "1Gi"}}


def test_new_pods_below_the_partition_keep_the_current_revision() -> None:
    partitioned = sts(
        replicas=3, updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    )
    plan0 = ss.plan(partitioned, [], {}, ROLLING, NOW)
    made = next(a.pod for a in plan0.actions if isinstance(a, ss.CreatePod))
    assert made["metadata"]["labels"]["controller-revision-hash"] == rv.name_of(REV1)
    plan2 = ss.plan(partitioned, [pod(0), pod(1)], claims_for(0, 1, 2), ROLLING, NOW)
    made = next(a.pod for a in plan2.actions if isinstance(a, ss.CreatePod))
    assert made["metadata"]["labels"]["controller-revision-hash"] == rv.name_of(REV2)
    assert made["spec"]["containers"][0]["image"] == "db:2"


def test_when_deleted_delete_makes_the_set_own_its_claims() -> None:
    policy = {"whenDeleted": "Delete", "whenScaled": "Retain"}
    actions = ss.plan(sts(persistentVolumeClaimRetentionPolicy=policy), [], {}, SAME, NOW).actions
    claim = next(a.claim for a in actions if isinstance(a, ss.CreateClaim))
    assert claim["metadata"]["ownerReferences"] == [
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "sts-uid"}
    ]


def test_when_scaled_delete_hands_the_claim_to_the_pod_before_it_goes() -> None:
    policy = {"whenDeleted": "Retain", "whenScaled": "Delete"}
    the_set = sts(replicas=1, persistentVolumeClaimRetentionPolicy=policy)
    actions = ss.plan(the_set, [pod(0), pod(1)], claims_for(0, 1), SAME, NOW).actions
    assert summary(actions) == ["own claim data-db-1", "delete pod db-1"]
    owners = next(a for a in actions if isinstance(a, ss.SetClaimOwners)).owner_references
    assert owners == ({"apiVersion": "v1", "kind": "Pod", "name": "db-1", "uid": "pod-1"},)


def test_the_status_counts_pods_and_completes_a_finished_rolling_update() -> None:
    pods = [pod(0, rev=REV2), pod(1, rev=REV2, ready=False), pod(2)]
    status = ss.plan(sts(), pods, claims_for(0, 1, 2), ROLLING, NOW).status
    assert status == {
        "observedGeneration": 4,
        "replicas": 3,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "currentReplicas": 1,
        "updatedReplicas": 2,
        "currentRevision": rv.name_of(REV1),
        "updateRevision": rv.name_of(REV2),
        "collisionCount": 0,
    }
    done = ss.plan(sts(), [pod(i, rev=REV2) for i in range(3)], claims_for(0, 1, 2), ROLLING, NOW)
    assert (done.status["currentRevision"], done.status["currentReplicas"]) == (
        rv.name_of(REV2),
        3,
    )


def test_min_ready_seconds_holds_the_next_pod_until_the_ready_one_is_available() -> None:
    young = pod(0)
    young["status"]["conditions"][0]["lastTransitionTime"] = "2023-11-14T22:13:15Z"  # NOW - 5s
    the_set = sts(minReadySeconds=30)
    assert summary(ss.plan(the_set, [young], claims_for(0), SAME, NOW).actions) == []
    assert summary(ss.plan(the_set, [young], claims_for(0), SAME, NOW + 30).actions) == [
        "create claim data-db-1",
        "create pod db-1",
    ]


# -- revisions ---------------------------------------------------------------------------------


def test_a_revision_holds_the_template_patch_and_is_named_by_its_hash() -> None:
    assert REV1["data"]["spec"]["template"]["$patch"] == "replace"
    assert rv.name_of(REV1).startswith("db-") and REV1["revision"] == 1
    assert REV1["metadata"]["labels"]["app"] == "db"
    assert REV1["metadata"]["labels"][rv.HASH_LABEL] == rv.name_of(REV1)[3:]
    assert REV1["metadata"]["annotations"] == {"team": "data"}
    assert rv.name_of(REV1) != rv.name_of(REV2)
    assert rv.name_of(rv.new_revision(sts(image="db:1"), 7, 0)) == rv.name_of(REV1)
    assert rv.template_of(REV2)["spec"]["containers"][0]["image"] == "db:2"


def test_the_first_sync_creates_the_first_revision() -> None:
    plan = rv.plan_revisions(sts(), [])
    assert plan.create and not plan.renumber
    assert plan.update["revision"] == 1 and plan.current is not None
    assert rv.name_of(plan.current) == rv.name_of(plan.update)


def test_a_changed_template_makes_a_new_revision_and_keeps_the_current_one() -> None:
    changed = sts(image="db:2")
    changed["status"] = {"currentRevision": rv.name_of(REV1)}
    plan = rv.plan_revisions(changed, [REV1])
    assert plan.create and plan.update["revision"] == 2
    assert rv.name_of(plan.current) == rv.name_of(REV1)


def test_going_back_to_an_old_template_renumbers_its_revision() -> None:
    back = sts(image="db:1")
    plan = rv.plan_revisions(back, [REV1, REV2])
    assert not plan.create and plan.renumber
    assert rv.name_of(plan.update) == rv.name_of(REV1) and plan.update["revision"] == 3


def test_a_name_taken_by_other_data_counts_a_collision() -> None:
    squatter = copy.deepcopy(REV1)
    squatter["data"] = {"spec": {"template": {"other": True}}}
    plan = rv.plan_revisions(sts(image="db:1"), [squatter])
    assert plan.create and plan.collisions == 1
    assert rv.name_of(plan.update) != rv.name_of(REV1)


def test_history_beyond_the_limit_is_pruned_oldest_first() -> None:
    revisions = [rv.new_revision(sts(image=f"db:{i}"), i, 0) for i in range(1, 6)]
    live = {rv.name_of(revisions[-1])}
    limited = sts(revisionHistoryLimit=2)
    assert rv.to_prune(limited, revisions, live) == [rv.name_of(r) for r in revisions[:2]]
