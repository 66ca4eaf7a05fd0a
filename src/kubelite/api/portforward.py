"""``pods/<name>/portforward``: TCP connections to a pod's ports, three ways.

* SPDY/3.1 (kubectl): one session, and per local connection a pair of streams (``streamtype``
  ``error`` and ``data``, the same ``port`` and ``requestid``), paired as the kubelet pairs
  them; many connections and ports share the session. Carried by the WebSocket tunnel
  (subprotocol ``SPDY/3.1+portforward.k8s.io``, kubectl 1.31+) or a plain
  ``Upgrade: SPDY/3.1`` (older kubectl, and the fallback).
* WebSocket ``v4.channel.k8s.io`` (the Python client): the ports are in the query; port i
  has data channel 2i and error channel 2i+1, each opened by the server with the port number
  (two bytes, little-endian); one connection per port for the WebSocket's life.

Each forwarded connection copies both ways as containerd does: when one direction ends, the
other gets a second to finish, then both are closed. A port that cannot be reached reports
the kubelet's message on the error stream (kubectl prints it and drops the session). A pod on
another node is its node server's to serve (``nodeproxy``: the bytes pass through).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from kubelite.api import channels, nodeproxy, spdy, streamtarget, tunnel
from kubelite.api.context import ApiContext
from kubelite.api.paths import Target
from kubelite.api.remotecommand import kubelet_error
from kubelite.api.spdysession import SpdySession, SpdyStream
from kubelite.api.streams import PortDialer, StreamUnavailable

log = logging.getLogger(__name__)

TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
SPDY_PROTOCOL = "portforward.k8s.io"
WS_PROTOCOLS = (channels.V4, channels.V4_BASE64)
LINGER = 1.0  # containerd: once one direction ends, the other gets this long
STREAM_CREATION_TIMEOUT = 30.0
CHUNK = 256 * 1024


def parse_port(text: str) -> int | str:
    """The port, or the kubelet's complaint about it (Go's strconv wording)."""
    if not text.isdigit() or int(text) > 65535:
        why = "invalid syntax" if not text.isdigit() else "value out of range"
        return f'unable to parse "{text}" as a port: strconv.ParseUint: parsing "{text}": {why}'
    port = int(text)
    if port < 1:
        return f'port "{text}" must be > 0'
    return port


def check_stream(headers: spdy.Headers) -> str | None:
    """The kubelet's checks on a new stream; why it is refused, or None."""
    port = spdy.header(headers, "port")
    if not port:
        return '"port" header is required'
    parsed = parse_port(port)
    if isinstance(parsed, str):
        return parsed
    kind = spdy.header(headers, "streamtype")
    if not kind:
        return '"streamType" header is required'
    if kind not in ("error", "data"):
        return f'invalid stream type "{kind}"'
    return None


# ---------------------------------------------------------------------------- copying


async def forward(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    receive: Callable[[], Awaitable[bytes]],
    send: Callable[[bytes], Awaitable[None]],
    send_eof: Callable[[], Awaitable[None]],
) -> None:
    """Copy client bytes (``receive``, b"" at their end) to the pod and the pod's to the
    client until one direction ends, then give the other ``LINGER`` seconds."""

    async def up() -> None:
        while data := await receive():
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    async def down() -> None:
        while data := await reader.read(CHUNK):
            await send(data)
        await send_eof()

    tasks = [asyncio.create_task(up(), name="pf-up"), asyncio.create_task(down(), name="pf-down")]
    try:
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if pending:
            await asyncio.wait(pending, timeout=LINGER)
    finally:
        writer.close()  # first: a second cancellation must not leave the pod's socket open
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # errors end a copy, no more
        with contextlib.suppress(Exception):
            await writer.wait_closed()


# ---------------------------------------------------------------------------- SPDY


@dataclass(slots=True)
class _Pair:
    request_id: str
    data: SpdyStream | None = None
    error: SpdyStream | None = None
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, stream: SpdyStream) -> str | None:
        if stream.header("streamtype") == "error":
            if self.error is not None:
                return "error stream already assigned"
            self.error = stream
            stream.abandon()  # only written to: the client half-closes it at once
        else:
            if self.data is not None:
                return "data stream already assigned"
            self.data = stream
        if self.error is not None and self.data is not None:
            self.complete.set()
        return None

    async def print_error(self, message: str) -> None:
        if self.error is not None:
            with contextlib.suppress(ConnectionError):
                await self.error.write(message.encode())


def _request_id(stream: SpdyStream) -> str:
    """``requestid``; for old clients without it, derived from the stream ids (the error
    stream's id, the data stream's minus 2) as the kubelet does."""
    rid = stream.header("requestid")
    if rid:
        return rid
    if stream.header("streamtype") == "error":
        return str(stream.id)
    return str(stream.id - 2)


async def _serve_pair(pair: _Pair, dialer: PortDialer) -> None:
    data, error = pair.data, pair.error
    assert data is not None and error is not None
    port = int(data.header("port"))
    try:
        try:
            reader, writer = await dialer.connect(port)
        except StreamUnavailable as exc:
            await pair.print_error(str(exc))
        else:
            await forward(reader, writer, data.read, data.write, data.close)
    finally:
        for stream in (data, error):
            stream.abandon()
            await stream.close()


async def _monitor(pair: _Pair, pairs: dict[str, _Pair], session_id: int) -> None:
    try:
        async with asyncio.timeout(STREAM_CREATION_TIMEOUT):
            await pair.complete.wait()
    except TimeoutError:
        await pair.print_error(
            f"(conn={session_id:#x}, request={pair.request_id}) timed out waiting for streams"
        )
        for stream in (pair.data, pair.error):
            if stream is not None:
                stream.abandon()  # nobody will read it: it must not hold the session
                await stream.reset()
    if pairs.get(pair.request_id) is pair:
        del pairs[pair.request_id]


async def serve_spdy(pipe: tunnel.BytePipe, dialer: PortDialer) -> None:
    """One port-forward session: streams paired by request, each pair a connection."""
    session = SpdySession(pipe, accept=check_stream)
    pairs: dict[str, _Pair] = {}
    work: set[asyncio.Task[None]] = set()
    async with asyncio.TaskGroup() as tg:
        reader = tg.create_task(session.serve(), name="pf-spdy-reader")
        try:
            while (stream := await session.next_stream()) is not None:
                rid = _request_id(stream)
                pair = pairs.get(rid)
                if pair is None:
                    pair = pairs[rid] = _Pair(rid)
                    work.add(tg.create_task(_monitor(pair, pairs, id(session)), name="pf-monitor"))
                problem = pair.add(stream)
                if problem is not None:
                    await pair.print_error(f"error processing stream for request {rid}: {problem}")
                elif pair.complete.is_set():
                    work.add(tg.create_task(_serve_pair(pair, dialer), name="pf-pair"))
                work = {task for task in work if not task.done()}
        finally:
            for task in work:
                task.cancel()
            await session.close()
            reader.cancel()


# ---------------------------------------------------------------------------- v4 channels


async def serve_channels(
    sock: channels.ChannelSocket, ports: list[int], dialer: PortDialer
) -> None:
    """The Python client's protocol: one connection per port for the WebSocket's life."""
    inbound: list[asyncio.Queue[bytes]] = [asyncio.Queue(maxsize=64) for _ in ports]
    for i, port in enumerate(ports):
        prefix = port.to_bytes(2, "little")
        await sock.send(2 * i, prefix)
        await sock.send(2 * i + 1, prefix)

    async def read_loop() -> None:
        try:
            while (msg := await sock.receive()) is not None:
                if msg.channel % 2 == 0 and msg.channel // 2 < len(ports) and msg.data:
                    await inbound[msg.channel // 2].put(msg.data)
        except channels.ChannelProtocolError:
            pass
        finally:
            for queue in inbound:
                await queue.put(b"")  # the end; blocks only while that port still reads

    async def one(i: int, port: int) -> None:
        async def send(data: bytes) -> None:
            await sock.send(2 * i, data)

        async def nothing() -> None:
            return None

        try:
            reader, writer = await dialer.connect(port)
        except StreamUnavailable as exc:
            with contextlib.suppress(ConnectionError):
                await sock.send(2 * i + 1, str(exc).encode())
            return
        await forward(reader, writer, inbound[i].get, send, nothing)

    async with asyncio.TaskGroup() as tg:
        reader = tg.create_task(read_loop(), name="pf-ws-reader")
        conns = [tg.create_task(one(i, port), name="pf-ws-port") for i, port in enumerate(ports)]
        await asyncio.wait(conns)
        reader.cancel()
    await sock.close()


# ---------------------------------------------------------------------------- the handler


async def serve(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    pod = await streamtarget.pod_of(ctx, t)
    streamtarget.require_upgrade(request)
    node = streamtarget.remote_node(ctx, pod)
    if node is not None and ctx.nodes is not None:  # the pod's node's server serves it
        values = request.query.getall("ports", []) + request.query.getall("port", [])
        query = [("port", ",".join(values))] if values else []
        path = nodeproxy.pod_path("portForward", pod)
        return await nodeproxy.upgrade(request, ctx.nodes, node, path, query)
    backend = streamtarget.backend_of(ctx, "port-forward", "", t.name)

    async def dialer() -> PortDialer:
        return await backend.port_forward(pod)

    return await answer(request, dialer)


async def answer(
    request: web.Request, open_dialer: Callable[[], Awaitable[PortDialer]]
) -> web.StreamResponse:
    """The kubelet's half: the protocol negotiated, the pod's dialer opened (its refusal a
    plain-text 500), then the session served (shared with the node's server)."""
    offered = tunnel.offered_protocols(request, "Sec-WebSocket-Protocol")
    ports: list[int] = []
    if tunnel.is_websocket(request) and TUNNEL_PROTOCOL not in offered:
        parsed = _query_ports(request.query.getall("ports", []) + request.query.getall("port", []))
        if isinstance(parsed, str):
            return kubelet_error(400, parsed)
        ports = parsed
    elif tunnel.is_spdy_upgrade(request):
        versions = tunnel.offered_protocols(request, "X-Stream-Protocol-Version")
        if versions and SPDY_PROTOCOL not in versions:
            return kubelet_error(
                403,
                f"unable to upgrade: unable to negotiate protocol: client supports "
                f"[{' '.join(versions)}], server accepts [{SPDY_PROTOCOL}]",
            )
    try:
        dialer = await open_dialer()
    except StreamUnavailable as exc:
        return kubelet_error(500, str(exc))
    if tunnel.is_spdy_upgrade(request):
        pipe = await tunnel.upgrade_spdy(request, SPDY_PROTOCOL)
        await serve_spdy(pipe, dialer)
        return pipe.response
    ws = channels.websocket((TUNNEL_PROTOCOL, *WS_PROTOCOLS))
    await ws.prepare(request)
    if ws.ws_protocol == TUNNEL_PROTOCOL:
        await serve_spdy(tunnel.WebSocketPipe(ws), dialer)
    else:
        codec = channels.ChannelCodec.for_protocol(ws.ws_protocol)
        await serve_channels(channels.ChannelSocket(ws, codec), ports, dialer)
    return ws


def _query_ports(values: list[str]) -> list[int] | str:
    if not values:
        return 'query parameter "port" is required'
    ports: list[int] = []
    for value in values:
        if not value:
            return 'query parameter "port" cannot be empty'
        for part in value.split(","):
            parsed = parse_port(part)
            if isinstance(parsed, str):
                return parsed.replace(f'"{part}"', f'"{value}"', 1)
            ports.append(parsed)
    return ports
