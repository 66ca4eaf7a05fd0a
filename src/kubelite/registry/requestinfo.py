"""Who is making the current request, and when it arrived, for the registry's rules that
depend on it (the API server carries both in the request's context): a CSR records its
requester, the NodeRestriction rules (``noderestriction``) limit what a node may write.

The API layer sets ``REQUEST`` for the duration of each authenticated request (after
impersonation, so it is the user the request acts as); kubelite's own in-process writes carry
none, and rules that depend on a requester let them through.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RequestUser:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    user: RequestUser
    received: float  # seconds since the epoch, on the API server's clock
    field_selector: str = ""  # as the request sent it (the node authorizer reads it)


REQUEST: ContextVar[RequestInfo | None] = ContextVar("kubelite_request_info", default=None)


def current_user() -> RequestUser | None:
    info = REQUEST.get()
    return info.user if info is not None else None


def request_time() -> float:
    """When the current request arrived (now, for writes outside a request)."""
    info = REQUEST.get()
    return info.received if info is not None else time.time()
