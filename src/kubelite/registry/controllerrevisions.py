"""ControllerRevisions (apps/v1): an immutable snapshot of a controller's state (for a
StatefulSet, the patch that restores its pod template), numbered by ``revision``; ``kubectl
rollout history`` and ``undo`` read them.

Validation is ``ValidateControllerRevision``: ``data`` is mandatory and never changes,
``revision`` is not negative. ``kubectl get controllerrevisions`` shows the controlling object
as ``<kind>.<group>/<name>`` (``statefulset.apps/web``) and the revision number.
"""

from __future__ import annotations

from typing import Any

from kubelite.model.fielderrors import FieldError, invalid, required
from kubelite.model.objects import Obj
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, age_of
from kubelite.registry.workload_validation import nonnegative


def validate_revision(obj: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    if obj.get("data") is None:
        errs.append(required("data", "data is mandatory"))
    return errs + nonnegative(obj.get("revision"), "revision")


def controller_cell(obj: Obj) -> str:
    """The controlling owner as ``<kind>.<group>/<name>`` (``<none>`` without one)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            group = str(ref.get("apiVersion") or "").rpartition("/")[0]
            kind = str(ref.get("kind") or "").lower()
            resource = f"{kind}.{group}" if group else kind
            return f"{resource}/{ref.get('name', '')}"
    return "<none>"


class ControllerRevisionKind(Kind):
    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_revision(obj)

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        errs = validate_revision(new)
        if new.get("data") != old.get("data"):
            errs.append(invalid("data", new.get("data"), "field is immutable"))
        return errs

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the revision."),
            Column("Controller", description="Controller of the object"),
            Column("Revision", description="The revision's number."),
            AGE_COLUMN,
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        revision = obj.get("revision")
        number = revision if isinstance(revision, int) and not isinstance(revision, bool) else 0
        return [obj["metadata"]["name"], controller_cell(obj), number, age_of(obj, now)]


CONTROLLERREVISIONS = ControllerRevisionKind(
    group="apps",
    version="v1",
    kind="ControllerRevision",
    plural="controllerrevisions",
    singular="controllerrevision",
    description="An immutable snapshot of a controller's state, numbered by revision.",
)
