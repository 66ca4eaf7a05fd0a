"""The API server: the aiohttp application, its routes, and an object with a visible
lifetime (``start``/``stop``, or ``async with``) that the composition root owns.

Routes: discovery (``/version``, ``/api``, ``/apis`` …), OpenAPI (``/openapi/v3`` …) and one
catch-all per API prefix that ``paths.parse`` splits into kind/namespace/name/subresource and
``route`` sends to the verb's handler. Every error, whatever its origin, leaves through
``errors.to_status`` as a Status body (never a traceback).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, Self

from aiohttp import web

from kubelite.api import discovery, handlers, openapi, subresources, watch
from kubelite.api.auth import make_auth_middleware
from kubelite.api.context import CONTEXT, ApiContext
from kubelite.api.errors import ApiError, method_not_allowed
from kubelite.api.fieldvalidation import add_warning_headers
from kubelite.api.params import flag
from kubelite.api.paths import parse
from kubelite.api.respond import error_response
from kubelite.api.streams import ExecBackend, LogSource
from kubelite.clock import Clock, SystemClock
from kubelite.errors import KubeliteError
from kubelite.registry import catalog
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.event_expiry import EventExpiry
from kubelite.registry.namespace_reaper import NamespaceReaper
from kubelite.registry.service import Registry
from kubelite.store.interface import Store

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def status_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        resp = await handler(request)
        if not resp.prepared:
            add_warning_headers(request, resp)
        return resp
    except (ApiError, KubeliteError) as exc:
        return error_response(exc)
    except web.HTTPException as exc:
        if exc.status == 404:
            return error_response(
                ApiError(404, "NotFound", "the server could not find the requested resource")
            )
        if exc.status == 405:
            return error_response(ApiError(405, "MethodNotAllowed", "method not allowed"))
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:  # a bug: answer a Status, log the details server-side only
        log.exception("internal error serving %s %s", request.method, request.path)
        return error_response(exc)


async def route(request: web.Request) -> web.StreamResponse:
    ctx: ApiContext = request.app[CONTEXT]
    info = request.match_info
    group, version = info.get("group", ""), info.get("version", "v1")
    t = parse(group, version, info.get("tail", "").split("/"))
    m = request.method
    if t.subresource and t.subresource not in ("status",):
        return await subresources.handle(ctx, request, t)
    if m == "GET":
        if t.name:
            return await handlers.get(ctx, request, t)
        if flag(request.query, "watch"):
            return await watch.watch(ctx, request, t)
        return await handlers.list_(ctx, request, t)
    verbs = {
        "POST": handlers.create,
        "PUT": handlers.update,
        "PATCH": handlers.patch,
        "DELETE": handlers.delete,
    }
    fn = verbs.get(m)
    if fn is None or (t.subresource == "status" and m in ("POST", "DELETE")):
        raise method_not_allowed(m, t.kind.plural)
    return await fn(ctx, request, t)


def build_app(
    ctx: ApiContext, *, token: str | None = None, require_auth: bool = True
) -> web.Application:
    app = web.Application(
        middlewares=[status_errors, make_auth_middleware(token, require=require_auth)],
        client_max_size=4 * 1024 * 1024,
    )
    app[CONTEXT] = ctx
    r = app.router
    r.add_get("/version", discovery.version)
    r.add_get("/healthz", _ok)
    r.add_get("/livez", _ok)
    r.add_get("/readyz", _ok)
    r.add_get("/api", discovery.api_root)
    r.add_get("/api/", discovery.api_root)
    r.add_get("/apis", discovery.apis_root)
    r.add_get("/apis/", discovery.apis_root)
    r.add_get("/api/v1", discovery.core_v1)
    r.add_get("/api/v1/", discovery.core_v1)
    r.add_get("/openapi/v3", openapi.root)
    r.add_get("/openapi/v3/{path:.*}", openapi.document_handler)
    r.add_get("/openapi/v2", openapi.v2)
    r.add_route("*", "/api/v1/{tail:.+}", route)
    r.add_get("/apis/{group}", discovery.group_info)
    r.add_get("/apis/{group}/{version}", discovery.group_version)
    r.add_route("*", "/apis/{group}/{version}/{tail:.+}", route)
    return app


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


class ApiServer:
    """Owns the HTTP listener and the registry's background loops (namespace reaper, store
    maintenance). ``start`` returns once kubectl can connect; ``stop`` closes everything."""

    def __init__(
        self,
        *,
        store: Store,
        host: str = "127.0.0.1",
        port: int = 6443,
        ssl_context: ssl.SSLContext | None = None,
        token: str | None = None,
        require_auth: bool = True,
        clock: Clock | None = None,
        logs: LogSource | None = None,
        exec_backend: ExecBackend | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.registry = Registry(store=store, clock=self.clock, kinds=catalog.ALL_KINDS)
        self.context = ApiContext(self.registry, self.clock, logs, exec_backend)
        self.app = build_app(self.context, token=token, require_auth=require_auth)
        self._host, self._port, self._ssl = host, port, ssl_context
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self.port = port

    def set_backends(
        self, *, logs: LogSource | None = None, exec_backend: ExecBackend | None = None
    ) -> None:
        """Plug in the node side later (the agent may start after the API server)."""
        if logs is not None:
            self.context.logs = logs
        if exec_backend is not None:
            self.context.exec = exec_backend

    async def start(self) -> None:
        await bootstrap(self.registry)
        self._tasks.append(
            asyncio.create_task(
                NamespaceReaper(registry=self.registry).run(), name="namespace-reaper"
            )
        )
        self._tasks.append(
            asyncio.create_task(EventExpiry(registry=self.registry).run(), name="event-expiry")
        )
        maintain = getattr(self.store, "maintain", None)
        if maintain is not None:
            self._tasks.append(asyncio.create_task(maintain(), name="store-maintenance"))
        self._runner = web.AppRunner(
            self.app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, ssl_context=self._ssl)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
