"""Decoding of the protobuf request bodies that kubectl's imperative ``create namespace|
configmap|secret|serviceaccount`` send (client-go prefers protobuf for built-in types and has
no JSON fallback).

Only the wire format and the few messages those commands produce are understood: the ``k8s\\0``
envelope around a ``runtime.Unknown`` (typeMeta=1, raw=2), and Namespace, ConfigMap, Secret and
ServiceAccount with the ObjectMeta fields name, generateName, namespace, labels, annotations
and finalizers. Anything else raises ``ProtobufError`` and the caller answers 415.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) pairs; length-delimited values are bytes, varints are ints."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, value
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise ProtobufError("truncated field")
            yield number, buf[pos : pos + size]
            pos += size
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")


def _text(v: int | bytes) -> str:
    if not isinstance(v, bytes):
        raise ProtobufError("expected a string")
    return v.decode("utf-8")


def _entry(v: int | bytes) -> tuple[str, bytes]:
    if not isinstance(v, bytes):
        raise ProtobufError("expected a map entry")
    key, value = "", b""
    for n, x in fields(v):
        if n == 1:
            key = _text(x)
        elif n == 2 and isinstance(x, bytes):
            value = x
    return key, value


def _meta(buf: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, v in fields(buf):
        if n in (1, 2, 3):
            out[("name", "generateName", "namespace")[n - 1]] = _text(v)
        elif n in (11, 12):
            k, val = _entry(v)
            out.setdefault("labels" if n == 11 else "annotations", {})[k] = val.decode()
        elif n == 14:
            out.setdefault("finalizers", []).append(_text(v))
    return {k: v for k, v in out.items() if v != ""}


def _configmap(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif n == 2:
            k, val = _entry(v)
            obj.setdefault("data", {})[k] = val.decode()
        elif n == 3:
            k, val = _entry(v)
            obj.setdefault("binaryData", {})[k] = base64.b64encode(val).decode()
        elif n == 4:
            obj["immutable"] = bool(v)
    return obj


def _secret(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif n == 2:
            k, val = _entry(v)
            obj.setdefault("data", {})[k] = base64.b64encode(val).decode()
        elif n == 3:
            obj["type"] = _text(v)
        elif n == 4:
            k, val = _entry(v)
            obj.setdefault("stringData", {})[k] = val.decode()
        elif n == 5:
            obj["immutable"] = bool(v)
    return obj


def _namespace(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
    return obj


def _serviceaccount(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for n, v in fields(buf):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif n == 4:
            obj["automountServiceAccountToken"] = bool(v)
    return obj


_DECODERS = {
    "ConfigMap": _configmap,
    "Secret": _secret,
    "Namespace": _namespace,
    "ServiceAccount": _serviceaccount,
}


def decode(body: bytes) -> dict[str, Any]:
    if not body.startswith(MAGIC):
        raise ProtobufError("missing protobuf envelope")
    api_version = kind = ""
    raw = b""
    for n, v in fields(body[len(MAGIC) :]):
        if n == 1 and isinstance(v, bytes):
            for m, x in fields(v):
                if m == 1:
                    api_version = _text(x)
                elif m == 2:
                    kind = _text(x)
        elif n == 2 and isinstance(v, bytes):
            raw = v
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise ProtobufError(f"protobuf bodies of kind {kind or '?'} are not supported")
    obj = decoder(raw)
    obj["apiVersion"], obj["kind"] = api_version or "v1", kind
    obj.setdefault("metadata", {})
    return obj
