"""InterPodAffinity: required affinity and anti-affinity by hostname and by any node label,
existing pods' anti-affinity, namespaces, and the preferred terms' score."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.scheduler import podaffinity
from kubelite.scheduler.status import Code
from tests.unit.scheduler.cluster import affinity, anti_affinity, cluster, info, node, pod

ZONE = "topology.kubernetes.io/zone"
NODES = [
    node("n1", labels={ZONE: "a"}),
    node("n2", labels={ZONE: "a"}),
    node("n3", labels={ZONE: "b"}),
]
WEB = {"app": "web"}


def refusals(p: dict[str, Any], bound: list[dict[str, Any]], nodes: Any = NODES) -> dict[str, Any]:
    """Each node's refusal (reason, code), or None where the pod fits."""
    snap = cluster(nodes, bound)
    incoming = info(p)
    state = podaffinity.prefilter(incoming, snap)
    out: dict[str, Any] = {}
    for n in snap.nodes:
        status = podaffinity.inter_pod_affinity(state, n, snap)
        out[n.name] = None if status is None else (status.reasons[0], status.code)
    return out


AFF = ("node(s) didn't match pod affinity rules", Code.UNRESOLVABLE)
ANTI = ("node(s) didn't match pod anti-affinity rules", Code.UNSCHEDULABLE)
EXISTING = ("node(s) didn't satisfy existing pods anti-affinity rules", Code.UNSCHEDULABLE)

CASES: list[tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, Any]]] = [
    ("anti-affinity by hostname keeps a replica off the node of another",
     pod("w2", labels=WEB, affinity=anti_affinity(WEB)), [pod("w1", labels=WEB, on="n1")],
     {"n1": ANTI, "n2": None, "n3": None}),
    ("anti-affinity by zone keeps the pod out of the whole zone",
     pod("w2", labels=WEB, affinity=anti_affinity(WEB, ZONE)), [pod("w1", labels=WEB, on="n1")],
     {"n1": ANTI, "n2": ANTI, "n3": None}),
    ("affinity by zone brings the pod to the zone of its peer",
     pod("c", affinity=affinity(WEB, ZONE)), [pod("w1", labels=WEB, on="n3")],
     {"n1": AFF, "n2": AFF, "n3": None}),
    ("the first pod of a group that wants to be together may go anywhere",
     pod("w1", labels=WEB, affinity=affinity(WEB)), [], {"n1": None, "n2": None, "n3": None}),
    ("a pod whose affinity matches nobody, not even itself, fits nowhere",
     pod("c", affinity=affinity(WEB)), [], {"n1": AFF, "n2": AFF, "n3": AFF}),
    ("a bound pod's anti-affinity keeps the incoming pod away",
     pod("new", labels=WEB), [pod("lonely", affinity=anti_affinity(WEB), on="n2")],
     {"n1": None, "n2": EXISTING, "n3": None}),
    ("pods of other namespaces are not matched by default",
     pod("w2", labels=WEB, affinity=anti_affinity(WEB)),
     [pod("w1", namespace="other", labels=WEB, on="n1")], {"n1": None, "n2": None, "n3": None}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "p", "bound", "expected"), CASES, ids=[c[0] for c in CASES])
def test_inter_pod_affinity_filter(
    case: str, p: dict[str, Any], bound: list[dict[str, Any]], expected: dict[str, Any]
) -> None:
    assert refusals(p, bound) == expected


def test_a_node_without_the_topology_label_fails_the_affinity() -> None:
    nodes = [node("n1"), node("n2", labels={ZONE: "a"})]
    got = refusals(pod("c", affinity=affinity(WEB, ZONE)), [pod("w", labels=WEB, on="n2")], nodes)
    assert got == {"n1": AFF, "n2": None}


def test_a_namespace_selector_reaches_the_namespaces_it_selects() -> None:
    term = {
        "labelSelector": {"matchLabels": WEB},
        "namespaceSelector": {"matchLabels": {"team": "a"}},
        "topologyKey": "kubernetes.io/hostname",
    }
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    namespaces = [
        {"metadata": {"name": "team-a", "labels": {"team": "a"}}},
        {"metadata": {"name": "team-b", "labels": {"team": "b"}}},
    ]
    bound = [
        pod("x", namespace="team-a", labels=WEB, on="n1"),
        pod("y", namespace="team-b", labels=WEB, on="n2"),
    ]
    snap = cluster(NODES, bound, namespaces)
    incoming = info(pod("w", namespace="default", affinity=anti))
    state = podaffinity.prefilter(incoming, snap)
    refused = [n.name for n in snap.nodes if podaffinity.inter_pod_affinity(state, n, snap)]
    assert refused == ["n1"]


def test_nothing_to_check_skips_the_filter() -> None:
    snap = cluster(NODES, [pod("w1", labels=WEB, on="n1")])
    assert podaffinity.prefilter(info(pod("plain")), snap) is None


def preferred(kind: str, weight: int, labels: dict[str, str], key: str) -> dict[str, Any]:
    term = {"labelSelector": {"matchLabels": labels}, "topologyKey": key}
    item = {"weight": weight, "podAffinityTerm": term}
    return {kind: {"preferredDuringSchedulingIgnoredDuringExecution": [item]}}


def scores(p: dict[str, Any], bound: list[dict[str, Any]]) -> dict[str, int] | None:
    snap = cluster(NODES, bound)
    groups = podaffinity.prescore(info(p), snap)
    if groups is None:
        return None
    return podaffinity.normalize({n.name: podaffinity.score(groups, n) for n in snap.nodes})


SCORES: list[tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, int] | None]] = [
    ("preferred affinity by zone favours the zone holding a match",
     pod("c", affinity=preferred("podAffinity", 10, WEB, ZONE)), [pod("w", labels=WEB, on="n3")],
     {"n1": 0, "n2": 0, "n3": 100}),
    ("preferred anti-affinity by hostname disfavours the node holding a match",
     pod("c", affinity=preferred("podAntiAffinity", 10, WEB, "kubernetes.io/hostname")),
     [pod("w", labels=WEB, on="n2")], {"n1": 100, "n2": 0, "n3": 100}),
    ("a bound pod's required affinity draws pods it selects (weight 1)",
     pod("new", labels=WEB), [pod("x", affinity=affinity(WEB, ZONE), on="n1")],
     {"n1": 100, "n2": 100, "n3": 0}),
    ("no terms anywhere: nothing to score", pod("c"), [pod("w", labels=WEB, on="n1")], None),
]  # fmt: skip


@pytest.mark.parametrize(("case", "p", "bound", "expected"), SCORES, ids=[c[0] for c in SCORES])
def test_inter_pod_affinity_score(
    case: str, p: dict[str, Any], bound: list[dict[str, Any]], expected: dict[str, int] | None
) -> None:
    assert scores(p, bound) == expected
