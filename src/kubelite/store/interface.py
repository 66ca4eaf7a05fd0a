"""The storage contract the registry is written against, and the errors it raises.

A store maps string keys (``<resource>/<namespace>/<name>``; namespace empty for cluster-scoped
kinds) to JSON objects. Every write gets the next value of ONE global revision counter, which the
store stamps into ``metadata.resourceVersion`` (kine and etcd do the same). Watches replay the
revision log from a revision, so a client that saw revision N misses nothing after it; once the
log before N has been compacted, ``Compacted`` tells the client to re-list (HTTP 410).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from kubelite.errors import KubeliteError

EventType = Literal["ADDED", "MODIFIED", "DELETED"]


def make_key(resource: str, namespace: str, name: str) -> str:
    return f"{resource}/{namespace}/{name}"


def split_key(key: str) -> tuple[str, str, str]:
    resource, namespace, name = [*key.split("/", 2), "", ""][:3]
    return resource, namespace, name


def prefix_end(prefix: str) -> str:
    """The first key after every key that starts with ``prefix`` (keys are compared as
    strings, so a collection is one contiguous, sorted range)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\U0010ffff"


def prefix_for(resource: str, namespace: str | None = None) -> str:
    """The key prefix of a collection: every namespace when ``namespace`` is None."""
    if namespace is None:
        return f"{resource}/"
    return f"{resource}/{namespace}/"


class StorageError(KubeliteError):
    """A store operation failed for a reason the caller can act on."""

    def __init__(self, key: str, message: str = "") -> None:
        super().__init__(message or key)
        self.key = key
        self.resource, self.namespace, self.name = split_key(key)


class NotFound(StorageError):
    pass


class AlreadyExists(StorageError):
    pass


class Conflict(StorageError):
    """The caller's resourceVersion precondition does not match the stored one."""


class Unavailable(StorageError):
    """The store cannot answer now (its backend is down or has no leader); trying again may
    help. For a write, whether it was applied is unknown. ``operation`` is what was asked
    (``get``, ``list``, ``create``, ``update``, ``delete``)."""

    def __init__(self, key: str, operation: str, message: str) -> None:
        super().__init__(key, message)
        self.operation = operation


class Compacted(StorageError):
    """The requested revision is older than the oldest revision still kept."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__("", f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: EventType
    key: str
    revision: int
    object: dict[str, Any]
    prev_text: str | None = None  # the object before a MODIFIED, as JSON, when known
    text: str | None = None  # ``object`` as stored (JSON), when the store has it at hand

    def previous(self) -> dict[str, Any] | None:
        if self.prev_text is None:
            return None
        prev: dict[str, Any] = json.loads(self.prev_text)
        return prev


Match = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list, read at ``revision``: the objects as stored (JSON text), in key
    order. ``last_key`` is set when keys follow the page (a next page starts after it);
    ``remaining`` is how many objects follow it, selected or not."""

    texts: list[str]
    revision: int
    last_key: str | None = None
    remaining: int = 0
    objects: list[dict[str, Any]] | None = None  # parsed, when ``match`` ran


class Store(Protocol):
    """Every method is atomic. Objects handed out are private copies the caller may mutate."""

    def current_revision(self) -> int: ...

    def resource_revision(self, resource: str) -> int:
        """The revision of the latest write to an object of ``resource`` (a key's first part),
        so that a cache of one resource is rebuilt only when that resource changed."""
        ...

    def oldest_revision(self) -> int:
        """The oldest revision a watch may still start from."""
        ...

    async def get(self, key: str) -> dict[str, Any]:
        """The stored object, or ``NotFound``."""
        ...

    async def list(self, prefix: str) -> tuple[list[dict[str, Any]], int]:
        """Every object under ``prefix`` (sorted by key) and the revision they were read at."""
        ...

    async def list_page(
        self,
        prefix: str,
        *,
        start: str = "",
        limit: int = 0,
        revision: int = 0,
        match: Match | None = None,
        index: tuple[str, str] | None = None,
    ) -> Page:
        """Objects under ``prefix`` from key ``start`` on, at ``revision`` (0: the current
        one; an older one is read as it was, or ``Compacted``), those ``match`` accepts, at
        most ``limit`` (0: all). ``index`` is a ``(field, value)`` pair ``match`` requires, a
        hint the store may answer from an index of that field (``add_index``)."""
        ...

    def add_index(self, prefix: str, field: str, value_of: Callable[[dict[str, Any]], str]) -> None:
        """Keep the objects under ``prefix`` indexed by ``value_of`` (a field's value), for
        ``list_page``'s ``index`` hint."""
        ...

    async def create(self, key: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new object; ``AlreadyExists`` if the key is taken. Returns it stamped."""
        ...

    async def update(
        self, key: str, obj: dict[str, Any], *, expected_rv: str | None = None
    ) -> dict[str, Any]:
        """Replace an object. ``expected_rv`` (if given) must equal the stored resourceVersion,
        else ``Conflict``. ``NotFound`` if absent. Returns it stamped with the new revision."""
        ...

    async def delete(self, key: str, *, expected_rv: str | None = None) -> dict[str, Any]:
        """Remove an object and return its last state (stamped with the deletion revision)."""
        ...

    def watch(self, prefix: str, since: int) -> AsyncGenerator[WatchEvent, None]:
        """Events under ``prefix`` with revision > ``since``, forever, in revision order.
        Raises ``Compacted`` (on first iteration) if ``since`` is older than the oldest kept."""
        ...

    async def compact(self, revision: int) -> None:
        """Forget history at or below ``revision`` (current states are kept)."""
        ...

    async def close(self) -> None: ...
