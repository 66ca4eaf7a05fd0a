"""What the generic registry needs to know about one kind: names, scope, and its hooks.

Each kind module (pods, namespaces, …) defines one ``Kind`` subclass instance. The generic
create/update/delete flow lives in ``service.py`` and calls these hooks; a kind overrides only
what differs from the defaults here (which suit a plain data object such as a ConfigMap).
Every hook the flow calls is declared here, so the flow never asks whether a kind has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from kubelite.clock import parse_rfc3339
from kubelite.model.fielderrors import FieldError
from kubelite.model.objects import Obj
from kubelite.model.podprint import human_duration
from kubelite.registry.meta_validation import dns1123_label_errors, dns1123_subdomain_errors

if TYPE_CHECKING:
    from kubelite.registry.service import Registry

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


class Allocation(Protocol):
    """What one write reserved from a shared pool (Service IPs, node ports): ``rollback`` if
    the write failed, ``commit`` once it is stored (frees what the object no longer holds)."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class _NoAllocation:
    async def commit(self) -> None:
        return None

    async def rollback(self) -> None:
        return None


NO_ALLOCATION: Allocation = _NoAllocation()


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
    # Field selectors the store answers from an index (the node agent's ``spec.nodeName``).
    indexed_fields: tuple[str, ...] = ()

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

    # -- behaviour flags (class attributes of a kind's subclass) ------------------------------
    # Deletion waits for a grace period the node ends (pods): a marked object goes only once
    # its ``deletionGracePeriodSeconds`` is 0, even with no finalizers left.
    graceful: ClassVar[bool] = False
    # Deleting marks the object and something else empties it first (namespaces), even when
    # the grace period is 0 and no finalizer is set.
    holds_contents: ClassVar[bool] = False
    # A second view of another kind's objects (events.k8s.io Events over core Events): every
    # verb runs on ``storage_kind`` through ``to_storage``/``from_storage``.
    storage_kind: ClassVar[Kind | None] = None
    # What a DELETE without a propagationPolicy does to the object's dependents (the
    # strategy's DefaultGarbageCollectionPolicy): "DeleteDependents" (in the background),
    # "OrphanDependents" (core/v1 ReplicationControllers and batch/v1 Jobs, for backward
    # compatibility) or "Unsupported" (no garbage-collection finalizers are ever set).
    default_gc_policy: ClassVar[str] = "DeleteDependents"

    def name_errors(self, name: str) -> list[str]:
        """The kind's name syntax: a DNS-1123 subdomain by default, a label with
        ``label_name``; kinds with their own rule (Services, RBAC) override it."""
        if self.label_name:
            return dns1123_label_errors(name)
        return dns1123_subdomain_errors(name)

    # -- hooks ------------------------------------------------------------------------------
    def prepare_create(self, obj: Obj) -> None:
        """Defaulting and server-owned fields on create (mutates ``obj``)."""

    async def admit(self, registry: Registry, obj: Obj) -> None:
        """Create-time admission that may read other objects (pods: the ServiceAccount plugin).
        Runs after ``prepare_create`` and before allocation and validation, on dry runs too, as
        the API server's mutating admission does; may change ``obj`` or raise ``Forbidden``."""

    def validate(self, obj: Obj) -> list[FieldError]:
        return []

    async def after_create(self, registry: Registry, created: Obj) -> None:
        """What follows a stored create (a namespace's ``default`` ServiceAccount)."""

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        """Carry what this kind of update may not change (e.g. ``status`` on the main resource).
        May refuse the update by raising (a pod's binding to a second node)."""

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        """``subresource`` is what the write went through: "" (the object), "status",
        "binding" …, as for ``prepare_update``."""
        return self.validate(new)

    async def allocate(
        self, registry: Registry, new: Obj, old: Obj | None, *, dry_run: bool
    ) -> Allocation:
        """Reserve what ``new`` needs from pools shared by all objects, before validation and
        storage (``old`` is None on create). May fill fields in (an allocated cluster IP)."""
        return NO_ALLOCATION

    async def release(self, registry: Registry, removed: Obj) -> None:
        """Give back what an object that has just left the store held."""

    def refuse_delete(self, obj: Obj) -> None:
        """Raise (``Forbidden``) if this object may never be deleted (the system namespaces)."""

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        """Seconds the deletion of ``obj`` waits; ``requested`` is the client's, if any. The
        default removes at once (or marks, while finalizers remain)."""
        return 0

    def on_delete(self, obj: Obj) -> bool:
        """Change a just-marked object in place (a namespace turns ``Terminating``); True if
        anything changed."""
        return False

    def to_storage(self, obj: Obj) -> Obj:
        """A view kind's object as ``storage_kind`` stores it (identity otherwise)."""
        return obj

    def from_storage(self, obj: Obj) -> Obj:
        """A stored ``storage_kind`` object as this view shows it (identity otherwise)."""
        return obj

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
