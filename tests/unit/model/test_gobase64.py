"""Base64 decoded as Go's encoding/base64 (standard, padded) decodes ``[]byte`` fields: the
byte offset of an error is the one the API server reports."""

from __future__ import annotations

import pytest

from kubelite.model.gobase64 import CorruptInput, decode


@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        ("padded text decodes", "aGVsbG8=", b"hello"),
        ("two pad characters decode", "ab==", b"i"),
        ("line breaks are skipped", "aGVs\nbG8=", b"hello"),
        ("line breaks inside the padding are skipped", "ab=\n=", b"i"),
        ("nothing decodes to nothing", "", b""),
    ],
)
def test_valid_base64(case: str, text: str, expected: bytes) -> None:
    assert decode(text) == expected


@pytest.mark.parametrize(
    ("case", "text", "offset"),
    [
        ("a character outside the alphabet", "ab!d", 2),
        ("missing padding names the cut quantum's start", "aGVsbG8", 4),
        ("three symbols and no padding", "abc", 0),
        ("one symbol left over", "abcde", 4),
        ("a single pad character where two are needed", "ab=", 3),
        ("padding too early", "a===", 1),
        ("data after the padding", "abc=x", 4),
        ("padding alone", "====", 0),
        ("a non-ASCII character counts in UTF-8 bytes", "héllo", 1),
    ],
)
def test_invalid_base64_fails_where_go_fails(case: str, text: str, offset: int) -> None:
    with pytest.raises(CorruptInput) as err:
        decode(text)
    assert err.value.offset == offset
    assert str(err.value) == f"illegal base64 data at input byte {offset}"
