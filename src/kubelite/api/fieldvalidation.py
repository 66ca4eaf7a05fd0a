"""Server-side field validation (the ``fieldValidation`` query parameter).

``Strict`` (what kubectl sends by default) rejects fields the schema does not know with the
API server's strict-decoding 400; ``Warn`` (the default when the parameter is absent) drops
them and returns one ``Warning`` header per field; ``Ignore`` drops them silently. Only kinds
with a schema in ``registry.pod_schema`` are checked; for a patch only fields the patch newly
introduced count, so earlier leftovers never block an update.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from aiohttp import web

from kubelite.api.errors import bad_request
from kubelite.registry import pod_schema
from kubelite.registry.resource import Kind

WARNINGS: web.RequestKey[list[str]] = web.RequestKey("kubelite_warnings", list)
_TOKEN = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


def _unknown(kind: Kind, obj: Any) -> list[str]:
    if kind.group:
        return []
    try:
        return pod_schema.unknown_fields(kind.kind, obj)
    except (KeyError, TypeError, ValueError):  # no schema for this kind
        return []


def _drop(obj: Any, path: str) -> None:
    tokens = [m.group(1) if m.group(1) is not None else m.group(2) for m in _TOKEN.finditer(path)]
    if not tokens:
        return
    cur = obj
    for t in tokens[:-1]:
        if isinstance(cur, list) and t.isdigit() and int(t) < len(cur):
            cur = cur[int(t)]
        elif isinstance(cur, dict) and t in cur:
            cur = cur[t]
        else:
            return
    if isinstance(cur, dict):
        cur.pop(tokens[-1], None)


def check(request: web.Request, kind: Kind, obj: dict[str, Any], baseline: Any = None) -> None:
    """Apply the request's field-validation mode to ``obj`` (mutating it under Warn/Ignore)."""
    mode = request.query.get("fieldValidation") or "Warn"
    if mode not in ("Strict", "Warn", "Ignore"):
        raise bad_request(
            f'fieldValidation: Unsupported value: "{mode}": supported values: '
            '"Ignore", "Strict", "Warn"'
        )
    unknown = _unknown(kind, obj)
    if baseline is not None and unknown:
        before = set(_unknown(kind, baseline))
        unknown = [u for u in unknown if u not in before]
    if not unknown:
        return
    if mode == "Strict":
        fields = ", ".join(f'unknown field "{u}"' for u in unknown)
        raise bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f"strict decoding error: {fields}"
        )
    for u in unknown:
        _drop(obj, u)
    if mode == "Warn":
        if WARNINGS not in request:
            request[WARNINGS] = []
        request[WARNINGS].extend(f'unknown field "{u}"' for u in unknown)


def add_warning_headers(request: web.Request, resp: web.StreamResponse) -> None:
    """One ``Warning`` header per distinct warning (a retried patch warns once). A text with a
    control character (an unknown field named so) is dropped, as the API server drops it."""
    for text in dict.fromkeys(request.get(WARNINGS, [])):
        if any(unicodedata.category(c) == "Cc" for c in text):
            continue
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        resp.headers.add("Warning", f'299 - "{escaped}"')
