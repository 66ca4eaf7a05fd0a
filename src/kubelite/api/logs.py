"""``GET pods/<name>/log``: plain text, streamed (chunked) with ``follow=true``.

Checked as the API server checks it: the container (a 400), the options
(``ValidatePodLogOptions``: a 422 ``PodLogOptions`` Invalid), an unscheduled pod (an empty
log). The bytes come from the node's ``LogSource``; its refusals (``container "app" in pod
"web" is waiting to start: PodInitializing``, ``previous terminated container "app" in pod
"web" not found``) are the kubelet's 400s, passed on as BadRequest. Never a 500, but for a
pod on another node whose server cannot be reached (``nodeproxy.log_chunks``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp import web

from kubelite.api import nodeproxy, params
from kubelite.api.context import ApiContext
from kubelite.api.errors import ApiError, bad_request
from kubelite.api.paths import Target
from kubelite.api.streams import LogOptions, StreamUnavailable
from kubelite.api.streamtarget import container_of, remote_node
from kubelite.clock import parse_rfc3339
from kubelite.store.interface import NotFound

_ONE_SINCE = "at most one of `sinceTime` or `sinceSeconds` may be specified"


def _int(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise bad_request(f'strconv.ParseInt: parsing "{raw}": invalid syntax') from exc


def _invalid(pod_name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 for PodLogOptions, as ``ValidatePodLogOptions`` words it: (field, reason, text)."""
    lines = [f"{path}: {text}" for path, _, text in causes]
    message = f'PodLogOptions "{pod_name}" is invalid: ' + (
        lines[0] if len(lines) == 1 else "[" + ", ".join(lines) + "]"
    )
    details = {
        "name": pod_name,
        "kind": "PodLogOptions",
        "causes": [{"reason": r, "message": t, "field": f} for f, r, t in causes],
    }
    return ApiError(422, "Invalid", message, details)


def log_options(pod: dict[str, Any], query: Mapping[str, str]) -> LogOptions:
    name = pod["metadata"]["name"]
    container = container_of(pod, query.get("container") or "")
    since_time = None
    if query.get("sinceTime"):
        raw = query["sinceTime"]
        try:
            since_time = parse_rfc3339(raw)
        except ValueError as exc:
            raise bad_request(
                f'parsing time "{raw}" as "2006-01-02T15:04:05Z07:00": cannot parse "{raw}" '
                'as "2006"'
            ) from exc
    tail, since, limit = (
        _int(query, "tailLines"),
        _int(query, "sinceSeconds"),
        _int(query, "limitBytes"),
    )
    causes: list[tuple[str, str, str]] = []
    if tail is not None and tail < 0:
        causes.append(("tailLines", "FieldValueInvalid",
                       f"Invalid value: {tail}: must be greater than or equal to 0"))  # fmt: skip
    if limit is not None and limit < 1:
        causes.append(("limitBytes", "FieldValueInvalid",
                       f"Invalid value: {limit}: must be greater than 0"))  # fmt: skip
    if since is not None and since_time is not None:
        causes.append(("", "FieldValueForbidden", f"Forbidden: {_ONE_SINCE}"))
    elif since is not None and since < 1:
        causes.append(("sinceSeconds", "FieldValueInvalid",
                       f"Invalid value: {since}: must be greater than 0"))  # fmt: skip
    if causes:
        raise _invalid(name, causes)
    return LogOptions(
        container=container,
        follow=params.flag(query, "follow"),
        previous=params.flag(query, "previous"),
        timestamps=params.flag(query, "timestamps"),
        tail_lines=tail,
        since_seconds=since,
        since_time=since_time,
        limit_bytes=limit,
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
    if not (pod.get("spec") or {}).get("nodeName"):
        return web.Response(status=200, body=b"", content_type="text/plain")  # no node: no log
    node = remote_node(ctx, pod)
    if node is None and ctx.logs is None:
        raise bad_request(
            f'container "{opts.container}" in pod "{t.name}" is waiting to start: '
            "no node agent is serving logs"
        )
    try:
        if node is not None and ctx.nodes is not None:
            chunks = nodeproxy.log_chunks(ctx.nodes, pod, opts)  # refuses at the first byte
        else:
            assert ctx.logs is not None
            chunks = ctx.logs.stream(pod, opts)  # a source may refuse here or at the first byte
        iterator = aiter(chunks)
        first = await anext(iterator, b"")
    except StreamUnavailable as exc:
        raise bad_request(str(exc)) from exc
    return await write_log(request, chunks, iterator, first, opts)


async def write_log(
    request: web.Request,
    chunks: AsyncIterator[bytes],
    iterator: AsyncIterator[bytes],
    first: bytes,
    opts: LogOptions,
) -> web.StreamResponse:
    """Answer 200 with the log: ``first``, then the rest of ``iterator`` (chunked when
    following), at most ``limitBytes``; ``chunks`` is closed at the end (shared with the
    node's server)."""
    resp = web.StreamResponse(status=200)
    resp.content_type = "text/plain"
    if opts.follow:
        resp.enable_chunked_encoding()
    await resp.prepare(request)
    sent = 0
    limit = opts.limit_bytes
    with contextlib.suppress(ConnectionResetError, StreamUnavailable):  # headers are out
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
