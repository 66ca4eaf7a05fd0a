"""A shared, watched cache of one resource (client-go's informer, trimmed to what kubelite's
in-process clients need): list, then watch from the list's resourceVersion; on a watch that
ends it watches again from the last version seen, on 410 Gone or any error it lists again.

Consumers read ``items()`` (a snapshot) and are told of changes through handlers called with
the event type and the object (the old object for deletions); ``synced`` is set once the first
list is in. A relist that finds objects gone reports them as DELETED, so nothing is missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from kubelite.client.rest import ApiClient, ApiError, Obj, Resource

log = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace, name)
Handler = Callable[[str, Obj], None]
RETRY_SECONDS = 1.0


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


class Cache(Protocol):
    """What consumers of watched objects read: an ``Informer`` (from an API server) or a
    ``LocalCache`` (objects kept in the process, as ``kubelite run`` keeps its Services)."""

    synced: asyncio.Event

    def items(self) -> list[Obj]: ...
    def add_handler(self, handler: Handler) -> None: ...


class LocalCache:
    """A ``Cache`` whose objects are put and removed by its owner; handlers hear of each
    change as they would from a watch. Synced from the start."""

    def __init__(self) -> None:
        self._items: dict[Key, Obj] = {}
        self._handlers: list[Handler] = []
        self.synced = asyncio.Event()
        self.synced.set()

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def items(self) -> list[Obj]:
        return list(self._items.values())

    def get(self, namespace: str, name: str) -> Obj | None:
        return self._items.get((namespace, name))

    def put(self, obj: Obj) -> None:
        key = key_of(obj)
        kind = "MODIFIED" if key in self._items else "ADDED"
        self._items[key] = obj
        for handler in self._handlers:
            handler(kind, obj)

    def remove(self, namespace: str, name: str) -> None:
        old = self._items.pop((namespace, name), None)
        if old is not None:
            for handler in self._handlers:
                handler("DELETED", old)


class Informer:
    def __init__(
        self, client: ApiClient, resource: Resource, *, namespace: str | None = None
    ) -> None:
        self._client = client
        self.resource = resource
        self._namespace = namespace
        self._items: dict[Key, Obj] = {}
        self._handlers: list[Handler] = []
        self.synced = asyncio.Event()

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def items(self) -> list[Obj]:
        return list(self._items.values())

    def get(self, namespace: str, name: str) -> Obj | None:
        return self._items.get((namespace, name))

    def assume(self, obj: Obj) -> None:
        """Record the object a write of ours returned before its watch event arrives, so a
        reconcile right after the write sees it (the event then changes nothing)."""
        self._store(obj)

    def assume_deleted(self, namespace: str, name: str) -> None:
        self._items.pop((namespace, name), None)

    def _store(self, obj: Obj) -> bool:
        """Keep ``obj`` unless a newer version is already known; True if kept."""
        key = key_of(obj)
        old = self._items.get(key)
        if old is not None and _older(obj, old):
            return False
        self._items[key] = obj
        return True

    def _notify(self, kind: str, obj: Obj) -> None:
        for handler in self._handlers:
            try:
                handler(kind, obj)
            except Exception:  # one consumer's bug must not stop the others' updates
                log.exception("informer handler for %s failed", self.resource.plural)

    async def run(self) -> None:
        """List and watch until cancelled."""
        rv = ""
        while True:
            try:
                if not rv:
                    rv = await self._relist()
                rv = await self._watch(rv)
            except ApiError as err:
                if err.gone:
                    rv = ""  # too old: list again
                    continue
                log.info("watch of %s interrupted (%s); relisting", self.resource.plural, err)
                rv = ""
                await asyncio.sleep(RETRY_SECONDS)
            except (ValueError, KeyError, TypeError, OSError) as err:
                # an unreadable event or listing, a dropped connection: never the end of the
                # cache (its consumers would go stale for good); list again after a pause
                log.warning("watch of %s failed (%r); relisting", self.resource.plural, err)
                rv = ""
                await asyncio.sleep(RETRY_SECONDS)

    async def _relist(self) -> str:
        listing = await self._client.list(self.resource, self._namespace)
        current = {key_of(o): o for o in listing.get("items") or []}
        for key, old in list(self._items.items()):
            if key not in current:
                del self._items[key]
                self._notify("DELETED", old)
        for key, obj in current.items():
            before = self._items.get(key)
            self._items[key] = obj
            if before is None:
                self._notify("ADDED", obj)
            elif _rv(before) != _rv(obj):
                self._notify("MODIFIED", obj)
        self.synced.set()
        return str((listing.get("metadata") or {}).get("resourceVersion") or "")

    async def _watch(self, rv: str) -> str:
        async for event in self._client.watch(self.resource, self._namespace, rv):
            obj = event.object
            rv = _rv(obj) or rv
            if event.type == "BOOKMARK":
                continue
            key = key_of(obj)
            if event.type == "DELETED":
                self._items.pop(key, None)
            elif not self._store(obj):
                continue  # an event older than what a write of ours already showed
            self._notify(event.type, obj)
        return rv


def _rv(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _older(a: Obj, b: Obj) -> bool:
    """``a`` is an older version of ``b`` (resourceVersions compare as numbers where they are
    numbers, as etcd's and kubelite's are; opaque ones are never called older)."""
    ra, rb = _rv(a), _rv(b)
    return ra.isdigit() and rb.isdigit() and int(ra) < int(rb)
