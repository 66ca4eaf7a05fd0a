"""Byte pipes that a SPDY session runs over, after an HTTP upgrade.

Two transports carry the same SPDY/3.1 bytes:

* ``Upgrade: SPDY/3.1`` (kubectl before 1.31, and its fallback): a ``101 Switching
  Protocols`` answer, then the connection itself is the pipe. aiohttp does not know this
  upgrade, so the request's connection is handed a reader of our own (as its WebSocket
  support does) and replies are written straight to it.
* a WebSocket whose binary messages are the pipe (kubectl 1.31+ port-forward, subprotocol
  ``SPDY/3.1+portforward.k8s.io``): writes of any size, split anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Protocol

from aiohttp import WSMsgType, hdrs, web

# Read buffer of the upgraded connection: the socket stops being read past twice this.
READ_LIMIT = 1 << 20


class BytePipe(Protocol):
    async def read(self) -> bytes:
        """The next bytes, b"" once the peer has closed (or the connection is gone)."""
        ...

    async def write(self, data: bytes) -> None:
        """Raises ConnectionResetError once the peer has gone."""
        ...

    async def close(self) -> None: ...


class WebSocketPipe:
    """Binary messages of an open WebSocket, concatenated."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws

    async def read(self) -> bytes:
        while True:
            msg = await self._ws.receive()
            if msg.type is WSMsgType.BINARY:
                if msg.data:
                    return bytes(msg.data)
            elif msg.type is WSMsgType.TEXT:
                if msg.data:
                    return str(msg.data).encode()
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED,
                              WSMsgType.ERROR):  # fmt: skip
                return b""

    async def write(self, data: bytes) -> None:
        if self._ws.closed:
            raise ConnectionResetError("the WebSocket is closed")
        await self._ws.send_bytes(data)

    async def close(self) -> None:
        await self._ws.close()


class _Feeder:
    """What aiohttp's connection feeds once it is ours (``set_parser``'s contract), kept
    until read; past ``READ_LIMIT`` buffered bytes the socket is not read until they are."""

    def __init__(self, request: web.Request) -> None:
        self._transport = request.transport
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._eof = False
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._loop = asyncio.get_running_loop()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if data:
            self._chunks.append(bytes(data))
            self._size += len(data)
            if self._size > READ_LIMIT and not self._paused and self._transport is not None:
                self._paused = True
                self._transport.pause_reading()
            self._wake()
        return False, b""

    def feed_eof(self) -> None:
        self._eof = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def read(self) -> bytes:
        while not self._chunks:
            if self._eof:
                return b""
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        data = self._chunks.popleft()
        self._size -= len(data)
        if self._paused and self._size <= READ_LIMIT // 2:
            self._paused = False
            transport = self._transport
            if transport is not None and not transport.is_closing():
                transport.resume_reading()
        return data


class _UpgradeResponse(web.StreamResponse):
    """A 101 with no body framing: after it, the bytes belong to the new protocol."""

    _length_check = False


class UpgradedPipe:
    """The raw connection after ``101 Switching Protocols``."""

    def __init__(self, request: web.Request, response: web.StreamResponse) -> None:
        self._request = request
        self.response = response  # the handler returns it: aiohttp then adds nothing
        self._feeder = _Feeder(request)
        request.protocol.set_parser(self._feeder)  # type: ignore[arg-type]

    async def read(self) -> bytes:
        return await self._feeder.read()

    async def write(self, data: bytes) -> None:
        transport = self._request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the connection is closed")
        await self.response.write(data)

    async def close(self) -> None:
        transport = self._request.transport
        if transport is not None:
            transport.close()


def is_spdy_upgrade(request: web.Request) -> bool:
    connection = request.headers.get(hdrs.CONNECTION, "").lower()
    upgrade = request.headers.get(hdrs.UPGRADE, "").lower()
    return "upgrade" in connection and upgrade.startswith("spdy/3.1")


def is_websocket(request: web.Request) -> bool:
    return request.headers.get(hdrs.UPGRADE, "").lower().strip() == "websocket"


def offered_protocols(request: web.Request, header: str) -> list[str]:
    """Every value of a repeatable, comma-separated header, in the client's order."""
    return [
        part.strip()
        for value in request.headers.getall(header, [])
        for part in value.split(",")
        if part.strip()
    ]


async def upgrade_spdy(request: web.Request, protocol: str | None) -> UpgradedPipe:
    """Answer ``101`` (naming the negotiated ``X-Stream-Protocol-Version``) and take the
    connection over. The connection's bytes are ours before the answer leaves: a client may
    send its first frames the moment it reads it."""
    response = _UpgradeResponse(status=101)
    response.headers[hdrs.CONNECTION] = "Upgrade"
    response.headers[hdrs.UPGRADE] = "SPDY/3.1"
    if protocol:
        response.headers["X-Stream-Protocol-Version"] = protocol
    response.force_close()
    pipe = UpgradedPipe(request, response)
    with contextlib.suppress(AttributeError):
        request.protocol.keep_alive(False)
    await response.prepare(request)
    return pipe
