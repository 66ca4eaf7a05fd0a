"""``GET pods/<name>/log``: plain text, streamed (chunked) with ``follow=true``.

The container name is checked here (``container "x" is not valid for pod "y"`` would be
kubectl's own check; the server's is a 400); the bytes come from the node's ``LogSource``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kubelite.api import params
from kubelite.api.context import ApiContext
from kubelite.api.errors import ApiError, bad_request
from kubelite.api.paths import Target
from kubelite.api.streams import LogOptions, StreamUnavailable
from kubelite.clock import parse_rfc3339
from kubelite.store.interface import NotFound


def container_names(pod: dict[str, Any]) -> list[str]:
    spec = pod.get("spec", {})
    return [
        c.get("name", "")
        for key in ("containers", "initContainers", "ephemeralContainers")
        for c in spec.get(key) or []
    ]


def default_container(pod: dict[str, Any]) -> str:
    ann = pod.get("metadata", {}).get("annotations") or {}
    if ann.get("kubectl.kubernetes.io/default-container"):
        return str(ann["kubectl.kubernetes.io/default-container"])
    containers = pod.get("spec", {}).get("containers") or []
    return str(containers[0].get("name", "")) if containers else ""


def log_options(pod: dict[str, Any], query: Mapping[str, str]) -> LogOptions:
    name = pod["metadata"]["name"]
    container = query.get("container") or ""
    if not container:
        if len(pod.get("spec", {}).get("containers") or []) != 1:
            names = " ".join(container_names(pod))
            raise bad_request(
                f"a container name must be specified for pod {name}, choose one of: [{names}]"
            )
        container = default_container(pod)
    if container not in container_names(pod):
        raise bad_request(f"container {container} is not valid for pod {name}")
    since_time = None
    if query.get("sinceTime"):
        try:
            since_time = parse_rfc3339(query["sinceTime"])
        except ValueError as exc:
            raise bad_request(f"invalid sinceTime: {query['sinceTime']!r}") from exc
    return LogOptions(
        container=container,
        follow=params.flag(query, "follow"),
        previous=params.flag(query, "previous"),
        timestamps=params.flag(query, "timestamps"),
        tail_lines=params.integer(query, "tailLines"),
        since_seconds=params.integer(query, "sinceSeconds"),
        since_time=since_time,
        limit_bytes=params.integer(query, "limitBytes"),
    )


async def serve(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    try:
        pod = await ctx.registry.get(t.kind, t.namespace, t.name)
    except NotFound as exc:
        raise ApiError(
            404,
            "NotFound",
            f'pods "{t.name}" not found in namespace "{t.namespace}"',
            {"name": t.name, "kind": "pods"},
        ) from exc
    opts = log_options(pod, request.query)
    if ctx.logs is None:
        raise bad_request(
            f'container "{opts.container}" in pod "{t.name}" is waiting to start: '
            "no node agent is serving logs"
        )
    chunks = ctx.logs.stream(pod, opts)
    iterator = aiter(chunks)
    try:
        first = await anext(iterator, b"")
    except StreamUnavailable as exc:
        raise bad_request(str(exc)) from exc
    resp = web.StreamResponse(status=200)
    resp.content_type = "text/plain"
    if opts.follow:
        resp.enable_chunked_encoding()
    await resp.prepare(request)
    sent = 0
    limit = opts.limit_bytes
    with contextlib.suppress(ConnectionResetError):
        chunk = first
        while chunk:
            if limit is not None:
                chunk = chunk[: max(0, limit - sent)]
            if chunk:
                await resp.write(chunk)
                sent += len(chunk)
            if limit is not None and sent >= limit:
                break
            chunk = await anext(iterator, b"")
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await resp.write_eof()
    return resp
