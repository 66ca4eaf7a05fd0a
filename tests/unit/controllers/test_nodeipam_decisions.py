"""The node IPAM controller's decisions (``nodeipamcidrs``): which block of the cluster range a
Node gets, what frees one, what happens when none is left, and what a restart keeps."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from kubelite.controllers import nodeipamcidrs as ipam


def node(name: str, cidr: str | None = None, *, many: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if cidr is not None:
        spec["podCIDR"] = cidr
    if many is not None:
        spec["podCIDRs"] = many
    return {"metadata": {"name": name}, "spec": spec}


CLUSTER = ipam.cidr_set("10.244.0.0/22", 24)  # four /24 blocks


@pytest.mark.parametrize(
    ("case", "nodes", "expected"),
    [
        ("the first node of a cluster gets the first block", [], "10.244.0.0/24"),
        ("a node gets the first block no other node holds",
         [node("a", "10.244.0.0/24"), node("b", "10.244.1.0/24")], "10.244.2.0/24"),
        ("a hole left by a deleted node is filled",
         [node("a", "10.244.0.0/24"), node("c", "10.244.2.0/24")], "10.244.1.0/24"),
        ("podCIDRs is read before podCIDR",
         [node("a", "10.244.3.0/24", many=["10.244.0.0/24"])], "10.244.1.0/24"),
        ("a range in garbage or outside the cluster range takes no block",
         [node("a", "nonsense"), node("b", "10.9.0.0/24")], "10.244.0.0/24"),
    ],
)  # fmt: skip
def test_a_node_without_a_range_gets_the_next_free_block(
    case: str, nodes: list[dict[str, Any]], expected: str
) -> None:
    new = node("new")
    _, decision = ipam.decide(new, [*nodes, new], CLUSTER)
    assert decision == ipam.Assign(expected)


def test_the_search_goes_on_past_the_block_handed_out_last_as_upstreams_does() -> None:
    nodes = [node("a"), node("b")]
    state, first = ipam.decide(nodes[0], nodes, CLUSTER)
    assert first == ipam.Assign("10.244.0.0/24")
    nodes[0] = node("a", "10.244.0.0/24")
    state, second = ipam.decide(nodes[1], nodes, state)
    assert second == ipam.Assign("10.244.1.0/24")
    # "a" is deleted: its block is free, but the next node gets the block after "b"'s
    state, third = ipam.decide(node("c"), [node("b", "10.244.1.0/24")], state)
    assert third == ipam.Assign("10.244.2.0/24")


def test_after_a_restart_the_nodes_ranges_are_kept_and_the_search_starts_over() -> None:
    nodes = [node("a", "10.244.2.0/24"), node("b", "10.244.0.0/24"), node("c")]
    restarted = CLUSTER  # nothing but the Nodes is remembered
    for held in nodes[:2]:
        assert ipam.decide(held, nodes, restarted)[1] == ipam.Keep()
    assert ipam.decide(nodes[2], nodes, restarted)[1] == ipam.Assign("10.244.1.0/24")


def test_when_every_block_is_taken_the_node_waits_with_upstreams_words() -> None:
    nodes = [node(n, f"10.244.{i}.0/24") for i, n in enumerate("abcd")] + [node("e")]
    state, decision = ipam.decide(nodes[-1], nodes, CLUSTER)
    assert decision == ipam.Exhausted(
        "failed to allocate cidr from cluster cidr at idx:0: CIDR allocation failed; there are "
        "no remaining CIDRs left to allocate in the accepted range"
    )
    assert state == CLUSTER
    assert ipam.not_available_message("e") == "Node e status is now: CIDRNotAvailable"
    freed = [n for n in nodes if n["metadata"]["name"] != "b"]
    assert ipam.decide(nodes[-1], freed, state)[1] == ipam.Assign("10.244.1.0/24")


@pytest.mark.parametrize(
    ("case", "held", "message"),
    [
        ("garbage", node("x", "nonsense"), "failed to parse node x, CIDR nonsense"),
        ("outside the cluster range", node("x", "10.9.0.0/24"),
         "failed to mark cidr[10.9.0.0/24] at idx [0] as occupied for node: x: cidr "
         "10.9.0.0/24 is out the range of cluster cidr 10.244.0.0/22"),
    ],
)  # fmt: skip
def test_a_range_that_cannot_be_marked_used_is_reported(
    case: str, held: dict[str, Any], message: str
) -> None:
    assert ipam.decide(held, [held], CLUSTER)[1] == ipam.Unusable(message)


def test_blocks_of_the_service_range_are_never_handed_out() -> None:
    cidrs = ipam.cidr_set("10.0.0.0/22", 24, service_cidr="10.0.1.0/24")
    nodes = [node("a", "10.0.0.0/24"), node("b")]
    assert ipam.decide(nodes[1], nodes, cidrs)[1] == ipam.Assign("10.0.2.0/24")


@pytest.mark.parametrize(
    ("case", "cluster", "asked", "blocks"),
    [
        ("the default mask cuts a /16 into 256 nodes", "10.244.0.0/16", None, 256),
        ("a range smaller than a /24 is one node's by default", "10.200.7.0/25", None, 1),
        ("a mask of 26 cuts a /24 into four", "10.200.7.0/24", 26, 4),
    ],
)  # fmt: skip
def test_the_node_mask_size(case: str, cluster: str, asked: int | None, blocks: int) -> None:
    assert ipam.cidr_set(cluster, ipam.effective_mask(cluster, asked)).size == blocks


def test_a_node_mask_wider_than_the_cluster_range_is_refused_with_upstreams_text() -> None:
    with pytest.raises(ipam.CidrConfigError) as err:
        ipam.cidr_set("10.200.7.0/24", 16)
    assert str(err.value) == (
        "Controller: Invalid --cluster-cidr, mask size of cluster CIDR must be less than or "
        "equal to --node-cidr-mask-size configured for CIDR family"
    )


def test_occupy_and_release_cover_every_block_a_range_touches() -> None:
    s = ipam.cidr_set("10.244.0.0/22", 24)
    wide = s.occupy(ipam._parse("10.244.0.0/23") or pytest.fail("parse"))
    assert wide.used == {0, 1}
    narrow = s.occupy(ipam._parse("10.244.3.64/26") or pytest.fail("parse"))
    assert narrow.used == {3}
    assert wide.release(ipam._parse("10.244.1.0/24") or pytest.fail("parse")).used == {0}
    assert replace(s, used=frozenset({0, 1, 2, 3})).size == 4
