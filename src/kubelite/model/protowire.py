"""The protobuf wire format: base-128 varints and the (field number, value) pairs they frame.

Two parts of kubelite read protobuf: the API decodes the bodies kubectl sends for built-in
kinds, and the agent's gRPC probe decodes a ``HealthCheckResponse``. Both read the same wire
format with this one reader. It lives in ``model`` because both layers may import it; it does
no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5
MAX_VARINT_SHIFT = 63  # a varint holds at most 64 bits (ten bytes)


class WireError(ValueError):
    """The bytes are not well-formed protobuf."""


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The unsigned varint at ``buf[pos:]`` and the position after it."""
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise WireError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > MAX_VARINT_SHIFT:
            raise WireError("varint too long")


def encode_varint(n: int) -> bytes:
    """``n`` (unsigned) as a varint."""
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs of one message: varints as ints, length-delimited values
    as bytes; fixed-width fields are skipped. Groups (wire types 3 and 4) are refused."""
    pos = 0
    while pos < len(buf):
        tag, pos = read_varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == VARINT:
            value, pos = read_varint(buf, pos)
            yield number, value
        elif wire == LENGTH_DELIMITED:
            size, pos = read_varint(buf, pos)
            if pos + size > len(buf):
                raise WireError("truncated field")
            yield number, buf[pos : pos + size]
            pos += size
        elif wire == FIXED64:
            pos += 8
        elif wire == FIXED32:
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire}")
