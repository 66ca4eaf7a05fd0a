"""What the generic registry needs to know about one kind: names, scope, and its hooks.

Each kind module (pods, namespaces, …) defines one ``Kind`` subclass instance. The generic
create/update/delete flow lives in ``service.py`` and calls these hooks; a kind overrides only
what differs from the defaults here (which suit a plain data object such as a ConfigMap).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubelite.clock import parse_rfc3339
from kubelite.model.fielderrors import FieldError
from kubelite.model.podprint import human_duration

Obj = dict[str, Any]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0


def _meta_name(o: Obj) -> str:
    return str(o.get("metadata", {}).get("name", ""))


def _meta_namespace(o: Obj) -> str:
    return str(o.get("metadata", {}).get("namespace", ""))


@dataclass(frozen=True, slots=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = "v1"


@dataclass(eq=False)
class Kind:
    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    label_name: bool = False  # names must be DNS-1123 labels (else subdomains)
    tracks_generation: bool = False  # metadata.generation counts spec changes
    returns_deleted_object: bool = False  # DELETE answers the object, not a Status
    subresources: tuple[Subresource, ...] = ()
    description: str = ""
    fields: dict[str, Callable[[Obj], str]] = field(default_factory=dict)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """How error messages name the resource: ``pods``, ``leases.coordination.k8s.io``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def field_getters(self) -> dict[str, Callable[[Obj], str]]:
        base: dict[str, Callable[[Obj], str]] = {
            "metadata.name": _meta_name,
            "metadata.namespace": _meta_namespace,
        }
        return base | self.fields

    # -- hooks ------------------------------------------------------------------------------
    def prepare_create(self, obj: Obj) -> None:
        """Defaulting and server-owned fields on create (mutates ``obj``)."""

    def validate(self, obj: Obj) -> list[FieldError]:
        return []

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        """Carry what this kind of update may not change (e.g. ``status`` on the main resource)."""

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return self.validate(new)

    def spec_changed(self, new: Obj, old: Obj) -> bool:
        """Whether ``metadata.generation`` moves: any change outside metadata and status."""
        skip = {"metadata", "status"}
        return {k: v for k, v in new.items() if k not in skip} != {
            k: v for k, v in old.items() if k not in skip
        }

    # -- printing ---------------------------------------------------------------------------
    def columns(self) -> list[Column]:
        return [Column("Name", format="name", description="Name of the object."), AGE_COLUMN]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        return [_meta_name(obj), age_of(obj, now)]


AGE_COLUMN = Column("Age", description="Time since the object was created.")


def age_of(obj: Obj, now: float) -> str:
    ts = obj.get("metadata", {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    try:
        return human_duration(now - parse_rfc3339(ts))
    except ValueError:
        return "<unknown>"
