"""Authentication: who a request comes from, kept on the request (``user_of``) for
authorization (``authz``: RBAC) and the reviews (``kubectl auth whoami``).

Accepted, in the API server's order: a client certificate signed by our CA (the user is its
common name, the groups its organizations: ``kubelite-admin`` in ``system:masters``), the
bearer token from the PKI directory (the same admin), bootstrap tokens (``<id>.<secret>``,
``bootstrapauth``: ``system:bootstrap:<id>``, how a joining node asks for its certificate) and
service-account JWTs this server signed (``tokens.ServiceAccountIssuer``). A service-account
token must also still match the objects it names: the ServiceAccount, and the pod or secret
it is bound to (or the node, for a node-bound one), by name and uid, not deleted more than a
minute ago. Good tokens are remembered for 10 seconds, as the API server's token cache does,
so a deleted pod's token may keep working that long.

Extra users are client certificates the same CA signed (``kubelite kubeconfig --user NAME
--group G``): the user is the common name, the groups the organizations, and RBAC decides what
they may do. The web view's browser session (a cookie, ``kubelite.ui.sessionauth``) is asked
last, through ``CookieAuthenticator``. A node's certificate (``system:node:<name>`` in
``system:nodes``, from TLS bootstrap) is one of these. A credential that is not accepted gets
a 401 Status; a request with none is anonymous (``system:anonymous``) on the public health and
version endpoints and on ``kube-public/cluster-info`` (which RBAC then lets it read: a joining
node discovers the cluster there), a 401 elsewhere (everywhere anonymous when authentication
is not required, in tests).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web
from aiohttp.typedefs import Middleware

from kubelite.api.bootstrapauth import BootstrapTokenAuthenticator
from kubelite.api.errors import unauthorized
from kubelite.api.tokens import (
    LEEWAY_SECONDS,
    ObjectRef,
    ServiceAccountIssuer,
    TokenError,
    VerifiedToken,
    username,
)
from kubelite.clock import Clock, parse_rfc3339
from kubelite.registry.nodes import NODES
from kubelite.registry.pods import PODS
from kubelite.registry.resource import Kind
from kubelite.registry.secrets import SECRETS
from kubelite.registry.service import Registry
from kubelite.registry.serviceaccounts import SERVICEACCOUNTS
from kubelite.store.interface import NotFound

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# What a real API server shows anonymous clients too (system:public-info-viewer).
PUBLIC_PATHS = frozenset({"/version", "/version/", "/healthz", "/livez", "/readyz"})
# Where a request without credentials goes on as system:anonymous, for RBAC to decide (the
# API server's anonymous authenticator, limited to these paths as its conditions allow).
ANONYMOUS_PATHS = PUBLIC_PATHS | {"/api/v1/namespaces/kube-public/configmaps/cluster-info"}

AUTHENTICATED = "system:authenticated"
CACHE_SECONDS = 10.0
CACHE_ENTRIES = 4096
EXTRA_PREFIX = "authentication.kubernetes.io/"


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)


ADMIN = UserInfo("kubelite-admin", groups=("system:masters", AUTHENTICATED))
ANONYMOUS = UserInfo("system:anonymous", groups=("system:unauthenticated",))

USER: web.RequestKey[UserInfo] = web.RequestKey("kubelite_user", UserInfo)


def user_of(request: web.Request) -> UserInfo:
    """The authenticated user of a request that went through the middleware."""
    return request.get(USER) or ANONYMOUS


def service_account_user(verified: VerifiedToken) -> UserInfo:
    """``system:serviceaccount:<ns>:<name>`` in the service-account groups, with the pod, node
    and token id in ``extra`` as the API server records them."""
    s = verified.subject
    extra: dict[str, tuple[str, ...]] = {}
    if s.pod is not None:
        extra[EXTRA_PREFIX + "pod-name"] = (s.pod.name,)
        extra[EXTRA_PREFIX + "pod-uid"] = (s.pod.uid,)
    if s.node is not None:
        extra[EXTRA_PREFIX + "node-name"] = (s.node.name,)
        extra[EXTRA_PREFIX + "node-uid"] = (s.node.uid,)
    if verified.jti:
        extra[EXTRA_PREFIX + "credential-id"] = (f"JTI={verified.jti}",)
    return UserInfo(
        name=username(s.namespace, s.service_account.name),
        uid=s.service_account.uid,
        groups=("system:serviceaccounts", f"system:serviceaccounts:{s.namespace}", AUTHENTICATED),
        extra=extra,
    )


class ServiceAccountAuthenticator:
    """Service-account bearer tokens: the JWT checks, then the objects they name."""

    def __init__(
        self,
        *,
        issuer: ServiceAccountIssuer,
        registry: Registry,
        clock: Clock,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self.issuer = issuer
        self._registry = registry
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, UserInfo]] = {}

    @property
    def registry(self) -> Registry:
        return self._registry

    @property
    def clock(self) -> Clock:
        return self._clock

    async def authenticate(self, token: str) -> UserInfo | None:
        now = self._clock.now()
        hit = self._cache.get(token)
        if hit is not None and hit[0] > self._clock.monotonic():
            return hit[1]
        try:
            verified = self.issuer.verify(token, now=now)
        except TokenError:
            return None
        if not await self._objects_match(verified, now):
            return None
        user = service_account_user(verified)
        if len(self._cache) >= CACHE_ENTRIES:
            self._cache.clear()
        self._cache[token] = (self._clock.monotonic() + self._cache_seconds, user)
        return user

    async def _objects_match(self, verified: VerifiedToken, now: float) -> bool:
        s = verified.subject
        if not await self._present(SERVICEACCOUNTS, s.namespace, s.service_account, now):
            return False
        if s.secret is not None and not await self._present(SECRETS, s.namespace, s.secret, now):
            return False
        if s.pod is not None:
            return await self._present(PODS, s.namespace, s.pod, now)
        if s.node is not None:
            return await self._present(NODES, "", s.node, now)
        return True

    async def _present(self, kind: Kind, namespace: str, ref: ObjectRef, now: float) -> bool:
        """The object exists with that uid and was not deleted more than the leeway ago."""
        try:
            obj: dict[str, Any] = await self._registry.get(kind, namespace, ref.name)
        except NotFound:
            return False
        md = obj.get("metadata") or {}
        if md.get("uid") != ref.uid:
            return False
        deleted = md.get("deletionTimestamp")
        if deleted:
            try:
                return parse_rfc3339(str(deleted)) >= now - LEEWAY_SECONDS
            except ValueError:
                return False
        return True


def _certificate_user(request: web.Request) -> UserInfo | None:
    transport = request.transport
    if transport is None:
        return None
    ssl_obj = transport.get_extra_info("ssl_object")
    cert = ssl_obj.getpeercert() if ssl_obj is not None else None
    if not cert:
        return None
    attrs = [pair for rdn in cert.get("subject", ()) for pair in rdn]
    names = [v for k, v in attrs if k == "commonName"]
    orgs = tuple(v for k, v in attrs if k == "organizationName")
    if not names or not names[0]:  # no user name: the certificate authenticates nobody
        return None
    return UserInfo(names[0], groups=(*orgs, AUTHENTICATED))


def _bearer(request: web.Request) -> str | None:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    given = given.strip()
    return given if scheme.lower() == "bearer" and given else None


class CookieAuthenticator(Protocol):
    """A credential in the request's cookies (the web view's session): its user, or None. It
    may refuse a request outright by raising an ``ApiError``."""

    def authenticate(self, request: web.Request) -> UserInfo | None: ...


class TokenAuthenticator:
    """Bearer tokens: the admin token, then bootstrap tokens, then service-account JWTs (any
    may be absent; bootstrap tokens are looked up in the same registry as the accounts)."""

    def __init__(
        self, token: str | None, service_accounts: ServiceAccountAuthenticator | None
    ) -> None:
        self._token = token
        self._service_accounts = service_accounts
        self._bootstrap = (
            BootstrapTokenAuthenticator(
                registry=service_accounts.registry, clock=service_accounts.clock
            )
            if service_accounts is not None
            else None
        )

    @property
    def audiences(self) -> tuple[str, ...]:
        """What the tokens this server accepts are meant for (a TokenReview reports them)."""
        accounts = self._service_accounts
        return accounts.issuer.audiences if accounts is not None else ()

    async def authenticate(self, given: str) -> UserInfo | None:
        if self._token is not None and hmac.compare_digest(given, self._token):
            return ADMIN
        if self._bootstrap is not None and self._bootstrap.claims(given):
            found = await self._bootstrap.authenticate(given)
            if found is None:
                return None
            return UserInfo(found.name, groups=(*found.groups, AUTHENTICATED))
        if self._service_accounts is not None:
            return await self._service_accounts.authenticate(given)
        return None


async def identify(request: web.Request, tokens: TokenAuthenticator) -> UserInfo | None:
    """The request's user, or None if it carries no credential we accept."""
    user = _certificate_user(request)
    if user is not None:
        return user
    given = _bearer(request)
    if given is None:
        return None
    return await tokens.authenticate(given)


def make_auth_middleware(
    token: str | None,
    *,
    require: bool = True,
    service_accounts: ServiceAccountAuthenticator | None = None,
    cookies: CookieAuthenticator | None = None,
) -> Middleware:
    """``token`` None disables the admin token; ``require`` False allows anonymous (tests);
    ``service_accounts`` None accepts no service-account tokens; ``cookies`` None, no session
    cookie."""
    tokens = TokenAuthenticator(token, service_accounts)

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        user = await identify(request, tokens)
        if user is None and cookies is not None:
            user = cookies.authenticate(request)
        if user is None:
            credential = _bearer(request) is not None
            if require and (credential or request.path not in ANONYMOUS_PATHS):
                raise unauthorized()
            user = ANONYMOUS
        request[USER] = user
        return await handler(request)

    return authenticate
