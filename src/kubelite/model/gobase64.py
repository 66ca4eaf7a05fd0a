"""Base64 as the API server decodes ``[]byte`` fields (a Secret's ``data``, a ConfigMap's
``binaryData``): Go's ``encoding/base64`` standard encoding, padding required, line breaks
ignored. A bad input fails at the byte Go names (``illegal base64 data at input byte N``), so
the error a client sees is the API server's.
"""

from __future__ import annotations

import binascii

_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_NEWLINES = frozenset(b"\r\n")
_PAD = ord("=")


class CorruptInput(ValueError):
    """Go's ``base64.CorruptInputError``: ``offset`` is the input byte it stopped at."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"illegal base64 data at input byte {offset}")
        self.offset = offset


def decode(text: str) -> bytes:
    """The bytes ``text`` encodes, or ``CorruptInput`` where Go's decoder would fail."""
    src = text.encode()
    try:  # the common case, checked strictly; anything odd is walked as Go walks it
        if not _NEWLINES.intersection(src):
            return binascii.a2b_base64(src, strict_mode=True)
    except binascii.Error:
        pass
    offset = _first_error(src)
    if offset is not None:
        raise CorruptInput(offset)
    return binascii.a2b_base64(bytes(b for b in src if b not in _NEWLINES))


def decoded_length(text: str) -> int:
    """How many bytes a valid ``text`` decodes to, without keeping them."""
    return len(decode(text))


def _first_error(src: bytes) -> int | None:
    """Go's decodeQuantum, quantum by quantum: the offset of the first error, or None."""
    si, n = 0, len(src)
    while si < n:
        quantum: list[int] = []
        while len(quantum) < 4:
            if si == n:
                if not quantum:
                    return None
                return si - len(quantum)  # a quantum cut short: padding was required
            byte = src[si]
            si += 1
            if byte in _ALPHABET:
                quantum.append(byte)
                continue
            if byte in _NEWLINES:
                continue
            if byte != _PAD or len(quantum) < 2:
                return si - 1
            return _after_padding(src, si, len(quantum))
    return None


def _after_padding(src: bytes, si: int, have: int) -> int | None:
    """Padding began after ``have`` symbols (2 or 3); ``si`` is just past the first ``=``."""
    n = len(src)
    if have == 2:  # "==" expected
        while si < n and src[si] in _NEWLINES:
            si += 1
        if si == n:
            return n
        if src[si] != _PAD:
            return si - 1
        si += 1
    while si < n and src[si] in _NEWLINES:
        si += 1
    return si if si < n else None  # data after the padding is an error
