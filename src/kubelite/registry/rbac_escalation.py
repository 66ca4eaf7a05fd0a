"""RBAC's escalation prevention: nobody grants what they do not hold.

Writing a Role or ClusterRole whose rules the writer does not hold is refused unless they may
``escalate`` that role; writing a binding is refused unless the writer may ``bind`` the role it
references or already holds all of that role's rules. Members of ``system:masters`` (and
kubelite's own writes, which carry no requester) are never checked. The refusal is the API
server's 403: ``roles.rbac.authorization.k8s.io "r" is forbidden: user "u" (groups=[...]) is
attempting to grant RBAC permissions not currently held:`` and the missing rules, one a line.

Who writes is not something the registry knows: the API layer's authorizer sets ``REQUESTER``
(a context variable, as the API server carries the user in the request's context) for the
duration of a request, with the policy snapshot it authorized the request against.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from kubelite.model.objects import JSON
from kubelite.registry.errors import Forbidden
from kubelite.registry.rbac_policy import (
    GROUP,
    Identity,
    Policy,
    RoleNotFound,
    RoleRef,
    is_privileged,
)
from kubelite.registry.rbac_rules import (
    Attributes,
    PolicyRule,
    compact,
    compact_string,
    covers,
    go_quote,
    go_quote_list,
    rules_of,
)


@dataclass(frozen=True, slots=True)
class Requester:
    user: Identity
    policy: Policy


REQUESTER: ContextVar[Requester | None] = ContextVar("kubelite_rbac_requester", default=None)

# What the garbage collector may change on any object without a new escalation check.
_GC_METADATA = ("ownerReferences", "finalizers", "resourceVersion", "managedFields", "generation")


def only_gc_fields_change(new: JSON, old: JSON) -> bool:
    def strip(obj: JSON) -> dict[str, object]:
        md = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _GC_METADATA}
        return {**obj, "metadata": md}

    return strip(new) == strip(old)


def _qualified(plural: str) -> str:
    return f"{plural}.{GROUP}"


def _refuse(plural: str, name: str, reason: str) -> Forbidden:
    qualified = _qualified(plural)
    return Forbidden(qualified, name, f"{qualified} {go_quote(name)} is forbidden: {reason}")


def _not_held(req: Requester, namespace: str, wanted: tuple[PolicyRule, ...]) -> str | None:
    """The reason ``wanted`` may not be granted by the requester, or None if they hold it."""
    owned, errors = req.policy.rules_for(req.user, namespace)
    ok, missing = covers(owned, wanted)
    if ok:
        return None
    lines = sorted({compact_string(r) for r in compact(missing)})
    msg = (
        f"user {go_quote(req.user.name)} (groups={go_quote_list(req.user.groups)}) is attempting "
        "to grant RBAC permissions not currently held:\n" + "\n".join(lines)
    )
    if errors:
        msg += f"; resolution errors: [{errors}]"
    return msg


def _may(req: Requester, verb: str, plural: str, name: str, namespace: str) -> bool:
    attrs = Attributes(verb=verb, api_group=GROUP, resource=plural, name=name, namespace=namespace)
    return req.policy.allows(req.user, attrs)


def check_role_write(plural: str, role: JSON, old: JSON | None = None) -> None:
    """Refuse a Role/ClusterRole write that grants rules the requester does not hold."""
    req = REQUESTER.get()
    if req is None or is_privileged(req.user):
        return
    if old is not None and only_gc_fields_change(role, old):
        return
    md = role.get("metadata") or {}
    name, namespace = str(md.get("name") or ""), str(md.get("namespace") or "")
    if _may(req, "escalate", plural, name, namespace):
        return
    reason = _not_held(req, namespace, rules_of(role.get("rules")))
    if reason is not None:
        raise _refuse(plural, name, reason)


def check_binding_write(plural: str, binding: JSON, old: JSON | None = None) -> None:
    """Refuse a RoleBinding/ClusterRoleBinding write whose role the requester may neither
    ``bind`` nor already holds."""
    req = REQUESTER.get()
    if req is None or is_privileged(req.user):
        return
    if old is not None and only_gc_fields_change(binding, old):
        return
    md = binding.get("metadata") or {}
    name, namespace = str(md.get("name") or ""), str(md.get("namespace") or "")
    ref = RoleRef.from_obj(binding.get("roleRef"))
    role_plural = "clusterroles" if ref.kind == "ClusterRole" else "roles"
    if _may(req, "bind", role_plural, ref.name, namespace):
        return
    try:
        rules = req.policy.role_ref_rules(ref, namespace)
    except RoleNotFound as exc:
        raise _refuse(plural, name, str(exc)) from None
    reason = _not_held(req, namespace, rules)
    if reason is not None:
        raise _refuse(plural, name, reason)
