"""Events as the controllers post them (client-go's event recorder, trimmed): a core/v1 Event
about the involved object, from a named component (``deployment-controller``,
``replicaset-controller``…). The same event (same object, type, reason and message) posted
again within the process is counted on the first one (``count`` and ``lastTimestamp``
patched), as the recorder's correlator aggregates repeats.

Posting never fails the caller: an event that cannot be written (the namespace is going, the
API is briefly away) is logged and dropped, as client-go drops it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from kubelite.client.rest import ApiClient, ApiError, Resource
from kubelite.clock import Clock, SystemClock, rfc3339
from kubelite.model.eventname import EventNamer
from kubelite.model.objects import JSON, Obj

log = logging.getLogger(__name__)

EVENTS = Resource("", "v1", "events", "Event")
NORMAL, WARNING = "Normal", "Warning"
REMEMBERED = 4096  # repeats counted for this many distinct events (oldest forgotten first)

_Key = tuple[str, str, str, str]


def involved_object(obj: JSON) -> Obj:
    meta = obj.get("metadata") or {}
    ref: Obj = {
        "kind": str(obj.get("kind") or ""),
        "namespace": str(meta.get("namespace") or ""),
        "name": str(meta.get("name") or ""),
        "uid": str(meta.get("uid") or ""),
        "apiVersion": str(obj.get("apiVersion") or ""),
        "resourceVersion": str(meta.get("resourceVersion") or ""),
    }
    return {k: v for k, v in ref.items() if v or k in ("kind", "name")}


def event_body(
    obj: JSON, type_: str, reason: str, message: str, component: str, now: float, name: str = ""
) -> Obj:
    """The Event; ``name`` is the recorder's ``<object>.<hex ns>`` (made from ``now`` if "")."""
    involved = involved_object(obj)
    namespace = involved.get("namespace") or "default"
    stamp = rfc3339(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name or EventNamer().name(involved["name"], now),
            "namespace": namespace,
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": type_,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": "",
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


class EventRecorder:
    def __init__(self, client: ApiClient, component: str, *, clock: Clock | None = None) -> None:
        self._client = client
        self.component = component
        self._clock = clock or SystemClock()
        self._seen: OrderedDict[_Key, tuple[str, str, int]] = OrderedDict()
        self._names = EventNamer()  # <object>.<hex ns>: time-ordered, never repeated here

    async def event(self, obj: JSON, type_: str, reason: str, message: str) -> None:
        meta = obj.get("metadata") or {}
        key = (str(meta.get("uid") or ""), type_, reason, message)
        try:
            if await self._repeat(key):
                return
            now = self._clock.now()
            name = self._names.name(str(meta.get("name") or ""), now)
            body = event_body(obj, type_, reason, message, self.component, now, name)
            ns = body["metadata"]["namespace"]
            await self._client.create(EVENTS, ns, body)
            self._remember(key, (ns, body["metadata"]["name"], 1))
        except ApiError as err:
            log.info("event %s for %s not posted: %s", reason, meta.get("name"), err)

    async def _repeat(self, key: _Key) -> bool:
        seen = self._seen.get(key)
        if seen is None:
            return False
        ns, name, count = seen
        patch: dict[str, Any] = {"count": count + 1, "lastTimestamp": rfc3339(self._clock.now())}
        try:
            await self._client.merge_patch(EVENTS, ns, name, patch)
        except ApiError as err:
            if err.not_found:  # expired or deleted: post a new one
                self._seen.pop(key, None)
                return False
            raise
        self._remember(key, (ns, name, count + 1))
        return True

    def _remember(self, key: _Key, value: tuple[str, str, int]) -> None:
        self._seen[key] = value
        self._seen.move_to_end(key)
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
