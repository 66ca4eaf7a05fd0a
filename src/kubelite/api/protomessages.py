"""Decoding a protobuf message into the dict its JSON form would give, by ``protoschema``.

The result is what the same object sent as JSON by kubectl decodes to, near enough that
defaulting and validation cannot tell: a scalar value field (no ``?``) at its zero value is left
out, as ``omitempty`` leaves it out of JSON; a message is kept even when empty (Go's JSON writes
``resources: {}`` too); an optional field is kept whatever its value (an explicit
``allowPrivilegeEscalation: false`` matters); empty lists and maps do not exist on the wire.
Fields the table does not know are skipped, as gogo-protobuf skips unknown fields.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from kubelite.api.protoschema import MESSAGES
from kubelite.clock import rfc3339
from kubelite.model.protowire import LENGTH_DELIMITED, VARINT, WireError, fields, read_varint

_ZERO = ("", 0, False)


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str  # a scalar code (s i b y q n t r) or a MESSAGES key
    message: bool = False
    repeated: bool = False
    map: bool = False
    optional: bool = False
    inline: bool = False


def _field(name: str, code: str) -> Field:
    if code.startswith("{"):
        return Field(name, code[1:-1].lstrip("@"), message=code[1] == "@", map=True)
    suffix = code[-1] if code[-1] in "*?^" else ""
    base = code[: -len(suffix)] if suffix else code
    return Field(
        name, base.lstrip("@"), message=base.startswith("@"), repeated=suffix == "*",
        optional=suffix == "?", inline=suffix == "^",
    )  # fmt: skip


@cache
def schema(key: str) -> dict[int, Field]:
    """The fields of message ``key`` by number (KeyError for a message the table lacks)."""
    out: dict[int, Field] = {}
    for entry in MESSAGES[key].split(", "):
        number, name, code = entry.split(" ")
        out[int(number)] = _field(name, code)
    return out


def decode_message(key: str, buf: bytes) -> dict[str, Any]:
    """Message ``key`` in ``buf`` as a JSON-shaped dict (``WireError`` if malformed)."""
    table = schema(key)
    out: dict[str, Any] = {}
    for number, raw in fields(buf):
        f = table.get(number)
        if f is None:
            continue
        if f.map:
            k, v = _entry(raw)
            out.setdefault(f.name, {})[k] = _value(f, v, LENGTH_DELIMITED)
        elif f.inline:
            out.update(decode_message(f.type, _bytes(raw)))
        elif f.repeated:
            out.setdefault(f.name, []).extend(_repeated(f, raw))
        else:
            value = _value(f, raw, VARINT if isinstance(raw, int) else LENGTH_DELIMITED)
            if f.optional or f.message or not (value in _ZERO or value is None):
                out[f.name] = value
            else:
                out.pop(f.name, None)  # the last occurrence of a field wins
    return out


def _repeated(f: Field, raw: int | bytes) -> list[Any]:
    """One occurrence of a repeated field: an item, or (for packed integers) several."""
    if f.type in ("i", "b") and isinstance(raw, bytes):
        items, pos = [], 0
        while pos < len(raw):
            n, pos = read_varint(raw, pos)
            items.append(_scalar(f.type, n))
        return items
    return [_value(f, raw, VARINT if isinstance(raw, int) else LENGTH_DELIMITED)]


def _value(f: Field, raw: int | bytes, wire: int) -> Any:
    if f.message:
        return decode_message(f.type, _bytes(raw))
    if wire == VARINT:
        return _scalar(f.type, raw)
    return _scalar(f.type, _bytes(raw))


def _scalar(code: str, raw: int | bytes) -> Any:
    if isinstance(raw, int):
        if code == "b":
            return bool(raw)
        if code == "i":
            return raw - (1 << 64) if raw >= 1 << 63 else raw  # two's complement int64
        raise WireError(f"a varint where type {code} was expected")
    if code == "s":
        return raw.decode("utf-8")
    if code == "y":
        return base64.b64encode(raw).decode()
    if code == "q":
        return _text_field(raw, 1)
    if code == "n":
        return _int_or_string(raw)
    if code == "t":
        return _time(raw)
    if code == "r":
        body = _text_field(raw, 1)
        return json.loads(body) if body else None
    raise WireError(f"bytes where type {code} was expected")


def _bytes(raw: int | bytes) -> bytes:
    if not isinstance(raw, bytes):
        raise WireError("a varint where a message was expected")
    return raw


def _entry(raw: int | bytes) -> tuple[str, bytes]:
    key, value = "", b""
    for n, v in fields(_bytes(raw)):
        if n == 1:
            key = _bytes(v).decode("utf-8")
        elif n == 2:
            value = _bytes(v)
    return key, value


def _text_field(raw: bytes, number: int) -> str:
    for n, v in fields(raw):
        if n == number:
            return _bytes(v).decode("utf-8")
    return ""


def _numbers(raw: bytes) -> dict[int, int]:
    return {n: v for n, v in fields(raw) if isinstance(v, int)}


def _int_or_string(raw: bytes) -> int | str:
    """intstr.IntOrString: type=1 (0 int, 1 string), intVal=2, strVal=3."""
    if _numbers(raw).get(1, 0) == 1:
        return _text_field(raw, 3)
    value = _numbers(raw).get(2, 0)
    return value - (1 << 64) if value >= 1 << 63 else value


def _time(raw: bytes) -> str | None:
    """metav1.Time: seconds=1, nanos=2; the zero time is JSON's null."""
    seconds = _numbers(raw).get(1, 0)
    return rfc3339(seconds) if seconds else None
