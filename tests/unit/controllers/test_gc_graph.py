"""The garbage collector's graph and decisions: which objects to look at after an event,
and what to do with a dependent given its owners."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers import gc_graph as g

OwnerState = g.OwnerState


def obj(
    uid: str,
    *owners: tuple[str, bool],
    kind: str = "Pod",
    finalizers: list[str] | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": uid, "namespace": "default", "uid": uid}
    if owners:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": o,
                "uid": o,
                "controller": True,
                "blockOwnerDeletion": block,
            }
            for o, block in owners
        ]
    if finalizers:
        meta["finalizers"] = finalizers
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    return {"apiVersion": "v1", "kind": kind, "metadata": meta}


def test_a_dependent_of_an_unseen_owner_is_checked() -> None:
    graph = g.Graph()
    assert graph.observe(obj("pod", ("rs", True))).attempt_delete == {"pod"}
    graph.observe(obj("rs", kind="ReplicaSet"))
    assert graph.observe(obj("pod2", ("rs", True))).attempt_delete == set()


def test_an_owner_that_goes_sends_its_dependents_to_be_checked() -> None:
    graph = g.Graph()
    graph.observe(obj("rs", kind="ReplicaSet"))
    graph.observe(obj("a", ("rs", True)))
    graph.observe(obj("b", ("rs", False)))
    assert graph.forget(obj("rs", kind="ReplicaSet")).attempt_delete == {"a", "b"}


def test_a_foreground_deletion_looks_at_the_owner_and_every_dependent() -> None:
    graph = g.Graph()
    graph.observe(obj("rs", kind="ReplicaSet"))
    graph.observe(obj("a", ("rs", True)))
    work = graph.observe(
        obj("rs", kind="ReplicaSet", finalizers=["foregroundDeletion"], deleting=True)
    )
    assert work.attempt_delete == {"rs", "a"}
    assert [n.uid for n in graph.blocking_dependents("rs")] == ["a"]
    assert graph.forget(obj("a", ("rs", True))).attempt_delete == {"rs"}


def test_an_orphaning_deletion_sends_the_owner_to_be_orphaned() -> None:
    graph = g.Graph()
    work = graph.observe(obj("rs", kind="ReplicaSet", finalizers=["orphan"], deleting=True))
    assert work.attempt_orphan == {"rs"} and work.attempt_delete == set()


def test_a_dependent_no_longer_blocking_lets_a_waiting_owner_finish() -> None:
    graph = g.Graph()
    graph.observe(obj("rs", kind="ReplicaSet", finalizers=["foregroundDeletion"], deleting=True))
    graph.observe(obj("a", ("rs", True)))
    assert graph.observe(obj("a", ("rs", False))).attempt_delete == {"rs"}
    assert graph.blocking_dependents("rs") == []


@pytest.mark.parametrize(
    ("item", "states", "has_deps", "expected"),
    [
        pytest.param(
            obj("p", ("rs", True)),
            {"rs": OwnerState.SOLID},
            False,
            g.Decision(g.Action.NONE),
            id="a solid owner keeps it",
        ),
        pytest.param(
            obj("p", ("rs", True)),
            {"rs": OwnerState.DANGLING},
            False,
            g.Decision(g.Action.DELETE, policy="Background"),
            id="every owner gone: deleted in the background",
        ),
        pytest.param(
            obj("p", ("a", True), ("b", True)),
            {"a": OwnerState.SOLID, "b": OwnerState.DANGLING},
            False,
            g.Decision(g.Action.REMOVE_REFERENCES, remove=("b",)),
            id="one owner left: the dangling reference goes",
        ),
        pytest.param(
            obj("rs", ("d", True)),
            {"d": OwnerState.WAITING},
            True,
            g.Decision(g.Action.DELETE, policy="Foreground"),
            id="its owner waits and it has dependents: foreground",
        ),
        pytest.param(
            obj("p", ("rs", True)),
            {"rs": OwnerState.WAITING},
            False,
            g.Decision(g.Action.DELETE, policy="Background"),
            id="its owner waits, no dependents: background",
        ),
        pytest.param(
            obj("p", ("rs", True), finalizers=["orphan"]),
            {"rs": OwnerState.DANGLING},
            True,
            g.Decision(g.Action.DELETE, policy="Orphan"),
            id="its own orphan finalizer is honoured",
        ),
        pytest.param(obj("p"), {}, False, g.Decision(g.Action.NONE), id="no owners"),
    ],
)
def test_what_becomes_of_a_dependent(
    item: Any, states: dict[str, OwnerState], has_deps: bool, expected: g.Decision
) -> None:
    assert g.decide(item, states, has_dependents=has_deps, dependent_waiting=False) == expected


def test_finalizers_and_unblocking() -> None:
    item = obj("p", ("rs", True), finalizers=["a", "foregroundDeletion"])
    assert g.without_finalizer(item, "foregroundDeletion") == ["a"]
    assert g.without_finalizer(item, "orphan") is None
    assert g.unblock_patch(item) == {
        "metadata": {"ownerReferences": [{"uid": "rs", "blockOwnerDeletion": False}], "uid": "p"}
    }
