"""Exec and attach sessions: a node-side ``RemoteProcess`` wired to the client, over every
protocol kubectl and the official clients speak.

* WebSocket ``v5.channel.k8s.io`` (kubectl 1.30+): served as the API server's stream
  translator does. It upgrades first and only then reaches the node, so a node-side refusal
  arrives as a Status on the error channel: ``Internal error occurred: unable to upgrade
  connection: container not found ("app")``.
* WebSocket ``v4.channel.k8s.io`` and older, base64 variants (the Python client offers v5 and
  v4): served as the kubelet does. A refusal is its plain-text 500 before the upgrade.
* SPDY/3.1 (kubectl's fallback; ``v4``…``v1`` negotiated through ``X-Stream-Protocol-Version``):
  the client opens one stream per channel (``streamtype`` header), as the kubelet expects.

The session ends with the Status on the error channel (v4 and later: JSON; earlier: the
message of a failure) and the connection closing. A client that disappears ends an exec's
process (as containerd kills it) or detaches an attach.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from kubelite.api import channels, tunnel
from kubelite.api.errors import ApiError
from kubelite.api.remoteclient import (
    STDERR,
    STDOUT,
    STREAM_TYPES,
    Client,
    Options,
    SpdyClient,
    Status,
    WebSocketClient,
)
from kubelite.api.spdysession import SpdySession, SpdyStream
from kubelite.api.streams import RemoteProcess, StreamUnavailable

log = logging.getLogger(__name__)

WS_PROTOCOLS = (channels.V5, channels.V4, channels.V4_BASE64, channels.V1, channels.V1_BASE64)
SPDY_PROTOCOLS = ("v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io")
STREAM_CREATION_TIMEOUT = 30.0  # the kubelet's default

Opener = Callable[[], Awaitable[RemoteProcess]]
# The Status that ends a session, from the exit code; True when the API server's v5 stream
# translator stands between the client and the kubelet (it words exit codes its own way).
StatusOf = Callable[[int, bool], Status]


def kubelet_error(code: int, message: str) -> web.Response:
    """The kubelet answers refusals in plain text; the API server passes them on as they are."""
    return web.Response(status=code, text=message, content_type="text/plain")


# ---------------------------------------------------------------------------- statuses


def success() -> Status:
    return {"metadata": {}, "status": "Success"}


def internal_error(message: str) -> Status:
    return {
        "metadata": {}, "status": "Failure", "message": f"Internal error occurred: {message}",
        "reason": "InternalError", "details": {"causes": [{"message": message}]}, "code": 500,
    }  # fmt: skip


def exit_status(code: int, message: str) -> Status:
    """A command's non-zero exit, as the error channel carries it."""
    return {
        "metadata": {}, "status": "Failure",
        "message": f"command terminated with non-zero exit code: {message}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }  # fmt: skip


# ---------------------------------------------------------------------------- the pump


class ClientGone(Exception):
    """The client went away before the session ended."""


async def pump(process: RemoteProcess, client: Client, opts: Options) -> int:
    """Carry bytes both ways until the process's output ends; its exit code. The process is
    killed (an attach: detached) if the client goes first or anything fails."""

    async def feed_stdin() -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while (data := await client.next_input()) is not None:
                await process.write_stdin(data)
        with contextlib.suppress(ConnectionError, OSError):
            await process.close_stdin()

    async def feed_sizes() -> None:
        while (size := await client.next_size()) is not None:
            with contextlib.suppress(OSError):
                await process.resize(*size)

    async def copy(chunks: AsyncIterator[bytes], channel: int) -> None:
        async for data in chunks:
            await client.output(channel, data)

    async def outputs() -> None:
        await asyncio.gather(copy(process.stdout(), STDOUT), copy(process.stderr(), STDERR))

    finished = False
    try:
        async with asyncio.TaskGroup() as tg:
            helpers = [tg.create_task(feed_sizes(), name="remote-resize")]
            if opts.stdin:
                helpers.append(tg.create_task(feed_stdin(), name="remote-stdin"))
            out = tg.create_task(outputs(), name="remote-output")
            gone = tg.create_task(client.gone.wait(), name="remote-gone")
            await asyncio.wait((out, gone), return_when=asyncio.FIRST_COMPLETED)
            for task in (*helpers, gone):
                task.cancel()
            if not out.done():
                out.cancel()
                raise ClientGone()
        code = await process.wait()
        finished = True
        return code
    finally:
        if not finished:
            with contextlib.suppress(Exception):
                await process.kill()


# ---------------------------------------------------------------------------- serving


async def serve(request: web.Request, opts: Options, open_process: Opener,
                status_of: StatusOf) -> web.StreamResponse:  # fmt: skip
    """Serve one exec or attach request; ``open_process`` reaches the node (at the moment
    the protocol calls for), ``status_of`` words the Status that ends the session."""
    if tunnel.is_websocket(request):
        return await _serve_websocket(request, opts, open_process, status_of)
    if tunnel.is_spdy_upgrade(request):
        return await _serve_spdy(request, opts, open_process, status_of)
    raise ApiError(400, "BadRequest", "Upgrade request required")


def _negotiate_websocket(request: web.Request) -> str | web.Response | None:
    offered = tunnel.offered_protocols(request, "Sec-WebSocket-Protocol")
    if not offered:
        return None
    for protocol in offered:
        if protocol in WS_PROTOCOLS:
            return protocol
    return kubelet_error(
        400, f"requested protocol(s) are not supported: {offered}; supports {list(WS_PROTOCOLS)}"
    )


async def _serve_websocket(request: web.Request, opts: Options, open_process: Opener,
                           status_of: StatusOf) -> web.StreamResponse:  # fmt: skip
    protocol = _negotiate_websocket(request)
    if isinstance(protocol, web.Response):
        return protocol
    translated = protocol == channels.V5
    process: RemoteProcess | None = None
    if not translated:  # the kubelet refuses before it upgrades
        try:
            process = await open_process()
        except StreamUnavailable as exc:
            return kubelet_error(500, str(exc))
    try:
        ws = channels.websocket(WS_PROTOCOLS)
        await ws.prepare(request)
        sock = channels.ChannelSocket(ws, channels.ChannelCodec.for_protocol(ws.ws_protocol))
        versioned = protocol in (channels.V5, channels.V4, channels.V4_BASE64)
        client = WebSocketClient(sock, opts, versioned=versioned)
        async with asyncio.TaskGroup() as tg:
            reader = tg.create_task(client.read_loop(), name="remote-ws-reader")
            try:
                await client.start()
                if process is None:
                    try:
                        process = await open_process()
                    except StreamUnavailable as exc:
                        status = internal_error(f"unable to upgrade connection: {exc}")
                        await client.finish(status)
                        return ws
                proc, process = process, None
                await client.finish(await _run(proc, client, opts, status_of, translated))
            finally:
                reader.cancel()
        return ws
    finally:
        if process is not None:
            await process.kill()


async def _run(process: RemoteProcess, client: Client, opts: Options, status_of: StatusOf,
               translated: bool) -> Status:  # fmt: skip
    status = success()  # if the client has gone, nobody is left to tell
    try:
        status = status_of(await pump(process, client, opts), translated)
    except* (ClientGone, ConnectionError):
        pass
    return status


def _negotiate_spdy(request: web.Request) -> str | web.Response:
    offered = tunnel.offered_protocols(request, "X-Stream-Protocol-Version")
    if not offered:
        return kubelet_error(400, "unable to upgrade: X-Stream-Protocol-Version is required")
    for protocol in offered:
        if protocol in SPDY_PROTOCOLS:
            return protocol
    client, server = " ".join(offered), " ".join(SPDY_PROTOCOLS)
    return kubelet_error(
        403,
        f"unable to upgrade: unable to negotiate protocol: client supports [{client}], "
        f"server accepts [{server}]",
    )


async def _serve_spdy(request: web.Request, opts: Options, open_process: Opener,
                      status_of: StatusOf) -> web.StreamResponse:  # fmt: skip
    protocol = _negotiate_spdy(request)
    if isinstance(protocol, web.Response):
        return protocol
    try:
        process: RemoteProcess | None = await open_process()
    except StreamUnavailable as exc:
        return kubelet_error(500, str(exc))
    try:
        pipe = await tunnel.upgrade_spdy(request, protocol)
        session = SpdySession(pipe)
        async with asyncio.TaskGroup() as tg:
            reader = tg.create_task(session.serve(), name="remote-spdy-reader")
            try:
                streams = await _wait_for_streams(session, opts, protocol)
                if streams is not None:
                    client = SpdyClient(session, streams, v4=protocol == SPDY_PROTOCOLS[0])
                    assert process is not None
                    proc, process = process, None
                    await client.finish(await _run(proc, client, opts, status_of, False))
            finally:
                await session.close()
                reader.cancel()
        return pipe.response
    finally:
        if process is not None:
            await process.kill()


async def _wait_for_streams(
    session: SpdySession, opts: Options, protocol: str
) -> dict[int, SpdyStream] | None:
    """The streams the options call for (error, stdin, stdout, stderr, resize from v3 on a
    TTY), in whatever order the client opens them; None if they do not all come in time."""
    expected = 1 + opts.stdin + opts.stdout + opts.stderr
    if opts.tty and protocol in SPDY_PROTOCOLS[:2]:
        expected += 1
    streams: dict[int, SpdyStream] = {}
    try:
        async with asyncio.timeout(STREAM_CREATION_TIMEOUT):
            while len(streams) < expected:
                stream = await session.next_stream()
                if stream is None:
                    return None
                kind = STREAM_TYPES.get(stream.header("streamtype"))
                if kind is None:
                    log.info("unexpected stream type: %r", stream.header("streamtype"))
                    stream.abandon()
                    continue
                streams[kind] = stream
    except TimeoutError:
        log.info("timed out waiting for client to create streams")
        return None
    return streams
