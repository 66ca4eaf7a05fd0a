"""The Deployment controller's decisions about ReplicaSets: surge and unavailability, the
template hash and names, revisions, rolling and proportional sizes, clean-up."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.clock import rfc3339
from kubelite.controllers import deployment as dep
from kubelite.controllers import deployment_rollout as rollout

NOW = 1_700_000_000.0
TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]},
}


def deployment(
    replicas: int = 10,
    surge: Any = "25%",
    unavailable: Any = "25%",
    strategy: str = "RollingUpdate",
    **spec: Any,
) -> dict[str, Any]:
    strat: dict[str, Any] = {"type": strategy}
    if strategy == "RollingUpdate":
        strat["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "d-1",
            "generation": 1,
            "annotations": {"team": "a"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": copy.deepcopy(TEMPLATE),
            "strategy": strat,
            "revisionHistoryLimit": 10,
            **spec,
        },
    }


def replicaset(
    name: str,
    replicas: int,
    *,
    available: int | None = None,
    revision: int = 1,
    created: float = NOW,
    image: str = "nginx:1.25",
    status_replicas: int | None = None,
    notes: dict[str, str] | None = None,
) -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    template["spec"]["containers"][0]["image"] = image
    template["metadata"]["labels"][dep.HASH_LABEL] = name
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "creationTimestamp": rfc3339(created),
            "generation": 1,
            "annotations": {dep.REVISION: str(revision), **(notes or {})},
        },
        "spec": {"replicas": replicas, "template": template},
        "status": {
            "replicas": replicas if status_replicas is None else status_replicas,
            "availableReplicas": replicas if available is None else available,
            "observedGeneration": 1,
        },
    }


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "expected"),
    [
        pytest.param(10, "25%", "25%", (3, 2), id="surge rounds up, unavailable down"),
        pytest.param(1, "25%", "25%", (1, 0), id="one replica: surge one, none unavailable"),
        pytest.param(4, 0, "10%", (0, 1), id="both zero: one may be unavailable"),
        pytest.param(3, 2, 1, (2, 1), id="absolute numbers"),
    ],
)
def test_max_surge_rounds_up_and_max_unavailable_rounds_down(
    replicas: int, surge: Any, unavailable: Any, expected: tuple[int, int]
) -> None:
    assert dep.fenceposts(deployment(replicas, surge, unavailable)) == expected


def test_max_unavailable_is_zero_for_recreate_and_never_above_the_replicas() -> None:
    assert dep.max_unavailable(deployment(strategy="Recreate")) == 0
    assert dep.max_surge(deployment(strategy="Recreate")) == 0
    assert dep.max_unavailable(deployment(2, 0, 5)) == 2


def test_the_template_hash_is_stable_safe_and_moves_with_the_collision_count() -> None:
    h = dep.template_hash(TEMPLATE, None)
    assert h == dep.template_hash(copy.deepcopy(TEMPLATE), None)
    assert h != dep.template_hash(TEMPLATE, 1)
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789") and 1 <= len(h) <= 10


def test_the_new_replicaset_is_the_oldest_whose_template_matches_ignoring_the_hash() -> None:
    old = replicaset("old", 3, image="nginx:1.24", created=NOW - 100)
    twin_late = replicaset("late", 0, created=NOW)
    twin_early = replicaset("early", 0, created=NOW - 50)
    d = deployment()
    assert dep.find_new(d, [old, twin_late, twin_early])["metadata"]["name"] == "early"
    assert [r["metadata"]["name"] for r in dep.find_old(d, [old, twin_late, twin_early])] == [
        "old",
        "late",
    ]


def test_a_new_replicaset_is_named_by_its_hash_and_carries_the_deployments_annotations() -> None:
    d = deployment(replicas=4)
    body = dep.new_replica_set(d, 3, 2, "apps/v1", "Deployment")
    h = dep.template_hash(d["spec"]["template"], None)
    assert body["metadata"]["name"] == f"web-{h}"
    assert body["metadata"]["labels"] == {"app": "web", dep.HASH_LABEL: h}
    assert body["spec"]["selector"] == {"matchLabels": {"app": "web", dep.HASH_LABEL: h}}
    assert body["spec"]["template"]["metadata"]["labels"][dep.HASH_LABEL] == h
    assert body["metadata"]["annotations"] == {
        "team": "a",
        dep.REVISION: "3",
        dep.DESIRED_REPLICAS: "4",
        dep.MAX_REPLICAS: "5",
    }
    assert body["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "web",
            "uid": "d-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def test_a_replicaset_brought_back_keeps_its_old_revisions_in_its_history() -> None:
    rs = replicaset("back", 0, revision=2, notes={dep.REVISION_HISTORY: "1"})
    notes, changed = dep.new_rs_annotations(deployment(), rs, 5, exists=True)
    assert changed and notes[dep.REVISION] == "5" and notes[dep.REVISION_HISTORY] == "1,2"
    _, again = dep.new_rs_annotations(
        deployment(), {**rs, "metadata": {**rs["metadata"], "annotations": notes}}, 5, exists=True
    )
    assert not again


def test_the_controllers_own_annotations_are_not_copied_to_replicasets() -> None:
    d = deployment()
    d["metadata"]["annotations"][dep.LAST_APPLIED] = "{}"
    d["metadata"]["annotations"][dep.REVISION] = "9"
    notes, _ = dep.new_rs_annotations(d, replicaset("x", 1, revision=1), 2, exists=True)
    assert dep.LAST_APPLIED not in notes and notes[dep.REVISION] == "2"


def simulate(d: dict[str, Any], old_size: int, steps: int = 50) -> list[tuple[int, int]]:
    """A rolling update where every pod is available at once: (new, old) sizes per step."""
    new = replicaset("new", 0, created=NOW)
    old = replicaset("old", old_size, image="nginx:1.24", created=NOW - 100)
    seen = []
    for _ in range(steps):
        target = rollout.reconcile_new(d, [old, new], new)
        if target is not None:
            new = replicaset("new", target, created=NOW)
        else:
            for resize in rollout.reconcile_old(d, [old, new], dep.active([old]), new):
                old = replicaset("old", resize.replicas, image="nginx:1.24", created=NOW - 100)
        seen.append((dep.replicas_of(new), dep.replicas_of(old)))
        if seen[-1] == (dep.replicas_of(d), 0):
            break
    return seen


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable"),
    [(10, "25%", "25%"), (3, 1, 0), (3, 0, 1), (1, "25%", "25%"), (10, "100%", 0), (5, 2, 2)],
)
def test_a_rolling_update_stays_within_surge_and_availability_and_finishes(
    replicas: int, surge: Any, unavailable: Any
) -> None:
    d = deployment(replicas, surge, unavailable)
    most = replicas + dep.max_surge(d)
    least = replicas - dep.max_unavailable(d)
    steps = simulate(d, replicas)
    assert steps[-1] == (replicas, 0)
    for new, old in steps:
        assert new + old <= most
        assert new + old >= least


def test_unavailable_old_pods_are_scaled_down_first() -> None:
    d = deployment(4, 0, 1)  # 5 pods, 3 must stay available: 2 may go, both unhealthy ones
    new = replicaset("new", 1, available=1)
    old = replicaset("old", 4, available=2, image="nginx:1.24", created=NOW - 9)
    resizes = rollout.reconcile_old(d, [old, new], [old], new)
    assert [(r.rs["metadata"]["name"], r.replicas) for r in resizes] == [("old", 2)]


def test_recreate_sizes_the_new_replicaset_to_the_full_count() -> None:
    assert dep.new_rs_replicas(deployment(5, strategy="Recreate"), [], 0) == 5


def test_a_desired_replicas_annotation_unlike_spec_replicas_is_a_scaling_event() -> None:
    rs = replicaset("r", 3, notes={dep.DESIRED_REPLICAS: "3"})
    assert not rollout.is_scaling_event(deployment(3), [rs])
    assert rollout.is_scaling_event(deployment(5), [rs])
    assert not rollout.is_scaling_event(
        deployment(5), [replicaset("idle", 0, notes={dep.DESIRED_REPLICAS: "3"})]
    )


def test_one_active_replicaset_takes_the_whole_new_size() -> None:
    new = replicaset("new", 3)
    plan = rollout.scale(deployment(6), new, [replicaset("old", 0, image="x", created=NOW - 9)])
    assert [(r.rs["metadata"]["name"], r.replicas) for r in plan.resizes] == [("new", 6)]


def test_scaling_mid_rollout_is_proportional_to_each_replicasets_size() -> None:
    d = deployment(20, 3, 2)  # from 10 (max 13) to 20 (max 23)
    notes = {dep.MAX_REPLICAS: "13", dep.DESIRED_REPLICAS: "10"}
    new = replicaset("new", 5, notes=notes, created=NOW)
    old = replicaset("old", 8, notes=notes, image="nginx:1.24", created=NOW - 9)
    plan = rollout.scale(d, new, [old])
    sizes = {r.rs["metadata"]["name"]: r.replicas for r in plan.resizes}
    assert plan.operation == "up" and sum(sizes.values()) == 23
    assert sizes == {"old": 14, "new": 9}


def test_old_replicasets_beyond_the_history_limit_go_oldest_revision_first_when_empty() -> None:
    d = deployment(revisionHistoryLimit=1)
    olds = [
        replicaset("r1", 0, revision=1),
        replicaset("r2", 0, revision=2),
        replicaset("r3", 0, revision=3),
    ]
    assert [r["metadata"]["name"] for r in rollout.to_clean_up(d, olds)] == ["r1", "r2"]
    busy = [replicaset("r1", 0, revision=1, status_replicas=1), replicaset("r2", 0, revision=2)]
    assert [r["metadata"]["name"] for r in rollout.to_clean_up(d, busy)] == []


def test_recreate_waits_while_an_old_pod_is_not_finished() -> None:
    old = replicaset("old", 0, status_replicas=0)
    running = {"uid-old": [{"status": {"phase": "Running"}}]}
    done = {"uid-old": [{"status": {"phase": "Succeeded"}}]}
    assert rollout.old_pods_running(None, [old], running)
    assert not rollout.old_pods_running(None, [old], done)


def test_a_null_field_and_an_absent_one_are_the_same_template() -> None:
    sent = copy.deepcopy(TEMPLATE)
    sent["metadata"]["creationTimestamp"] = None
    rs = replicaset("r", 1)
    d = deployment()
    d["spec"]["template"] = sent
    assert dep.find_new(d, [rs]) is rs
    assert dep.template_hash(sent, None) == dep.template_hash(TEMPLATE, None)
