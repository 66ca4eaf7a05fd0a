"""The RBAC authorizer's decision over one snapshot of the cluster's roles and bindings.

``Policy`` is built from the stored Role, ClusterRole, RoleBinding and ClusterRoleBinding objects
and answers, without I/O: may this user do this (``authorize``, with the reason the API server
gives), which rules does this user hold in a namespace (``rules_for``, for
SelfSubjectRulesReview and the escalation check), and what rules does a role reference name
(``role_ref_rules``).

The API server's order is kept: every ClusterRoleBinding first (its roles apply everywhere),
then the RoleBindings of the request's namespace; the first rule that allows ends the search.
A binding whose role does not exist contributes an error (``clusterrole.rbac.authorization.k8s.io
"x" not found``), which becomes the denial's reason (``RBAC: ...``). Members of
``system:masters`` are allowed everything before RBAC is asked (``is_privileged``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.model.objects import JSON
from kubelite.registry.rbac_rules import Attributes, PolicyRule, go_quote, rule_allows, rules_of

GROUP = "rbac.authorization.k8s.io"
PRIVILEGED_GROUP = "system:masters"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


class Identity(Protocol):
    """Who asks: ``api.auth.UserInfo`` and the users of SubjectAccessReviews are one."""

    @property
    def name(self) -> str: ...

    @property
    def groups(self) -> tuple[str, ...]: ...


def is_privileged(user: Identity) -> bool:
    return PRIVILEGED_GROUP in user.groups


@dataclass(frozen=True, slots=True)
class Subject:
    kind: str
    name: str
    namespace: str = ""

    @classmethod
    def from_obj(cls, raw: JSON) -> Subject:
        return cls(str(raw.get("kind") or ""), str(raw.get("name") or ""),
                   str(raw.get("namespace") or ""))  # fmt: skip

    def applies_to(self, user: Identity, namespace: str) -> bool:
        """``namespace`` is the binding's (a ServiceAccount subject defaults to it)."""
        if self.kind == "User":
            return user.name == self.name
        if self.kind == "Group":
            return self.name in user.groups
        if self.kind == "ServiceAccount":
            ns = self.namespace or namespace
            return bool(ns) and user.name == f"{SERVICE_ACCOUNT_PREFIX}{ns}:{self.name}"
        return False

    def describe(self, namespace: str) -> str:
        if self.kind == "ServiceAccount":
            return f"{self.kind} {go_quote(self.name + '/' + (self.namespace or namespace))}"
        return f"{self.kind} {go_quote(self.name)}"


@dataclass(frozen=True, slots=True)
class RoleRef:
    kind: str
    name: str

    @classmethod
    def from_obj(cls, raw: Any) -> RoleRef:
        ref = raw if isinstance(raw, dict) else {}
        return cls(str(ref.get("kind") or ""), str(ref.get("name") or ""))


@dataclass(frozen=True, slots=True)
class Binding:
    name: str
    namespace: str  # "" for a ClusterRoleBinding
    role_ref: RoleRef
    subjects: tuple[Subject, ...]

    @classmethod
    def from_obj(cls, raw: JSON) -> Binding:
        md = raw.get("metadata") or {}
        subjects = raw.get("subjects")
        return cls(
            name=str(md.get("name") or ""),
            namespace=str(md.get("namespace") or ""),
            role_ref=RoleRef.from_obj(raw.get("roleRef")),
            subjects=tuple(Subject.from_obj(s) for s in subjects or [] if isinstance(s, dict)),
        )

    def subject_for(self, user: Identity) -> Subject | None:
        return next((s for s in self.subjects if s.applies_to(user, self.namespace)), None)

    def describe(self, subject: Subject) -> str:
        """``ClusterRoleBinding "b" of ClusterRole "r" to User "u"`` (a RoleBinding is named
        ``name/namespace``), as the allowed reason and the audit log say."""
        ref = f"{self.role_ref.kind} {go_quote(self.role_ref.name)}"
        if self.namespace:
            who = go_quote(f"{self.name}/{self.namespace}")
            return f"RoleBinding {who} of {ref} to {subject.describe(self.namespace)}"
        return f"ClusterRoleBinding {go_quote(self.name)} of {ref} to {subject.describe('')}"


class RoleNotFound(Exception):
    """A role reference names a role that does not exist (or a kind that is not a role)."""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""


def _aggregate_errors(errors: Sequence[str]) -> str:
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


class Policy:
    """One snapshot of the RBAC objects; immutable once built."""

    def __init__(
        self,
        *,
        roles: dict[tuple[str, str], tuple[PolicyRule, ...]],
        cluster_roles: dict[str, tuple[PolicyRule, ...]],
        role_bindings: dict[str, tuple[Binding, ...]],
        cluster_role_bindings: tuple[Binding, ...],
    ) -> None:
        self._roles = roles
        self._cluster_roles = cluster_roles
        self._role_bindings = role_bindings
        self._cluster_role_bindings = cluster_role_bindings

    @classmethod
    def from_objects(
        cls,
        *,
        roles: Sequence[JSON] = (),
        cluster_roles: Sequence[JSON] = (),
        role_bindings: Sequence[JSON] = (),
        cluster_role_bindings: Sequence[JSON] = (),
    ) -> Policy:
        by_ns: dict[str, list[Binding]] = {}
        for raw in role_bindings:
            b = Binding.from_obj(raw)
            by_ns.setdefault(b.namespace, []).append(b)
        return cls(
            roles={
                (str(r["metadata"].get("namespace") or ""), str(r["metadata"]["name"])): rules_of(
                    r.get("rules")
                )
                for r in roles
            },
            cluster_roles={
                str(r["metadata"]["name"]): rules_of(r.get("rules")) for r in cluster_roles
            },
            role_bindings={ns: tuple(bs) for ns, bs in by_ns.items()},
            cluster_role_bindings=tuple(Binding.from_obj(b) for b in cluster_role_bindings),
        )

    def role_ref_rules(self, ref: RoleRef, namespace: str) -> tuple[PolicyRule, ...]:
        """The rules a binding in ``namespace`` grants through ``ref``; ``RoleNotFound``
        with the lister's message if there is no such role."""
        if ref.kind == "ClusterRole":
            found = self._cluster_roles.get(ref.name)
            if found is None:
                raise RoleNotFound(f"clusterrole.{GROUP} {go_quote(ref.name)} not found")
            return found
        if ref.kind == "Role":
            rules = self._roles.get((namespace, ref.name))
            if rules is None:
                raise RoleNotFound(f"role.{GROUP} {go_quote(ref.name)} not found")
            return rules
        raise RoleNotFound(f"unsupported role reference kind: {go_quote(ref.kind)}")

    def visit(
        self, user: Identity, namespace: str
    ) -> Iterator[tuple[str, PolicyRule | None, str | None]]:
        """(source, rule, error) for every rule the user holds in ``namespace`` ("" for the
        cluster-wide ones only), in the authorizer's order. ``source`` describes the binding."""
        bindings: list[Binding] = list(self._cluster_role_bindings)
        if namespace:
            bindings += self._role_bindings.get(namespace, ())
        for binding in bindings:
            subject = binding.subject_for(user)
            if subject is None:
                continue
            try:
                rules = self.role_ref_rules(binding.role_ref, binding.namespace)
            except RoleNotFound as exc:
                yield "", None, str(exc)
                continue
            source = binding.describe(subject)
            for rule in rules:
                yield source, rule, None

    def authorize(self, user: Identity, attrs: Attributes) -> Decision:
        """RBAC's answer alone (the caller lets ``system:masters`` through first)."""
        errors: list[str] = []
        for source, rule, error in self.visit(user, attrs.namespace):
            if rule is not None and rule_allows(attrs, rule):
                return Decision(True, f"RBAC: allowed by {source}")
            if error is not None:
                errors.append(error)
        return Decision(False, f"RBAC: {_aggregate_errors(errors)}" if errors else "")

    def allows(self, user: Identity, attrs: Attributes) -> bool:
        """The whole authorizer chain: ``system:masters``, then RBAC."""
        return is_privileged(user) or self.authorize(user, attrs).allowed

    def rules_for(self, user: Identity, namespace: str) -> tuple[list[PolicyRule], str]:
        """Every rule the user holds in ``namespace`` and the resolution errors (aggregated
        as the API server prints them, "" if none)."""
        rules: list[PolicyRule] = []
        errors: list[str] = []
        for _, rule, error in self.visit(user, namespace):
            if rule is not None:
                rules.append(rule)
            if error is not None:
                errors.append(error)
        return rules, _aggregate_errors(errors) if errors else ""


EMPTY_POLICY = Policy(roles={}, cluster_roles={}, role_bindings={}, cluster_role_bindings=())
