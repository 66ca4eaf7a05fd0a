"""Who may use the node's server: the kubelet's authentication and webhook authorization.

A client is its TLS certificate, which the cluster CA must have signed (the handshake checks
it): the user is its common name, the groups its organizations and ``system:authenticated``.
A request without one is ``401 Unauthorized``. Each request is then asked of the API as a
SubjectAccessReview (``authz``: ``nodes/proxy`` and the rest), sent with this node's own
credentials; a denial is the kubelet's ``403 Forbidden (user=…, verb=…, resource=nodes,
subresource=…)``, an API that cannot be asked its ``500 Authorization error (…)``. Answers are
cached (5 minutes allowed, 30 seconds denied).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from kubelite.client.rest import ApiError
from kubelite.clock import Clock
from kubelite.nodeserver import authz

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SUBJECT_ACCESS_REVIEWS = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
AUTHENTICATED = "system:authenticated"


class Reviewer(Protocol):
    """Where reviews are asked (``ApiClient``, with the node's credentials)."""

    async def request(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]: ...


def plain(code: int, text: str) -> web.Response:
    """The kubelet's error answers: the text alone."""
    return web.Response(status=code, text=text, content_type="text/plain")


def client_user(request: web.Request) -> authz.User | None:
    """The user of the client certificate (None without one)."""
    transport = request.transport
    ssl_obj = transport.get_extra_info("ssl_object") if transport is not None else None
    cert = ssl_obj.getpeercert() if ssl_obj is not None else None
    if not cert:
        return None
    attrs = [pair for rdn in cert.get("subject", ()) for pair in rdn]
    names = [v for k, v in attrs if k == "commonName"]
    if not names or not names[0]:
        return None
    orgs = tuple(v for k, v in attrs if k == "organizationName")
    return authz.User(names[0], (*orgs, AUTHENTICATED))


class NodeAuth:
    """The authentication and authorization middleware of one node's server."""

    def __init__(self, *, client: Reviewer, node_name: str, clock: Clock) -> None:
        self._client = client
        self._node = node_name
        self._clock = clock
        self._cache = authz.DecisionCache()

    async def allowed(self, user: authz.User, attrs: authz.Attributes) -> bool:
        body = authz.review(user, attrs)
        key = authz.cache_key(body)
        now = self._clock.monotonic()
        known = self._cache.get(key, now)
        if known is not None:
            return known
        answer = await self._client.request("POST", SUBJECT_ACCESS_REVIEWS, body)
        allowed = bool((answer.get("status") or {}).get("allowed"))
        self._cache.put(key, allowed, self._clock.monotonic())
        return allowed

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        user = client_user(request)
        if user is None:
            return plain(401, authz.UNAUTHORIZED)
        attrs = authz.attributes(request.method, request.path, self._node)
        try:
            allowed = await self.allowed(user, attrs)
        except (ApiError, aiohttp.ClientError, OSError, ValueError) as err:
            log.warning("authorizing %s %s for %s failed: %s", request.method, request.path,
                        user.name, err)  # fmt: skip
            return plain(500, authz.error_message(user, attrs))
        if not allowed:
            log.info("forbidden: %s", authz.forbidden_message(user, attrs))
            return plain(403, authz.forbidden_message(user, attrs))
        return await handler(request)
