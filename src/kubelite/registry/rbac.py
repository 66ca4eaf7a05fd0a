"""The RBAC kinds (rbac.authorization.k8s.io/v1): Role and RoleBinding (namespaced),
ClusterRole and ClusterRoleBinding.

Defaulting as the API server's: a binding's ``roleRef.apiGroup`` and its User/Group subjects'
``apiGroup`` become ``rbac.authorization.k8s.io``; a role without rules keeps ``rules: null``.
Validation with the API server's messages: every rule has verbs and either resources (with API
groups) or non-resource URLs (cluster roles only); a binding references a Role or ClusterRole
(a ClusterRoleBinding only a ClusterRole) and never another one later; subjects are Users,
Groups or ServiceAccounts (with a namespace in a ClusterRoleBinding). Writes go through the
escalation check (``rbac_escalation``). Columns are kubectl's: NAME and CREATED AT for roles;
NAME, ROLE, AGE and (wide) USERS, GROUPS, SERVICEACCOUNTS for bindings.
"""

from __future__ import annotations

from typing import Any, TypeVar

from kubelite.model.fielderrors import (
    INVALID,
    FieldError,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kubelite.model.objects import JSON, Obj
from kubelite.registry.meta import qualified_name_errors, validate_labels
from kubelite.registry.meta_validation import dns1123_subdomain_errors
from kubelite.registry.rbac_escalation import check_binding_write, check_role_write
from kubelite.registry.rbac_policy import GROUP
from kubelite.registry.rbac_rules import PolicyRule, go_quote
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, age_of

SUBJECT_KINDS = ["ServiceAccount", "User", "Group"]
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def rbac_name_errors(name: str) -> list[str]:
    """Role and binding names are path segments (``system:basic-user`` is fine)."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def _dicts(value: Any) -> list[Obj]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _go_strings(values: list[Any]) -> str:
    return "[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}"


# -- rules ----------------------------------------------------------------------------------------


def rule_errors(rule: Obj, path: str, *, namespaced: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    if not rule.get("verbs"):
        errs.append(required(f"{path}.verbs", "verbs must contain at least one value"))
    urls = rule.get("nonResourceURLs") or []
    if urls:
        shown = f"Invalid value: {_go_strings(list(urls))}"
        if namespaced:
            detail = "namespaced rules cannot apply to non-resource URLs"
            errs.append(FieldError(INVALID, f"{path}.nonResourceURLs", f"{shown}: {detail}"))
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            detail = "rules cannot apply to both regular resources and non-resource URLs"
            errs.append(FieldError(INVALID, f"{path}.nonResourceURLs", f"{shown}: {detail}"))
        return errs
    if not rule.get("apiGroups"):
        detail = "resource rules must supply at least one api group"
        errs.append(required(f"{path}.apiGroups", detail))
    if not rule.get("resources"):
        detail = "resource rules must supply at least one resource"
        errs.append(required(f"{path}.resources", detail))
    return errs


def rules_errors(obj: JSON, *, namespaced: bool) -> list[FieldError]:
    return [
        e
        for i, rule in enumerate(_dicts(obj.get("rules")))
        for e in rule_errors(rule, f"rules[{i}]", namespaced=namespaced)
    ]


def selector_errors(selector: Obj, path: str) -> list[FieldError]:
    """A LabelSelector's own rules (aggregationRule.clusterRoleSelectors[i])."""
    errs = validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    for i, expr in enumerate(_dicts(selector.get("matchExpressions"))):
        at = f"{path}.matchExpressions[{i}]"
        op, values = expr.get("operator"), expr.get("values") or []
        if op in ("In", "NotIn") and not values:
            detail = "must be specified when `operator` is 'In' or 'NotIn'"
            errs.append(required(f"{at}.values", detail))
        elif op in ("Exists", "DoesNotExist") and values:
            detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            errs.append(forbidden(f"{at}.values", detail))
        elif op not in SELECTOR_OPERATORS:
            errs.append(invalid(f"{at}.operator", op, "not a valid selector operator"))
        key = str(expr.get("key") or "")
        errs += [invalid(f"{at}.key", key, m) for m in qualified_name_errors(key)]
    return errs


def aggregation_errors(obj: JSON) -> list[FieldError]:
    rule = obj.get("aggregationRule")
    if rule is None:
        return []
    path = "aggregationRule.clusterRoleSelectors"
    selectors = rule.get("clusterRoleSelectors") if isinstance(rule, dict) else None
    if not selectors:
        detail = "at least one clusterRoleSelector required if aggregationRule is non-nil"
        return [required(path, detail)]
    return [e for i, s in enumerate(_dicts(selectors)) for e in selector_errors(s, f"{path}[{i}]")]


# -- bindings -------------------------------------------------------------------------------------


def default_binding(obj: Obj) -> None:
    ref = obj.get("roleRef")
    if isinstance(ref, dict) and not ref.get("apiGroup"):
        ref["apiGroup"] = GROUP
    for subject in _dicts(obj.get("subjects")):
        if not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = GROUP


def subject_errors(subject: Obj, path: str, *, namespaced: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    name, kind = str(subject.get("name") or ""), subject.get("kind")
    group = str(subject.get("apiGroup") or "")
    if not name:
        errs.append(required(f"{path}.name"))
    if kind == "ServiceAccount":
        if name:
            errs += [invalid(f"{path}.name", name, m) for m in dns1123_subdomain_errors(name)]
        if group:
            errs.append(not_supported(f"{path}.apiGroup", group, [""]))
        if not namespaced and not subject.get("namespace"):
            errs.append(required(f"{path}.namespace"))
    elif kind in ("User", "Group"):
        if group != GROUP:
            errs.append(not_supported(f"{path}.apiGroup", group, [GROUP]))
    else:
        errs.append(not_supported(f"{path}.kind", kind or "", SUBJECT_KINDS))
    return errs


def binding_errors(obj: JSON, *, namespaced: bool) -> list[FieldError]:
    ref = obj.get("roleRef") if isinstance(obj.get("roleRef"), dict) else {}
    assert isinstance(ref, dict)
    errs: list[FieldError] = []
    group = str(ref.get("apiGroup") or "")
    if group != GROUP:
        errs.append(not_supported("roleRef.apiGroup", group, [GROUP]))
    kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if ref.get("kind") not in kinds:
        errs.append(not_supported("roleRef.kind", str(ref.get("kind") or ""), kinds))
    name = str(ref.get("name") or "")
    if not name:
        errs.append(required("roleRef.name"))
    else:
        errs += [invalid("roleRef.name", name, m) for m in rbac_name_errors(name)]
    for i, subject in enumerate(_dicts(obj.get("subjects"))):
        errs += subject_errors(subject, f"subjects[{i}]", namespaced=namespaced)
    return errs


def role_ref_text(ref: Any) -> str:
    """A roleRef as Go's ``%#v`` prints the internal type (the immutability error shows it)."""
    r = ref if isinstance(ref, dict) else {}
    fields = ", ".join(
        f"{label}:{go_quote(str(r.get(key) or ''))}"
        for label, key in (("APIGroup", "apiGroup"), ("Kind", "kind"), ("Name", "name"))
    )
    return f"rbac.RoleRef{{{fields}}}"


def subjects_cells(obj: JSON) -> list[str]:
    """USERS, GROUPS and SERVICEACCOUNTS (``namespace/name``), each comma-separated."""
    users, groups, accounts = [], [], []
    for s in _dicts(obj.get("subjects")):
        if s.get("kind") == "ServiceAccount":
            accounts.append(f"{s.get('namespace') or ''}/{s.get('name') or ''}")
        elif s.get("kind") == "User":
            users.append(str(s.get("name") or ""))
        elif s.get("kind") == "Group":
            groups.append(str(s.get("name") or ""))
    return [", ".join(users), ", ".join(groups), ", ".join(accounts)]


# -- the kinds ------------------------------------------------------------------------------------


def normalize_rules(obj: Obj) -> None:
    """``rules`` as the API server stores them: each rule's lists in its field order, empty
    lists left out (``verbs`` always kept); no rules at all is ``null``."""
    rules = obj.get("rules")
    if isinstance(rules, list):
        obj["rules"] = [PolicyRule.from_obj(r).to_obj() if isinstance(r, dict) else r
                        for r in rules]  # fmt: skip
    else:
        obj.setdefault("rules", None)


class _RbacKind(Kind):
    def name_errors(self, name: str) -> list[str]:
        return rbac_name_errors(name)  # path segments: "system:basic-user" is fine


class RoleKind(_RbacKind):
    """Role (namespaced) and ClusterRole (``namespaced=False``, may aggregate)."""

    def prepare_create(self, obj: Obj) -> None:
        normalize_rules(obj)
        check_role_write(self.plural, obj)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        normalize_rules(new)
        check_role_write(self.plural, new, old)

    def validate(self, obj: Obj) -> list[FieldError]:
        rules = obj.get("rules")
        if rules is not None and not isinstance(rules, list):
            return [invalid("rules", rules, "must be a list of rules")]
        errs = rules_errors(obj, namespaced=self.namespaced)
        return errs if self.namespaced else errs + aggregation_errors(obj)

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the role."),
            Column("Created At", type="date", description="When the role was created."),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        md = obj.get("metadata") or {}
        return [md.get("name", ""), md.get("creationTimestamp") or "<unknown>"]


class BindingKind(_RbacKind):
    """RoleBinding (namespaced) and ClusterRoleBinding (``namespaced=False``)."""

    def prepare_create(self, obj: Obj) -> None:
        default_binding(obj)
        check_binding_write(self.plural, obj)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        default_binding(new)
        check_binding_write(self.plural, new, old)

    def validate(self, obj: Obj) -> list[FieldError]:
        return binding_errors(obj, namespaced=self.namespaced)

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        errs = self.validate(new)
        if new.get("roleRef") != old.get("roleRef"):
            text = f"Invalid value: {role_ref_text(new.get('roleRef'))}: cannot change roleRef"
            errs.append(FieldError(INVALID, "roleRef", text))
        return errs

    def columns(self) -> list[Column]:
        which = "roleBinding" if self.namespaced else "clusterRoleBinding"
        return [
            Column("Name", format="name", description="Name of the binding."),
            Column("Role", description="The role the binding grants: kind/name."),
            AGE_COLUMN,
            Column("Users", priority=1, description=f"Users in the {which}"),
            Column("Groups", priority=1, description=f"Groups in the {which}"),
            Column("ServiceAccounts", priority=1, description=f"ServiceAccounts in the {which}"),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        ref = obj.get("roleRef") or {}
        role = f"{ref.get('kind') or ''}/{ref.get('name') or ''}"
        return [obj["metadata"]["name"], role, age_of(obj, now), *subjects_cells(obj)]


_K = TypeVar("_K", bound=_RbacKind)


def _rbac_kind(cls: type[_K], kind: str, description: str, *, namespaced: bool) -> _K:
    return cls(
        group=GROUP, version="v1", kind=kind, plural=kind.lower() + "s",
        singular=kind.lower(), namespaced=namespaced, description=description,
    )  # fmt: skip


ROLES = _rbac_kind(
    RoleKind, "Role", "Rules that grant access to resources in one namespace.", namespaced=True
)
CLUSTERROLES = _rbac_kind(
    RoleKind,
    "ClusterRole",
    "Rules that grant access cluster-wide or, bound in a namespace, within it; "
    "may be aggregated from other cluster roles by label.",
    namespaced=False,
)
ROLEBINDINGS = _rbac_kind(
    BindingKind,
    "RoleBinding",
    "Grants the rules of a Role or ClusterRole to subjects within one namespace.",
    namespaced=True,
)
CLUSTERROLEBINDINGS = _rbac_kind(
    BindingKind,
    "ClusterRoleBinding",
    "Grants the rules of a ClusterRole to subjects across the whole cluster.",
    namespaced=False,
)

RBAC_KINDS = (ROLES, CLUSTERROLES, ROLEBINDINGS, CLUSTERROLEBINDINGS)
