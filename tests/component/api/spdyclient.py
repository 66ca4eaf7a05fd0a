"""The client half of a SPDY/3.1 session, as kubectl's spdystream plays it, for tests: open
streams, send data, read what the server sends per stream. Over any byte transport (an
upgraded HTTP connection, or the frames of a WebSocket tunnel)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from kubelite.api import spdy


@dataclass
class Received:
    replied: bool = False
    data: bytearray = field(default_factory=bytearray)
    fin: bool = False
    reset: int | None = None  # the RST_STREAM status


class SpdyPeer:
    def __init__(
        self, read: Callable[[], Awaitable[bytes]], write: Callable[[bytes], Awaitable[None]]
    ) -> None:
        self._read = read
        self._write = write
        self._reader = spdy.FrameReader()
        self._compressor = spdy.HeaderCompressor()
        self._next_id = 1
        self.streams: dict[int, Received] = {}
        self.pings: list[int] = []
        self.goaway: spdy.GoAway | None = None
        self.closed = False

    async def send(self, frame: spdy.Frame) -> None:
        await self._write(spdy.encode(frame, self._compressor))

    async def open(self, headers: dict[str, str], *, fin: bool = False) -> int:
        sid, self._next_id = self._next_id, self._next_id + 2
        self.streams[sid] = Received()
        await self.send(spdy.SynStream(sid, tuple(headers.items()), fin=fin))
        return sid

    async def data(self, sid: int, data: bytes, *, fin: bool = False) -> None:
        await self._write(spdy.encode_data(sid, data, fin))

    async def pump(self) -> bool:
        """Read one chunk and file its frames; False once the server has closed."""
        chunk = await self._read()
        if not chunk:
            self.closed = True
            return False
        for frame in self._reader.feed(chunk):
            match frame:
                case spdy.SynReply():
                    self.streams.setdefault(frame.stream_id, Received()).replied = True
                case spdy.Data():
                    got = self.streams.setdefault(frame.stream_id, Received())
                    got.data += frame.data
                    got.fin = got.fin or frame.fin
                case spdy.RstStream():
                    self.streams.setdefault(frame.stream_id, Received()).reset = frame.status
                case spdy.Ping():
                    self.pings.append(frame.id)
                case spdy.GoAway():
                    self.goaway = frame
        return True

    async def until(self, done: Callable[[], bool], timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while not done():
                if not await self.pump():
                    if not done():
                        raise AssertionError("the server closed the session first")
                    return

    async def until_closed(self, timeout: float = 10) -> None:
        async with asyncio.timeout(timeout):
            while await self.pump():
                pass


@dataclass
class Upgraded:
    status: int
    headers: dict[str, str]
    body: bytes
    peer: SpdyPeer | None
    writer: asyncio.StreamWriter | None

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass


async def upgrade(
    host: str,
    port: int,
    path: str,
    *,
    protocols: list[str],
    ssl_context: ssl.SSLContext | None = None,
    token: str | None = None,
) -> Upgraded:
    """``POST path`` with ``Upgrade: SPDY/3.1`` (one ``X-Stream-Protocol-Version`` header per
    protocol, as client-go sends them); the session if the server switched protocols."""
    reader, writer = await asyncio.open_connection(host, port, ssl=ssl_context)
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: Upgrade",
             "Upgrade: SPDY/3.1", "Content-Length: 0"]  # fmt: skip
    lines += [f"X-Stream-Protocol-Version: {p}" for p in protocols]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    status = int(status_line.split()[1])
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if status != 101:
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        writer.close()
        return Upgraded(status, headers, body, None, None)

    async def write(data: bytes) -> None:
        writer.write(data)
        await writer.drain()

    async def read() -> bytes:
        try:
            return await reader.read(65536)
        except (ConnectionError, ssl.SSLError):
            return b""

    return Upgraded(status, headers, b"", SpdyPeer(read, write), writer)
