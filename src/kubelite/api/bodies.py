"""Reading request bodies: size limit, media types, JSON/YAML/protobuf decoding.

Every failure is an ``ApiError`` with the API server's code: 413 over 3 MiB, 415 for a media
type we cannot read, 400 for a body that does not parse or nests too deeply (``nesting``), with
the API server's wording for that kind of request.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from aiohttp import web

from kubelite.api import protobuf
from kubelite.api.errors import ApiError, bad_request, too_large, unsupported_media_type
from kubelite.api.nesting import (
    MAX_DEPTH,
    depth_message,
    expanded_size,
    text_depth_error,
    value_depth_error,
)
from kubelite.api.numbers import parse_constant, parse_float

MAX_BODY = 3 * 1024 * 1024
MAX_YAML_NODES = 1_000_000  # values a YAML body may expand to through its aliases

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)
JSON_TYPES = ("", "application/json", "*/*")
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")
PROTOBUF = "application/vnd.kubernetes.protobuf"


def media_type(request: web.Request) -> str:
    return request.headers.get("Content-Type", "").split(";")[0].strip().lower()


async def read_raw(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise too_large()
    chunks, size = [], 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


class Undecodable(Exception):
    """A body that is too deeply nested to decode; ``detail`` is the decoder's text, which each
    caller wraps as the API server does for that kind of request."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def parse_json(raw: bytes) -> Any:
    """``raw`` decoded; ``Undecodable`` when it nests deeper than ``nesting.MAX_DEPTH``."""
    try:
        value = json.loads(raw, parse_float=parse_float, parse_constant=parse_constant)
    except RecursionError:
        raise Undecodable(text_depth_error(raw) or depth_message("[")) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"error decoding JSON body: {exc}") from exc
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:
        error = value_depth_error(value)
        if error is not None:
            raise Undecodable(error)
    return value


def parse_yaml(raw: bytes) -> Any:
    """``raw`` decoded; ``Undecodable`` when it nests deeper than ``nesting.MAX_DEPTH`` or its
    aliases expand it past ``MAX_YAML_NODES`` values (a "billion laughs" document)."""
    too_deep = f"error converting YAML to JSON: yaml: exceeded max depth of {MAX_DEPTH}"
    try:
        value = yaml.safe_load(raw)
    except RecursionError:
        raise Undecodable(too_deep) from None
    except yaml.YAMLError as exc:
        raise bad_request(f"error converting YAML to JSON: {exc}") from exc
    if expanded_size(value, MAX_YAML_NODES) >= MAX_YAML_NODES:
        raise Undecodable(
            "error converting YAML to JSON: yaml: document contains excessive aliasing"
        )
    if value_depth_error(value) is not None:
        raise Undecodable(too_deep)
    return value


def summarize(raw: bytes, limit: int = 30) -> str:
    """How the API server quotes an unrecognized body: its start as text if it is a JSON
    object, else in hex."""
    if not raw:
        return "<empty>"
    head = raw[:limit].decode("utf-8", "replace") if raw[:1] == b"{" else raw[:limit].hex()
    return head + " ..." if len(raw) > limit else head


def _decode_document(raw: bytes, mt: str) -> Any:
    """A whole object in JSON or YAML (by media type); a nesting error is worded as the API
    server's object decoder words it."""
    if mt in YAML_TYPES:
        return parse_yaml(raw)
    try:
        return parse_json(raw)
    except Undecodable as exc:
        raise Undecodable(f"couldn't get version/kind; json parse error: {exc.detail}") from None


async def read_object(request: web.Request, kind: str = "") -> dict[str, Any]:
    """The body of a create/update as a dict (JSON, YAML or one of the protobuf kinds);
    ``kind`` is what the request expects, for the API server's message about a body it cannot
    decode."""
    raw = await read_raw(request)
    mt = media_type(request)
    if mt == PROTOBUF:
        try:
            return protobuf.decode(raw)
        except (protobuf.ProtobufError, UnicodeDecodeError) as exc:
            raise unsupported_media_type(mt) from exc
    if mt not in JSON_TYPES + YAML_TYPES:
        raise unsupported_media_type(mt)
    try:
        obj = _decode_document(raw, mt)
    except Undecodable as exc:
        if not kind:
            raise bad_request(exc.detail) from None
        raise bad_request(
            f"the object provided is unrecognized (must be of type {kind}): {exc.detail} "
            f"({summarize(raw)})"
        ) from None
    if not isinstance(obj, dict):
        raise bad_request("the body of the request must be a JSON object")
    return obj


async def read_patch(request: web.Request) -> tuple[str, Any]:
    mt = media_type(request)
    if mt not in PATCH_TYPES:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(PATCH_TYPES)}",
        )
    raw = await read_raw(request)
    try:
        return mt, parse_yaml(raw) if mt == APPLY_PATCH else parse_json(raw)
    except Undecodable as exc:  # the strategic merge patcher reports the decoder's text bare
        prefix = "" if mt == STRATEGIC_PATCH else "error decoding patch: "
        raise bad_request(prefix + exc.detail) from None


async def read_optional_json(request: web.Request) -> dict[str, Any]:
    """An optional body (DeleteOptions) in JSON, YAML or, from a typed client's delete, protobuf;
    empty means {}."""
    raw = await read_raw(request)
    if not raw.strip():
        return {}
    if media_type(request) == PROTOBUF:
        try:
            return protobuf.decode(raw)
        except (protobuf.ProtobufError, UnicodeDecodeError) as exc:
            raise unsupported_media_type(PROTOBUF) from exc
    try:
        obj = _decode_document(raw, media_type(request))
    except Undecodable as exc:
        raise bad_request(exc.detail) from None
    if not isinstance(obj, dict):
        raise bad_request("the body of the request must be a JSON object")
    return obj
