"""A node's totals when a pass places a pod on it: moved by that pod alone, and the same as
adding every pod up again."""

from __future__ import annotations

import pytest

from kubelite.scheduler.nodeinfo import NodeInfo, node_info
from kubelite.scheduler.podinfo import PodInfo
from tests.unit.scheduler.cluster import info, node, pod

HELD = [
    info(pod("a", cpu="500m", memory="1Gi", on="n1")),
    info(pod("b", cpu="250m", on="n1")),
    info(pod("c", on="n1")),
]


def _totals(n: NodeInfo) -> tuple[dict[str, int], int, int, list[str]]:
    requested = {k: v for k, v in n.requested.items() if v}
    return requested, n.nonzero_cpu, n.nonzero_memory, sorted(p.key for p in n.pods)


@pytest.mark.parametrize(
    "placed",
    [
        info(pod("new", cpu="1", memory="512Mi")).on("n1"),  # a pod not there yet
        info(pod("b", cpu="2", memory="2Gi")).on("n1"),  # an assumed pod placed again
        info(pod("none")).on("n1"),  # no requests: counted at the scheduler's non-zero defaults
    ],
    ids=["new", "replacing", "no-requests"],
)
def test_placing_a_pod_moves_the_totals_as_adding_them_all_up_again(placed: PodInfo) -> None:
    base = node_info(node("n1"), HELD)
    others = [p for p in HELD if p.key != placed.key]
    assert _totals(base.with_placed(placed)) == _totals(node_info(node("n1"), [*others, placed]))


def test_a_pod_placed_again_is_held_once() -> None:
    base = node_info(node("n1"), HELD)
    again = base.with_placed(HELD[0]).with_placed(HELD[0])
    assert [p.key for p in again.pods] == [p.key for p in HELD]
