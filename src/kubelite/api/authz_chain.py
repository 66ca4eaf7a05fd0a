"""The authorization half of the API's middleware chain, after authentication: impersonation
(``authz_impersonate``), then who the request acts as, for the registry's rules
(``registry.requestinfo``: a CSR's requester, NodeRestriction), then the authorization of the
request itself (``nodeauthz``: the Node authorizer, then RBAC from ``authz``), then the review
kinds, answered before routing (``reviews``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubelite.api.auth import TokenAuthenticator, user_of
from kubelite.api.authz import make_authz_middleware
from kubelite.api.authz_impersonate import make_impersonation_middleware
from kubelite.api.context import CONTEXT
from kubelite.api.nodeauthz import NodeAndRbacAuthorizer
from kubelite.api.reviews import Reviews, make_reviews_middleware
from kubelite.registry.requestinfo import REQUEST, RequestInfo, RequestUser
from kubelite.registry.service import Registry

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_info(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The request's user (as it acts, after impersonation), arrival and field selector, for
    the registry and the Node authorizer, for the duration of the request."""
    user = user_of(request)
    info = RequestInfo(
        RequestUser(user.name, user.uid, user.groups, dict(user.extra)),
        request.app[CONTEXT].clock.now(),
        request.query.get("fieldSelector", ""),
    )
    token = REQUEST.set(info)
    try:
        return await handler(request)
    finally:
        REQUEST.reset(token)


def authorization_middlewares(
    registry: Registry, *, enabled: bool, tokens: TokenAuthenticator
) -> list[Middleware]:
    """``enabled`` False: every request is allowed (AlwaysAllow), as when authentication is
    not required; ``tokens`` answer TokenReviews."""
    authorizer = NodeAndRbacAuthorizer(registry, enabled=enabled)
    return [
        make_impersonation_middleware(authorizer),
        request_info,
        make_authz_middleware(authorizer),
        make_reviews_middleware(Reviews(authorizer=authorizer, tokens=tokens)),
    ]
