"""The protobuf wire reader the API's body decoder and the gRPC probe share."""

import pytest

from kubelite.model.protowire import WireError, encode_varint, fields, read_varint


@pytest.mark.parametrize(
    ("value", "wire"),
    [(0, b"\x00"), (1, b"\x01"), (127, b"\x7f"), (128, b"\x80\x01"), (300, b"\xac\x02")],
)
def test_a_varint_reads_back_what_was_written(value: int, wire: bytes) -> None:
    assert encode_varint(value) == wire
    assert read_varint(b"\xff" + wire + b"rest", 1) == (value, 1 + len(wire))


@pytest.mark.parametrize(
    ("wire", "error"),
    [(b"\x80", "truncated varint"), (b"\xff" * 10 + b"\x01", "varint too long")],
)
def test_a_malformed_varint_is_a_wire_error(wire: bytes, error: str) -> None:
    with pytest.raises(WireError, match=error):
        read_varint(wire, 0)


def test_fields_give_varints_and_bytes_and_skip_fixed_widths() -> None:
    message = (
        b"\x08\x01"  # 1: varint 1
        + b"\x12\x03abc"  # 2: bytes "abc"
        + b"\x19" + bytes(8)  # 3: fixed64, skipped
        + b"\x25" + bytes(4)  # 4: fixed32, skipped
        + b"\x28\xac\x02"  # 5: varint 300
    )  # fmt: skip
    assert list(fields(message)) == [(1, 1), (2, b"abc"), (5, 300)]


@pytest.mark.parametrize(
    ("message", "error"),
    [(b"\x12\x05ab", "truncated field"), (b"\x0b", "unsupported wire type 3")],
)
def test_a_malformed_message_is_a_wire_error(message: bytes, error: str) -> None:
    with pytest.raises(WireError, match=error):
        list(fields(message))
