"""What the web view serves before authentication: its pages and files, the exchange of a login
token for a session, and logout.

These run in a middleware placed before the API's authentication, because nobody is
authenticated yet when they are needed; everything else under ``/ui/`` (``/ui/api/...``)
goes on through authentication and authorization like any API request.

The login page takes the token from the link's fragment (``/ui/login#<token>``), which a
browser never sends to a server (so it is in no request line and no log) and which no link
previewer that merely fetches the URL can use up. It removes the fragment from the address bar
and history, then POSTs the token here. Both POSTs need the ``X-Kubelite-UI: 1`` header, a
JSON body and, when the browser names one, this server's own origin: a page of another site can
send none of these without a CORS preflight, which this server never grants.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from kubelite.api.errors import status_body
from kubelite.registry.service import Registry
from kubelite.ui.access import UI_USER, ensure_access
from kubelite.ui.assets import SECURITY_HEADERS, Asset, not_modified
from kubelite.ui.sessionauth import COOKIE, HEADER, SessionAuthenticator
from kubelite.ui.sessions import LoginTokens, Sessions

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PAGES = {"/ui/": "index.html", "/ui/login": "login.html"}
POD_PAGE = re.compile(r"/ui/pods/[^/]+/[^/]+")
STATIC = "/ui/static/"
API = "/ui/api/"
MAX_LOGIN_BODY = 4096

LINK_USED = (
    "this login link was used already or has expired: ask for a new one with "
    "`kubelite ui-link` (or restart kubelite up)"
)


def ui_status(code: int, reason: str, message: str) -> web.Response:
    resp = web.json_response(status_body(code, reason, message), status=code)
    resp.headers.update(SECURITY_HEADERS)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def cookie_header(session_id: str, max_age: int) -> str:
    """The session cookie: HttpOnly (no script reads it), Secure, SameSite=Strict (no other
    site's request carries it), for this host and every path (the API's too)."""
    return f"{COOKIE}={session_id}; Path=/; Max-Age={max_age}; Secure; HttpOnly; SameSite=Strict"


def same_origin(request: web.Request) -> bool:
    """The request comes from one of this server's own pages (or from no browser at all)."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"https://{request.host}":
        return False
    site = request.headers.get("Sec-Fetch-Site")
    return site in (None, "same-origin")


class Front:
    """The public part of the web view, as a middleware; passes everything on while
    ``authenticator.enabled`` is False."""

    def __init__(
        self,
        *,
        assets: dict[str, Asset],
        tokens: LoginTokens,
        sessions: Sessions,
        authenticator: SessionAuthenticator,
        registry: Registry,
    ) -> None:
        self._assets = assets
        self._tokens = tokens
        self._sessions = sessions
        self._auth = authenticator
        self._registry = registry

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not self._auth.enabled or not (path == "/ui" or path.startswith("/ui/")):
            return await handler(request)
        if path.startswith(API):
            return await handler(request)
        if request.method in ("GET", "HEAD"):
            return self._get(request)
        if request.method == "POST" and path == "/ui/session":
            return await self._login(request)
        if request.method == "POST" and path == "/ui/logout":
            return self._logout(request)
        return ui_status(405, "MethodNotAllowed", "method not allowed")

    def _get(self, request: web.Request) -> web.Response:
        path = request.path
        if path == "/ui":
            raise web.HTTPPermanentRedirect("/ui/")
        name = PAGES.get(path)
        if name is None and POD_PAGE.fullmatch(path):
            name = "pod.html"
        if name is None and path.startswith(STATIC) and not path.endswith(".html"):
            name = path.removeprefix(STATIC)
        asset = self._assets.get(name or "")
        if asset is None:
            return ui_status(404, "NotFound", "the server could not find the requested resource")
        if not_modified(asset, request.headers.get("If-None-Match", "")):
            return web.Response(status=304, headers={"ETag": asset.etag, **SECURITY_HEADERS})
        return web.Response(body=asset.body, headers=asset.headers())

    async def _login(self, request: web.Request) -> web.Response:
        refused = self._refuse_cross_site(request)
        if refused is not None:
            return refused
        if request.content_length is None or request.content_length > MAX_LOGIN_BODY:
            return ui_status(400, "BadRequest", "a login needs a small JSON body")
        try:
            token = json.loads(await request.read()).get("token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            return ui_status(400, "BadRequest", 'a login needs {"token": "..."}')
        if not self._tokens.redeem(token):
            return ui_status(401, "Unauthorized", LINK_USED)
        await ensure_access(self._registry)
        session_id = self._sessions.open(UI_USER)
        resp = web.Response(status=204, headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})
        max_age = int(self._sessions.lifetime_seconds)
        resp.headers["Set-Cookie"] = cookie_header(session_id, max_age)
        return resp

    def _logout(self, request: web.Request) -> web.Response:
        refused = self._refuse_cross_site(request)
        if refused is not None:
            return refused
        session_id = request.cookies.get(COOKIE)
        if session_id:
            self._sessions.close(session_id)
        resp = web.Response(status=204, headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})
        resp.headers["Set-Cookie"] = cookie_header("", 0)
        return resp

    @staticmethod
    def _refuse_cross_site(request: web.Request) -> web.Response | None:
        if request.headers.get(HEADER) != "1" or not same_origin(request):
            return ui_status(403, "Forbidden", f"the web view's requests carry {HEADER}: 1")
        if request.content_type != "application/json":
            return ui_status(415, "UnsupportedMediaType", "the web view sends JSON")
        return None
