"""NodeRestriction: a node writes its own Node (not its taints, nor restricted labels), only
mirror pods of its own, the status of pods bound to it, and its own Lease; everyone else's
writes pass untouched. Texts are the admission plugin's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kubelite.registry import noderestriction as nr
from kubelite.registry.errors import Forbidden
from kubelite.registry.requestinfo import REQUEST, RequestInfo, RequestUser

N1 = RequestUser("system:node:n1", groups=("system:nodes", "system:authenticated"))
ALICE = RequestUser("alice", groups=("system:authenticated",))


@pytest.fixture
def as_n1() -> Iterator[None]:
    token = REQUEST.set(RequestInfo(N1, 0.0))
    yield
    REQUEST.reset(token)


def node(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": spec}


def pod(node_name: str, **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "default", **meta},
            "spec": {"nodeName": node_name}}  # fmt: skip


def refusal(fn: Any, *args: Any) -> str:
    with pytest.raises(Forbidden) as err:
        fn(*args)
    return str(err.value)


@pytest.mark.parametrize(
    ("case", "user", "expected"),
    [
        ("a node user", N1, "n1"),
        ("a user named like a node outside system:nodes",
         RequestUser("system:node:n1", groups=("system:authenticated",)), None),
        ("a user in system:nodes without a node name", RequestUser("bob", groups=("system:nodes",)),
         None),
        ("nobody", None, None),
    ],
)  # fmt: skip
def test_node_identity(case: str, user: RequestUser | None, expected: str | None) -> None:
    assert nr.node_name_of(user) == expected


def test_a_node_cannot_modify_another_node(as_n1: None) -> None:
    msg = refusal(nr.check_node_update, node("n2"), node("n2"))
    assert msg == 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"'
    assert "not allowed to modify node" in refusal(nr.check_node_create, node("n2"))
    assert "not allowed to modify node" in refusal(nr.check_node_delete, node("n2"))
    nr.check_node_update(node("n1"), node("n1"))  # its own: fine


def test_a_node_cannot_touch_its_taints_or_restricted_labels(as_n1: None) -> None:
    tainted = node("n1", taints=[{"key": "k", "effect": "NoSchedule"}])
    assert refusal(nr.check_node_update, node("n1"), tainted) == (
        'nodes "n1" is forbidden: node "n1" is not allowed to modify taints'
    )
    labelled = node("n1", {"node-restriction.kubernetes.io/pool": "a", "team": "x"})
    assert refusal(nr.check_node_update, labelled, node("n1")) == (
        'nodes "n1" is forbidden: is not allowed to modify labels: '
        "node-restriction.kubernetes.io/pool"
    )
    role = node("n1", {"node-role.kubernetes.io/control-plane": ""})
    assert refusal(nr.check_node_create, role) == (
        'nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: '
        "node-role.kubernetes.io/control-plane"
    )
    kubelet = {"kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux",
               "node.kubernetes.io/instance-type": "x", "example.com/rack": "3"}  # fmt: skip
    nr.check_node_create(node("n1", kubelet))


def test_a_node_writes_only_the_status_of_pods_bound_to_it(as_n1: None) -> None:
    nr.check_pod_update(pod("n1"), pod("n1"), "status")
    assert refusal(nr.check_pod_update, pod("n2"), pod("n2"), "status") == (
        'pods "web" is forbidden: node "n1" can only update pod status for pods with '
        "spec.nodeName set to itself"
    )
    assert "cannot update labels through pod status" in refusal(
        nr.check_pod_update, pod("n1", labels={"a": "b"}), pod("n1"), "status"
    )
    assert refusal(nr.check_pod_update, pod("n1"), pod("n1"), "") == (
        'pods "web" is forbidden: unexpected operation "UPDATE", node "n1" can only create '
        "and delete mirror pods"
    )


def test_a_node_deletes_only_pods_bound_to_it(as_n1: None) -> None:
    nr.check_pod_delete(pod("n1"))
    assert refusal(nr.check_pod_delete, pod("n2")) == (
        'pods "web" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself'
    )


def test_a_node_creates_only_mirror_pods_of_its_own(as_n1: None) -> None:
    assert refusal(nr.check_pod_create, pod("n1")) == (
        'pods "web" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, '
        'node "n1" can only create mirror pods'
    )
    owner = {"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "u", "controller": True}
    mirror = pod("n1", annotations={nr.MIRROR_ANNOTATION: "x"}, ownerReferences=[owner])
    nr.check_pod_create(mirror)


def test_a_node_writes_only_its_own_lease(as_n1: None) -> None:
    def lease(ns: str, name: str) -> dict[str, Any]:
        return {"metadata": {"namespace": ns, "name": name}}

    nr.check_lease(lease("kube-node-lease", "n1"))
    assert refusal(nr.check_lease, lease("kube-node-lease", "n2")) == (
        'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the '
        "same name as the requesting node"
    )
    assert 'can only access leases in the "kube-node-lease" system namespace' in refusal(
        nr.check_lease, lease("default", "n1")
    )


def test_other_users_and_kubelite_itself_pass_untouched() -> None:
    nr.check_node_update(node("n2"), node("n2", taints=[{"key": "k"}]))
    token = REQUEST.set(RequestInfo(ALICE, 0.0))
    try:
        nr.check_pod_delete(pod("n2"))
        nr.check_lease({"metadata": {"namespace": "default", "name": "x"}})
    finally:
        REQUEST.reset(token)
