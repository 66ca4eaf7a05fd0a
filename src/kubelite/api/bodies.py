"""Reading request bodies: size limit, media types, JSON/YAML/protobuf decoding.

Every failure is an ``ApiError`` with the API server's code: 413 over 3 MiB, 415 for a media
type we cannot read, 400 for a body that does not parse.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from aiohttp import web

from kubelite.api import protobuf
from kubelite.api.errors import ApiError, bad_request, too_large, unsupported_media_type

MAX_BODY = 3 * 1024 * 1024

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)


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


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"error decoding JSON body: {exc}") from exc


def parse_yaml(raw: bytes) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise bad_request(f"error converting YAML to JSON: {exc}") from exc


async def read_object(request: web.Request) -> dict[str, Any]:
    """The body of a create/update as a dict (JSON, YAML or one of the protobuf kinds)."""
    raw = await read_raw(request)
    mt = media_type(request)
    if mt == "application/vnd.kubernetes.protobuf":
        try:
            return protobuf.decode(raw)
        except (protobuf.ProtobufError, UnicodeDecodeError) as exc:
            raise unsupported_media_type(mt) from exc
    if mt in ("", "application/json", "*/*"):
        obj = parse_json(raw)
    elif mt in ("application/yaml", "application/x-yaml", "text/yaml"):
        obj = parse_yaml(raw)
    else:
        raise unsupported_media_type(mt)
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
    return mt, parse_yaml(raw) if mt == APPLY_PATCH else parse_json(raw)


async def read_optional_json(request: web.Request) -> dict[str, Any]:
    """An optional JSON body (DeleteOptions); empty means {}."""
    raw = await read_raw(request)
    if not raw.strip():
        return {}
    obj = parse_json(raw) if media_type(request) != "application/yaml" else parse_yaml(raw)
    if not isinstance(obj, dict):
        raise bad_request("the body of the request must be a JSON object")
    return obj
