"""Taints from a node's conditions (the node lifecycle controller) and when a pod on a node
with NoExecute taints is deleted (the taint eviction controller), on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers import taintdecisions as td

STAMP = "2024-01-01T00:00:00Z"


def node(ready: str | None, taints: list[dict[str, Any]] | None = None, **conds: str) -> dict:
    conditions = [{"type": "Ready", "status": ready}] if ready else []
    conditions += [{"type": k, "status": v} for k, v in conds.items()]
    return {"metadata": {"name": "n1"}, "spec": {"taints": taints or []},
            "status": {"conditions": conditions}}  # fmt: skip


def keys(taints: list[dict[str, Any]] | None) -> list[str]:
    return [f"{t['key']}:{t['effect']}" for t in taints or []]


@pytest.mark.parametrize(
    ("case", "obj", "expected"),
    [
        ("a ready node has none", node("True"), None),
        ("a NotReady node is not-ready for scheduling and execution", node("False"),
         ["node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/not-ready:NoSchedule"]),
        ("a silent node is unreachable", node("Unknown"),
         ["node.kubernetes.io/unreachable:NoExecute",
          "node.kubernetes.io/unreachable:NoSchedule"]),
        ("memory pressure", node("True", MemoryPressure="True"),
         ["node.kubernetes.io/memory-pressure:NoSchedule"]),
        ("a user's taint stays", node("Unknown", [{"key": "gpu", "effect": "NoSchedule"}]),
         ["gpu:NoSchedule", "node.kubernetes.io/unreachable:NoExecute",
          "node.kubernetes.io/unreachable:NoSchedule"]),
    ],
)  # fmt: skip
def test_the_taints_a_nodes_conditions_call_for(
    case: str, obj: dict[str, Any], expected: list[str] | None
) -> None:
    result = td.node_taints(obj, STAMP)
    assert (keys(result) if result is not None else None) == expected


def test_not_ready_turning_unknown_swaps_the_taints_and_ready_clears_them() -> None:
    old = [{"key": td.NOT_READY, "effect": "NoExecute", "timeAdded": "then"},
           {"key": td.NOT_READY, "effect": "NoSchedule", "timeAdded": "then"}]  # fmt: skip
    swapped = td.node_taints(node("Unknown", old), STAMP)
    assert keys(swapped) == [f"{td.UNREACHABLE}:NoExecute", f"{td.UNREACHABLE}:NoSchedule"]
    assert all(t["timeAdded"] == STAMP for t in swapped or [])
    assert td.node_taints(node("False", old), STAMP) is None  # kept, with their stamps
    assert td.node_taints(node("True", old), STAMP) == []


UNREACHABLE = {"key": td.UNREACHABLE, "effect": "NoExecute"}


def pod(*tolerations: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"tolerations": list(tolerations)}}


def tol(seconds: int | None = None, key: str = td.UNREACHABLE) -> dict[str, Any]:
    t: dict[str, Any] = {"key": key, "operator": "Exists", "effect": "NoExecute"}
    if seconds is not None:
        t["tolerationSeconds"] = seconds
    return t


@pytest.mark.parametrize(
    ("case", "obj", "expected"),
    [
        ("a pod without a toleration goes at once", pod(), td.Eviction(100.0, 100.0)),
        ("the default 300 s toleration", pod(tol(300)), td.Eviction(100.0, 400.0)),
        ("the smallest of the tolerations used", pod(tol(300), tol(5, "")),
         td.Eviction(100.0, 400.0)),
        ("a toleration without seconds tolerates forever", pod(tol()), None),
        ("a toleration of another taint does not help", pod(tol(30, td.NOT_READY)),
         td.Eviction(100.0, 100.0)),
        ("zero seconds is at once", pod(tol(0)), td.Eviction(100.0, 100.0)),
    ],
)  # fmt: skip
def test_when_a_pod_is_evicted(
    case: str, obj: dict[str, Any], expected: td.Eviction | None
) -> None:
    assert td.eviction(obj, [UNREACHABLE], 100.0, None) == expected


def test_a_scheduled_eviction_counts_from_when_it_was_first_scheduled() -> None:
    first = td.eviction(pod(tol(30)), [UNREACHABLE], 100.0, None)
    assert first == td.Eviction(100.0, 130.0)
    assert td.eviction(pod(tol(30)), [UNREACHABLE], 120.0, first) == first
    assert td.eviction(pod(tol(10)), [UNREACHABLE], 105.0, first) == td.Eviction(100.0, 110.0)
    assert td.eviction(pod(tol(30)), [], 120.0, first) is None  # the taint went


@pytest.mark.parametrize(
    ("case", "toleration", "taint", "expected"),
    [
        ("Exists on the key", {"key": "k", "operator": "Exists"}, {"key": "k", "value": "v",
         "effect": "NoExecute"}, True),
        ("Equal needs the value", {"key": "k", "value": "x"}, {"key": "k", "value": "v",
         "effect": "NoExecute"}, False),
        ("another effect", {"key": "k", "operator": "Exists", "effect": "NoSchedule"},
         {"key": "k", "effect": "NoExecute"}, False),
        ("an empty key with Exists tolerates everything", {"operator": "Exists"},
         {"key": "k", "effect": "NoExecute"}, True),
    ],
)  # fmt: skip
def test_a_toleration_tolerates_a_taint(
    case: str, toleration: dict[str, Any], taint: dict[str, Any], expected: bool
) -> None:
    assert td.tolerates(toleration, taint) is expected
