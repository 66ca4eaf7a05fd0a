"""Continue tokens of paged lists, as the API server encodes them: base64url (unpadded) JSON
``{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<next key>"}``, the key relative to the
collection's prefix. A token is opaque to clients, but one kubelite issued also works against
the API server's decoder and the other way round.

``rv`` -1 means "continue from the current revision": the API server hands such a token out
with the 410 for a page whose revision is gone, for a client that accepts an inconsistent list.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

VERSION = "meta.k8s.io/v1"


class BadContinue(ValueError):
    """The API server's ``continue key is not valid…`` text."""


@dataclass(frozen=True, slots=True)
class Continuation:
    start: str  # relative to the collection's key prefix
    revision: int  # > 0: read at it; < 0: read at the current one


def encode(start: str, revision: int) -> str:
    body = json.dumps({"v": VERSION, "rv": revision, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def decode(token: str) -> Continuation:
    try:
        raw = _unpadded_b64decode(token)
    except ValueError as exc:
        raise BadContinue(f"continue key is not valid: {exc}") from None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadContinue(f"continue key is not valid: {exc}") from None
    if not isinstance(body, dict):
        raise BadContinue("continue key is not valid: json: cannot unmarshal into a token")
    if body.get("v") != VERSION:
        version = body.get("v", "")
        raise BadContinue(
            f"continue key is not valid: server does not recognize this encoded version {version}"
        )
    revision, start = body.get("rv"), body.get("start")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision == 0:
        raise BadContinue(
            "continue key is not valid: incorrect encoded start resourceVersion "
            "(version meta.k8s.io/v1)"
        )
    if not isinstance(start, str) or not start:
        raise BadContinue(
            "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)"
        )
    key = start if start.startswith("/") else "/" + start
    if not _clean(key):  # no climbing out of the collection: "..", ".", "//"
        raise BadContinue(f"continue key is not valid: {start}")
    return Continuation(key[1:], revision)


def _unpadded_b64decode(token: str) -> bytes:
    """Go's RawURLEncoding: the URL alphabet, no padding."""
    for i, char in enumerate(token):
        if not (char.isascii() and (char.isalnum() or char in "-_")):
            raise ValueError(f"illegal base64 data at input byte {i}")
    if len(token) % 4 == 1:
        raise ValueError(f"illegal base64 data at input byte {len(token) - 1}")
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except binascii.Error as exc:
        raise ValueError(str(exc)) from None


def _clean(key: str) -> bool:
    """Whether Go's ``path.Clean`` leaves ``key`` (which starts with "/") as it is."""
    if key == "/":
        return True
    parts = key[1:].split("/")
    return all(part not in ("", ".", "..") for part in parts)
