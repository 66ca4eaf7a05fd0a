"""SPDY/3 header blocks: name/value pairs, zlib-compressed with the SPDY/3 dictionary in one
compression context per direction for a whole session (each side keeps one
``HeaderCompressor`` for what it sends and one ``HeaderDecompressor`` for what it reads).

Pure; ``spdy`` frames carry these blocks and re-exports what its users need.
"""

from __future__ import annotations

import struct
import zlib

from kubelite.errors import KubeliteError

MAX_HEADER_BLOCK = 1 << 20  # decompressed; more is treated as an attack
GOAWAY_PROTOCOL_ERROR = 1  # spdy.GoAwayStatus.PROTOCOL_ERROR


def _dictionary() -> bytes:
    """The SPDY/3 header dictionary (draft 3, 2.6.10.1): length-prefixed words, then a tail."""
    names = (
        "options head post put delete trace accept accept-charset accept-encoding "
        "accept-language accept-ranges age allow authorization cache-control connection "
        "content-base content-encoding content-language content-length content-location "
        "content-md5 content-range content-type date etag expect expires from host if-match "
        "if-modified-since if-none-match if-range if-unmodified-since last-modified location "
        "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after "
        "server te trailer transfer-encoding upgrade user-agent vary via warning "
        "www-authenticate method get status"
    )
    words = [*names.split(" "), "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie",
             "keep-alive", "origin"]  # fmt: skip
    tail = (
        "100101201202205206300302303304305306307402405406407408409410411412413414415416417502"
        "504505203 Non-Authoritative Information204 No Content301 Moved Permanently"
        "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
        "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct "
        "Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
        "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,"
        "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
    )
    packed = b"".join(struct.pack(">I", len(w)) + w.encode() for w in words)
    return packed + tail.encode()


DICTIONARY = _dictionary()


# Header names are lower case on the wire; a value with several values joins them with NUL.
Headers = tuple[tuple[str, str], ...]


def header(headers: Headers, name: str) -> str:
    """The first value of ``name`` (case-insensitive), or ""."""
    name = name.lower()
    for key, value in headers:
        if key == name:
            return value.split("\x00", 1)[0]
    return ""


class SpdyError(KubeliteError):
    """Bytes that are not the SPDY this module speaks."""


class ProtocolError(SpdyError):
    """The session cannot go on (its framing or header compression is broken): the peer gets
    GOAWAY with ``status`` and the connection closes."""

    def __init__(self, message: str, status: int = GOAWAY_PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.status = status


class HeaderCompressor:
    """One direction's header compression context (it spans every block of the session)."""

    def __init__(self) -> None:
        self._z = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, 9,
                                   zlib.Z_DEFAULT_STRATEGY, DICTIONARY)  # fmt: skip

    def compress(self, headers: Headers) -> bytes:
        out = [struct.pack(">I", len(headers))]
        for name, value in headers:
            key = name.lower().encode()
            raw = value.encode()
            out.append(struct.pack(">I", len(key)) + key + struct.pack(">I", len(raw)) + raw)
        block = b"".join(out)
        return self._z.compress(block) + self._z.flush(zlib.Z_SYNC_FLUSH)


class HeaderDecompressor:
    def __init__(self) -> None:
        self._z = zlib.decompressobj(zdict=DICTIONARY)

    def decompress(self, block: bytes) -> Headers:
        try:
            raw = self._z.decompress(block, MAX_HEADER_BLOCK)
        except zlib.error as exc:
            raise ProtocolError(f"header block does not decompress: {exc}") from exc
        if self._z.unconsumed_tail:
            raise ProtocolError("header block too large")
        return parse_header_block(raw)


def parse_header_block(raw: bytes) -> Headers:
    """Name/value pairs of a decompressed block; names must be lower case and unique."""
    view, pos = memoryview(raw), 4
    if len(raw) < 4:
        raise ProtocolError("header block too short")
    (count,) = struct.unpack_from(">I", raw)
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for _ in range(count):
        name, pos = _string(view, pos)
        value, pos = _string(view, pos)
        if not name or name != name.lower():
            raise ProtocolError(f"invalid header name {name!r}")
        if name in seen:
            raise ProtocolError(f"header {name!r} given twice")
        seen.add(name)
        pairs.append((name, value))
    if pos != len(raw):
        raise ProtocolError("header block has trailing bytes")
    return tuple(pairs)


def _string(view: memoryview, pos: int) -> tuple[str, int]:
    if pos + 4 > len(view):
        raise ProtocolError("header block truncated")
    (n,) = struct.unpack_from(">I", view, pos)
    end = pos + 4 + n
    if end > len(view):
        raise ProtocolError("header block truncated")
    try:
        return bytes(view[pos + 4 : end]).decode(), end
    except UnicodeDecodeError as exc:
        raise ProtocolError("header is not UTF-8") from exc
