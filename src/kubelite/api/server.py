"""The API server: the aiohttp application, its routes, and an object with a visible
lifetime (``start``/``stop``, or ``async with``) that the composition root owns.

Routes: discovery (``/version``, ``/api``, ``/apis`` …), OpenAPI (``/openapi/v3`` …), the
``metrics.k8s.io`` API (``metrics_api``), Prometheus text (``/metrics``, the kubelet's
``/metrics/resource``) and one catch-all per API prefix that ``paths.parse`` splits into
kind/namespace/name/subresource and ``route`` sends to the verb's handler. Every fixed path is
served with a trailing slash too (``/version/``, ``/apis/apps/v1/``), as the API server's router
accepts it; the catch-alls ignore empty segments already. Every error, whatever its origin,
leaves through ``errors.to_status`` as a Status body (never a traceback).

The web view (``kubelite.ui``) is mounted too: its pages and login before authentication, its
``/ui/api/`` routes after; it stays off (``/ui/`` not served) until ``kubelite up`` enables it.

Every request is counted and timed for ``/metrics`` by the outermost middleware, which also
logs each request that failed on the server's side (5xx), so ``kubelite up`` shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Self

from aiohttp import web

from kubelite.api import discovery, handlers, metrics_api, nodeproxy, openapi, subresources, watch
from kubelite.api.auth import (
    ServiceAccountAuthenticator,
    TokenAuthenticator,
    make_auth_middleware,
)
from kubelite.api.authz_chain import authorization_middlewares
from kubelite.api.authz_request import request_attributes
from kubelite.api.context import CONTEXT, ApiContext
from kubelite.api.errors import ApiError, method_not_allowed
from kubelite.api.fieldvalidation import add_warning_headers
from kubelite.api.httplimits import LimitedAppRunner
from kubelite.api.metrics import METRICS_SOURCE, OTHER_NODES, MetricsSource, OtherNodes, source_of
from kubelite.api.metrics_podstart import PodStartWatch
from kubelite.api.metrics_prom import (
    CONTENT_TYPE,
    ServerMetrics,
    request_labels,
    resource_exposition,
)
from kubelite.api.nodeconn import NodeConnector
from kubelite.api.params import flag
from kubelite.api.paths import parse
from kubelite.api.respond import error_response
from kubelite.api.streams import ExecBackend, LogSource
from kubelite.api.tokenrequest import ISSUER
from kubelite.api.tokens import ServiceAccountIssuer
from kubelite.clock import Clock, SystemClock
from kubelite.errors import KubeliteError
from kubelite.registry import catalog
from kubelite.registry.bootstrap import ApiAddress, bootstrap
from kubelite.registry.event_expiry import EventExpiry
from kubelite.registry.namespace_reaper import NamespaceReaper
from kubelite.registry.nodes import NODES
from kubelite.registry.rbac_aggregation import ClusterRoleAggregator
from kubelite.registry.service import Registry
from kubelite.registry.service_repair import ServiceReservationRepair
from kubelite.registry.serviceips import ServiceNetwork
from kubelite.store.interface import Store
from kubelite.store.memtrim import tune_gc_for_server
from kubelite.ui.webview import WebView

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SERVER_METRICS: web.AppKey[ServerMetrics] = web.AppKey("kubelite_server_metrics", ServerMetrics)


@web.middleware
async def request_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts and times every request by the API server's labels; logs server-side failures."""
    started = time.perf_counter()
    code = 500
    try:
        resp = await handler(request)
        code = resp.status
        return resp
    except web.HTTPException as exc:
        code = exc.status
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        code = 499  # the client went away (nginx's word for it; never a 5xx line)
        raise
    finally:
        attrs = request_attributes(request.method, request.path, request.query)
        labels = request_labels(attrs, request.headers.get("Content-Type", ""))
        request.app[SERVER_METRICS].observe_request(labels, code, time.perf_counter() - started)
        if code >= 500:
            log.warning(
                "request failed: %s %s -> %d (%s)",
                request.method,
                request.path_qs,
                code,
                request.headers.get("User-Agent", "no user agent"),
            )


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


# Subresources that read and write the object itself through the verbs' handlers (get,
# update, patch), the registry keeping what each may change: ``status``, a pod's
# ``ephemeralcontainers`` (kubectl debug's patch), a namespace's ``finalize`` and a
# CertificateSigningRequest's ``approval`` (kubectl certificate approve|deny).
OBJECT_SUBRESOURCES = frozenset({"status", "ephemeralcontainers", "finalize", "approval"})


async def route(request: web.Request) -> web.StreamResponse:
    ctx: ApiContext = request.app[CONTEXT]
    info = request.match_info
    group, version = info.get("group", ""), info.get("version", "v1")
    t = parse(group, version, info.get("tail", "").split("/"))
    m = request.method
    if t.subresource and t.subresource not in OBJECT_SUBRESOURCES:
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
    if fn is None or (t.subresource in OBJECT_SUBRESOURCES and m in ("POST", "DELETE")):
        raise method_not_allowed(m, t.kind.plural)
    return await fn(ctx, request, t)


def build_app(
    ctx: ApiContext,
    *,
    token: str | None = None,
    require_auth: bool = True,
    issuer: ServiceAccountIssuer | None = None,
    server_metrics: ServerMetrics | None = None,
    ui: WebView | None = None,
) -> web.Application:
    """``issuer`` signs and checks service-account tokens (an in-memory key if None);
    ``server_metrics`` counts requests for ``/metrics`` (a registry of its own if None);
    ``ui`` is the web view to mount (none if None)."""
    issuer = issuer or ServiceAccountIssuer.ephemeral()
    accounts = ServiceAccountAuthenticator(issuer=issuer, registry=ctx.registry, clock=ctx.clock)
    cookies = ui.authenticator if ui is not None else None
    auth = make_auth_middleware(
        token, require=require_auth, service_accounts=accounts, cookies=cookies
    )
    front = [ui.front.middleware] if ui is not None else []
    authz = authorization_middlewares(
        ctx.registry, enabled=require_auth, tokens=TokenAuthenticator(token, accounts)
    )
    app = web.Application(
        middlewares=[request_metrics, status_errors, *front, auth, *authz],
        client_max_size=4 * 1024 * 1024,
    )
    app[CONTEXT] = ctx
    app[ISSUER] = issuer
    app[SERVER_METRICS] = server_metrics or ServerMetrics()
    app[METRICS_SOURCE] = []
    app[OTHER_NODES] = []
    r = app.router
    for path, handler in (
        ("/version", discovery.version),
        ("/healthz", _ok),
        ("/livez", _ok),
        ("/readyz", _ok),
        ("/metrics", _metrics),
        ("/metrics/resource", _resource_metrics),
        ("/api", discovery.api_root),
        ("/apis", discovery.apis_root),
        ("/api/v1", discovery.core_v1),
        ("/openapi/v3", openapi.root),
        ("/openapi/v2", openapi.v2),
        (NODE_RESOURCE_METRICS, _resource_metrics),
    ):
        r.add_get(path, handler)
        r.add_get(path + "/", handler)
    r.add_get("/openapi/v3/{path:.+}", openapi.document_handler)
    r.add_route("*", "/api/v1/{tail:.+}", route)
    metrics_api.add_routes(r)
    r.add_get("/apis/{group}", discovery.group_info)
    r.add_get("/apis/{group}/", discovery.group_info)
    r.add_get("/apis/{group}/{version}", discovery.group_version)
    r.add_get("/apis/{group}/{version}/", discovery.group_version)
    r.add_route("*", "/apis/{group}/{version}/{tail:.+}", route)
    if ui is not None:
        ui.add_routes(r)
    return app


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


# The kubelet's resource metrics as a cluster's API server proxies them to the node.
NODE_RESOURCE_METRICS = "/api/v1/nodes/{node}/proxy/metrics/resource"


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[SERVER_METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def _resource_metrics(request: web.Request) -> web.Response:
    node = request.match_info.get("node")
    ctx = request.app[CONTEXT]
    if node is not None:  # the node must exist, as the API server's proxy looks it up first
        await ctx.registry.get(NODES, "", node)
        if ctx.nodes is not None and not ctx.nodes.is_local(node):  # that node's server's
            return await nodeproxy.get(ctx.nodes, node, "/metrics/resource")
    source = source_of(request)
    scrape = None
    if source is not None:
        try:
            scrape = await source.scrape()
        except (OSError, KubeliteError) as err:
            log.warning("resource metrics scrape failed: %s", err)
    if scrape is not None and node is not None and node != scrape.node_name:
        scrape = None  # another node's: not this one's to answer
    return web.Response(body=resource_exposition(scrape), headers={"Content-Type": CONTENT_TYPE})


IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)  # Linux: bind an address not (yet) local


def is_wildcard(host: str) -> bool:
    try:
        return not host or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def freebind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``, which may not exist yet (the node agent makes the
    pod network's bridge later): IP_FREEBIND lets the bind succeed before the address does."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class ApiServer:
    """Owns the HTTP listener and the registry's background loops (namespace reaper, event
    expiry, Service reservation repair, store maintenance), which run in one TaskGroup inside
    one task: a loop that fails ends the others, and ``stop`` raises its error. ``start``
    returns once kubectl can connect; ``stop`` closes everything.

    ``pod_gateway`` is the node's address on the pod network: the server listens there too
    (same port), so pods reach it through the ``kubernetes`` Service, whose endpoints point
    there. ``service_network`` holds the ranges Services are allocated from;
    ``service_account_issuer`` signs and checks service-account tokens (a key kept in memory
    only when None). ``ui`` is the web view, off until enabled (``kubelite up``)."""

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
        service_network: ServiceNetwork | None = None,
        pod_gateway: str | None = None,
        service_account_issuer: ServiceAccountIssuer | None = None,
        tune_gc: bool = False,
    ) -> None:
        self.store = store
        self._tune_gc = tune_gc  # the process is this server's: tune its collector at start
        self.clock = clock or SystemClock()
        self.registry = Registry(
            store=store, clock=self.clock, kinds=catalog.ALL_KINDS, service_network=service_network
        )
        self.pod_gateway = pod_gateway
        self.context = ApiContext(self.registry, self.clock, logs, exec_backend)
        self.issuer = service_account_issuer or ServiceAccountIssuer.ephemeral()
        self.metrics = ServerMetrics()
        self.ui = WebView(registry=self.registry, clock=self.clock, authorize=require_auth)
        self.app = build_app(
            self.context, token=token, require_auth=require_auth, issuer=self.issuer,
            server_metrics=self.metrics, ui=self.ui,
        )  # fmt: skip
        self._host, self._port, self._ssl = host, port, ssl_context
        self._runner: web.AppRunner | None = None
        self._background: asyncio.Task[None] | None = None
        self.port = port

    def set_backends(
        self,
        *,
        logs: LogSource | None = None,
        exec_backend: ExecBackend | None = None,
        metrics: MetricsSource | None = None,
        nodes: NodeConnector | None = None,
        other_nodes: OtherNodes | None = None,
    ) -> None:
        """Plug in the node side later (the agent may start after the API server): this
        node's logs, exec and metrics, and how other nodes' servers are reached (``nodes``)
        and scraped (``other_nodes``)."""
        if logs is not None:
            self.context.logs = logs
        if exec_backend is not None:
            self.context.exec = exec_backend
        if metrics is not None:
            self.app[METRICS_SOURCE][:] = [metrics]
        if nodes is not None:
            self.context.nodes = nodes
        if other_nodes is not None:
            self.app[OTHER_NODES][:] = [other_nodes]

    async def start(self) -> None:
        self._runner = LimitedAppRunner(  # request line and header limits (httplimits)
            self.app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port, ssl_context=self._ssl)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        await self._listen_on_pod_network()
        api = ApiAddress(self.pod_gateway, self.port) if self.pod_gateway else None
        await bootstrap(self.registry, api=api)
        if self._tune_gc:
            tune_gc_for_server()
        self._background = asyncio.create_task(self._run_background(), name="api-background")

    async def _run_background(self) -> None:
        """The registry's loops, until ``stop`` cancels them (or one of them fails)."""
        repair = ServiceReservationRepair(
            store=self.store, clock=self.clock, network=self.registry.service_network
        )
        maintain = getattr(self.store, "maintain", None)  # a durable store compacts itself
        aggregator = ClusterRoleAggregator(registry=self.registry)
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(NamespaceReaper(registry=self.registry).run(), name="ns-reaper")
                tg.create_task(EventExpiry(registry=self.registry).run(), name="event-expiry")
                tg.create_task(repair.run(), name="service-reservation-repair")
                tg.create_task(aggregator.run(), name="clusterrole-aggregation")
                starts = PodStartWatch(registry=self.registry, metrics=self.metrics)
                tg.create_task(starts.run(), name="pod-start-metrics")
                if maintain is not None:
                    tg.create_task(maintain(), name="store-maintenance")
        except Exception:
            log.exception("a background loop of the API server failed; the others stopped")
            raise

    async def _listen_on_pod_network(self) -> None:
        gateway = self.pod_gateway
        if not gateway or is_wildcard(self._host) or gateway == self._host:
            return
        assert self._runner is not None
        try:
            sock = freebind_socket(gateway, self.port)
        except OSError as exc:  # pods will not reach the API; everything else works
            log.warning("cannot listen on the pod network at %s:%d: %s", gateway, self.port, exc)
            return
        await web.SockSite(self._runner, sock, ssl_context=self._ssl).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        background, self._background = self._background, None
        if background is not None:
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
