"""Events through the events.k8s.io/v1 API: a second view of the same stored core/v1 Events,
so an event written through either API shows in ``kubectl get events`` and ``describe``.

Only the field names differ (``regarding``/``involvedObject``, ``note``/``message``,
``deprecated*`` for the legacy timestamps and counters); ``to_storage``/``from_storage``
translate, and the registry delegates every verb to the core kind (``storage_kind``).
"""

from __future__ import annotations

from typing import Any

from kubelite.model.objects import Obj
from kubelite.registry.events import EVENTS
from kubelite.registry.resource import Kind
from kubelite.registry.selectors import path_getter

# (events.k8s.io/v1 field, core/v1 field)
_RENAMES = (
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("reportingController", "reportingComponent"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
)
_SAME = (
    "metadata",
    "reason",
    "type",
    "action",
    "eventTime",
    "series",
    "related",
    "reportingInstance",
)


class EventV1Kind(Kind):
    storage_kind = EVENTS

    def to_storage(self, obj: Obj) -> Obj:
        out: dict[str, Any] = {"apiVersion": "v1", "kind": "Event"}
        for f in _SAME:
            if f in obj:
                out[f] = obj[f]
        for new, old in _RENAMES:
            if new in obj:
                out[old] = obj[new]
        return out

    def from_storage(self, obj: Obj) -> Obj:
        out: dict[str, Any] = {"apiVersion": self.api_version, "kind": "Event"}
        for f in _SAME:
            if f in obj:
                out[f] = obj[f]
        for new, old in _RENAMES:
            if old in obj:
                out[new] = obj[old]
        return out

    def columns(self) -> list[Any]:
        return EVENTS.columns()

    def cells(self, obj: Obj, now: float) -> list[Any]:
        return EVENTS.cells(self.to_storage(obj) | {"metadata": obj["metadata"]}, now)


_REGARDING = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")

EVENTS_V1 = EventV1Kind(
    group="events.k8s.io",
    version="v1",
    kind="Event",
    plural="events",
    singular="event",
    short_names=("ev",),  # as the API server lists events.k8s.io's events too
    description="A report of something that happened to an object (events.k8s.io view).",
    fields={f"regarding.{f}": path_getter("involvedObject", f) for f in _REGARDING}
    | {
        "reason": path_getter("reason"),
        "type": path_getter("type"),
        "reportingController": path_getter("reportingComponent"),
    },
)
