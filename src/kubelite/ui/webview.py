"""The web view, put together: what the API server mounts (a middleware before authentication,
a cookie authenticator, the ``/ui/api/`` routes) and what ``kubelite up`` turns on.

The API server always builds one, switched off: then ``/ui/`` is not served and no session
cookie is accepted. ``kubelite up`` calls ``enable`` once it listens (unless ``--no-ui``) and
prints ``login_path``'s link. Routes under ``/ui/api/`` (authenticated, authorized as any
non-resource URL, then as the reads they make):

- ``GET /ui/api/timeline/{namespace}/{name}.svg``: the pod's timeline picture;
- ``GET /ui/api/manifest/{namespace}/{name}.yaml``: the pod as ``kubectl get -o yaml``;
- ``POST /ui/api/links``: a new login link (``kubelite ui-link``), for whoever RBAC lets
  ``post`` that path (the cluster admin); never for a session, which only reads.
"""

from __future__ import annotations

from aiohttp import web

from kubelite.api.auth import user_of
from kubelite.api.errors import ApiError
from kubelite.clock import Clock
from kubelite.registry.pods import PODS
from kubelite.registry.service import Registry
from kubelite.ui.access import Reader
from kubelite.ui.assets import SECURITY_HEADERS, Asset, load_assets
from kubelite.ui.front import Front
from kubelite.ui.manifest import manifest_yaml
from kubelite.ui.sessionauth import SessionAuthenticator
from kubelite.ui.sessions import LoginTokens, Sessions
from kubelite.ui.timelineview import Render, TimelinePictures

LOGIN_PATH = "/ui/login#"
# An SVG opened on its own runs nothing and loads nothing; its inline styles still apply.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def login_url(base_url: str, path: str) -> str:
    """``https://127.0.0.1:6443`` + ``/ui/login#<token>``."""
    return base_url.rstrip("/") + path


class WebView:
    def __init__(
        self,
        *,
        registry: Registry,
        clock: Clock,
        authorize: bool = True,
        assets: dict[str, Asset] | None = None,
        render: Render | None = None,
    ) -> None:
        """``authorize`` False: reads are not checked (the API's AlwaysAllow, in tests);
        ``render`` replaces ``kubelite.timeline.render`` (tests)."""
        self.tokens = LoginTokens(clock=clock)
        self.sessions = Sessions(clock=clock)
        self.authenticator = SessionAuthenticator(self.sessions)
        self._reader = Reader(registry, authorize=authorize)
        self._timelines = TimelinePictures(self._reader, render=render)
        self.front = Front(
            assets=load_assets() if assets is None else assets,
            tokens=self.tokens,
            sessions=self.sessions,
            authenticator=self.authenticator,
            registry=registry,
        )

    @property
    def enabled(self) -> bool:
        return self.authenticator.enabled

    def enable(self) -> None:
        self.authenticator.enabled = True

    def login_path(self) -> str:
        """A fresh one-time login link's path and fragment: ``/ui/login#<token>``."""
        return LOGIN_PATH + self.tokens.issue()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/ui/api/timeline/{namespace}/{name}.svg", self._timeline)
        router.add_get("/ui/api/manifest/{namespace}/{name}.yaml", self._manifest)
        router.add_post("/ui/api/links", self._new_link)

    def _check_enabled(self) -> None:
        if not self.enabled:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")

    async def _timeline(self, request: web.Request) -> web.Response:
        self._check_enabled()
        ns, name = request.match_info["namespace"], request.match_info["name"]
        picture, version = await self._timelines.svg(user_of(request), ns, name)
        headers = {
            **SECURITY_HEADERS,
            "Content-Security-Policy": SVG_POLICY,
            "Content-Type": "image/svg+xml",
            "Cache-Control": "private, no-cache",
            "ETag": f'"{version}"',
        }
        resp = web.Response(body=picture, headers=headers)
        resp.enable_compression()  # matplotlib's SVG is large and compresses well
        return resp

    async def _manifest(self, request: web.Request) -> web.Response:
        self._check_enabled()
        ns, name = request.match_info["namespace"], request.match_info["name"]
        pod = await self._reader.get(user_of(request), PODS, ns, name)
        headers = {
            **SECURITY_HEADERS,
            "Content-Type": "application/yaml; charset=utf-8",
            "Cache-Control": "private, no-store",
        }
        return web.Response(body=manifest_yaml(pod).encode(), headers=headers)

    async def _new_link(self, request: web.Request) -> web.Response:
        self._check_enabled()
        seconds = int(self.tokens.lifetime_seconds)
        body = {"path": self.login_path(), "expiresInSeconds": seconds}
        resp = web.json_response(body, headers={"Cache-Control": "no-store"})
        return resp
