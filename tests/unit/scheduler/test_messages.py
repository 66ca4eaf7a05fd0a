"""The FailedScheduling text, byte for byte as kube-scheduler writes it: the count of each
reason sorted as strings, PreFilter's refusal, nodes PreFilter left out, and preemption's part
(not eligible, not helpful, no victims, or none at all when preemption would find room)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest

from kubelite import volumebinding as vb
from kubelite.scheduler import framework
from kubelite.scheduler.fiterror import fit_error, truncate
from kubelite.scheduler.status import unresolvable, unschedulable
from tests.unit.scheduler.cluster import cluster, info, node, pod, taint

CONTROL_PLANE = taint("node-role.kubernetes.io/control-plane")


def message(p: dict[str, Any], nodes: list[Any], bound: Sequence[Any] = (), **inputs: Any) -> str:
    result = framework.schedule(
        info(p), cluster(nodes, list(bound)), framework.Inputs(**inputs), random.Random(0)
    )
    assert isinstance(result, framework.Unschedulable), result
    return result.message


CASES: list[tuple[str, dict[str, Any], list[Any], list[Any], str]] = [
    ("a taint and two full nodes, as on a cluster with a control plane",
     pod(cpu="500m"),
     [node("cp", taints=[CONTROL_PLANE]), node("w1", cpu="1"), node("w2", cpu="1")],
     [pod("x", cpu="800m", on="w1"), pod("y", cpu="800m", on="w2")],
     "0/3 nodes are available: 1 node(s) had untolerated taint "
     "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are "
     "available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for "
     "incoming pod."),
    ("reasons that cannot be helped make preemption not helpful everywhere",
     pod(nodeSelector={"disk": "ssd"}),
     [node("n1"), node("n2", unschedulable=True), node("n3")], [],
     "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match Pod's node "
     "affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for "
     "scheduling."),
    ("a request larger than every node is not helped by preemption",
     pod(cpu="64"), [node("n1"), node("n2")], [],
     "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: "
     "2 Preemption is not helpful for scheduling."),
    ("a node short of two resources counts both",
     pod(cpu="1", memory="1Gi"), [node("n1", cpu="1", memory="1Gi")],
     [pod("x", cpu="500m", memory="512Mi", on="n1")],
     "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes "
     "are available: 1 No preemption victims found for incoming pod."),
    ("preemptionPolicy Never is not eligible",
     pod(cpu="1", preemptionPolicy="Never"), [node("n1", cpu="1")], [pod("x", cpu="1", on="n1")],
     "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to "
     "preemptionPolicy=Never."),
    ("lower-priority pods that would not make room leave the refusal's reason",
     pod(cpu="2", priority=10), [node("n1", cpu="2")],
     [pod("low", cpu="500m", on="n1"), pod("high", cpu="1", priority=10, on="n1")],
     "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
     "1 Insufficient cpu."),
    ("preemption that would make room adds no preemption part (kubelite does not evict)",
     pod(cpu="2", priority=10), [node("n1", cpu="2")], [pod("low", cpu="1", on="n1")],
     "0/1 nodes are available: 1 Insufficient cpu."),
    ("nodes PreFilter leaves out count as not satisfying NodeAffinity",
     pod(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
         "nodeSelectorTerms": [{"matchFields": [
             {"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}),
     [node("n1", pods="0"), node("n2"), node("n3")], [],
     "0/3 nodes are available: 1 Too many pods, 2 node(s) didn't satisfy plugin(s) "
     "[NodeAffinity]. preemption: 0/3 nodes are available: 1 No preemption victims found for "
     "incoming pod, 2 Preemption is not helpful for scheduling."),
]  # fmt: skip


@pytest.mark.parametrize(("case", "p", "nodes", "bound", "text"), CASES, ids=[c[0] for c in CASES])
def test_the_failed_scheduling_message(
    case: str, p: dict[str, Any], nodes: list[Any], bound: list[Any], text: str
) -> None:
    assert message(p, nodes, bound) == text


def test_prefilter_refusals_stand_for_every_node() -> None:
    got = message(pod(), [node("n1"), node("n2")], claims=vb.UNBOUND_IMMEDIATE)
    assert got == (
        "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: "
        "0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    )


def test_a_read_write_once_pod_conflict_is_refused_node_by_node() -> None:
    got = message(pod(), [node("n1")], claims=vb.RWOP_CONFLICT)
    assert got == (
        "0/1 nodes are available: 1 node has pod using PersistentVolumeClaim with the same name "
        "and ReadWriteOncePod access mode. preemption: 0/1 nodes are available: 1 No preemption "
        "victims found for incoming pod."
    )


def test_no_nodes_at_all() -> None:
    result = framework.schedule(info(pod()), cluster([]), framework.Inputs(), random.Random(0))
    assert result == framework.Unschedulable("no nodes available to schedule pods")


def test_counts_sort_as_strings_so_ten_comes_before_two() -> None:
    statuses = {f"a{i}": unschedulable("X", "Insufficient cpu") for i in range(10)}
    statuses |= {f"b{i}": unresolvable("Y", "node(s) were unschedulable") for i in range(2)}
    assert fit_error(12, statuses) == (
        "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) were unschedulable."
    )


def test_the_event_text_is_cut_to_1024_bytes() -> None:
    long = "x" * 2000
    assert truncate(long) == "x" * 1020 + " ..."
    assert truncate("short") == "short"
