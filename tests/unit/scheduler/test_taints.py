"""Taints and tolerations: which toleration tolerates which taint, the NodeUnschedulable and
TaintToleration filters with upstream's reasons, and the PreferNoSchedule count the score
normalises."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.scheduler import taints
from kubelite.scheduler.nodeinfo import node_info
from kubelite.scheduler.status import Code
from tests.unit.scheduler.cluster import info, node, pod, taint

T = taint("dedicated", "NoSchedule", "gpu")


def tol(key: str = "", value: str = "", effect: str = "", op: str = "") -> dict[str, Any]:
    raw = {"key": key, "value": value, "effect": effect, "operator": op}
    return {k: v for k, v in raw.items() if v}


TOLERATIONS: list[tuple[str, dict[str, Any], bool]] = [
    ("equal key, value and effect tolerate", tol("dedicated", "gpu", "NoSchedule"), True),
    ("an empty effect tolerates every effect", tol("dedicated", "gpu"), True),
    ("another effect does not tolerate", tol("dedicated", "gpu", "NoExecute"), False),
    ("another value does not tolerate", tol("dedicated", "cpu"), False),
    ("exists tolerates any value", tol("dedicated", op="Exists"), True),
    ("exists with no key tolerates every taint", tol(op="Exists"), True),
    ("another key does not tolerate", tol("other", op="Exists"), False),
    ("an unknown operator tolerates nothing", tol("dedicated", "gpu", op="Gt"), False),
]


@pytest.mark.parametrize(
    ("case", "toleration", "expected"), TOLERATIONS, ids=[c[0] for c in TOLERATIONS]
)
def test_a_toleration_tolerates_a_taint_as_upstream_matches_them(
    case: str, toleration: dict[str, Any], expected: bool
) -> None:
    assert taints.tolerates(toleration, T) is expected


FILTER: list[tuple[str, dict[str, Any], list[dict[str, Any]], str | None]] = [
    ("a node without taints takes the pod", {}, [], None),
    ("an untolerated NoSchedule taint refuses with its key and empty value",
     {}, [taint("node-role.kubernetes.io/control-plane")],
     "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"),
    ("an untolerated NoExecute taint refuses with its value",
     {}, [taint("machine-check-exception", "NoExecute", "memory")],
     "node(s) had untolerated taint {machine-check-exception: memory}"),
    ("a PreferNoSchedule taint never refuses", {}, [taint("soft", "PreferNoSchedule")], None),
    ("the first untolerated taint in the node's order names the reason",
     {"tolerations": [{"key": "a", "operator": "Exists"}]},
     [taint("a"), taint("b"), taint("c")], "node(s) had untolerated taint {b: }"),
    ("a not-ready node is refused through its taint",
     {}, [taint("node.kubernetes.io/not-ready", "NoExecute")],
     "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"),
    ("the default tolerations of not-ready are only NoExecute for a while, still tolerated",
     {"tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                       "effect": "NoExecute", "tolerationSeconds": 300}]},
     [taint("node.kubernetes.io/unreachable", "NoExecute")], None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "spec", "node_taints", "reason"), FILTER, ids=[c[0] for c in FILTER]
)
def test_taint_toleration_filter(
    case: str, spec: dict[str, Any], node_taints: list[dict[str, Any]], reason: str | None
) -> None:
    status = taints.taint_toleration(info(pod(**spec)), node_info(node("n", taints=node_taints)))
    if reason is None:
        assert status is None
    else:
        assert status is not None and status.reasons == (reason,)
        assert status.code is Code.UNRESOLVABLE


def test_a_cordoned_node_is_unschedulable_unless_the_pod_tolerates_the_unschedulable_taint() -> (
    None
):
    cordoned = node_info(node("n", unschedulable=True))
    status = taints.node_unschedulable(info(pod()), cordoned)
    assert status is not None and status.reasons == ("node(s) were unschedulable",)
    assert status.code is Code.UNRESOLVABLE
    tolerant = pod(tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                                 "effect": "NoSchedule"}])  # fmt: skip
    assert taints.node_unschedulable(info(tolerant), cordoned) is None
    assert taints.node_unschedulable(info(pod()), node_info(node("n"))) is None


SCORE = [
    ("no PreferNoSchedule taints count nothing", [], [], 0),
    ("each untolerated PreferNoSchedule taint counts",
     [taint("a", "PreferNoSchedule"), taint("b", "PreferNoSchedule"), taint("c")], [], 2),
    ("a toleration with the PreferNoSchedule effect removes one",
     [taint("a", "PreferNoSchedule"), taint("b", "PreferNoSchedule")],
     [tol("a", effect="PreferNoSchedule", op="Exists")], 1),
    ("a NoSchedule toleration does not tolerate a PreferNoSchedule taint",
     [taint("a", "PreferNoSchedule")], [tol("a", effect="NoSchedule", op="Exists")], 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "node_taints", "tolerations", "count"), SCORE, ids=[c[0] for c in SCORE]
)
def test_the_score_counts_untolerated_prefer_no_schedule_taints(
    case: str, node_taints: list[Any], tolerations: list[Any], count: int
) -> None:
    p = info(pod(tolerations=tolerations))
    assert taints.intolerable_preferences(p, node_info(node("n", taints=node_taints))) == count
