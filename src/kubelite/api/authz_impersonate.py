"""Impersonation (``kubectl --as=bob --as-group=dev``): a user allowed to ``impersonate`` users,
groups, service accounts, uids or user extras may act as someone else, through the
``Impersonate-User``, ``Impersonate-Group``, ``Impersonate-Uid`` and ``Impersonate-Extra-<key>``
headers. Each thing asked for is authorized on its own (``impersonate users "bob"``,
``impersonate serviceaccounts "x"`` in its namespace, ``impersonate groups "dev"``,
``impersonate userextras/<key> "<value>"``, ``impersonate uids "<uid>"``), as the API server's
filter does; a refusal is the usual 403 (``users "bob" is forbidden: User "alice" cannot
impersonate resource "users" in API group "" at the cluster scope``). The request then runs as
the impersonated user: a service account gets its groups unless groups were asked for, and
everyone but ``system:anonymous`` is in ``system:authenticated``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import CIMultiDictProxy

from kubelite.api.auth import AUTHENTICATED, USER, UserInfo, user_of
from kubelite.api.authz import Authorizer, forbidden_response
from kubelite.api.errors import bad_request
from kubelite.registry.rbac_policy import SERVICE_ACCOUNT_PREFIX
from kubelite.registry.rbac_rules import Attributes

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

USER_HEADER = "Impersonate-User"
GROUP_HEADER = "Impersonate-Group"
UID_HEADER = "Impersonate-Uid"
EXTRA_PREFIX = "impersonate-extra-"
ANONYMOUS = "system:anonymous"
UNAUTHENTICATED = "system:unauthenticated"
AUTHN_GROUP = "authentication.k8s.io"


def _split_service_account(name: str) -> tuple[str, str] | None:
    if not name.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    namespace, sep, account = name[len(SERVICE_ACCOUNT_PREFIX) :].partition(":")
    if not sep or not namespace or not account or ":" in account:
        return None
    return namespace, account


def _checks(headers: CIMultiDictProxy[str]) -> tuple[list[Attributes], UserInfo | None]:
    """The impersonate checks a request needs and the user it would become (None if it asks
    for no impersonation)."""
    checks: list[Attributes] = []
    name = headers.get(USER_HEADER, "")
    groups: list[str] = []
    if name:
        account = _split_service_account(name)
        if account is not None:
            checks.append(Attributes(verb="impersonate", resource="serviceaccounts",
                                     namespace=account[0], name=account[1]))  # fmt: skip
        else:
            checks.append(Attributes(verb="impersonate", resource="users", name=name))
    asked_groups = headers.getall(GROUP_HEADER, [])
    for group in asked_groups:
        checks.append(Attributes(verb="impersonate", resource="groups", name=group))
        groups.append(group)
    extra: dict[str, tuple[str, ...]] = {}
    for header, value in headers.items():
        if header.lower().startswith(EXTRA_PREFIX):
            key = unquote(header[len(EXTRA_PREFIX) :].lower())
            checks.append(Attributes(verb="impersonate", api_group=AUTHN_GROUP,
                                     api_version="v1", resource="userextras", subresource=key,
                                     name=value))  # fmt: skip
            extra[key] = (*extra.get(key, ()), value)
    uid = headers.get(UID_HEADER, "")
    if uid:
        checks.append(Attributes(verb="impersonate", api_group=AUTHN_GROUP, api_version="v1",
                                 resource="uids", name=uid))  # fmt: skip
    if not checks:
        return [], None
    if not name:
        raise bad_request(f"requested {_describe(checks)} without impersonating a user")
    account = _split_service_account(name)
    if account is not None and not asked_groups:
        groups = ["system:serviceaccounts", f"system:serviceaccounts:{account[0]}"]
    if name != ANONYMOUS:
        if AUTHENTICATED not in groups and UNAUTHENTICATED not in groups:
            groups.append(AUTHENTICATED)
    elif UNAUTHENTICATED not in groups:
        groups.append(UNAUTHENTICATED)
    return checks, UserInfo(name, uid=uid, groups=tuple(groups), extra=extra)


def _describe(checks: list[Attributes]) -> str:
    return "[" + " ".join(f"{{{a.resource} {a.name}}}" for a in checks) + "]"


def make_impersonation_middleware(authorizer: Authorizer) -> Middleware:
    @web.middleware
    async def impersonate(request: web.Request, handler: Handler) -> web.StreamResponse:
        checks, as_user = _checks(request.headers)
        if as_user is None:
            return await handler(request)
        requester = user_of(request)
        for attrs in checks:
            decision = await authorizer.decide(requester, attrs)
            if not decision.allowed:
                return forbidden_response(requester, attrs, decision.reason)
        request[USER] = as_user
        return await handler(request)

    return impersonate
