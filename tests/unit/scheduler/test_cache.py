"""What the scheduler keeps between passes, and which changes may let an unschedulable pod fit
(a pod bound, gone, finished or relabelled; a node added or changed in what scheduling reads),
as opposed to status writes and heartbeats that change nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelite.scheduler.cache import Change, ClusterCache, NodeViews
from kubelite.scheduler.podinfo import pod_info
from tests.unit.scheduler.cluster import node, pod


def with_status(p: dict[str, Any], **status: Any) -> dict[str, Any]:
    return {**p, "status": status}


def test_bound_pods_are_held_and_their_status_writes_change_nothing() -> None:
    cache = ClusterCache()
    bound = pod("a", cpu="1", on="n1")
    assert cache.observe(bound) == Change(cluster=True)
    assert cache.observe(with_status(bound, phase="Running")) == Change()
    assert [p.key for p in cache.bound()] == ["default/a"]


def test_a_bound_pod_finishing_or_going_frees_its_node() -> None:
    cache = ClusterCache()
    bound = pod("a", on="n1")
    cache.observe(bound)
    assert cache.observe(with_status(bound, phase="Succeeded")) == Change(cluster=True)
    assert cache.bound() == []
    cache.observe(bound)
    assert cache.remove(bound) == Change(cluster=True)


def test_relabelling_a_bound_pod_is_a_change() -> None:
    cache = ClusterCache()
    cache.observe(pod("a", on="n1"))
    assert cache.observe(pod("a", on="n1", labels={"app": "web"})).cluster


def test_a_pending_pod_is_new_once_and_changed_only_by_its_spec_or_labels() -> None:
    cache = ClusterCache()
    pending = pod("p")
    assert cache.observe(pending) == Change(new_pending=True)
    assert cache.observe(with_status(pending, conditions=[{"type": "PodScheduled"}])) == Change()
    tolerant = pod("p", tolerations=[{"operator": "Exists"}])
    assert cache.observe(tolerant) == Change(pending_uid="uid-default-p")


def test_an_assumed_pod_holds_its_room_until_the_watch_reports_it_bound_or_gone() -> None:
    cache = ClusterCache()
    waiting = pod("a")
    cache.observe(waiting)
    cache.assume(pod_info(waiting).on("n1"))
    cache.observe(with_status(waiting, conditions=[]))  # still pending: still assumed
    assert [(p.key, p.node) for p in cache.bound()] == [("default/a", "n1")]
    cache.observe(pod("a", on="n1"))  # reported bound: held as such, once
    assert [(p.key, p.node) for p in cache.bound()] == [("default/a", "n1")]
    cache.assume(pod_info(pod("b")).on("n2"))
    cache.forget("default/b")
    cache.assume(pod_info(pod("c")).on("n2"))
    assert cache.remove(pod("c")) == Change(cluster=True)
    assert [p.key for p in cache.bound()] == ["default/a"]


def test_node_heartbeats_change_nothing_but_labels_taints_and_size_do() -> None:
    views = NodeViews()
    n = node("n1")
    assert views.observe(n)
    beat = {**n, "status": {**n["status"], "conditions": [{"type": "Ready", "status": "True"}]}}
    assert not views.observe(beat)
    assert views.observe(node("n1", labels={"disk": "ssd"}))
    assert views.observe(node("n1", labels={"disk": "ssd"}, cpu="8"))
    assert views.remove(n) and not views.remove(n)


def _on(cache: ClusterCache, node_name: str) -> list[str]:
    return sorted(p.key for p in cache.on_node(node_name))


def _listed_on(cache: ClusterCache, node_name: str) -> list[str]:
    return sorted(p.key for p in cache.bound() if p.node == node_name)


def test_the_pods_by_node_follow_binds_assumptions_and_departures_with_a_moving_generation() -> (
    None
):
    cache = ClusterCache()
    steps: list[Callable[[], object]] = [
        lambda: cache.observe(pod("a", cpu="1", on="n1")),
        lambda: cache.assume(pod_info(pod("b")).on("n2")),
        lambda: cache.observe(pod("b", on="n2")),  # the assumption seen bound
        lambda: cache.assume(pod_info(pod("c")).on("n1")),
        lambda: cache.forget("default/c"),
        lambda: cache.observe(with_status(pod("a", cpu="1", on="n1"), phase="Failed")),
        lambda: cache.remove(pod("b", on="n2")),
    ]
    for step in steps:
        before = {n: cache.generation(n) for n in ("n1", "n2")}
        listed = {n: _on(cache, n) for n in ("n1", "n2")}
        step()
        for n in ("n1", "n2"):
            assert _on(cache, n) == _listed_on(cache, n)
            if _on(cache, n) != listed[n]:
                assert cache.generation(n) > before[n]


def test_a_status_write_to_a_bound_pod_leaves_its_nodes_generation_alone() -> None:
    cache = ClusterCache()
    bound = pod("a", on="n1")
    cache.observe(bound)
    generation = cache.generation("n1")
    cache.observe(with_status(bound, phase="Running"))
    assert cache.generation("n1") == generation
    assert cache.holds("default/a") and not cache.holds("default/x")
