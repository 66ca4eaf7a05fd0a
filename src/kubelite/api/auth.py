"""Authentication: a client certificate signed by our CA, or the bearer token from the PKI
directory. Anything else is anonymous and gets a 401 Status, except on the public health and
version endpoints. (There is one user, the admin; authorization is all-or-nothing.)"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubelite.api.errors import unauthorized

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# What a real API server shows anonymous clients too (system:public-info-viewer).
PUBLIC_PATHS = frozenset({"/version", "/healthz", "/livez", "/readyz"})


def _has_client_cert(request: web.Request) -> bool:
    transport = request.transport
    if transport is None:
        return False
    ssl_obj = transport.get_extra_info("ssl_object")
    return bool(ssl_obj is not None and ssl_obj.getpeercert())


def _token_ok(request: web.Request, token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def make_auth_middleware(token: str | None, *, require: bool = True) -> Middleware:
    """``token`` None disables token auth; ``require`` False allows anonymous (tests)."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            require
            and request.path not in PUBLIC_PATHS
            and not (_has_client_cert(request) or (token is not None and _token_ok(request, token)))
        ):
            raise unauthorized()
        return await handler(request)

    return authenticate
