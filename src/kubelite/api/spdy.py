"""SPDY/3.1 framing: the frames Kubernetes' streaming protocols travel in, as bytes.

kubectl port-forward (over its WebSocket tunnel or a plain ``Upgrade: SPDY/3.1``) and the
SPDY forms of exec and attach speak SPDY/3.1 as Go's spdystream does: SYN_STREAM/SYN_REPLY
to open a stream, DATA (with FIN to half-close), RST_STREAM, PING, GOAWAY; SETTINGS and
WINDOW_UPDATE are parsed but carry nothing spdystream acts on (it does no flow control).

Pure: ``FrameReader.feed`` turns bytes into frames and ``encode`` frames into bytes; no I/O.
Header blocks (``spdyheaders``) are zlib streams primed with the SPDY/3 dictionary, one
compression context per direction for the whole session: the sender passes its
``HeaderCompressor`` to ``encode``, the reader owns its decompressor.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

from kubelite.api.spdyheaders import DICTIONARY as DICTIONARY
from kubelite.api.spdyheaders import MAX_HEADER_BLOCK as MAX_HEADER_BLOCK
from kubelite.api.spdyheaders import HeaderCompressor as HeaderCompressor
from kubelite.api.spdyheaders import HeaderDecompressor as HeaderDecompressor
from kubelite.api.spdyheaders import Headers as Headers
from kubelite.api.spdyheaders import ProtocolError as ProtocolError
from kubelite.api.spdyheaders import SpdyError as SpdyError
from kubelite.api.spdyheaders import header as header

VERSION = 3
MAX_DATA_LENGTH = (1 << 24) - 1  # the 24-bit length field
FLAG_FIN = 0x01
FLAG_UNIDIRECTIONAL = 0x02
_STREAM_ID_MASK = 0x7FFFFFFF


class FrameType(enum.IntEnum):
    SYN_STREAM = 1
    SYN_REPLY = 2
    RST_STREAM = 3
    SETTINGS = 4
    PING = 6
    GOAWAY = 7
    HEADERS = 8
    WINDOW_UPDATE = 9


class RstStatus(enum.IntEnum):
    PROTOCOL_ERROR = 1
    INVALID_STREAM = 2
    REFUSED_STREAM = 3
    UNSUPPORTED_VERSION = 4
    CANCEL = 5
    INTERNAL_ERROR = 6
    FLOW_CONTROL_ERROR = 7
    STREAM_IN_USE = 8
    STREAM_ALREADY_CLOSED = 9
    INVALID_CREDENTIALS = 10
    FRAME_TOO_LARGE = 11


class GoAwayStatus(enum.IntEnum):
    OK = 0
    PROTOCOL_ERROR = 1
    INTERNAL_ERROR = 2


@dataclass(frozen=True, slots=True)
class Data:
    stream_id: int
    data: bytes
    fin: bool = False


@dataclass(frozen=True, slots=True)
class SynStream:
    stream_id: int
    headers: Headers
    associated_id: int = 0
    priority: int = 0
    slot: int = 0
    fin: bool = False
    unidirectional: bool = False


@dataclass(frozen=True, slots=True)
class SynReply:
    stream_id: int
    headers: Headers = ()
    fin: bool = False


@dataclass(frozen=True, slots=True)
class RstStream:
    stream_id: int
    status: int


@dataclass(frozen=True, slots=True)
class Settings:
    entries: tuple[tuple[int, int, int], ...]  # (flags, id, value)
    clear: bool = False


@dataclass(frozen=True, slots=True)
class Ping:
    id: int


@dataclass(frozen=True, slots=True)
class GoAway:
    last_good_stream_id: int
    status: int = GoAwayStatus.OK


@dataclass(frozen=True, slots=True)
class HeadersFrame:
    stream_id: int
    headers: Headers
    fin: bool = False


@dataclass(frozen=True, slots=True)
class WindowUpdate:
    stream_id: int
    delta: int


Frame = (
    Data | SynStream | SynReply | RstStream | Settings | Ping | GoAway | HeadersFrame | WindowUpdate
)


# ---------------------------------------------------------------------------- encoding


def _control(kind: FrameType, flags: int, payload: bytes) -> bytes:
    if len(payload) > MAX_DATA_LENGTH:
        raise ValueError("control frame too large")
    head = struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(payload))
    return head + payload


def encode_data(stream_id: int, data: bytes | memoryview, fin: bool = False) -> bytes:
    """One DATA frame (the hot path: no dataclass in between)."""
    if len(data) > MAX_DATA_LENGTH:
        raise ValueError("DATA frame too large")
    head = struct.pack(">II", stream_id & _STREAM_ID_MASK, ((FLAG_FIN if fin else 0) << 24)
                       | len(data))  # fmt: skip
    return head + bytes(data)


def encode(frame: Frame, compressor: HeaderCompressor) -> bytes:
    """The frame's bytes; header blocks go through ``compressor`` (the sender's context)."""
    match frame:
        case Data():
            return encode_data(frame.stream_id, frame.data, frame.fin)
        case SynStream():
            flags = (FLAG_FIN if frame.fin else 0) | (
                FLAG_UNIDIRECTIONAL if frame.unidirectional else 0
            )
            fixed = struct.pack(">IIBB", frame.stream_id, frame.associated_id,
                                (frame.priority & 7) << 5, frame.slot)  # fmt: skip
            return _control(FrameType.SYN_STREAM, flags, fixed + compressor.compress(frame.headers))
        case SynReply():
            block = struct.pack(">I", frame.stream_id) + compressor.compress(frame.headers)
            return _control(FrameType.SYN_REPLY, FLAG_FIN if frame.fin else 0, block)
        case HeadersFrame():
            block = struct.pack(">I", frame.stream_id) + compressor.compress(frame.headers)
            return _control(FrameType.HEADERS, FLAG_FIN if frame.fin else 0, block)
        case RstStream():
            return _control(FrameType.RST_STREAM, 0, struct.pack(">II", frame.stream_id,
                                                                 frame.status))  # fmt: skip
        case Settings():
            body = struct.pack(">I", len(frame.entries)) + b"".join(
                struct.pack(">II", (flags << 24) | (ident & 0xFFFFFF), value)
                for flags, ident, value in frame.entries
            )
            return _control(FrameType.SETTINGS, 1 if frame.clear else 0, body)
        case Ping():
            return _control(FrameType.PING, 0, struct.pack(">I", frame.id))
        case GoAway():
            body = struct.pack(">II", frame.last_good_stream_id, frame.status)
            return _control(FrameType.GOAWAY, 0, body)
        case WindowUpdate():
            body = struct.pack(">II", frame.stream_id, frame.delta)
            return _control(FrameType.WINDOW_UPDATE, 0, body)
    raise TypeError(f"not a SPDY frame: {frame!r}")


# ---------------------------------------------------------------------------- decoding


class FrameReader:
    """Bytes in, whole frames out, across arbitrary splits (a WebSocket tunnel cuts the
    stream anywhere). Keeps the session's header decompression context."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._headers = HeaderDecompressor()

    def feed(self, data: bytes) -> list[Frame]:
        """Every frame completed by ``data``. Raises ProtocolError (the session is over) or
        StreamError (that frame is refused; later frames are still read on the next call)."""
        self._buf += data
        frames: list[Frame] = []
        buf, pos = self._buf, 0
        try:
            while len(buf) - pos >= 8:
                word, flags_length = struct.unpack_from(">II", buf, pos)
                length = flags_length & 0xFFFFFF
                end = pos + 8 + length
                if end > len(buf):
                    break
                payload = bytes(buf[pos + 8 : end])
                pos = end
                frame = self._decode(word, flags_length >> 24, payload)
                if frame is not None:
                    frames.append(frame)
        finally:
            del buf[:pos]
        return frames

    def _decode(self, word: int, flags: int, payload: bytes) -> Frame | None:
        if not word & 0x80000000:
            stream_id = word & _STREAM_ID_MASK
            if stream_id == 0:
                raise ProtocolError("DATA frame on stream 0")
            return Data(stream_id, payload, bool(flags & FLAG_FIN))
        version, kind = (word >> 16) & 0x7FFF, word & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"unsupported SPDY version {version}")
        try:
            frame_type = FrameType(kind)
        except ValueError:
            return None  # unknown control frames are ignored (SPDY/3 2.2.1)
        return _CONTROL[frame_type](self, flags, payload)

    def _syn_stream(self, flags: int, p: bytes) -> Frame:
        _need(p, 10, "SYN_STREAM")
        sid, assoc, pri, slot = struct.unpack_from(">IIBB", p)
        sid &= _STREAM_ID_MASK
        headers = self._headers.decompress(p[10:])  # decompress first: the context moves on
        if sid == 0:
            raise ProtocolError("SYN_STREAM on stream 0")
        return SynStream(sid, headers, assoc & _STREAM_ID_MASK, pri >> 5, slot,
                         bool(flags & FLAG_FIN), bool(flags & FLAG_UNIDIRECTIONAL))  # fmt: skip

    def _syn_reply(self, flags: int, p: bytes) -> Frame:
        _need(p, 4, "SYN_REPLY")
        sid = struct.unpack_from(">I", p)[0] & _STREAM_ID_MASK
        return SynReply(sid, self._headers.decompress(p[4:]), bool(flags & FLAG_FIN))

    def _headers_frame(self, flags: int, p: bytes) -> Frame:
        _need(p, 4, "HEADERS")
        sid = struct.unpack_from(">I", p)[0] & _STREAM_ID_MASK
        return HeadersFrame(sid, self._headers.decompress(p[4:]), bool(flags & FLAG_FIN))

    def _rst_stream(self, flags: int, p: bytes) -> Frame:
        _exact(p, 8, "RST_STREAM")
        sid, status = struct.unpack(">II", p)
        return RstStream(sid & _STREAM_ID_MASK, status)

    def _settings(self, flags: int, p: bytes) -> Frame:
        _need(p, 4, "SETTINGS")
        (count,) = struct.unpack_from(">I", p)
        _exact(p, 4 + 8 * count, "SETTINGS")
        entries = tuple(
            (word >> 24, word & 0xFFFFFF, value) for word, value in struct.iter_unpack(">II", p[4:])
        )
        return Settings(entries, bool(flags & 1))

    def _ping(self, flags: int, p: bytes) -> Frame:
        _exact(p, 4, "PING")
        return Ping(struct.unpack(">I", p)[0])

    def _goaway(self, flags: int, p: bytes) -> Frame:
        _exact(p, 8, "GOAWAY")
        last, status = struct.unpack(">II", p)
        return GoAway(last & _STREAM_ID_MASK, status)

    def _window_update(self, flags: int, p: bytes) -> Frame:
        _exact(p, 8, "WINDOW_UPDATE")
        sid, delta = struct.unpack(">II", p)
        return WindowUpdate(sid & _STREAM_ID_MASK, delta & _STREAM_ID_MASK)


_CONTROL = {
    FrameType.SYN_STREAM: FrameReader._syn_stream,
    FrameType.SYN_REPLY: FrameReader._syn_reply,
    FrameType.RST_STREAM: FrameReader._rst_stream,
    FrameType.SETTINGS: FrameReader._settings,
    FrameType.PING: FrameReader._ping,
    FrameType.GOAWAY: FrameReader._goaway,
    FrameType.HEADERS: FrameReader._headers_frame,
    FrameType.WINDOW_UPDATE: FrameReader._window_update,
}


def _need(payload: bytes, n: int, what: str) -> None:
    if len(payload) < n:
        raise ProtocolError(f"{what} frame too short")


def _exact(payload: bytes, n: int, what: str) -> None:
    if len(payload) != n:
        raise ProtocolError(f"{what} frame has length {len(payload)}, not {n}")
