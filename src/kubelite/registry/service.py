"""The generic registry: one method per verb, the same flow for every kind.

create: check kind/namespace → name (or generateName) → namespace must exist and not be
terminating → stamp system fields → kind defaulting → validate → store.
update: read → precondition → carry system fields and what the subresource may not change →
bump generation on spec change → validate → store; an object whose deletion is pending and has
no finalizers left is removed instead (finalizers are what hold a deleted object).
delete: kind-specific (``Kind.plan_delete``) for pods' grace periods and namespaces' cascade;
the default is "remove now, or mark deleted while finalizers remain".
"""

from __future__ import annotations

import copy
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from kubelite.clock import Clock, rfc3339
from kubelite.model.fielderrors import FieldError
from kubelite.registry import meta as m
from kubelite.registry.errors import BadRequest, Forbidden, Invalid, NotFoundError
from kubelite.registry.resource import Kind, Obj
from kubelite.registry.selectors import (
    FieldRequirement,
    Requirement,
    fields_match,
    labels_match,
)
from kubelite.store.interface import Conflict, Store, WatchEvent, make_key, prefix_for


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    grace_period: int | None = None
    uid: str | None = None
    resource_version: str | None = None
    propagation: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteResult:
    object: Obj
    removed: bool  # False: deletion is pending (grace period or finalizers)


@dataclass(frozen=True, slots=True)
class Selection:
    labels: tuple[Requirement, ...] = ()
    fields: tuple[FieldRequirement, ...] = ()

    def matches(self, obj: Obj) -> bool:
        return labels_match(list(self.labels), obj) and fields_match(list(self.fields), obj)


class Registry:
    def __init__(self, *, store: Store, clock: Clock, kinds: list[Kind]) -> None:
        self.store = store
        self.clock = clock
        self.kinds = kinds

    def key(self, kind: Kind, namespace: str, name: str) -> str:
        return make_key(kind.qualified, namespace if kind.namespaced else "", name)

    # -- reads -------------------------------------------------------------------------------
    async def get(self, kind: Kind, namespace: str, name: str) -> Obj:
        if (stored := _storage_kind(kind)) is not None:
            return _out(kind, await self.get(stored, namespace, name))
        return await self.store.get(self.key(kind, namespace, name))

    async def list(
        self, kind: Kind, namespace: str | None, sel: Selection = Selection()
    ) -> tuple[list[Obj], int]:
        if (stored := _storage_kind(kind)) is not None:
            items, rev = await self.list(stored, namespace, sel)
            return [_out(kind, o) for o in items], rev
        ns = (namespace or None) if kind.namespaced else ""
        items, rev = await self.store.list(prefix_for(kind.qualified, ns))
        return [o for o in items if sel.matches(o)], rev

    async def watch(
        self, kind: Kind, namespace: str | None, since: int, sel: Selection = Selection()
    ) -> AsyncGenerator[WatchEvent, None]:
        stored = _storage_kind(kind)
        storage = stored.qualified if stored is not None else kind.qualified
        ns = (namespace or None) if kind.namespaced else ""
        async with aclosing(self.store.watch(prefix_for(storage, ns), since)) as events:
            async for ev in events:
                out = _through_selection(ev, sel)
                if out is not None and stored is not None:
                    out = WatchEvent(out.type, out.key, out.revision, _out(kind, out.object))
                if out is not None:
                    yield out

    # -- create ------------------------------------------------------------------------------
    async def create(self, kind: Kind, namespace: str, obj: Obj, *, dry_run: bool = False) -> Obj:
        if (stored := _storage_kind(kind)) is not None:
            self._check_type(kind, obj)
            created = await self.create(stored, namespace, _in(kind, obj), dry_run=dry_run)
            return _out(kind, created)
        self._check_type(kind, obj)
        md = obj.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise BadRequest("metadata must be an object")
        self._place(kind, namespace, md)
        if not md.get("name") and md.get("generateName"):
            md["name"] = m.generate_name(str(md["generateName"]))
        if kind.namespaced:
            await self._check_namespace(kind, md)
        m.stamp_new(md, self.clock.now())
        if not kind.tracks_generation:
            md.pop("generation", None)
        obj["apiVersion"], obj["kind"] = kind.api_version, kind.kind
        kind.prepare_create(obj)
        self._raise_invalid(
            kind, md, m.validate_object_meta(md, label_name=kind.label_name) + kind.validate(obj)
        )
        if dry_run:
            return obj
        created = await self.store.create(self.key(kind, md.get("namespace", ""), md["name"]), obj)
        after = getattr(kind, "after_create", None)
        if after is not None:
            await after(self, created)
        return created

    def _check_type(self, kind: Kind, obj: Obj) -> None:
        if not isinstance(obj, dict):
            raise BadRequest("the body of the request is not an object")
        got_kind, got_av = obj.get("kind"), obj.get("apiVersion")
        if (got_kind and got_kind != kind.kind) or (got_av and got_av != kind.api_version):
            raise BadRequest(
                f"the API version in the data ({got_av}) does not match the expected API "
                f"version ({kind.api_version})"
                if got_av != kind.api_version
                else f'{kind.kind} in version "{kind.version}" cannot be handled as a '
                f"{kind.kind}: kind {got_kind} does not match {kind.kind}"
            )

    def _place(self, kind: Kind, namespace: str, md: dict[str, Any]) -> None:
        if not kind.namespaced:
            md.pop("namespace", None)
            return
        given = md.get("namespace")
        if given and namespace and given != namespace:
            raise BadRequest(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        md["namespace"] = namespace or given or "default"

    async def _check_namespace(self, kind: Kind, md: dict[str, Any]) -> None:
        ns = md["namespace"]
        try:
            nsobj = await self.store.get(make_key("namespaces", "", ns))
        except Exception as exc:
            raise NotFoundError("namespaces", ns) from exc
        if nsobj.get("metadata", {}).get("deletionTimestamp"):
            raise Forbidden(
                kind.qualified,
                md.get("name", ""),
                f'{kind.qualified} "{md.get("name", "")}" is forbidden: unable to create new '
                f"content in namespace {ns} because it is being terminated",
            )

    @staticmethod
    def _raise_invalid(kind: Kind, md: dict[str, Any], errs: Sequence[FieldError]) -> None:
        if errs:
            raise Invalid(kind.kind, str(md.get("name") or md.get("generateName") or ""), errs)

    # -- update ------------------------------------------------------------------------------
    async def update(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        obj: Obj,
        *,
        subresource: str = "",
        dry_run: bool = False,
    ) -> Obj:
        if (stored := _storage_kind(kind)) is not None:
            self._check_type(kind, obj)
            new = _in(kind, obj)
            return _out(kind, await self.update(stored, namespace, name, new, dry_run=dry_run))
        self._check_type(kind, obj)
        key = self.key(kind, namespace, name)
        old = await self.store.get(key)
        md = obj.setdefault("metadata", {})
        if not isinstance(md, dict):
            raise BadRequest("metadata must be an object")
        if md.get("name") and md["name"] != name:
            raise BadRequest(
                f"the name of the object ({md['name']}) does not match the name on the URL ({name})"
            )
        expected = md.get("resourceVersion") or None
        new = self._merge_for_update(kind, obj, old, subresource)
        self._raise_invalid(
            kind,
            new["metadata"],
            m.validate_object_meta(new["metadata"], label_name=kind.label_name)
            + kind.validate_update(new, old),
        )
        if new == {**old}:
            return old
        if dry_run:
            return new
        nmd = new["metadata"]
        if (
            nmd.get("deletionTimestamp")
            and not nmd.get("finalizers")
            and self._deletion_complete(kind, new)
        ):
            await self.store.update(key, new, expected_rv=expected)
            return await self.store.delete(key)
        return await self.store.update(key, new, expected_rv=expected)

    def _merge_for_update(self, kind: Kind, obj: Obj, old: Obj, subresource: str) -> Obj:
        new = copy.deepcopy(obj)
        new["apiVersion"], new["kind"] = kind.api_version, kind.kind
        md = new["metadata"]
        m.carry_system_fields(md, old.get("metadata", {}))
        md["resourceVersion"] = old["metadata"].get("resourceVersion")
        if old["metadata"].get("deletionTimestamp"):
            # finalizers may only be removed once deletion has begun
            md["finalizers"] = [
                f
                for f in md.get("finalizers") or []
                if f in (old["metadata"].get("finalizers") or [])
            ]
            if not md["finalizers"]:
                md.pop("finalizers")
        kind.prepare_update(new, old, subresource)
        if subresource == "" and kind.tracks_generation and kind.spec_changed(new, old):
            new["metadata"]["generation"] = int(old["metadata"].get("generation") or 1) + 1
        return new

    def _deletion_complete(self, kind: Kind, obj: Obj) -> bool:
        """Whether a marked object with no finalizers left should go (pods: grace is over)."""
        return getattr(kind, "graceful", False) is False or (
            obj["metadata"].get("deletionGracePeriodSeconds") == 0
        )

    # -- delete ------------------------------------------------------------------------------
    async def delete(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        opts: DeleteOptions = DeleteOptions(),
        *,
        dry_run: bool = False,
    ) -> DeleteResult:
        if (stored := _storage_kind(kind)) is not None:
            res = await self.delete(stored, namespace, name, opts, dry_run=dry_run)
            return DeleteResult(_out(kind, res.object), res.removed)
        key = self.key(kind, namespace, name)
        obj = await self.store.get(key)
        md = obj["metadata"]
        refuse = getattr(kind, "refuse_delete", None)
        if refuse is not None:
            refuse(obj)
        if opts.uid and opts.uid != md.get("uid"):
            raise_conflict(key)
        if opts.resource_version and opts.resource_version != md.get("resourceVersion"):
            raise_conflict(key)
        grace = self.grace_for(kind, obj, opts)
        if dry_run:
            return DeleteResult(obj, grace == 0 and not md.get("finalizers"))
        if grace == 0 and not md.get("finalizers") and not getattr(kind, "holds_contents", False):
            return DeleteResult(await self.store.delete(key), True)
        changed = self.mark_deleted(md, grace)
        if hasattr(kind, "on_delete"):
            changed = kind.on_delete(obj) or changed
        if not changed:
            return DeleteResult(obj, False)
        return DeleteResult(
            await self.store.update(key, obj, expected_rv=md["resourceVersion"]), False
        )

    def grace_for(self, kind: Kind, obj: Obj, opts: DeleteOptions) -> int:
        hook = getattr(kind, "grace_period", None)
        return 0 if hook is None else int(hook(obj, opts.grace_period))

    def mark_deleted(self, md: dict[str, Any], grace: int) -> bool:
        """Set (or shorten) the pending deletion; True if anything changed."""
        now = self.clock.now()
        current = md.get("deletionGracePeriodSeconds")
        if md.get("deletionTimestamp") and current is not None and current <= grace:
            return False
        md["deletionTimestamp"] = rfc3339(now + grace)
        md["deletionGracePeriodSeconds"] = grace
        return True


def _storage_kind(kind: Kind) -> Kind | None:
    """The kind whose storage a view kind (events.k8s.io Events) shares, if any."""
    stored = getattr(kind, "storage_kind", None)
    return stored if isinstance(stored, Kind) else None


def _in(kind: Kind, obj: Obj) -> Obj:
    converted: Obj = kind.to_storage(obj)  # type: ignore[attr-defined]
    return converted


def _out(kind: Kind, obj: Obj) -> Obj:
    converted: Obj = kind.from_storage(obj)  # type: ignore[attr-defined]
    return converted


def _through_selection(ev: WatchEvent, sel: Selection) -> WatchEvent | None:
    """What a watcher with a selector sees: an object entering the selection is ADDED, one
    leaving it is DELETED (with its new state), one outside it is not seen at all."""
    now = sel.matches(ev.object)
    if ev.type != "MODIFIED" or (not sel.labels and not sel.fields):
        return ev if now else None
    prev = ev.previous()
    before = now if prev is None else sel.matches(prev)
    if now and before:
        return ev
    if now:
        return WatchEvent("ADDED", ev.key, ev.revision, ev.object)
    if before:
        return WatchEvent("DELETED", ev.key, ev.revision, ev.object)
    return None


def raise_conflict(key: str) -> None:
    raise Conflict(key)
