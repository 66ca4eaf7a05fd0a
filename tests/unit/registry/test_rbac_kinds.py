"""The RBAC kinds' defaulting, validation (the API server's messages), kubectl's columns, and the
escalation check on writes (nobody grants what they do not hold)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from kubelite.registry.errors import Forbidden
from kubelite.registry.rbac import (
    CLUSTERROLEBINDINGS,
    CLUSTERROLES,
    ROLEBINDINGS,
    ROLES,
    rbac_name_errors,
)
from kubelite.registry.rbac_escalation import REQUESTER, Requester
from kubelite.registry.rbac_policy import Policy

G = "rbac.authorization.k8s.io"


def messages(kind: Any, obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in kind.validate(obj)]


ROLE_INVALID = [
    ("a rule needs verbs", ROLES, {"rules": [{"apiGroups": [""], "resources": ["pods"]}]},
     ["rules[0].verbs: Required value: verbs must contain at least one value"]),
    ("a resource rule needs groups and resources", ROLES, {"rules": [{"verbs": ["get"]}]},
     ["rules[0].apiGroups: Required value: resource rules must supply at least one api group",
      "rules[0].resources: Required value: resource rules must supply at least one resource"]),
    ("a Role may not name URLs", ROLES, {"rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"]}]},
     ['rules[0].nonResourceURLs: Invalid value: []string{"/x"}: namespaced rules cannot apply '
      "to non-resource URLs"]),
    ("a ClusterRole may", CLUSTERROLES,
     {"rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"]}]}, []),
    ("but not mixed with resources", CLUSTERROLES,
     {"rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"], "resources": ["pods"]}]},
     ['rules[0].nonResourceURLs: Invalid value: []string{"/x"}: rules cannot apply to both '
      "regular resources and non-resource URLs"]),
    ("an aggregation rule needs a selector", CLUSTERROLES, {"aggregationRule": {}},
     ["aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector "
      "required if aggregationRule is non-nil"]),
    ("a selector's operator is checked", CLUSTERROLES, {"aggregationRule": {
        "clusterRoleSelectors": [{"matchExpressions": [{"key": "a", "operator": "Near"}]}]}},
     ['aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator: Invalid value: '
      '"Near": not a valid selector operator']),
    ("no rules at all is fine", ROLES, {"rules": None}, []),
]  # fmt: skip


@pytest.mark.parametrize(("case", "kind", "obj", "want"), ROLE_INVALID,
                         ids=[c[0] for c in ROLE_INVALID])  # fmt: skip
def test_role_validation(case: str, kind: Any, obj: dict[str, Any], want: list[str]) -> None:
    assert messages(kind, obj) == want


def rb(ref: dict[str, Any], *subjects: dict[str, Any]) -> dict[str, Any]:
    return {"roleRef": ref, "subjects": list(subjects)}


VIEW = {"apiGroup": G, "kind": "ClusterRole", "name": "view"}

BINDING_INVALID = [
    ("a good binding", ROLEBINDINGS, rb(VIEW, {"kind": "User", "apiGroup": G, "name": "bob"}), []),
    ("the role's group is RBAC's", ROLEBINDINGS, rb({**VIEW, "apiGroup": "x"}),
     ['roleRef.apiGroup: Unsupported value: "x": supported values: "rbac.authorization.k8s.io"']),
    ("a ClusterRoleBinding takes no Role", CLUSTERROLEBINDINGS, rb({**VIEW, "kind": "Role"}),
     ['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"']),
    ("a role name is a path segment", ROLEBINDINGS, rb({**VIEW, "name": "a/b"}),
     ["roleRef.name: Invalid value: \"a/b\": may not contain '/'"]),
    ("a subject needs a name", ROLEBINDINGS, rb(VIEW, {"kind": "User", "apiGroup": G}),
     ["subjects[0].name: Required value"]),
    ("a subject kind is one of three", ROLEBINDINGS, rb(VIEW, {"kind": "Robot", "name": "r"}),
     ['subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", '
      '"User", "Group"']),
    ("a ServiceAccount has no group", ROLEBINDINGS,
     rb(VIEW, {"kind": "ServiceAccount", "apiGroup": G, "name": "sa"}),
     ['subjects[0].apiGroup: Unsupported value: "rbac.authorization.k8s.io": supported '
      'values: ""']),
    ("cluster-wide it needs a namespace", CLUSTERROLEBINDINGS,
     rb(VIEW, {"kind": "ServiceAccount", "name": "sa"}),
     ["subjects[0].namespace: Required value"]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "kind", "obj", "want"), BINDING_INVALID,
                         ids=[c[0] for c in BINDING_INVALID])  # fmt: skip
def test_binding_validation(case: str, kind: Any, obj: dict[str, Any], want: list[str]) -> None:
    assert messages(kind, obj) == want


def test_a_bindings_role_cannot_change() -> None:
    old = {"metadata": {"name": "b"}, "roleRef": VIEW}
    new = {"metadata": {"name": "b"}, "roleRef": {**VIEW, "name": "edit"}}
    assert [str(e) for e in ROLEBINDINGS.validate_update(new, old)] == [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", '
        'Kind:"ClusterRole", Name:"edit"}: cannot change roleRef'
    ]


def test_bindings_get_their_groups_by_default() -> None:
    subjects = [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}]
    obj: dict[str, Any] = {"metadata": {"name": "b"},
                           "roleRef": {"kind": "ClusterRole", "name": "view"},
                           "subjects": subjects}  # fmt: skip
    ROLEBINDINGS.prepare_create(obj)
    assert obj["roleRef"]["apiGroup"] == G
    assert obj["subjects"] == [
        {"kind": "User", "name": "u", "apiGroup": G},
        {"kind": "ServiceAccount", "name": "s"},
    ]


def test_roles_keep_null_rules_and_normalize_given_ones() -> None:
    empty: dict[str, Any] = {"metadata": {"name": "r"}}
    ROLES.prepare_create(empty)
    assert empty["rules"] is None
    sent = {"resources": ["pods"], "apiGroups": [""], "verbs": ["get"], "resourceNames": []}
    given = {"metadata": {"name": "r"}, "rules": [sent]}
    ROLES.prepare_create(given)
    assert given["rules"] == [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]


def test_columns_are_kubectls() -> None:
    assert [c.name for c in CLUSTERROLES.columns()] == ["Name", "Created At"]
    created = {"metadata": {"name": "r", "creationTimestamp": "2025-01-02T03:04:05Z"}}
    assert CLUSTERROLES.cells(created, 0) == ["r", "2025-01-02T03:04:05Z"]
    cols = ROLEBINDINGS.columns()
    assert [(c.name, c.priority) for c in cols] == [
        ("Name", 0), ("Role", 0), ("Age", 0), ("Users", 1), ("Groups", 1),
        ("ServiceAccounts", 1),
    ]  # fmt: skip
    obj = {"metadata": {"name": "b"}, "roleRef": VIEW, "subjects": [
        {"kind": "User", "name": "bob"}, {"kind": "User", "name": "amy"},
        {"kind": "Group", "name": "dev"},
        {"kind": "ServiceAccount", "name": "sa", "namespace": "team"}]}  # fmt: skip
    assert ROLEBINDINGS.cells(obj, 0)[1:] == [
        "ClusterRole/view", "<unknown>", "bob, amy", "dev", "team/sa"
    ]  # fmt: skip


def test_rbac_names_are_path_segments() -> None:
    assert rbac_name_errors("system:basic-user") == []
    assert rbac_name_errors("..") == ["may not be '..'"]
    assert rbac_name_errors("a/b%c") == ["may not contain '/'", "may not contain '%'"]


# -- escalation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ("system:authenticated",)


PODS_RW = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "create"]}
# not "*", which would include escalate and bind
RBAC_RW = {"apiGroups": [G], "resources": ["roles", "rolebindings"],
           "verbs": ["create", "update", "get"]}  # fmt: skip


def policy(*extra_rules: dict[str, Any]) -> Policy:
    """``bob`` may manage pods and RBAC objects in ``team``."""
    return Policy.from_objects(
        cluster_roles=[
            {"metadata": {"name": "team-admin"}, "rules": [PODS_RW, RBAC_RW, *extra_rules]},
            {"metadata": {"name": "cluster-admin"},
             "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
        ],
        role_bindings=[{
            "metadata": {"name": "bob", "namespace": "team"},
            "roleRef": {"kind": "ClusterRole", "name": "team-admin"},
            "subjects": [{"kind": "User", "name": "bob"}],
        }],
    )  # fmt: skip


def write_as(user: User, pol: Policy, kind: Any, obj: dict[str, Any]) -> None:
    token = REQUESTER.set(Requester(user, pol))
    try:
        kind.prepare_create(obj)
    finally:
        REQUESTER.reset(token)


def a_role(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "r", "namespace": "team"}, "rules": list(rules)}


def test_a_role_with_rules_the_writer_holds_is_accepted() -> None:
    write_as(User("bob"), policy(), ROLES, a_role({**PODS_RW, "verbs": ["get"]}))


def test_a_role_granting_more_is_refused_with_the_missing_rules() -> None:
    wanted = {"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "delete"]}
    with pytest.raises(Forbidden) as err:
        write_as(User("bob"), policy(), ROLES, a_role(wanted))
    assert str(err.value) == (
        'roles.rbac.authorization.k8s.io "r" is forbidden: user "bob" '
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not '
        "currently held:\n"
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n'
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}'
    )


def test_the_escalate_verb_lifts_the_check() -> None:
    escalate = {"apiGroups": [G], "resources": ["roles"], "verbs": ["escalate"]}
    write_as(User("bob"), policy(escalate), ROLES, a_role({"apiGroups": ["*"],
             "resources": ["*"], "verbs": ["*"]}))  # fmt: skip


def binding_to(role: str, ns: str = "team") -> dict[str, Any]:
    return {"metadata": {"name": "b", "namespace": ns},
            "roleRef": {"kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "User", "name": "amy"}]}  # fmt: skip


def test_binding_a_role_the_writer_holds_is_accepted_and_a_bigger_one_refused() -> None:
    write_as(User("bob"), policy(), ROLEBINDINGS, binding_to("team-admin"))
    with pytest.raises(Forbidden, match="not currently held:\n"):
        write_as(User("bob"), policy(), ROLEBINDINGS, binding_to("cluster-admin"))


def test_binding_a_missing_role_is_refused_with_its_not_found() -> None:
    with pytest.raises(Forbidden) as err:
        write_as(User("bob"), policy(), ROLEBINDINGS, binding_to("ghost"))
    assert str(err.value) == (
        'rolebindings.rbac.authorization.k8s.io "b" is forbidden: '
        'clusterrole.rbac.authorization.k8s.io "ghost" not found'
    )


def test_the_bind_verb_lifts_the_check_for_that_role() -> None:
    bind = {"apiGroups": [G], "resources": ["clusterroles"], "verbs": ["bind"],
            "resourceNames": ["cluster-admin"]}  # fmt: skip
    write_as(User("bob"), policy(bind), ROLEBINDINGS, binding_to("cluster-admin"))


def test_masters_and_the_servers_own_writes_are_not_checked() -> None:
    write_as(User("root", ("system:masters",)), policy(), ROLEBINDINGS, binding_to("ghost"))
    ROLEBINDINGS.prepare_create(binding_to("ghost"))  # no requester: kubelite itself


def test_an_update_touching_only_gc_fields_is_not_checked() -> None:
    old = a_role({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})
    new = {**old, "metadata": {**old["metadata"], "finalizers": ["x/y"]}}
    token = REQUESTER.set(Requester(User("bob"), policy()))
    try:
        ROLES.prepare_update(new, old, "")
        with pytest.raises(Forbidden):
            ROLES.prepare_update({**new, "metadata": {**new["metadata"], "labels": {"a": "b"}}},
                                 old, "")  # fmt: skip
    finally:
        REQUESTER.reset(token)
