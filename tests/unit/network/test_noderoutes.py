"""Routes to other nodes' pods (kindnetd's): which routes a node wants from the Nodes, what
changes when a Node comes, moves or goes, and which routes of a listing are kubelite's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubelite.network import podcidr
from kubelite.network.noderoutes import Route, RoutePlan, parse_routes, plan_routes, wanted_routes

CLUSTER = "10.244.0.0/16"


def node(name: str, cidr: str | None, ip: str | None) -> dict[str, Any]:
    addresses = [{"type": "Hostname", "address": name}]
    if ip is not None:
        addresses.insert(0, {"type": "InternalIP", "address": ip})
    spec = {"podCIDR": cidr, "podCIDRs": [cidr]} if cidr else {}
    return {"metadata": {"name": name}, "spec": spec, "status": {"addresses": addresses}}


ME = node("m1", "10.244.1.0/24", "192.168.5.11")


@pytest.mark.parametrize(
    ("case", "others", "expected"),
    [
        ("every other node's range via its address",
         [node("m2", "10.244.2.0/24", "192.168.5.12"), node("m3", "10.244.3.0/24", "192.168.5.13")],
         {"10.244.2.0/24": Route("10.244.2.0/24", "192.168.5.12"),
          "10.244.3.0/24": Route("10.244.3.0/24", "192.168.5.13")}),
        ("a node without a range yet or without an InternalIP is not routed",
         [node("m2", None, "192.168.5.12"), node("m3", "10.244.3.0/24", None)], {}),
        ("a node on this machine (one of our addresses) is not routed",
         [node("m2", "10.244.2.0/24", "192.168.5.11")], {}),
        ("a range outside the cluster's or overlapping ours is never routed",
         [node("m2", "10.9.0.0/24", "192.168.5.12"), node("m3", "10.244.1.0/25", "192.168.5.13")],
         {}),
        ("two nodes claiming one range: the first by name wins",
         [node("m3", "10.244.2.0/24", "192.168.5.13"), node("m2", "10.244.2.0/24", "192.168.5.12")],
         {"10.244.2.0/24": Route("10.244.2.0/24", "192.168.5.12")}),
    ],
)  # fmt: skip
def test_the_routes_a_node_wants(
    case: str, others: list[dict[str, Any]], expected: dict[str, Route]
) -> None:
    got = wanted_routes(
        [ME, *others], node_name="m1", cluster_cidr=CLUSTER, own_subnet="10.244.1.0/24",
        local_addresses={"192.168.5.11", "10.244.1.1"},
    )  # fmt: skip
    assert got == expected


R2 = Route("10.244.2.0/24", "192.168.5.12")
R3 = Route("10.244.3.0/24", "192.168.5.13")


@pytest.mark.parametrize(
    ("case", "wanted", "present", "plan"),
    [
        ("nothing to do when they agree", [R2, R3], [R2, R3], RoutePlan((), ())),
        ("a new node's route is added", [R2, R3], [R2], RoutePlan((R3,), ())),
        ("a node gone: its route is deleted", [R2], [R2, R3], RoutePlan((), ("10.244.3.0/24",))),
        ("a node at another address: its route is put again",
         [Route("10.244.2.0/24", "192.168.5.99")], [R2],
         RoutePlan((Route("10.244.2.0/24", "192.168.5.99"),), ())),
    ],
)  # fmt: skip
def test_route_diffing(
    case: str, wanted: list[Route], present: list[Route], plan: RoutePlan
) -> None:
    result = plan_routes({r.destination: r for r in wanted}, {r.destination: r for r in present})
    assert result == plan
    assert bool(result) == bool(plan.put or plan.delete)


def test_only_our_routes_inside_the_cluster_range_are_read_from_a_listing() -> None:
    listing = json.dumps([
        {"dst": "10.244.2.0/24", "gateway": "192.168.5.12", "dev": "eth0", "protocol": "75",
         "flags": []},
        {"dst": "10.9.0.0/24", "gateway": "192.168.5.12", "dev": "eth0", "flags": []},
        {"dst": "default", "gateway": "192.168.5.1", "dev": "eth0", "flags": []},
    ])  # fmt: skip
    assert parse_routes(listing, CLUSTER) == {"10.244.2.0/24": R2}
    assert parse_routes("", CLUSTER) == {}


def test_a_nodes_range_and_address_as_the_agent_reads_them() -> None:
    assert podcidr.pod_cidr(node("m2", "10.244.2.0/24", None)) == "10.244.2.0/24"
    dual = {"spec": {"podCIDR": "fd00::/64", "podCIDRs": ["fd00::/64", "10.244.9.0/24"]}}
    assert podcidr.pod_cidr(dual) == "10.244.9.0/24"
    assert podcidr.pod_cidr({"spec": {}}) is None
    assert podcidr.internal_ip(node("m2", None, "192.168.5.12")) == "192.168.5.12"
    assert podcidr.internal_ip(node("m2", None, None)) is None


def test_a_node_without_its_range_registers_not_ready_with_the_kubelets_words() -> None:
    registered = {"metadata": {"name": "m1"}, "status": {"conditions": [
        {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
        {"type": "Ready", "status": "True", "reason": "KubeletReady",
         "message": "kubelet is posting ready status"},
    ]}}  # fmt: skip
    out = podcidr.registered_not_ready(registered)
    ready = next(c for c in out["status"]["conditions"] if c["type"] == "Ready")
    assert ready == {
        "type": "Ready", "status": "False", "reason": "KubeletNotReady",
        "message": "container runtime network not ready: NetworkReady=false "
        "reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not "
        "initialized",
    }  # fmt: skip
    assert out["status"]["conditions"][0]["status"] == "False"  # pressure untouched
    assert registered["status"]["conditions"][1]["status"] == "True"  # a copy
