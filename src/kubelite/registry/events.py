"""Events (core/v1): what ``kubectl get events`` and ``describe`` read. The node agent posts
them; the columns and the ``involvedObject.*`` field selectors follow the API server."""

from __future__ import annotations

from typing import Any

from kubelite.clock import parse_rfc3339, rfc3339
from kubelite.model.objects import Obj
from kubelite.model.podprint import human_duration
from kubelite.registry.resource import Column, Kind
from kubelite.registry.selectors import path_getter


def _since(ts: Any, now: float) -> str:
    if not ts:
        return "<unknown>"
    try:
        return human_duration(now - parse_rfc3339(str(ts)))
    except ValueError:
        return "<unknown>"


def _source(ev: Obj) -> str:
    src = ev.get("source") or {}
    comp, host = src.get("component", ""), src.get("host", "")
    if not comp and not host:
        comp, host = ev.get("reportingComponent", ""), ev.get("reportingInstance", "")
    return f"{comp}, {host}" if host else comp


class EventKind(Kind):
    def prepare_create(self, obj: Obj) -> None:
        # Events written through the new API carry eventTime only; fill the legacy fields
        # describe and the printer read.
        if not obj.get("firstTimestamp") and obj.get("eventTime"):
            first = rfc3339(parse_rfc3339(str(obj["eventTime"])))
            obj.setdefault("firstTimestamp", first)
            obj.setdefault("lastTimestamp", first)
        obj.setdefault("involvedObject", {})

    def columns(self) -> list[Column]:
        return [
            Column("Last Seen", description="When the event was last observed."),
            Column("Type", description="Normal or Warning."),
            Column("Reason", description="A short machine-readable reason."),
            Column("Object", description="The object the event is about."),
            Column("Subobject", description="The part of the object, if any.", priority=1),
            Column("Source", description="The component that reported it.", priority=1),
            Column("Message", description="A human-readable description."),
            Column("First Seen", description="When the event was first observed.", priority=1),
            Column("Count", type="integer", description="How often it happened.", priority=1),
            Column("Name", format="name", description="Name of the event.", priority=1),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        first = _since(obj.get("firstTimestamp") or obj.get("eventTime"), now)
        last = _since(obj["lastTimestamp"], now) if obj.get("lastTimestamp") else first
        count = int(obj.get("count") or 0)
        series = obj.get("series")
        if series:
            last = _since(series.get("lastObservedTime"), now)
            count = int(series.get("count") or 0)
        elif count == 0:
            count = 1
        if count > 1:
            last = f"{last} (x{count} over {first})"
        inv = obj.get("involvedObject") or {}
        target = str(inv.get("kind", "")).lower()
        if inv.get("name"):
            target = f"{target}/{inv['name']}"
        return [
            last,
            obj.get("type", ""),
            obj.get("reason", ""),
            target,
            inv.get("fieldPath", ""),
            _source(obj),
            str(obj.get("message", "")).strip(),
            first,
            count,
            obj["metadata"]["name"],
        ]


_INV = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")

EVENTS = EventKind(
    group="",
    version="v1",
    kind="Event",
    plural="events",
    singular="event",
    short_names=("ev",),
    description="A report of something that happened to an object.",
    fields={f"involvedObject.{f}": path_getter("involvedObject", f) for f in _INV}
    | {
        "reason": path_getter("reason"),
        "type": path_getter("type"),
        "source": path_getter("source", "component"),
        "reportingComponent": path_getter("reportingComponent"),
    },
)
