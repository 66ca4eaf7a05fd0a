"""Scores brought to 0-100 and weighed as the default profile does, ImageLocality, and the
choice among the best nodes (random, seeded)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from kubelite.scheduler import framework
from kubelite.scheduler.imagelocality import image_locality, normalized_image_name
from kubelite.scheduler.nodeinfo import node_info
from kubelite.scheduler.normalize import default_normalize
from tests.unit.scheduler.cluster import anti_affinity, cluster, info, node, pod, taint

NORMALIZE = [
    ("scores become shares of the highest", {"a": 2, "b": 4, "c": 0}, False,
     {"a": 50, "b": 100, "c": 0}),
    ("reversed, the lowest scores highest", {"a": 1, "b": 3, "c": 0}, True,
     {"a": 67, "b": 0, "c": 100}),
    ("all zero reversed is all best", {"a": 0, "b": 0}, True, {"a": 100, "b": 100}),
    ("all zero stays zero", {"a": 0, "b": 0}, False, {"a": 0, "b": 0}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "raw", "reverse", "want"), NORMALIZE, ids=[c[0] for c in NORMALIZE]
)
def test_default_normalize(
    case: str, raw: dict[str, int], reverse: bool, want: dict[str, int]
) -> None:
    assert default_normalize(raw, reverse=reverse) == want


def test_image_names_without_a_tag_mean_latest() -> None:
    assert normalized_image_name("nginx") == "nginx:latest"
    assert normalized_image_name("registry:5000/nginx") == "registry:5000/nginx:latest"
    assert normalized_image_name("nginx:1.25") == "nginx:1.25"


def test_image_locality_favours_nodes_holding_big_images_few_others_hold() -> None:
    size = 500 * 1024 * 1024
    holder = node("n1", images=[{"names": ["busybox:1.36"], "sizeBytes": size}])
    p = info(pod())
    assert image_locality(p, node_info(holder), {"busybox:1.36": 1}, 2) == 100 * (
        size // 2 - 23 * 2**20
    ) // (1000 * 2**20 - 23 * 2**20)
    assert image_locality(p, node_info(node("n2")), {"busybox:1.36": 1}, 2) == 0


def schedule(p: dict[str, Any], nodes: list[Any], bound: list[Any], seed: int = 0) -> Any:
    snap = cluster(nodes, bound)
    return framework.schedule(info(p), snap, framework.Inputs(), random.Random(seed))


def test_the_least_loaded_node_wins() -> None:
    got = schedule(pod(cpu="1"), [node("n1"), node("n2")], [pod("x", cpu="2", on="n1")])
    assert got.node == "n2" and got.scores["n2"] > got.scores["n1"]


def test_a_prefer_no_schedule_taint_weighs_three_times() -> None:
    soft = node("n1", taints=[taint("spot", "PreferNoSchedule")])
    got = schedule(pod(), [soft, node("n2")], [])
    assert got.node == "n2" and got.scores["n2"] - got.scores["n1"] == 3 * 100


def test_preferred_node_affinity_weighs_twice() -> None:
    term = {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}
    prefer = [{"weight": 1, "preference": term}]
    p = pod(affinity={"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": prefer}})
    got = schedule(p, [node("n1"), node("n2", labels={"disk": "ssd"})], [])
    assert got.node == "n2" and got.scores["n2"] - got.scores["n1"] == 2 * 100


def test_ties_are_broken_at_random_and_a_seed_repeats_the_choice() -> None:
    nodes = [node(f"n{i}") for i in range(5)]
    picks = {schedule(pod(), nodes, [], seed).node for seed in range(40)}
    assert len(picks) > 1
    assert schedule(pod(), nodes, [], 7).node == schedule(pod(), nodes, [], 7).node


def test_a_single_feasible_node_is_taken_without_scoring() -> None:
    got = schedule(pod(), [node("n1"), node("n2", unschedulable=True)], [])
    assert (got.node, got.scores) == ("n1", {})


def test_anti_affinity_spreads_three_replicas_over_three_nodes() -> None:
    nodes = [node("n1"), node("n2"), node("n3")]
    web = {"app": "web"}
    snap = cluster(nodes)
    placed = []
    for i in range(3):
        p = info(pod(f"w{i}", labels=web, affinity=anti_affinity(web)))
        got = framework.schedule(p, snap, framework.Inputs(), random.Random(i))
        assert isinstance(got, framework.Placed)
        placed.append(got.node)
        snap = snap.with_pod(p, got.node)
    assert sorted(placed) == ["n1", "n2", "n3"]
    fourth = info(pod("w3", labels=web, affinity=anti_affinity(web)))
    assert isinstance(framework.schedule(fourth, snap, framework.Inputs(), random.Random(0)),
                      framework.Unschedulable)  # fmt: skip


def test_a_node_kept_from_an_earlier_pass_wins_while_it_still_fits() -> None:
    nodes = [node("n1"), node("n2")]
    busy = [pod("x", cpu="3", on="n1")]
    snap = cluster(nodes, busy)
    p = info(pod(cpu="500m"))
    assert framework.schedule(p, snap, framework.Inputs(), random.Random(0)).node == "n2"
    kept = framework.schedule(p, snap, framework.Inputs(), random.Random(0), keep="n1")
    assert kept == framework.Placed("n1")
    full = cluster(nodes, [pod("x", cpu="4", on="n1")])
    gone = framework.schedule(p, full, framework.Inputs(), random.Random(0), keep="n1")
    assert isinstance(gone, framework.Placed) and gone.node == "n2"
