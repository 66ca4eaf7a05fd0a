"""A SPDY session, server side, against a client played in memory: streams opened, refused,
fed, half-closed and reset; PINGs echoed; broken bytes answered with GOAWAY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kubelite.api import spdy
from kubelite.api.spdysession import STREAM_BUFFER, SpdySession
from tests.component.api.spdyclient import SpdyPeer


class MemoryPipe:
    """Two queues: what the client sends, what the server sends."""

    def __init__(self) -> None:
        self.to_server: asyncio.Queue[bytes] = asyncio.Queue()
        self.to_client: asyncio.Queue[bytes] = asyncio.Queue()
        self.closed = False

    async def read(self) -> bytes:
        return await self.to_server.get()

    async def write(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionResetError("closed")
        self.to_client.put_nowait(data)

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.to_client.put_nowait(b"")


def refuse_port_0(headers: spdy.Headers) -> str | None:
    return "port 0" if spdy.header(headers, "port") == "0" else None


@pytest.fixture
async def setup() -> AsyncIterator[tuple[SpdySession, SpdyPeer, MemoryPipe]]:
    pipe = MemoryPipe()

    async def client_write(data: bytes) -> None:
        pipe.to_server.put_nowait(data)

    session = SpdySession(pipe, accept=refuse_port_0)
    peer = SpdyPeer(pipe.to_client.get, client_write)
    serving = asyncio.create_task(session.serve())
    yield session, peer, pipe
    pipe.to_server.put_nowait(b"")  # the client hangs up
    await serving
    await session.close()


async def test_an_accepted_stream_is_replied_to_and_handed_over(setup) -> None:
    session, peer, _ = setup
    sid = await peer.open({"streamtype": "data", "port": "80"})
    stream = await session.next_stream()
    assert stream is not None and stream.id == sid and stream.header("streamType") == "data"
    await peer.until(lambda: peer.streams[sid].replied)
    await peer.data(sid, b"hello")
    await peer.data(sid, b" world", fin=True)
    assert await stream.read_all() == b"hello world"
    await stream.write(b"back")
    await stream.close()
    await peer.until(lambda: peer.streams[sid].fin)
    assert bytes(peer.streams[sid].data) == b"back"


async def test_a_refused_stream_is_reset_and_never_handed_over(setup) -> None:
    session, peer, _ = setup
    sid = await peer.open({"port": "0"})
    await peer.until(lambda: peer.streams[sid].reset is not None)
    assert peer.streams[sid].reset == spdy.RstStatus.CANCEL and not peer.streams[sid].replied
    ok = await peer.open({"port": "1"})
    stream = await session.next_stream()
    assert stream is not None and stream.id == ok


@pytest.mark.parametrize(
    ("stream_id", "why"),
    [
        pytest.param(2, "the client's streams are odd", id="an even stream id is a protocol error"),
        pytest.param(1, "ids only grow", id="a reused stream id is a protocol error"),
    ],
)
async def test_stream_ids_the_client_may_not_use_are_reset(setup, stream_id: int, why: str) -> None:
    session, peer, _ = setup
    await peer.open({"port": "1"})  # stream 1
    await session.next_stream()
    await peer.send(spdy.SynStream(stream_id, ()))
    await peer.until(lambda: peer.streams.get(stream_id, None) is not None
                     and peer.streams[stream_id].reset is not None)  # fmt: skip
    assert peer.streams[stream_id].reset == spdy.RstStatus.PROTOCOL_ERROR, why


async def test_the_clients_pings_are_echoed_and_the_servers_own_ids_are_not(setup) -> None:
    _, peer, _ = setup
    await peer.send(spdy.Ping(2))  # an even id would be our own ping's answer: ignored
    await peer.send(spdy.Ping(7))
    await peer.until(lambda: 7 in peer.pings)
    assert peer.pings == [7]


async def test_a_reset_ends_the_streams_reading_and_writing(setup) -> None:
    session, peer, _ = setup
    sid = await peer.open({"port": "1"})
    stream = await session.next_stream()
    assert stream is not None
    await peer.send(spdy.RstStream(sid, spdy.RstStatus.CANCEL))
    assert await stream.read() == b""
    with pytest.raises(ConnectionResetError):
        await stream.write(b"x")


async def test_broken_bytes_get_goaway_and_end_the_session() -> None:
    pipe = MemoryPipe()
    session = SpdySession(pipe)
    pipe.to_server.put_nowait(b"\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01")  # SPDY/2
    await session.serve()
    assert await session.next_stream() is None
    frames = spdy.FrameReader().feed(pipe.to_client.get_nowait())
    assert frames == [spdy.GoAway(0, spdy.GoAwayStatus.PROTOCOL_ERROR)]


async def test_the_end_of_the_session_ends_every_stream() -> None:
    pipe = MemoryPipe()
    session = SpdySession(pipe)
    peer = SpdyPeer(pipe.to_client.get, lambda d: _put(pipe, d))
    serving = asyncio.create_task(session.serve())
    await peer.open({"port": "1"})
    stream = await session.next_stream()
    assert stream is not None
    pipe.to_server.put_nowait(b"")
    await serving
    assert await stream.read() == b""
    assert await session.next_stream() is None
    assert await session.next_stream() is None  # and stays ended


async def _put(pipe: MemoryPipe, data: bytes) -> None:
    pipe.to_server.put_nowait(data)


async def test_a_stream_nobody_reads_holds_the_session_until_abandoned(setup) -> None:
    """Backpressure: past STREAM_BUFFER unread bytes the session stops reading; a stream the
    handler gave up on drops what comes and never blocks it."""
    session, peer, pipe = setup
    sid = await peer.open({"port": "1"})
    stream = await session.next_stream()
    assert stream is not None
    await peer.data(sid, b"x" * (STREAM_BUFFER + 1))
    await peer.send(spdy.Ping(9))
    await asyncio.sleep(0.05)
    while not pipe.to_client.empty():  # the reply to the SYN_STREAM, and nothing more
        await peer.pump()
    assert peer.streams[sid].replied and peer.pings == []
    stream.abandon()
    await peer.until(lambda: 9 in peer.pings)
