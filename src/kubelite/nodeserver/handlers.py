"""The node server's endpoints, as the kubelet serves them (its ``server.go``), served with the
API's own wire-protocol modules and the node's streams (``kubelite.nodestreams``):

* ``/containerLogs/{ns}/{pod}/{container}``: the log with the query's ``PodLogOptions``
  (``follow``, ``tailLines``, ``timestamps``, ``sinceSeconds``/``sinceTime``, ``previous``,
  ``limitBytes``; ``tail`` as the old spelling of ``tailLines``), chunked;
* ``/exec/{ns}/{pod}[/{uid}]/{container}`` and ``/attach/…`` (GET or POST, upgraded:
  WebSocket channels or SPDY, ``remotecommand``) with ``command``/``stdin``/``stdout``/
  ``stderr``/``tty``;
* ``/portForward/{ns}/{pod}[/{uid}]`` (``portforward.answer``);
* ``/metrics/resource`` (the node's samples, ``metrics_prom``) and ``/healthz``.

A pod is looked up by namespace and name among those bound to this node (``PodLookup``: the
API, read as this node). The kubelet's refusals are its plain texts: ``pod does not exist``
(404), ``pod "web" does not exist`` and ``container "x" not found in pod "web"`` for logs
(404), ``{"message": "Invalid request."}`` (422) and ``{"message": "Unable to decode
query."}`` (400) for log options, a container that cannot serve its log a 400 with the
node's reason.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from kubelite.api import attach, execws, portforward, remotecommand, streamtarget
from kubelite.api import logs as api_logs
from kubelite.api.errors import ApiError
from kubelite.api.metrics import MetricsSource
from kubelite.api.metrics_prom import CONTENT_TYPE, resource_exposition
from kubelite.api.streams import (
    AttachRequest,
    ExecBackend,
    ExecRequest,
    LogSource,
    PortDialer,
    RemoteProcess,
    StreamUnavailable,
)
from kubelite.errors import KubeliteError
from kubelite.nodeserver.auth import plain

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PodLookup(Protocol):
    async def pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The pod if it exists and is bound to this node."""
        ...


class NodeBackend(LogSource, ExecBackend, Protocol):
    """This node's logs, exec, attach and port-forward (``nodestreams.NodeStreams``)."""


class NodeStreamsDeps:
    def __init__(
        self, *, pods: PodLookup, streams: NodeBackend, metrics: MetricsSource | None
    ) -> None:
        self.pods = pods
        self.streams = streams
        self.metrics = metrics


NODE_STREAMS: web.AppKey[NodeStreamsDeps] = web.AppKey("kubelite_node_streams", NodeStreamsDeps)


def _deps(request: web.Request) -> NodeStreamsDeps:
    return request.app[NODE_STREAMS]


def add_routes(router: web.UrlDispatcher) -> None:
    for method in ("GET", "POST"):
        for what, handler in (("exec", exec_), ("attach", attach_)):
            router.add_route(method, f"/{what}/{{ns}}/{{pod}}/{{container}}", handler)
            router.add_route(method, f"/{what}/{{ns}}/{{pod}}/{{uid}}/{{container}}", handler)
        router.add_route(method, "/portForward/{ns}/{pod}", port_forward)
        router.add_route(method, "/portForward/{ns}/{pod}/{uid}", port_forward)
    router.add_get("/containerLogs/{ns}/{pod}/{container}", container_logs)
    router.add_get("/metrics/resource", resource_metrics)
    router.add_get("/healthz", healthz)


async def _pod(request: web.Request) -> dict[str, Any] | None:
    info = request.match_info
    return await _deps(request).pods.pod(info["ns"], info["pod"])


# ---------------------------------------------------------------------------- logs


def _log_query(request: web.Request, container: str) -> dict[str, str]:
    query = {k: v for k, v in request.query.items() if k != "tail"}
    tail = request.query.get("tail", "")
    if tail and tail != "all":
        query["tailLines"] = tail
    query["container"] = container
    return query


async def container_logs(request: web.Request) -> web.StreamResponse:
    info = request.match_info
    pod = await _pod(request)
    if pod is None:
        return plain(404, f'pod "{info["pod"]}" does not exist')
    container = info["container"]
    if container not in streamtarget.container_names(pod):
        return plain(404, f'container "{container}" not found in pod "{info["pod"]}"')
    try:
        opts = api_logs.log_options(pod, _log_query(request, container))
    except ApiError as exc:
        if exc.code == 422:
            return plain(422, '{"message": "Invalid request."}')
        return plain(400, '{"message": "Unable to decode query."}')
    try:
        chunks = _deps(request).streams.stream(pod, opts)
        iterator = aiter(chunks)
        first = await anext(iterator, b"")
    except StreamUnavailable as exc:
        return plain(400, str(exc))
    return await api_logs.write_log(request, chunks, iterator, first, opts)


# ---------------------------------------------------------------------------- exec, attach


async def exec_(request: web.Request) -> web.StreamResponse:
    opts = streamtarget.options_of(request.query)
    if isinstance(opts, web.Response):
        return opts
    pod = await _pod(request)
    if pod is None:
        return plain(404, "pod does not exist")
    command = request.query.getall("command", [])
    req = ExecRequest(pod, request.match_info["container"], list(command), opts.stdin,
                      opts.stdout, opts.stderr, opts.tty)  # fmt: skip
    streams = _deps(request).streams

    async def open_process() -> RemoteProcess:
        return await streams.exec(req)

    return await _serve(request, opts, open_process, execws.exit_status(req.command))


async def attach_(request: web.Request) -> web.StreamResponse:
    opts = streamtarget.options_of(request.query)
    if isinstance(opts, web.Response):
        return opts
    pod = await _pod(request)
    if pod is None:
        return plain(404, "pod does not exist")
    container = request.match_info["container"]
    req = AttachRequest(pod, container, opts.stdin, opts.stdout, opts.stderr, opts.tty)
    streams = _deps(request).streams

    async def open_process() -> RemoteProcess:
        return await streams.attach(req)

    return await _serve(request, opts, open_process, attach.session_status)


async def _serve(request: web.Request, opts: Any, open_process: remotecommand.Opener,
                 status_of: remotecommand.StatusOf) -> web.StreamResponse:  # fmt: skip
    try:
        return await remotecommand.serve(request, opts, open_process, status_of)
    except ApiError as exc:  # not an upgrade
        return plain(exc.code, exc.message)


# ---------------------------------------------------------------------------- port-forward


async def port_forward(request: web.Request) -> web.StreamResponse:
    pod = await _pod(request)
    if pod is None:
        return plain(404, "pod does not exist")
    uid = request.match_info.get("uid")
    if uid and uid != (pod.get("metadata") or {}).get("uid"):
        return plain(404, "pod not found")
    streams = _deps(request).streams

    async def dialer() -> PortDialer:
        return await streams.port_forward(pod)

    return await portforward.answer(request, dialer)


# ---------------------------------------------------------------------------- the rest


async def resource_metrics(request: web.Request) -> web.Response:
    metrics = _deps(request).metrics
    scrape = None
    if metrics is not None:
        try:
            scrape = await metrics.scrape()
        except (OSError, KubeliteError) as err:
            log.warning("resource metrics scrape failed: %s", err)
    return web.Response(body=resource_exposition(scrape), headers={"Content-Type": CONTENT_TYPE})


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")
