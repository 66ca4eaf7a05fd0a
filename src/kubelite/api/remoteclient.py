"""The client's half of an exec or attach session, whatever carries it: numbered WebSocket
channels (``channels``) or one SPDY stream per channel (``spdysession``). The pump in
``remotecommand`` reads the client's stdin and terminal sizes and writes its output and the
final Status through a ``Client``, never knowing which."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.api import channels
from kubelite.api.spdysession import SpdySession, SpdyStream

log = logging.getLogger(__name__)

STDIN, STDOUT, STDERR, ERROR, RESIZE = range(5)  # channel numbers; SPDY streamtypes map here
STREAM_TYPES = {"stdin": STDIN, "stdout": STDOUT, "stderr": STDERR, "error": ERROR,
                "resize": RESIZE}  # fmt: skip

Status = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Options:
    """Which streams the client asked for (the kubelet drops stderr with a TTY)."""

    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


class Client(Protocol):
    """The client's half of a session, whatever carries it."""

    gone: asyncio.Event  # the connection has dropped (or the session is closing)

    async def next_input(self) -> bytes | None: ...  # stdin; None at its end
    async def next_size(self) -> tuple[int, int] | None: ...  # (columns, rows); None: no more
    async def output(self, channel: int, data: bytes) -> None: ...
    async def finish(self, status: Status) -> None: ...


def _size(data: bytes) -> tuple[int, int] | None:
    try:
        size = json.loads(data)
        return int(size.get("Width", 0)), int(size.get("Height", 0))
    except (ValueError, TypeError, AttributeError):
        return None


class WebSocketClient:
    def __init__(self, sock: channels.ChannelSocket, opts: Options, versioned: bool) -> None:
        self._sock = sock
        self._opts = opts
        self._versioned = versioned  # v4 and later: the status is JSON, success included
        self._stdin: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=64)
        self._sizes: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue()
        self._stdin_done = False
        self.gone = asyncio.Event()

    async def start(self) -> None:
        """The kubelet's hello: an empty message on the lowest channel the client reads."""
        channel = STDOUT if self._opts.stdout else STDERR if self._opts.stderr else ERROR
        await self._sock.send(channel, b"")

    async def read_loop(self) -> None:
        try:
            while (msg := await self._sock.receive()) is not None:
                if msg.channel == STDIN and self._opts.stdin and not self._stdin_done:
                    if msg.close:
                        await self._end_stdin()
                    elif msg.data:
                        await self._stdin.put(msg.data)
                elif msg.channel == RESIZE and not msg.close:
                    size = _size(msg.data)
                    if size is not None:
                        self._sizes.put_nowait(size)
        except channels.ChannelProtocolError as exc:
            log.info("exec/attach client broke the channel protocol: %s", exc)
        finally:
            self.gone.set()
            await self._end_stdin()
            self._sizes.put_nowait(None)

    async def _end_stdin(self) -> None:
        if not self._stdin_done:
            self._stdin_done = True
            await self._stdin.put(None)

    async def next_input(self) -> bytes | None:
        return await self._stdin.get()

    async def next_size(self) -> tuple[int, int] | None:
        return await self._sizes.get()

    async def output(self, channel: int, data: bytes) -> None:
        if (channel == STDOUT and self._opts.stdout) or (channel == STDERR and self._opts.stderr):
            await self._sock.send(channel, data)

    async def finish(self, status: Status) -> None:
        with contextlib.suppress(ConnectionError):
            if self._versioned:
                await self._sock.send(ERROR, json.dumps(status).encode())
            elif status.get("status") != "Success":
                await self._sock.send(ERROR, str(status.get("message", "")).encode())
        await self._sock.close()


class SpdyClient:
    def __init__(self, session: SpdySession, streams: dict[int, SpdyStream], v4: bool) -> None:
        self._session = session
        self._streams = streams
        for channel, stream in streams.items():
            if channel not in (STDIN, RESIZE):
                stream.abandon()  # only written to: what a client sends there is dropped
        self._v4 = v4
        self._resize_buffer = b""
        self.gone = session.ended

    async def next_input(self) -> bytes | None:
        stream = self._streams.get(STDIN)
        if stream is None:
            return None
        return (await stream.read()) or None

    async def next_size(self) -> tuple[int, int] | None:
        stream = self._streams.get(RESIZE)
        if stream is None:
            return None
        decoder = json.JSONDecoder()
        while True:
            text = self._resize_buffer.decode(errors="replace").lstrip()
            try:
                obj, end = decoder.raw_decode(text)
            except ValueError:
                obj, end = None, -1
            if end >= 0:
                self._resize_buffer = text[end:].encode()
                size = _size(json.dumps(obj).encode())
                if size is not None:
                    return size
                continue
            chunk = await stream.read()
            if not chunk:
                return None
            self._resize_buffer += chunk

    async def output(self, channel: int, data: bytes) -> None:
        stream = self._streams.get(channel)
        if stream is not None:
            await stream.write(data)

    async def finish(self, status: Status) -> None:
        error = self._streams.get(ERROR)
        if error is not None:
            with contextlib.suppress(ConnectionError):
                if self._v4:
                    await error.write(json.dumps(status).encode())
                elif status.get("status") != "Success":
                    await error.write(str(status.get("message", "")).encode())
        for stream in self._streams.values():
            stream.abandon()
            await stream.close()
        await self._session.close()
