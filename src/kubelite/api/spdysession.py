"""A SPDY/3.1 session, server side, over a byte pipe: the streams a client opens, as objects.

It behaves as the kubelet's streaming server (Go's spdystream) does for the peer: a new
stream is checked by ``accept`` before its SYN_REPLY (refused ones are reset), PINGs are
echoed, a reset or FIN ends a stream's reading side, GOAWAY stops new streams. There is no
flow control (spdystream does none): a stream whose reader falls behind stops the session's
reading past ``STREAM_BUFFER`` bytes, which pushes back on the client through TCP.

    session = SpdySession(pipe, accept=check_headers)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(session.serve())
        while (stream := await session.next_stream()) is not None:
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable

from kubelite.api import spdy
from kubelite.api.tunnel import BytePipe

STREAM_BUFFER = 1 << 20  # bytes a stream may hold unread before the session stops reading

# Checks a new stream's headers: None to accept it, else why it is refused (it is reset).
Acceptor = Callable[[spdy.Headers], str | None]


class SpdyStream:
    """One client-opened stream: ``read`` what the client sends, ``write``/``close`` (FIN)
    towards it. Reads end (b"") at the client's FIN, a reset, or the end of the session."""

    def __init__(self, session: SpdySession, stream_id: int, headers: spdy.Headers) -> None:
        self.session = session
        self.id = stream_id
        self.headers = headers
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._remote_done = False
        self._local_done = False
        self._abandoned = False
        self.was_reset = False
        self._readable = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()

    def header(self, name: str) -> str:
        return spdy.header(self.headers, name)

    @property
    def closed(self) -> bool:
        return self._local_done and self._remote_done

    async def read(self) -> bytes:
        while not self._chunks:
            if self._remote_done:
                return b""
            self._readable.clear()
            await self._readable.wait()
        data = self._chunks.popleft()
        self._size -= len(data)
        if self._size <= STREAM_BUFFER:
            self._drained.set()
        return data

    async def read_all(self, limit: int = 1 << 20) -> bytes:
        """Everything until the client's FIN (at most ``limit`` bytes kept)."""
        out = bytearray()
        while chunk := await self.read():
            if len(out) < limit:
                out += chunk[: limit - len(out)]
        return bytes(out)

    async def write(self, data: bytes) -> None:
        """Raises ConnectionResetError once the stream is reset or closed on our side."""
        if self._local_done or self.was_reset:
            raise ConnectionResetError(f"stream {self.id} is closed")
        if data:
            await self.session.send(spdy.encode_data(self.id, data))

    async def close(self) -> None:
        """Half-close (an empty DATA frame with FIN); idempotent, quiet if the peer is gone."""
        if self._local_done or self.was_reset:
            return
        self._local_done = True
        with contextlib.suppress(ConnectionError):
            await self.session.send(spdy.encode_data(self.id, b"", fin=True))
        self.session.forget(self)

    def abandon(self) -> None:
        """Nobody reads this stream any more: what the client still sends is dropped, so it
        can never hold the session up."""
        self._abandoned = True
        self._chunks.clear()
        self._size = 0
        self._drained.set()

    async def reset(self, status: int = spdy.RstStatus.CANCEL) -> None:
        if self.was_reset or self.closed:
            return
        self._ended(reset=True)
        with contextlib.suppress(ConnectionError):
            await self.session.send_frame(spdy.RstStream(self.id, status))

    # ------------------------------------------------------------------ from the session

    def _deliver(self, data: bytes, fin: bool) -> None:
        if self._remote_done:
            return
        if data and not self._abandoned:
            self._chunks.append(data)
            self._size += len(data)
            if self._size > STREAM_BUFFER:
                self._drained.clear()
        if fin:
            self._remote_done = True
            self.session.forget(self)
        self._readable.set()

    def _ended(self, *, reset: bool) -> None:
        """The client reset the stream, or the session is over: both sides are done."""
        self.was_reset = self.was_reset or reset
        self._remote_done = self._local_done = True
        self._drained.set()
        self._readable.set()
        self.session.forget(self)


class SpdySession:
    def __init__(self, pipe: BytePipe, *, accept: Acceptor | None = None) -> None:
        self._pipe = pipe
        self._accept = accept
        self._reader = spdy.FrameReader()
        self._compressor = spdy.HeaderCompressor()
        self._write_lock = asyncio.Lock()
        self._streams: dict[int, SpdyStream] = {}
        self._incoming: asyncio.Queue[SpdyStream | None] = asyncio.Queue()
        self._last_id = 0
        self._going_away = False
        self.ended = asyncio.Event()  # the client has gone or broke the protocol

    # ------------------------------------------------------------------ handler side

    async def next_stream(self) -> SpdyStream | None:
        """The next stream the client opened and ``accept`` let in; None once it is over."""
        if self.ended.is_set() and self._incoming.empty():
            return None
        stream = await self._incoming.get()
        if stream is None:
            self._incoming.put_nowait(None)  # every later call sees the end too
        return stream

    async def send(self, frame_bytes: bytes) -> None:
        async with self._write_lock:
            await self._pipe.write(frame_bytes)

    async def send_frame(self, frame: spdy.Frame) -> None:
        async with self._write_lock:  # header compression follows the order on the wire
            await self._pipe.write(spdy.encode(frame, self._compressor))

    def forget(self, stream: SpdyStream) -> None:
        if stream.closed and self._streams.get(stream.id) is stream:
            del self._streams[stream.id]

    async def close(self) -> None:
        """GOAWAY, then the pipe closes; every stream reads its end."""
        if not self._going_away:
            self._going_away = True
            with contextlib.suppress(ConnectionError):
                await self.send_frame(spdy.GoAway(self._last_id))
        self._finish()
        with contextlib.suppress(ConnectionError, OSError):
            await self._pipe.close()

    # ------------------------------------------------------------------ the read loop

    async def serve(self) -> None:
        """Read and dispatch frames until the client closes or breaks the protocol."""
        try:
            while data := await self._pipe.read():
                try:
                    frames = self._reader.feed(data)
                except spdy.ProtocolError as exc:
                    self._going_away = True
                    with contextlib.suppress(ConnectionError):
                        await self.send_frame(spdy.GoAway(self._last_id, exc.status))
                    return
                for frame in frames:
                    await self._dispatch(frame)
        except ConnectionError:
            return
        finally:
            self._finish()

    def _finish(self) -> None:
        if self.ended.is_set():
            return
        self.ended.set()
        for stream in list(self._streams.values()):
            stream._ended(reset=False)
        self._incoming.put_nowait(None)

    async def _dispatch(self, frame: spdy.Frame) -> None:
        match frame:
            case spdy.Data():
                stream = self._streams.get(frame.stream_id)
                if stream is not None:  # data for a gone stream is dropped, as spdystream does
                    stream._deliver(frame.data, frame.fin)
                    await stream._drained.wait()
            case spdy.SynStream():
                await self._open(frame)
            case spdy.RstStream():
                stream = self._streams.get(frame.stream_id)
                if stream is not None:
                    stream._ended(reset=True)
            case spdy.Ping():
                if frame.id % 2 == 1:  # the client's (odd) pings are echoed; ours are even
                    await self.send_frame(frame)
            case spdy.GoAway():
                self._going_away = True
            case spdy.HeadersFrame():
                stream = self._streams.get(frame.stream_id)
                if stream is not None and frame.fin:
                    stream._deliver(b"", True)
            case _:
                pass  # SETTINGS, WINDOW_UPDATE, SYN_REPLY: nothing to do for a server

    async def _open(self, frame: spdy.SynStream) -> None:
        sid = frame.stream_id
        if sid % 2 == 0 or sid <= self._last_id:
            await self.send_frame(spdy.RstStream(sid, spdy.RstStatus.PROTOCOL_ERROR))
            return
        self._last_id = sid
        if self._going_away:
            await self.send_frame(spdy.RstStream(sid, spdy.RstStatus.REFUSED_STREAM))
            return
        refusal = self._accept(frame.headers) if self._accept is not None else None
        if refusal is not None:
            await self.send_frame(spdy.RstStream(sid, spdy.RstStatus.CANCEL))
            return
        stream = SpdyStream(self, sid, frame.headers)
        self._streams[sid] = stream
        if frame.fin:
            stream._deliver(b"", True)
        await self.send_frame(spdy.SynReply(sid))
        self._incoming.put_nowait(stream)
