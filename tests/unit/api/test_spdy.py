"""SPDY/3.1 framing, from the draft-3 spec: frame layouts, header blocks compressed with the
SPDY dictionary in one context per direction, frames split anywhere, and the errors that end
a session."""

from __future__ import annotations

import struct
import zlib

import pytest

from kubelite.api import spdy
from kubelite.api.spdy import (
    Data,
    FrameReader,
    GoAway,
    HeaderCompressor,
    HeadersFrame,
    Ping,
    ProtocolError,
    RstStream,
    Settings,
    SynReply,
    SynStream,
    WindowUpdate,
)

KUBECTL_HEADERS = (("streamtype", "error"), ("port", "80"), ("requestid", "0"))


def test_the_dictionary_is_the_spdy3_one() -> None:
    """Its Adler-32 is the DICTID every SPDY/3 header block carries (``e3 c6 a7 c2``, as
    kubectl's first SYN_STREAM shows)."""
    assert len(spdy.DICTIONARY) == 1423
    assert zlib.adler32(spdy.DICTIONARY) == 0xE3C6A7C2


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        pytest.param(Ping(1), "80030006 00000004 00000001", id="a PING is 4 bytes of id"),
        pytest.param(RstStream(3, 5), "80030003 00000008 00000003 00000005",
                     id="RST_STREAM carries the stream and the status"),
        pytest.param(GoAway(7, 0), "80030007 00000008 00000007 00000000",
                     id="GOAWAY carries the last good stream and the status"),
        pytest.param(WindowUpdate(1, 65536), "80030009 00000008 00000001 00010000",
                     id="WINDOW_UPDATE carries the stream and the delta"),
        pytest.param(Data(1, b"hi"), "00000001 00000002 6869", id="DATA has no control bit"),
        pytest.param(Data(3, b"", fin=True), "00000003 01000000",
                     id="an empty DATA frame with FIN half-closes a stream"),
        pytest.param(Settings(((0, 7, 65536),)), "80030004 0000000c 00000001 00000007 00010000",
                     id="SETTINGS lists flag, id and value"),
    ],
)  # fmt: skip
def test_frames_are_laid_out_as_the_spec_says(frame: spdy.Frame, expected: str) -> None:
    assert spdy.encode(frame, HeaderCompressor()).hex() == expected.replace(" ", "")


def test_a_syn_stream_header_block_is_zlib_with_the_spdy_dictionary() -> None:
    raw = spdy.encode(SynStream(1, KUBECTL_HEADERS), HeaderCompressor())
    assert raw[:4] == bytes.fromhex("80030001")
    assert raw[8:18] == bytes.fromhex("00000001 00000000 0000".replace(" ", ""))
    assert raw[18:24] == bytes.fromhex("78f9e3c6a7c2")  # best compression, DICTID as kubectl's


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(SynStream(1, KUBECTL_HEADERS), id="a SYN_STREAM with kubectl's headers"),
        pytest.param(SynStream(3, (), associated_id=1, priority=7, slot=2, fin=True,
                               unidirectional=True), id="a SYN_STREAM with every field set"),
        pytest.param(SynReply(1), id="an empty SYN_REPLY, as the kubelet answers"),
        pytest.param(SynReply(5, (("a", "b\x00c"),), fin=True), id="a SYN_REPLY with FIN"),
        pytest.param(HeadersFrame(1, (("x", "y"),)), id="a HEADERS frame"),
        pytest.param(RstStream(9, spdy.RstStatus.CANCEL), id="a RST_STREAM"),
        pytest.param(Settings(((1, 4, 100), (0, 7, 1 << 20)), clear=True), id="SETTINGS"),
        pytest.param(Ping(0xFFFFFFFF), id="a PING with the largest id"),
        pytest.param(GoAway(11, spdy.GoAwayStatus.PROTOCOL_ERROR), id="a GOAWAY"),
        pytest.param(WindowUpdate(1, 0x7FFFFFFF), id="a WINDOW_UPDATE"),
        pytest.param(Data(0x7FFFFFFF, b"\x00" * 70000, fin=True), id="a large DATA frame"),
    ],
)  # fmt: skip
def test_every_frame_reads_back_as_written(frame: spdy.Frame) -> None:
    assert FrameReader().feed(spdy.encode(frame, HeaderCompressor())) == [frame]


def test_frames_split_anywhere_are_read_whole() -> None:
    """The WebSocket tunnel cuts the byte stream at arbitrary places."""
    sender = HeaderCompressor()
    frames: list[spdy.Frame] = [
        SynStream(1, KUBECTL_HEADERS), Data(1, b"abc"), Ping(1),
        SynStream(3, (("streamtype", "data"),)), Data(3, b"", fin=True),
    ]  # fmt: skip
    wire = b"".join(spdy.encode(f, sender) for f in frames)
    reader = FrameReader()
    got = [frame for byte in wire for frame in reader.feed(bytes([byte]))]
    assert got == frames


def test_header_blocks_share_one_compression_context_per_direction() -> None:
    sender = HeaderCompressor()
    first = spdy.encode(SynStream(1, KUBECTL_HEADERS), sender)
    second = spdy.encode(SynStream(3, KUBECTL_HEADERS), sender)
    with pytest.raises(ProtocolError):  # alone, the second block means nothing
        FrameReader().feed(second)
    reader = FrameReader()
    assert [f.stream_id for f in reader.feed(first + second)] == [1, 3]  # type: ignore[union-attr]


def test_a_header_value_with_several_values_gives_the_first() -> None:
    assert spdy.header((("port", "80\x008080"),), "Port") == "80"
    assert spdy.header((), "port") == ""


def test_unknown_control_frames_are_ignored() -> None:
    unknown = struct.pack(">HHI", 0x8003, 10, 4) + b"\x00" * 4
    assert FrameReader().feed(unknown + spdy.encode(Ping(3), HeaderCompressor())) == [Ping(3)]


def _block(pairs: list[tuple[bytes, bytes]], count: int | None = None) -> bytes:
    raw = struct.pack(">I", len(pairs) if count is None else count)
    for name, value in pairs:
        raw += struct.pack(">I", len(name)) + name + struct.pack(">I", len(value)) + value
    z = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, spdy.DICTIONARY)
    return z.compress(raw) + z.flush(zlib.Z_SYNC_FLUSH)


def _syn(block: bytes, stream_id: int = 1) -> bytes:
    body = struct.pack(">IIBB", stream_id, 0, 0, 0) + block
    return struct.pack(">HHI", 0x8003, 1, len(body)) + body


@pytest.mark.parametrize(
    "wire",
    [
        pytest.param(struct.pack(">II", 0, 1) + b"x", id="DATA on stream 0"),
        pytest.param(struct.pack(">HHI", 0x8002, 6, 4) + b"\x00" * 4, id="a SPDY/2 frame"),
        pytest.param(struct.pack(">HHI", 0x8003, 6, 5) + b"\x00" * 5, id="a PING of 5 bytes"),
        pytest.param(struct.pack(">HHI", 0x8003, 3, 4) + b"\x00" * 4, id="a short RST_STREAM"),
        pytest.param(struct.pack(">HHI", 0x8003, 1, 2) + b"\x00" * 2, id="a short SYN_STREAM"),
        pytest.param(struct.pack(">HHI", 0x8003, 4, 8) + struct.pack(">II", 2, 0),
                     id="SETTINGS counting more entries than it has"),
        pytest.param(_syn(b"\x78\xf9garbage"), id="a header block that is not zlib"),
        pytest.param(_syn(_block([(b"Port", b"80")])), id="an upper-case header name"),
        pytest.param(_syn(_block([(b"port", b"80"), (b"port", b"81")])),
                     id="a header given twice"),
        pytest.param(_syn(_block([(b"port", b"80")], count=2)), id="a truncated header block"),
        pytest.param(_syn(_block([(b"", b"80")])), id="an empty header name"),
        pytest.param(_syn(_block([(b"port", b"\xff")])), id="a header that is not UTF-8"),
        pytest.param(_syn(_block([(b"a", b"x" * (spdy.MAX_HEADER_BLOCK + 1))])),
                     id="a header block past the size limit"),
        pytest.param(_syn(_block([]), stream_id=0), id="SYN_STREAM on stream 0"),
    ],
)  # fmt: skip
def test_broken_framing_ends_the_session(wire: bytes) -> None:
    with pytest.raises(ProtocolError):
        FrameReader().feed(wire)


def test_frames_before_a_broken_one_are_not_lost_on_the_next_read() -> None:
    """A partial frame waits; nothing is read twice."""
    reader = FrameReader()
    ping = spdy.encode(Ping(1), HeaderCompressor())
    assert reader.feed(ping[:5]) == []
    assert reader.feed(ping[5:] + ping[:2]) == [Ping(1)]
    assert reader.feed(ping[2:]) == [Ping(1)]


def test_a_frame_too_large_for_the_length_field_is_refused() -> None:
    with pytest.raises(ValueError):
        spdy.encode_data(1, b"\x00" * (spdy.MAX_DATA_LENGTH + 1))
