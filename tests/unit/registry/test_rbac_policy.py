"""The RBAC authorizer's decisions and reasons over a snapshot of roles and bindings, and the
rules a user holds (SelfSubjectRulesReview, the escalation check)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from kubelite.registry.rbac_policy import Policy, RoleNotFound, RoleRef
from kubelite.registry.rbac_rules import Attributes, PolicyRule

G = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ("system:authenticated",)


BOB = User("bob", ("dev", "system:authenticated"))
SA_GROUPS = ("system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated")
SA = User("system:serviceaccount:team:reader", SA_GROUPS)
ROOT = User("root", ("system:masters",))


def role(name: str, ns: str, *rules: dict[str, Any]) -> dict[str, Any]:
    md = {"name": name, **({"namespace": ns} if ns else {})}
    return {"metadata": md, "rules": list(rules)}


def binding(
    name: str, ns: str, kind: str, ref: str, *subjects: tuple[str, str, str]
) -> dict[str, Any]:
    md = {"name": name, **({"namespace": ns} if ns else {})}
    return {
        "metadata": md,
        "roleRef": {"apiGroup": G, "kind": kind, "name": ref},
        "subjects": [{"kind": k, "name": n, **({"namespace": s} if s else {})}
                     for k, n, s in subjects],
    }  # fmt: skip


READ_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
HEALTH = {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}

POLICY = Policy.from_objects(
    cluster_roles=[role("pod-reader", "", READ_PODS), role("health", "", HEALTH)],
    roles=[role("local-reader", "team", READ_PODS)],
    cluster_role_bindings=[
        binding("devs-health", "", "ClusterRole", "health", ("Group", "dev", "")),
        binding("broken", "", "ClusterRole", "gone", ("User", "carol", "")),
    ],
    role_bindings=[
        binding("bob-reads", "default", "ClusterRole", "pod-reader", ("User", "bob", "")),
        binding("sa-reads", "team", "Role", "local-reader", ("ServiceAccount", "reader", "")),
        binding(
            "other-ns-sa",
            "default",
            "ClusterRole",
            "pod-reader",
            ("ServiceAccount", "reader", "elsewhere"),
        ),
        binding("carol-missing", "default", "Role", "nope", ("User", "carol", "")),
    ],
)


def pods(verb: str, ns: str) -> Attributes:
    return Attributes(verb=verb, resource="pods", namespace=ns)


DECISIONS = [
    ("a RoleBinding to a ClusterRole grants it in its namespace", BOB, pods("list", "default"),
     True, 'RBAC: allowed by RoleBinding "bob-reads/default" of ClusterRole "pod-reader" to '
     'User "bob"'),
    ("but not in another namespace", BOB, pods("list", "team"), False, ""),
    ("nor cluster-wide", BOB, pods("list", ""), False, ""),
    ("nor other verbs", BOB, pods("create", "default"), False, ""),
    ("a ClusterRoleBinding to a group grants URLs", BOB,
     Attributes(verb="get", resource_request=False, path="/healthz"), True,
     'RBAC: allowed by ClusterRoleBinding "devs-health" of ClusterRole "health" to Group "dev"'),
    ("a ServiceAccount subject defaults to the binding's namespace", SA, pods("get", "team"), True,
     'RBAC: allowed by RoleBinding "sa-reads/team" of Role "local-reader" to ServiceAccount '
     '"reader/team"'),
    ("a ServiceAccount subject of another namespace is another account", SA,
     pods("get", "default"), False, ""),
    ("a binding to a missing role explains the denial", User("carol"), pods("get", "default"),
     False, 'RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found, '
     'role.rbac.authorization.k8s.io "nope" not found]'),
    ("a missing cluster role alone is a single reason", User("carol"), pods("get", "team"),
     False, 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found'),
    ("nobody else gets anything", User("eve"), pods("get", "default"), False, ""),
]  # fmt: skip


@pytest.mark.parametrize(("case", "user", "attrs", "allowed", "reason"), DECISIONS,
                         ids=[c[0] for c in DECISIONS])  # fmt: skip
def test_rbac_decisions(case: str, user: User, attrs: Attributes, allowed: bool,
                        reason: str) -> None:  # fmt: skip
    decision = POLICY.authorize(user, attrs)
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_system_masters_is_allowed_before_rbac_is_asked() -> None:
    assert POLICY.authorize(ROOT, pods("delete", "kube-system")).allowed is False
    assert POLICY.allows(ROOT, pods("delete", "kube-system")) is True


def test_rules_for_gathers_cluster_wide_and_namespace_rules_with_errors() -> None:
    rules, errors = POLICY.rules_for(BOB, "default")
    assert rules == [PolicyRule.from_obj(HEALTH), PolicyRule.from_obj(READ_PODS)]
    assert errors == ""
    assert POLICY.rules_for(BOB, "")[0] == [PolicyRule.from_obj(HEALTH)]
    _, carol_errors = POLICY.rules_for(User("carol"), "default")
    assert carol_errors.startswith('[clusterrole.rbac.authorization.k8s.io "gone" not found')


def test_role_refs_resolve_in_the_bindings_namespace_only() -> None:
    assert POLICY.role_ref_rules(RoleRef("Role", "local-reader"), "team")
    with pytest.raises(RoleNotFound, match=r'role\.rbac\.authorization\.k8s\.io "local-reader"'):
        POLICY.role_ref_rules(RoleRef("Role", "local-reader"), "default")
    with pytest.raises(RoleNotFound, match='unsupported role reference kind: "Thing"'):
        POLICY.role_ref_rules(RoleRef("Thing", "x"), "default")
