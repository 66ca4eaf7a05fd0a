"""Authorization: may the authenticated user do what the request asks? As the API server's
chain: members of ``system:masters`` may do everything, then RBAC (``registry.rbac_policy``)
decides from the cluster's roles and bindings; anything not allowed is a 403 with the API
server's text, e.g. ``pods is forbidden: User "bob" cannot list resource "pods" in API group ""
in the namespace "default"`` (``... at the cluster scope`` for cluster-wide requests,
``pods "web" is forbidden: ...`` for a named one, ``resource "pods/exec"`` for a subresource,
``forbidden: User "bob" cannot get path "/metrics"`` for a non-resource URL), followed by
``: RBAC: ...`` when a binding names a role that does not exist.

The roles and bindings are read through ``PolicySource``: one immutable snapshot, read again
only when the store's revision has moved since it was taken, so a grant or a revocation counts
from the next request on. kubelite's own components (node agent, scheduler, controllers) use
the admin credential and so are ``system:masters``.

When authentication is not required (tests), authorization is off as well (the API server's
AlwaysAllow mode): every request is allowed and reviews answer yes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubelite.api.auth import UserInfo, user_of
from kubelite.api.authz_request import request_attributes
from kubelite.api.errors import status_body
from kubelite.api.respond import json_response
from kubelite.registry.rbac import CLUSTERROLEBINDINGS, CLUSTERROLES, ROLEBINDINGS, ROLES
from kubelite.registry.rbac_escalation import REQUESTER, Requester
from kubelite.registry.rbac_policy import EMPTY_POLICY, Decision, Policy, is_privileged
from kubelite.registry.rbac_rules import Attributes, PolicyRule, go_quote
from kubelite.registry.service import Registry

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# What AlwaysAllow answers a rules review: everything.
ALL_RULES = (
    PolicyRule(verbs=("*",), api_groups=("*",), resources=("*",)),
    PolicyRule(verbs=("*",), non_resource_urls=("*",)),
)


class PolicySource:
    """The current RBAC snapshot; reading it again costs four store lists, done only when a
    role or binding was written since (concurrent callers share one read). Writes to other
    resources (every pod create) leave it as it is."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._policy: Policy | None = None
        self._revisions: tuple[int, ...] = ()
        self._lock = asyncio.Lock()

    def _rbac_revisions(self) -> tuple[int, ...]:
        store = self._registry.store
        kinds = (ROLES, CLUSTERROLES, ROLEBINDINGS, CLUSTERROLEBINDINGS)
        return tuple(store.resource_revision(k.qualified) for k in kinds)

    async def current(self) -> Policy:
        if self._policy is not None and self._rbac_revisions() == self._revisions:
            return self._policy
        async with self._lock:
            revisions = self._rbac_revisions()
            if self._policy is None or revisions != self._revisions:
                self._policy = await self._read()
                self._revisions = revisions
            return self._policy

    async def _read(self) -> Policy:
        reg = self._registry
        roles, _ = await reg.list(ROLES, None)
        cluster_roles, _ = await reg.list(CLUSTERROLES, None)
        role_bindings, _ = await reg.list(ROLEBINDINGS, None)
        cluster_role_bindings, _ = await reg.list(CLUSTERROLEBINDINGS, None)
        return Policy.from_objects(
            roles=roles,
            cluster_roles=cluster_roles,
            role_bindings=role_bindings,
            cluster_role_bindings=cluster_role_bindings,
        )


class Authorizer:
    """``enabled`` False is AlwaysAllow."""

    def __init__(self, registry: Registry, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.source = PolicySource(registry)

    async def policy(self) -> Policy:
        return await self.source.current() if self.enabled else EMPTY_POLICY

    async def decide(self, user: UserInfo, attrs: Attributes) -> Decision:
        if not self.enabled or is_privileged(user):
            return Decision(True)
        return (await self.source.current()).authorize(user, attrs)

    async def rules_for(self, user: UserInfo, namespace: str) -> tuple[list[PolicyRule], str]:
        if not self.enabled:
            return list(ALL_RULES), ""
        return (await self.source.current()).rules_for(user, namespace)


def forbidden_message(user: UserInfo, attrs: Attributes) -> str:
    who = go_quote(user.name)
    if not attrs.resource_request:
        return f"User {who} cannot {attrs.verb} path {go_quote(attrs.path)}"
    what = f"resource {go_quote(attrs.combined_resource)} in API group {go_quote(attrs.api_group)}"
    if attrs.namespace:
        return f"User {who} cannot {attrs.verb} {what} in the namespace {go_quote(attrs.namespace)}"
    return f"User {who} cannot {attrs.verb} {what} at the cluster scope"


def _sanitized(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def forbidden_response(user: UserInfo, attrs: Attributes, reason: str) -> web.Response:
    """The API server's 403 Status for a denied request."""
    msg = _sanitized(forbidden_message(user, attrs))
    if reason:
        msg = f"{msg}: {reason}"
    details: dict[str, Any] = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.api_group:
        details["group"] = attrs.api_group
    if attrs.resource:
        details["kind"] = attrs.resource
    qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    if not qualified:
        message = f"forbidden: {msg}"
    elif attrs.name:
        message = f"{qualified} {go_quote(attrs.name)} is forbidden: {msg}"
    else:
        message = f"{qualified} is forbidden: {msg}"
    body = status_body(403, "Forbidden", message)
    body["details"] = details
    body["code"] = body.pop("code")  # after details, as the API server orders the fields
    resp = json_response(body, status=403)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def make_authz_middleware(authorizer: Authorizer) -> Middleware:
    """Answers 403 to what the user may not do; otherwise runs the request with the user and
    the policy it was authorized against as the registry's ``REQUESTER`` (for the escalation
    check on RBAC writes)."""

    @web.middleware
    async def authorize(request: web.Request, handler: Handler) -> web.StreamResponse:
        user = user_of(request)
        if not authorizer.enabled or is_privileged(user):  # no policy read for the admin
            return await handler(request)
        attrs = request_attributes(request.method, request.path, request.query)
        decision = await authorizer.decide(user, attrs)
        if not decision.allowed:
            return forbidden_response(user, attrs, decision.reason)
        token = REQUESTER.set(Requester(user, await authorizer.policy()))
        try:
            return await handler(request)
        finally:
            REQUESTER.reset(token)

    return authorize
