"""Streams of pods on other nodes: the API server hands the client's request to the pod's
node's server and passes the bytes through, as its upgrade-aware proxy does.

* exec, attach, port-forward (``upgrade``): the request goes to ``/exec|attach/<ns>/<pod>/
  <container>`` or ``/portForward/<ns>/<pod>`` with the options as the API server encodes them
  and the client's upgrade headers (WebSocket or SPDY, whichever it offered); the node's
  answer is relayed: a ``101 Switching Protocols`` with its headers, after which both
  connections are spliced byte for byte until one side ends (every protocol kubectl and the
  official clients speak then works end to end, the node speaking it), or its refusal
  (status, content type and body) as it is. A node that cannot be reached is a 500 ``error
  dialing backend: …``.
* logs (``logs``): ``GET /containerLogs/<ns>/<pod>/<container>?<options>``, streamed back as it
  comes (chunked when following); an error status becomes a Status as the API server's
  response checker makes it (``nodeerrors``); unreachable is ``Get "<url>": …``.
* ``get``: another GET passed through (``/api/v1/nodes/<node>/proxy/metrics/resource``).

The client's own credentials never reach the node: the API server presents its kubelet client
certificate (``nodeconn``), as upstream, which strips them after authenticating.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import hdrs, web

from kubelite.api.errors import ApiError
from kubelite.api.nodeconn import NodeAddress, NodeConnector, NodeUnreachable
from kubelite.api.nodeerrors import MAX_READ, log_response_error
from kubelite.api.remoteclient import Options
from kubelite.api.streams import LogOptions
from kubelite.api.tunnel import UpgradedPipe
from kubelite.clock import rfc3339

HEAD_LIMIT = 64 * 1024
CHUNK = 256 * 1024
LINGER = 1.0  # once one direction ends, the other gets this long to finish
# What of the client's request reaches the node: how to upgrade, and who is asking.
FORWARDED = (
    hdrs.CONNECTION, hdrs.UPGRADE, hdrs.SEC_WEBSOCKET_KEY, hdrs.SEC_WEBSOCKET_VERSION,
    hdrs.SEC_WEBSOCKET_PROTOCOL, hdrs.SEC_WEBSOCKET_EXTENSIONS, "X-Stream-Protocol-Version",
    hdrs.USER_AGENT, hdrs.ACCEPT,
)  # fmt: skip
# What of the node's 101 reaches the client.
RELAYED = (
    hdrs.CONNECTION, hdrs.UPGRADE, hdrs.SEC_WEBSOCKET_ACCEPT, hdrs.SEC_WEBSOCKET_PROTOCOL,
    hdrs.SEC_WEBSOCKET_EXTENSIONS, "X-Stream-Protocol-Version",
)  # fmt: skip


# ---------------------------------------------------------------------------- the node's paths


def pod_path(what: str, pod: dict[str, Any], container: str = "") -> str:
    meta = pod["metadata"]
    parts = [what, meta.get("namespace", "default"), meta["name"]]
    if container:
        parts.append(container)
    return "/" + "/".join(quote(p, safe="") for p in parts)


def stream_query(opts: Options, command: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The API server's ``streamParams`` of an exec or attach."""
    asked = (("stdin", opts.stdin), ("stdout", opts.stdout), ("stderr", opts.stderr),
             ("tty", opts.tty))  # fmt: skip
    return [(name, "1") for name, on in asked if on] + [("command", c) for c in command]


def log_query(opts: LogOptions) -> list[tuple[str, str]]:
    """The options of a log request, as ``url.Values.Encode`` writes them (keys sorted)."""
    values: dict[str, str] = {}
    if opts.follow:
        values["follow"] = "true"
    if opts.previous:
        values["previous"] = "true"
    if opts.timestamps:
        values["timestamps"] = "true"
    if opts.since_seconds is not None:
        values["sinceSeconds"] = str(opts.since_seconds)
    if opts.since_time is not None:
        values["sinceTime"] = rfc3339(opts.since_time)
    if opts.tail_lines is not None:
        values["tailLines"] = str(opts.tail_lines)
    if opts.limit_bytes is not None:
        values["limitBytes"] = str(opts.limit_bytes)
    return sorted(values.items())


def _path_qs(path: str, query: list[tuple[str, str]]) -> str:
    return path + ("?" + urlencode(query) if query else "")


# ---------------------------------------------------------------------------- upgrades


@dataclass(frozen=True, slots=True)
class Head:
    status: int
    reason: str
    headers: list[tuple[str, str]]

    def get(self, name: str) -> str:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return ""


def request_head(request: web.Request, addr: NodeAddress, path_qs: str) -> bytes:
    lines = [f"{request.method} {path_qs} HTTP/1.1", f"Host: {addr.netloc}"]
    for name in FORWARDED:
        lines += [f"{name}: {value}" for value in request.headers.getall(name, [])]
    if request.method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_head(raw: bytes) -> Head:
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or not code.isdigit():
        raise ValueError(f"malformed HTTP response {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return Head(int(code), reason, headers)


async def _read_body(reader: asyncio.StreamReader, head: Head) -> bytes:
    """The body of a refusal (a length, chunks, or up to the end), at most ``MAX_READ``."""
    with contextlib.suppress(asyncio.IncompleteReadError, OSError, ValueError, TimeoutError):
        async with asyncio.timeout(10):
            if head.get("Content-Length"):
                return await reader.readexactly(min(int(head.get("Content-Length")), MAX_READ))
            if "chunked" in head.get("Transfer-Encoding").lower():
                out = b""
                while len(out) < MAX_READ:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    if size == 0:
                        break
                    out += await reader.readexactly(size)
                    await reader.readexactly(2)
                return out[:MAX_READ]
            return await reader.read(MAX_READ)
    return b""


class _Switching(web.StreamResponse):
    """A 101 without body framing: after it the connection is the node's protocol."""

    _length_check = False


async def upgrade(
    request: web.Request,
    nodes: NodeConnector,
    node_name: str,
    path: str,
    query: list[tuple[str, str]],
) -> web.StreamResponse:
    """Hand an upgrade request to the node and splice the two connections."""
    addr = await nodes.address(node_name)
    try:
        reader, writer = await nodes.dial(addr)
    except NodeUnreachable as exc:
        raise ApiError(500, "", f"error dialing backend: {exc}") from exc
    try:
        try:
            writer.write(request_head(request, addr, _path_qs(path, query)))
            await writer.drain()
            head = parse_head((await reader.readuntil(b"\r\n\r\n"))[:-4])
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError) as exc:  # fmt: skip
            raise ApiError(500, "", f"error dialing backend: {exc}") from exc
        if head.status != 101:
            body = await _read_body(reader, head)
            resp = web.Response(status=head.status, body=body)
            resp.headers[hdrs.CONTENT_TYPE] = head.get("Content-Type") or "text/plain"
            return resp
        return await _relay(request, head, reader, writer)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _relay(
    request: web.Request, head: Head, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> web.StreamResponse:
    response = _Switching(status=101, reason=head.reason or "Switching Protocols")
    for name in RELAYED:
        if value := head.get(name):
            response.headers[name] = value
    response.force_close()
    pipe = UpgradedPipe(request, response)  # the client's bytes are ours before it hears 101
    with contextlib.suppress(AttributeError):
        request.protocol.keep_alive(False)
    await response.prepare(request)

    async def up() -> None:
        while data := await pipe.read():
            writer.write(data)
            await writer.drain()

    async def down() -> None:
        while data := await reader.read(CHUNK):
            await pipe.write(data)

    tasks = [asyncio.create_task(up(), name="node-up"),
             asyncio.create_task(down(), name="node-down")]  # fmt: skip
    try:
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if pending:
            await asyncio.wait(pending, timeout=LINGER)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # a failed copy ends the session
        await pipe.close()
    return response


# ---------------------------------------------------------------------------- logs and GETs


async def log_chunks(
    nodes: NodeConnector, pod: dict[str, Any], opts: LogOptions
) -> AsyncIterator[bytes]:
    """A container's log from its node's server; an ApiError before the first chunk if the
    node cannot be reached or refuses."""
    addr = await nodes.address(str(pod["spec"]["nodeName"]))
    path_qs = _path_qs(pod_path("containerLogs", pod, opts.container), log_query(opts))
    try:
        resp = await nodes.get(addr, path_qs)
    except NodeUnreachable as exc:
        raise ApiError(500, "", f'Get "{addr.url(path_qs)}": {exc}') from exc
    try:
        if not 200 <= resp.status <= 206:
            text = (await resp.content.read(MAX_READ)).decode(errors="replace")
            raise ApiError(*log_response_error(resp.status, text, pod["metadata"]["name"]))
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            async for chunk in resp.content.iter_any():
                yield chunk
    finally:
        resp.release()


async def get(nodes: NodeConnector, node_name: str, path: str) -> web.Response:
    """A GET on the node's server, answered as the node answered (a 503 if unreachable)."""
    addr = await nodes.address(node_name)
    try:
        resp = await nodes.get(addr, path)
    except NodeUnreachable as exc:
        raise ApiError(503, "ServiceUnavailable", f"error trying to reach service: {exc}") from exc
    try:
        body = await resp.read()
    finally:
        resp.release()
    out = web.Response(status=resp.status, body=body)
    out.headers[hdrs.CONTENT_TYPE] = resp.headers.get(hdrs.CONTENT_TYPE, "text/plain")
    return out
