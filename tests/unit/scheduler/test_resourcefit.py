"""NodeResourcesFit and NodePorts: what a node has left against the pod's effective requests
(init containers, sidecars and overhead included, RES-2), the pod count, host ports; and the
LeastAllocated and BalancedAllocation scores."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.scheduler import resourcefit
from kubelite.scheduler.nodeinfo import node_info
from kubelite.scheduler.podinfo import DEFAULT_MEMORY, DEFAULT_MILLI_CPU, pod_info
from kubelite.scheduler.status import Code
from tests.unit.scheduler.cluster import info, node, pod


def container(name: str, cpu: str = "", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "image": "busybox", **extra}
    if cpu:
        out["resources"] = {"requests": {"cpu": cpu}}
    return out


def holding(cpu: str = "4", pods: str = "110", *bound: dict[str, Any], **alloc: str) -> Any:
    n = node("n", cpu=cpu, pods=pods)
    n["status"]["allocatable"].update(alloc)
    return node_info(n, [pod_info(p) for p in bound])


GPU = {"name": "c", "image": "i", "resources": {"requests": {"example.com/gpu": "1"}}}
GPU_POD = pod(containers=[GPU])
SIDECAR = container("side", "600m", restartPolicy="Always")

FIT: list[tuple[str, Any, dict[str, Any], tuple[str, ...], Code | None]] = [
    ("a pod that fits is taken", holding("1"), pod(cpu="500m"), (), None),
    ("a request over what is left is insufficient and could be freed",
     holding("1", "110", pod("old", cpu="600m", on="n")), pod(cpu="500m"),
     ("Insufficient cpu",), Code.UNSCHEDULABLE),
    ("a request over the whole node cannot be freed",
     holding("1"), pod(cpu="2"), ("Insufficient cpu",), Code.UNRESOLVABLE),
    ("one more pod than the pods allocatable is too many",
     holding("4", "1", pod("old", on="n")), pod(), ("Too many pods",), Code.UNSCHEDULABLE),
    ("every shortfall is named, pods first",
     holding("1", "1", pod("old", cpu="1", memory="8Gi", on="n")), pod(cpu="1", memory="1Gi"),
     ("Too many pods", "Insufficient cpu", "Insufficient memory"), Code.UNSCHEDULABLE),
    ("an extended resource the node lacks is insufficient",
     holding("4"), GPU_POD, ("Insufficient example.com/gpu",), Code.UNRESOLVABLE),
    ("an extended resource the node offers fits",
     holding("4", **{"example.com/gpu": "2"}), GPU_POD, (), None),
    ("an init container's larger request counts (RES-2)",
     holding("1"), pod(cpu="100m", initContainers=[container("init", "2")]),
     ("Insufficient cpu",), Code.UNRESOLVABLE),
    ("a sidecar's request adds to the app containers' (RES-2)",
     holding("1"), pod(cpu="600m", initContainers=[SIDECAR]),
     ("Insufficient cpu",), Code.UNRESOLVABLE),
    ("overhead adds to the requests",
     holding("1"), pod(cpu="900m", overhead={"cpu": "200m"}),
     ("Insufficient cpu",), Code.UNRESOLVABLE),
    ("a pod that requests nothing is checked for its count only", holding("0"), pod(), (), None),
]  # fmt: skip


@pytest.mark.parametrize(("case", "where", "p", "reasons", "code"), FIT, ids=[c[0] for c in FIT])
def test_node_resources_fit(
    case: str, where: Any, p: dict[str, Any], reasons: tuple[str, ...], code: Code | None
) -> None:
    status = resourcefit.node_resources_fit(info(p), where)
    if not reasons:
        assert status is None
    else:
        assert status is not None
        assert (status.reasons, status.code) == (reasons, code)


def port(host: int, ip: str = "", protocol: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"containerPort": 80, "hostPort": host}
    if ip:
        out["hostIP"] = ip
    if protocol:
        out["protocol"] = protocol
    return out


def with_ports(name: str, *ports: dict[str, Any], on: str = "") -> dict[str, Any]:
    return pod(name, on=on, containers=[{"name": "c", "image": "i", "ports": list(ports)}])


PORTS = [
    ("a free port fits", [port(8080)], [port(9090)], True),
    ("the same port and protocol on every address conflict", [port(8080)], [port(8080)], False),
    ("another protocol does not conflict", [port(8080)], [port(8080, protocol="UDP")], True),
    ("two distinct addresses do not conflict",
     [port(8080, "10.0.0.1")], [port(8080, "10.0.0.2")], True),
    ("a wildcard conflicts with any address", [port(8080, "10.0.0.1")], [port(8080)], False),
]  # fmt: skip


@pytest.mark.parametrize(("case", "held", "wanted", "fits"), PORTS, ids=[c[0] for c in PORTS])
def test_node_ports(case: str, held: list[Any], wanted: list[Any], fits: bool) -> None:
    where = node_info(node("n"), [pod_info(with_ports("old", *held, on="n"))])
    status = resourcefit.node_ports(info(with_ports("new", *wanted)), where)
    if fits:
        assert status is None
    else:
        assert status is not None and status.reasons == (
            "node(s) didn't have free ports for the requested pod ports",
        )


def test_a_sidecars_host_port_is_held_too() -> None:
    side = {"name": "s", "image": "i", "restartPolicy": "Always", "ports": [port(7000)]}
    assert info(pod(initContainers=[side])).host_ports[0].port == 7000


def test_containers_without_requests_count_at_upstreams_defaults_for_scoring() -> None:
    p = info(pod(containers=[container("a"), container("b", "250m")]))
    assert (p.nonzero_cpu, p.nonzero_memory) == (DEFAULT_MILLI_CPU + 250, 2 * DEFAULT_MEMORY)
    assert p.requests == {"cpu": 250}


GI = 2**30
LEAST = [
    ("an empty node scores by what the pod leaves free",
     [], pod(cpu="1", memory="2Gi"), (75 + 75) // 2),
    ("what bound pods request counts against the node",
     [pod("old", cpu="2", memory="4Gi", on="n")], pod(cpu="1", memory="2Gi"), (25 + 25) // 2),
    ("a best-effort pod still counts at the defaults",
     [], pod(), ((4000 - 100) * 100 // 4000 + (8 * GI - 200 * 2**20) * 100 // (8 * GI)) // 2),
    ("more than the node scores 0 for that resource",
     [], pod(cpu="8", memory="4Gi"), (0 + 50) // 2),
]  # fmt: skip


@pytest.mark.parametrize(("case", "bound", "p", "score"), LEAST, ids=[c[0] for c in LEAST])
def test_least_allocated(case: str, bound: list[Any], p: dict[str, Any], score: int) -> None:
    where = node_info(node("n", cpu="4", memory="8Gi"), [pod_info(b) for b in bound])
    assert resourcefit.least_allocated(info(p), where) == score


BALANCED = [
    ("equal fractions are perfectly balanced", pod(cpu="2", memory="4Gi"), 100),
    ("a quarter of the cpu and none of the memory", pod(cpu="1"), 87),
    ("fractions over the whole node count as full", pod(cpu="8", memory="4Gi"), 75),
]


@pytest.mark.parametrize(("case", "p", "score"), BALANCED, ids=[c[0] for c in BALANCED])
def test_balanced_allocation(case: str, p: dict[str, Any], score: int) -> None:
    assert resourcefit.balanced_allocation(info(p), node_info(node("n"))) == score


def test_balanced_allocation_skips_a_pod_that_requests_neither_cpu_nor_memory() -> None:
    assert resourcefit.is_best_effort(info(pod()))
    assert not resourcefit.is_best_effort(info(pod(memory="1Mi")))
