"""JSON responses with the content types kubectl expects."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from kubelite.api.errors import to_status


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def json_response(
    obj: Any, status: int = 200, content_type: str = "application/json"
) -> web.Response:
    resp = web.Response(status=status, text=dumps(obj))
    resp.headers["Content-Type"] = content_type
    return resp


def error_response(exc: BaseException) -> web.Response:
    code, body = to_status(exc)
    resp = json_response(body, status=code)
    retry = (body.get("details") or {}).get("retryAfterSeconds")
    if retry:  # clients (client-go, kubectl) wait this long and try again
        resp.headers["Retry-After"] = str(retry)
    return resp
