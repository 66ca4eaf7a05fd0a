"""The node's server: HTTPS on the node's address and the kubelet port (10250 by default),
serving ``handlers`` behind ``auth``, once the serving certificate is there.

``NodeServer.run`` lives as long as the agent: it keeps the certificate (``servingcert``),
listens as soon as it has one (before that nothing listens, so the API server reads
``connect: connection refused`` where the kubelet's TLS would say ``tls: internal error``),
and stops listening when cancelled. Pods are looked up through the API as this node
(``ApiPodLookup``: get, which the Node authorizer allows for pods bound to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from aiohttp import web

from kubelite.api.metrics import MetricsSource
from kubelite.client.rest import PODS, ApiClient, ApiError
from kubelite.clock import Clock
from kubelite.nodeserver import handlers
from kubelite.nodeserver.auth import NodeAuth, Reviewer, plain

log = logging.getLogger(__name__)

DEFAULT_PORT = 10250


class Certificate(Protocol):
    """The server's TLS context, ``ready`` once it holds a certificate; ``run`` keeps it."""

    context: Any  # ssl.SSLContext
    ready: asyncio.Event

    async def run(self) -> None: ...


class ApiPodLookup:
    """Pods bound to this node, read from the API with the node's credentials."""

    def __init__(self, client: ApiClient, node_name: str) -> None:
        self._client = client
        self._node = node_name

    async def pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            pod = await self._client.get(PODS, namespace, name)
        except ApiError as err:
            if err.status in (403, 404):  # the Node authorizer: not bound here
                return None
            raise
        if (pod.get("spec") or {}).get("nodeName") != self._node:
            return None
        return pod


@web.middleware
async def _errors(request: web.Request, handler: handlers.Handler) -> web.StreamResponse:
    """A failure is a plain-text 500 (the kubelet's responder), never a traceback page."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return plain(exc.status, exc.reason)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception as exc:
        log.exception("node server: %s %s failed", request.method, request.path)
        return plain(500, str(exc))


def build_app(
    *, auth: NodeAuth, pods: handlers.PodLookup, streams: handlers.NodeBackend,
    metrics: MetricsSource | None,
) -> web.Application:  # fmt: skip
    app = web.Application(middlewares=[_errors, auth.middleware])
    app[handlers.NODE_STREAMS] = handlers.NodeStreamsDeps(
        pods=pods, streams=streams, metrics=metrics
    )
    handlers.add_routes(app.router)
    return app


class NodeServer:
    """``reviewer`` and ``pods`` reach the API as this node (its ``ApiClient`` and an
    ``ApiPodLookup`` on it)."""

    def __init__(
        self, *, node_name: str, host: str, port: int, certificate: Certificate,
        reviewer: Reviewer, pods: handlers.PodLookup, streams: handlers.NodeBackend,
        metrics: MetricsSource | None, clock: Clock,
    ) -> None:  # fmt: skip
        self.node_name = node_name
        self.host = host
        self.port = port
        self._certificate = certificate
        auth = NodeAuth(client=reviewer, node_name=node_name, clock=clock)
        self.app = build_app(auth=auth, pods=pods, streams=streams, metrics=metrics)
        self.serving = asyncio.Event()

    async def run(self) -> None:
        """Serve until cancelled. Raises OSError if the port cannot be had."""
        runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None,
                               shutdown_timeout=1.0)  # fmt: skip
        await runner.setup()
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._certificate.run(), name="node-serving-certificate")
                await self._certificate.ready.wait()
                site = web.TCPSite(
                    runner, self.host, self.port, ssl_context=self._certificate.context
                )
                try:
                    await site.start()
                except OSError as err:
                    log.error("cannot serve the kubelet API on %s:%d: %s", self.host,
                              self.port, err)  # fmt: skip
                    raise
                server = getattr(site, "_server", None)
                if server is not None and server.sockets:
                    self.port = server.sockets[0].getsockname()[1]
                log.info("serving the kubelet API on https://%s:%d", self.host, self.port)
                self.serving.set()
                await asyncio.Event().wait()
        finally:
            with contextlib.suppress(Exception):
                await runner.cleanup()
