"""The DaemonSet controller's decisions: placement, the daemon pod, one pod per node,
rolling updates and the status."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.clock import rfc3339
from kubelite.controllers import daemonset as dsr

NOW = 1_700_000_000.0


def ds(
    node_selector: dict[str, str] | None = None,
    *,
    surge: Any = 0,
    unavailable: Any = 1,
    tolerations: list[Any] | None = None,
    host_network: bool = False,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "agent", "image": "busybox"}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerations:
        spec["tolerations"] = tolerations
    if host_network:
        spec["hostNetwork"] = True
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "agent",
            "namespace": "default",
            "uid": "ds-1",
            "generation": 2,
            "annotations": {dsr.TEMPLATE_GENERATION: "2"},
        },
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": spec},
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
            },
        },
    }


def node(
    name: str, labels: dict[str, str] | None = None, taints: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


def pod(
    name: str,
    node_name: str,
    *,
    hash_: str = "h1",
    phase: str = "Running",
    ready: bool = True,
    created: float = NOW - 100,
    deleting: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "uid": name,
        "labels": {"app": "agent", dsr.REVISION_HASH: hash_},
        "creationTimestamp": rfc3339(created),
    }
    if deleting:
        meta["deletionTimestamp"] = rfc3339(NOW)
    status: dict[str, Any] = {"phase": phase}
    if ready:
        status["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(NOW - 50)}
        ]
    return {"metadata": meta, "spec": {"nodeName": node_name}, "status": status}


@pytest.mark.parametrize(
    ("daemon", "target", "run", "keep"),
    [
        pytest.param(ds(), node("n1"), True, True, id="a plain node runs it"),
        pytest.param(ds({"disk": "ssd"}), node("n1"), False, False, id="not selected"),
        pytest.param(
            ds({"disk": "ssd"}),
            node("n1", {"disk": "ssd"}),
            True,
            True,
            id="selected by nodeSelector",
        ),
        pytest.param(
            ds(),
            node("n1", taints=[{"key": "gpu", "effect": "NoSchedule"}]),
            False,
            True,
            id="an untolerated NoSchedule taint: not started, kept",
        ),
        pytest.param(
            ds(),
            node("n1", taints=[{"key": "gpu", "effect": "NoExecute"}]),
            False,
            False,
            id="an untolerated NoExecute taint: not kept",
        ),
        pytest.param(
            ds(tolerations=[{"key": "gpu", "operator": "Exists"}]),
            node("n1", taints=[{"key": "gpu", "effect": "NoExecute"}]),
            True,
            True,
            id="tolerated",
        ),
        pytest.param(
            ds(),
            node(
                "n1", taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
            ),
            True,
            True,
            id="an unschedulable node still runs daemons",
        ),
        pytest.param(
            ds(),
            node("n1", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]),
            True,
            True,
            id="a not-ready node still runs daemons",
        ),
    ],
)
def test_a_node_runs_the_daemon_pod_when_selected_and_tolerated(
    daemon: Any, target: Any, run: bool, keep: bool
) -> None:
    assert dsr.placement(daemon, target) == dsr.Placement(run, keep)


def test_the_daemon_pod_is_pinned_to_its_node_and_tolerates_node_conditions() -> None:
    ref = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "name": "agent",
        "uid": "ds-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    made = dsr.daemon_pod(ds(host_network=True), "n1", "h1", ref)
    assert made["metadata"]["generateName"] == "agent-"
    assert made["metadata"]["labels"] == {
        "app": "agent",
        dsr.REVISION_HASH: "h1",
        dsr.TEMPLATE_GENERATION_LABEL: "2",
    }
    assert "nodeName" not in made["spec"]  # the scheduler binds it, by the affinity below
    terms = made["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    assert terms == [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    ]
    tolerated = {(t["key"], t["effect"]) for t in made["spec"]["tolerations"]}
    assert tolerated == {
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
        ("node.kubernetes.io/network-unavailable", "NoSchedule"),
    }


def test_each_node_gets_one_pod_failed_ones_are_replaced_and_extra_ones_go() -> None:
    nodes = [node("empty"), node("failed"), node("double"), node("fine"), node("ssd-only")]
    daemon = ds()
    by_node = {
        "failed": [pod("f", "failed", phase="Failed")],
        "double": [pod("old", "double", created=NOW - 500), pod("young", "double")],
        "fine": [pod("ok", "fine")],
        "gone-node": [pod("stray", "gone-node")],
    }
    plan = dsr.manage(daemon, nodes, by_node, "h1")
    assert set(plan.create_on) == {"empty", "ssd-only"}
    assert {p["metadata"]["name"] for p in plan.delete} == {"young", "stray"}
    assert [(p["metadata"]["name"], n) for p, n in plan.failed] == [("f", "failed")]


def test_a_terminating_pod_blocks_a_new_one_on_its_node() -> None:
    plan = dsr.manage(ds(), [node("n1")], {"n1": [pod("going", "n1", deleting=True)]}, "h1")
    assert plan.create_on == () and plan.delete == ()


def test_a_rolling_update_replaces_at_most_max_unavailable_available_pods() -> None:
    by_node = {f"n{i}": [pod(f"p{i}", f"n{i}", hash_="old")] for i in range(4)}
    plan = dsr.rolling_update(ds(unavailable=1), by_node, 4, "new", NOW)
    assert len(plan.delete) == 1
    by_node["n0"] = [pod("fresh", "n0", hash_="new", ready=False)]
    waiting = dsr.rolling_update(ds(unavailable=1), by_node, 4, "new", NOW)
    assert waiting.delete == ()
    by_node["n1"] = [pod("sick", "n1", hash_="old", ready=False)]
    sick = dsr.rolling_update(ds(unavailable=1), by_node, 4, "new", NOW)
    assert [p["metadata"]["name"] for p in sick.delete] == ["sick"]


def test_a_surging_update_starts_the_new_pod_before_deleting_the_old() -> None:
    daemon = ds(surge=1, unavailable=0)
    by_node = {"n1": [pod("old", "n1", hash_="old")]}
    first = dsr.rolling_update(daemon, by_node, 1, "new", NOW)
    assert first.create_on == ("n1",) and first.delete == ()
    by_node["n1"].append(pod("new", "n1", hash_="new"))
    second = dsr.rolling_update(daemon, by_node, 1, "new", NOW)
    assert [p["metadata"]["name"] for p in second.delete] == ["old"]


def test_the_status_counts_nodes() -> None:
    nodes = [node("a"), node("b"), node("c", taints=[{"key": "x", "effect": "NoSchedule"}])]
    by_node = {
        "a": [pod("pa", "a")],
        "b": [pod("pb", "b", hash_="old", ready=False)],
        "c": [pod("pc", "c")],
    }
    status = dsr.daemon_status(ds(), nodes, by_node, "h1", NOW)
    assert status == {
        "desiredNumberScheduled": 2,
        "currentNumberScheduled": 2,
        "numberMisscheduled": 1,
        "numberReady": 1,
        "numberAvailable": 1,
        "updatedNumberScheduled": 1,
        "numberUnavailable": 1,
        "observedGeneration": 2,
    }
