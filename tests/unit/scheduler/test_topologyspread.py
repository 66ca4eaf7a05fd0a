"""PodTopologySpread: DoNotSchedule by hostname and by zone with maxSkew, minDomains, missing
labels and the node inclusion policies; ScheduleAnyway's score; the default constraints of
pods a Service or a ReplicaSet selects."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.scheduler import topologyspread as ts
from kubelite.scheduler.status import Code
from tests.unit.scheduler.cluster import cluster, info, node, pod, spread, taint

ZONE = "topology.kubernetes.io/zone"
WEB = {"app": "web"}
NODES = [
    node("n1", labels={ZONE: "a"}),
    node("n2", labels={ZONE: "a"}),
    node("n3", labels={ZONE: "b"}),
]
SKEW = (ts.REASON, Code.UNSCHEDULABLE)
MISSING = (ts.MISSING_LABEL_REASON, Code.UNRESOLVABLE)


def web(name: str, on: str) -> dict[str, Any]:
    return pod(name, labels=WEB, on=on)


def refusals(p: dict[str, Any], bound: list[dict[str, Any]], nodes: Any = NODES) -> dict[str, Any]:
    snap = cluster(nodes, bound)
    incoming = info(p)
    state = ts.prefilter(incoming, snap, None)
    out = {}
    for n in snap.nodes:
        status = ts.pod_topology_spread(state, incoming, n)
        out[n.name] = None if status is None else (status.reasons[0], status.code)
    return out


def deleting(p: dict[str, Any]) -> dict[str, Any]:
    return {**p, "metadata": {**p["metadata"], "deletionTimestamp": "2024-01-01T00:00:00Z"}}


def incoming(*constraints: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return pod("new", labels=WEB, topologySpreadConstraints=list(constraints), **extra)


CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]], Any, dict[str, Any]]] = [
    ("by hostname, the pod goes where the fewest are",
     incoming(spread(WEB)), [web("a", "n1"), web("b", "n2")], NODES,
     {"n1": SKEW, "n2": SKEW, "n3": None}),
    ("a maxSkew of 2 tolerates one more",
     incoming(spread(WEB, max_skew=2)), [web("a", "n1"), web("b", "n2")], NODES,
     {"n1": None, "n2": None, "n3": None}),
    ("by zone, the emptier zone is the only choice",
     incoming(spread(WEB, ZONE)), [web("a", "n1")], NODES, {"n1": SKEW, "n2": SKEW, "n3": None}),
    ("a node without the topology label is refused for good",
     incoming(spread(WEB, ZONE)), [], [*NODES, node("n4")],
     {"n1": None, "n2": None, "n3": None, "n4": MISSING}),
    ("zones holding one each take one more",
     incoming(spread(WEB, ZONE)), [web("a", "n1"), web("b", "n3")], NODES,
     {"n1": None, "n2": None, "n3": None}),
    ("minDomains above the zones there are makes the minimum 0",
     incoming(spread(WEB, ZONE, minDomains=3)), [web("a", "n1"), web("b", "n3")], NODES,
     {"n1": SKEW, "n2": SKEW, "n3": SKEW}),
    ("ScheduleAnyway constraints never refuse",
     incoming(spread(WEB, when="ScheduleAnyway")), [web("a", "n1"), web("b", "n1")], NODES,
     {"n1": None, "n2": None, "n3": None}),
    ("a pod the selector does not pick adds nothing to its node",
     pod("other", topologySpreadConstraints=[spread(WEB)]), [web("a", "n1")], NODES,
     {"n1": None, "n2": None, "n3": None}),
    ("terminating pods are not counted",
     incoming(spread(WEB)),
     [web("a", "n1"), deleting(web("b", "n2"))],
     NODES, {"n1": SKEW, "n2": None, "n3": None}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "p", "bound", "nodes", "want"), CASES, ids=[c[0] for c in CASES])
def test_do_not_schedule(
    case: str, p: dict[str, Any], bound: list[Any], nodes: Any, want: dict[str, Any]
) -> None:
    assert refusals(p, bound, nodes) == want


def test_node_affinity_policy_honor_leaves_out_nodes_the_pod_cannot_use() -> None:
    # n3 (zone b) is excluded by the pod's node selector, so zone b does not count as empty
    p = incoming(spread(WEB, ZONE), nodeSelector={ZONE: "a"})
    got = refusals(p, [web("a", "n1")])
    assert got["n2"] is None
    ignoring = incoming(spread(WEB, ZONE, nodeAffinityPolicy="Ignore"), nodeSelector={ZONE: "a"})
    assert refusals(ignoring, [web("a", "n1")])["n2"] == SKEW


def test_node_taints_policy_honor_leaves_out_tainted_nodes() -> None:
    nodes = [node("n1"), node("n2", taints=[taint("dedicated")])]
    honor = incoming(spread(WEB, nodeTaintsPolicy="Honor"))
    assert refusals(honor, [web("a", "n1")], nodes)["n1"] is None
    assert refusals(incoming(spread(WEB)), [web("a", "n1")], nodes)["n1"] == SKEW


def test_match_label_keys_narrow_the_selector_to_the_pods_own_values() -> None:
    c = spread({}, matchLabelKeys=["pod-template-hash"])
    c["labelSelector"] = {"matchLabels": WEB}
    p = pod("new", labels={**WEB, "pod-template-hash": "v2"}, topologySpreadConstraints=[c])
    old = pod("old", labels={**WEB, "pod-template-hash": "v1"}, on="n1")
    assert refusals(p, [old]) == {"n1": None, "n2": None, "n3": None}


def anyway_scores(p: dict[str, Any], bound: list[Any], default: Any = None) -> dict[str, int]:
    snap = cluster(NODES, bound)
    state = ts.prescore(info(p), list(snap.nodes), snap, default)
    assert state is not None
    raw = {n.name: ts.score(state, info(p), n) for n in snap.nodes}
    return ts.normalize(state, raw)


def test_schedule_anyway_favours_the_emptiest_node() -> None:
    bound = [web("a", "n1"), web("b", "n1"), web("c", "n2")]
    got = anyway_scores(incoming(spread(WEB, when="ScheduleAnyway")), bound)
    assert got["n3"] == 100 and got["n3"] > got["n2"] > got["n1"]


def test_the_default_constraints_spread_a_replica_set_by_hostname() -> None:
    rs = {"spec": {"selector": {"matchLabels": WEB}}}
    p = pod("new", labels=WEB)
    selector = ts.default_selector(info(p), [], ("ReplicaSet", rs))
    assert selector == {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}
    got = anyway_scores(p, [web("a", "n1")], selector)
    assert got["n1"] < got["n2"]


def test_services_selecting_the_pod_make_the_default_selector() -> None:
    services: list[dict[str, Any]] = [
        {"spec": {"selector": WEB}},
        {"spec": {"selector": {"app": "db"}}},
        {"spec": {}},  # no selector: selects nothing
    ]
    assert ts.default_selector(info(pod(labels=WEB)), services, None) == {"matchLabels": WEB}
    assert ts.default_selector(info(pod(labels={"app": "x"})), services, None) == {}


def test_a_pod_with_constraints_of_its_own_gets_no_defaults() -> None:
    p = info(incoming(spread(WEB)))
    assert ts.constraints(p, ts.SCHEDULE_ANYWAY, {"matchLabels": WEB}) == []
