"""The generic registry: one method per verb, the same flow for every kind.

create: check kind/namespace → name (or generateName) → namespace must exist and not be
terminating → stamp system fields → kind defaulting → admission → validate → store.
update: read → precondition → carry system fields and what the subresource may not change →
bump generation on spec change → validate → store; an object whose deletion is pending and has
no finalizers left is removed instead (finalizers are what hold a deleted object).
delete: ``Kind.refuse_delete`` → preconditions → ``Kind.grace_period`` → the garbage
collector's finalizers for the propagation policy (``gc_finalizers``: ``orphan`` or
``foregroundDeletion``) → remove now, or mark deleted (``Kind.on_delete``) while a grace
period, finalizers or contents (``holds_contents``) remain. A view kind
(``Kind.storage_kind``) runs every verb on the kind it is a view of.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from kubelite.clock import Clock, rfc3339
from kubelite.model.fielderrors import FieldError, invalid
from kubelite.model.objects import Obj
from kubelite.registry import meta as m
from kubelite.registry import paging
from kubelite.registry.errors import (
    BadRequest,
    Expired,
    Forbidden,
    Invalid,
    NotFoundError,
    OperationConflict,
)
from kubelite.registry.resource import Kind
from kubelite.registry.selectors import (
    FieldRequirement,
    Requirement,
    fields_match,
    labels_match,
)
from kubelite.registry.serviceips import ServiceNetwork
from kubelite.store.interface import (
    Compacted,
    Conflict,
    Store,
    WatchEvent,
    make_key,
    prefix_for,
)


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

    @property
    def empty(self) -> bool:
        return not self.labels and not self.fields

    def index_hint(self, kind: Kind) -> tuple[str, str] | None:
        """A ``field=value`` requirement the store may answer from an index."""
        for req in self.fields:
            if not req.negate and req.field in kind.indexed_fields:
                return req.field, req.value
        return None


@dataclass(frozen=True, slots=True)
class ListResult:
    """One page of a list: the objects as JSON text (``objects`` parsed, when they are), the
    revision it was read at, and where the next page starts."""

    texts: list[str]
    revision: int
    continue_token: str = ""
    remaining: int | None = None  # objects after this page (only for lists with no selector)
    objects: list[Obj] | None = None

    def parsed(self) -> list[Obj]:
        if self.objects is not None:
            return self.objects
        return [json.loads(t) for t in self.texts]


class Registry:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        kinds: list[Kind],
        service_network: ServiceNetwork | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.kinds = kinds
        # the ranges Service cluster IPs and node ports are allocated from
        self.service_network = service_network or ServiceNetwork.default()
        add_index = getattr(store, "add_index", None)
        for kind in kinds:
            if kind.storage_kind is None and add_index is not None:
                getters = kind.field_getters()
                for f in kind.indexed_fields:
                    add_index(prefix_for(kind.qualified), f, getters[f])

    def key(self, kind: Kind, namespace: str, name: str) -> str:
        return make_key(kind.qualified, namespace if kind.namespaced else "", name)

    # -- reads -------------------------------------------------------------------------------
    async def get(self, kind: Kind, namespace: str, name: str) -> Obj:
        if (stored := kind.storage_kind) is not None:
            return kind.from_storage(await self.get(stored, namespace, name))
        return await self.store.get(self.key(kind, namespace, name))

    async def list(
        self, kind: Kind, namespace: str | None, sel: Selection = Selection()
    ) -> tuple[list[Obj], int]:
        """Every object of ``kind`` (in ``namespace``, None for all) that ``sel`` selects."""
        page = await self.list_page(kind, namespace, sel)
        return page.parsed(), page.revision

    async def list_page(
        self,
        kind: Kind,
        namespace: str | None,
        sel: Selection = Selection(),
        *,
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
    ) -> ListResult:
        """A page of at most ``limit`` objects (0: all), from where ``continue_token`` left
        off, read at one revision from the first page to the last (``paging``)."""
        stored = kind.storage_kind or kind
        ns = (namespace or None) if kind.namespaced else ""
        prefix = prefix_for(stored.qualified, ns)
        start, revision = _list_start(prefix, limit, continue_token, resource_version)
        try:
            page = await self.store.list_page(
                prefix,
                start=start,
                limit=limit,
                revision=revision,
                match=None if sel.empty else sel.matches,
                index=sel.index_hint(stored),
            )
        except Compacted:
            if continue_token:
                raise Expired(CONTINUE_EXPIRED, paging.encode(start[len(prefix) :], -1)) from None
            raise Expired(LIST_EXPIRED) from None
        token, remaining = "", None
        if page.last_key is not None:
            token = paging.encode(page.last_key[len(prefix) :] + "\x00", page.revision)
            remaining = page.remaining if sel.empty else None
        if kind.storage_kind is None:
            return ListResult(page.texts, page.revision, token, remaining, page.objects)
        objects = [kind.from_storage(json.loads(t)) for t in page.texts]
        texts = [json.dumps(o, separators=(",", ":"), ensure_ascii=False) for o in objects]
        return ListResult(texts, page.revision, token, remaining, objects)

    async def watch(
        self, kind: Kind, namespace: str | None, since: int, sel: Selection = Selection()
    ) -> AsyncGenerator[WatchEvent, None]:
        stored = kind.storage_kind
        storage = stored.qualified if stored is not None else kind.qualified
        ns = (namespace or None) if kind.namespaced else ""
        async with aclosing(self.store.watch(prefix_for(storage, ns), since)) as events:
            async for ev in events:
                out = _through_selection(ev, sel)
                if out is not None and stored is not None:  # a view: its own JSON, not the store's
                    out = WatchEvent(out.type, out.key, out.revision, kind.from_storage(out.object))
                if out is not None:
                    yield out

    # -- create ------------------------------------------------------------------------------
    async def create(self, kind: Kind, namespace: str, obj: Obj, *, dry_run: bool = False) -> Obj:
        if (stored := kind.storage_kind) is not None:
            self._check_type(kind, obj)
            created = await self.create(stored, namespace, kind.to_storage(obj), dry_run=dry_run)
            return kind.from_storage(created)
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
        await kind.admit(self, obj)
        alloc = await kind.allocate(self, obj, None, dry_run=dry_run)
        try:
            self._raise_invalid(
                kind,
                md,
                m.validate_object_meta(md, name_check=kind.name_errors) + kind.validate(obj),
            )
            if dry_run:
                await alloc.rollback()
                return obj
            key = self.key(kind, md.get("namespace", ""), md["name"])
            created = await self.store.create(key, obj)
        except BaseException:
            await alloc.rollback()
            raise
        await alloc.commit()
        await kind.after_create(self, created)
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
                # the cause controllers look for to stop retrying (NamespaceTerminatingCause)
                [
                    {
                        "reason": "NamespaceTerminating",
                        "message": f"namespace {ns} is being terminated",
                        "field": "metadata.namespace",
                    }
                ],
            )

    @staticmethod
    def _raise_invalid(kind: Kind, md: dict[str, Any], errs: Sequence[FieldError]) -> None:
        if errs:
            name = str(md.get("name") or md.get("generateName") or "")
            raise Invalid(kind.kind, name, errs, group=kind.group)

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
        expected_uid: str | None = None,
    ) -> Obj:
        """``expected_uid`` is a precondition (a replace carries its body's uid as one, as the
        API server's does); a changed ``metadata.uid`` without it is an invalid update."""
        if (stored := kind.storage_kind) is not None:
            self._check_type(kind, obj)
            new = kind.to_storage(obj)
            return kind.from_storage(
                await self.update(
                    stored, namespace, name, new, dry_run=dry_run, expected_uid=expected_uid
                )
            )
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
        self._check_preconditions(kind, key, old, expected, expected_uid)
        identity = _identity_errors(md, old["metadata"])
        new = self._merge_for_update(kind, obj, old, subresource)
        alloc = await kind.allocate(self, new, old, dry_run=dry_run)
        try:
            self._raise_invalid(
                kind,
                new["metadata"],
                identity
                + m.validate_object_meta(new["metadata"], name_check=kind.name_errors)
                + kind.validate_update(new, old, subresource),
            )
            if new == {**old} or dry_run:
                await alloc.rollback()
                return old if new == {**old} else new
            result, removed = await self._store_update(kind, key, new, expected)
        except BaseException:
            await alloc.rollback()
            raise
        await alloc.commit()
        if removed:
            await kind.release(self, result)
        return result

    @staticmethod
    def _check_preconditions(
        kind: Kind, key: str, old: Obj, expected_rv: str | None, expected_uid: str | None
    ) -> None:
        """An update names the version it read (and a replace the uid it saw); a stale one is a
        409 even when the update would change nothing."""
        old_md = old["metadata"]
        if expected_uid and expected_uid != old_md.get("uid"):
            raise OperationConflict(
                kind.qualified,
                old_md.get("name", ""),
                storage_precondition_error(
                    kind,
                    str(old_md.get("namespace") or ""),
                    str(old_md.get("name") or ""),
                    f"Precondition failed: UID in precondition: {expected_uid}, "
                    f"UID in object meta: {old_md.get('uid', '')}",
                ),
            )
        if expected_rv and expected_rv != old_md.get("resourceVersion"):
            raise Conflict(key)

    async def _store_update(
        self, kind: Kind, key: str, new: Obj, expected: str | None
    ) -> tuple[Obj, bool]:
        """Store an update; an object marked deleted with nothing left holding it goes."""
        nmd = new["metadata"]
        if (
            nmd.get("deletionTimestamp")
            and not nmd.get("finalizers")
            and self._deletion_complete(kind, new)
        ):
            await self.store.update(key, new, expected_rv=expected)
            return await self.store.delete(key), True
        return await self.store.update(key, new, expected_rv=expected), False

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
        if md.get("ownerReferences") == []:  # the last owner released or orphaned it (omitempty)
            md.pop("ownerReferences")
        kind.prepare_update(new, old, subresource)
        if subresource == "" and kind.tracks_generation and kind.spec_changed(new, old):
            new["metadata"]["generation"] = int(old["metadata"].get("generation") or 1) + 1
        return new

    def _deletion_complete(self, kind: Kind, obj: Obj) -> bool:
        """Whether a marked object with no finalizers left should go (pods: grace is over)."""
        return not kind.graceful or obj["metadata"].get("deletionGracePeriodSeconds") == 0

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
        if (stored := kind.storage_kind) is not None:
            res = await self.delete(stored, namespace, name, opts, dry_run=dry_run)
            return DeleteResult(kind.from_storage(res.object), res.removed)
        key = self.key(kind, namespace, name)
        obj = await self.store.get(key)
        md = obj["metadata"]
        kind.refuse_delete(obj)
        _check_delete_preconditions(kind, md, opts)
        requested = opts.grace_period
        if requested is not None and requested < 0:
            requested = 1  # the API server treats a negative grace period as 1 s
        grace = kind.grace_period(obj, requested)
        before = [str(f) for f in md.get("finalizers") or []]
        finalizers = gc_finalizers(kind, before, opts.propagation)
        if dry_run:
            return DeleteResult(obj, grace == 0 and not finalizers)
        if grace == 0 and not finalizers and not kind.holds_contents:
            removed = await self.store.delete(key)
            await kind.release(self, removed)
            return DeleteResult(removed, True)
        gc_changed = finalizers != before
        if gc_changed:
            md["finalizers"] = finalizers
        changed = self.mark_deleted(md, grace)
        changed = kind.on_delete(obj) or changed or gc_changed
        if not changed:
            return DeleteResult(obj, False)
        return DeleteResult(
            await self.store.update(key, obj, expected_rv=md["resourceVersion"]), False
        )

    def mark_deleted(self, md: dict[str, Any], grace: int) -> bool:
        """Set (or shorten) the pending deletion; True if anything changed."""
        now = self.clock.now()
        current = md.get("deletionGracePeriodSeconds")
        if md.get("deletionTimestamp") and current is not None and current <= grace:
            return False
        md["deletionTimestamp"] = rfc3339(now + go_duration_seconds(grace))
        md["deletionGracePeriodSeconds"] = grace
        return True


ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
ORPHAN, BACKGROUND, FOREGROUND = "Orphan", "Background", "Foreground"


def gc_finalizers(kind: Kind, current: list[str], propagation: str | None) -> list[str]:
    """The finalizers a DELETE leaves on the object for the garbage collector
    (``deletionFinalizersForGarbageCollection``): ``orphan`` when its dependents are to be
    orphaned, ``foregroundDeletion`` when it waits for them; neither for Background. The
    request's policy wins, then a finalizer already set, then the kind's default. ``current``
    itself is returned when nothing changes."""
    if kind.default_gc_policy == "Unsupported" or kind.holds_contents:
        return current
    orphan = _choose(propagation, current, ORPHAN, ORPHAN_FINALIZER, FOREGROUND_FINALIZER,
                     default=kind.default_gc_policy == "OrphanDependents")  # fmt: skip
    foreground = _choose(propagation, current, FOREGROUND, FOREGROUND_FINALIZER,
                         ORPHAN_FINALIZER, default=False)  # fmt: skip
    out = [f for f in current if f not in (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)]
    if orphan:
        out.append(ORPHAN_FINALIZER)
    if foreground:
        out.append(FOREGROUND_FINALIZER)
    return current if set(out) == set(current) else out


def _choose(
    propagation: str | None, current: list[str], policy: str, mine: str, other: str,
    *, default: bool,
) -> bool:  # fmt: skip
    if propagation in (ORPHAN, BACKGROUND, FOREGROUND):
        return propagation == policy
    for finalizer in current:
        if finalizer == mine:
            return True
        if finalizer == other:
            return False
    return default


LIST_EXPIRED = "The resourceVersion for the provided list is too old."
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)


def _list_start(
    prefix: str, limit: int, continue_token: str, resource_version: str
) -> tuple[str, int]:
    """The key a list starts from and the revision it reads at (0: the current one), as the
    API server's storage decides them from the request."""
    if continue_token:
        try:
            cont = paging.decode(continue_token)
        except paging.BadContinue as exc:
            raise BadRequest(f"invalid continue token: {exc}") from None
        if resource_version not in ("", "0"):
            raise BadRequest("specifying resource version is not allowed when using continue")
        return prefix + cont.start, max(0, cont.revision)
    if not resource_version:
        return "", 0
    try:
        revision = parse_resource_version(resource_version)
    except ValueError as exc:
        raise BadRequest(f"invalid resource version: {exc}") from None
    return "", revision if limit else 0  # with a limit, a revision is read exactly


def parse_resource_version(text: str) -> int:
    """A resourceVersion as the API server's storage parses it (an unsigned integer; "" and
    "0" mean "any"); the ``ValueError`` carries its field error's text."""
    if text in ("", "0"):
        return 0
    reason = ""
    if not text.isascii() or not text.isdigit():
        reason = "invalid syntax"
    elif int(text) >= 2**64:
        reason = "value out of range"
    if reason:
        raise ValueError(
            f'resourceVersion: Invalid value: "{text}": strconv.ParseUint: parsing "{text}": '
            f"{reason}"
        )
    return int(text)


def go_duration_seconds(seconds: int) -> int:
    """``time.Second * time.Duration(seconds)`` as the API server computes a deletion's
    timestamp: int64 nanoseconds, which wrap past about 292 years. So any grace period a pod
    may carry (an int64, up to 9223372036854775807 s) gives a timestamp within 292 years of
    now, never one a date cannot hold."""
    nanos = (seconds * 1_000_000_000 + 2**63) % 2**64 - 2**63
    return int(nanos // 1_000_000_000)


# Where the API server keeps a resource in etcd, when not under its own name; its storage
# errors name the key (``/registry/<prefix>/<namespace>/<name>``).
_STORAGE_PREFIXES = {"services": "services/specs", "endpoints": "services/endpoints",
                     "nodes": "minions"}  # fmt: skip


def storage_precondition_error(kind: Kind, namespace: str, name: str, detail: str) -> str:
    """The text of the storage layer's failed precondition, as a 409 quotes it."""
    prefix = _STORAGE_PREFIXES.get(kind.plural, kind.plural)
    key = "/".join(p for p in ("/registry", prefix, namespace, name) if p)
    return (
        f"StorageError: invalid object, Code: 4, Key: {key}, ResourceVersion: 0, "
        f"AdditionalErrorMsg: {detail}"
    )


def _identity_errors(new_md: dict[str, Any], old_md: dict[str, Any]) -> list[FieldError]:
    """An update may leave ``uid`` out (it is kept) but not change it."""
    uid = new_md.get("uid")
    if uid and uid != old_md.get("uid"):
        return [invalid("metadata.uid", uid, "field is immutable")]
    return []


def _check_delete_preconditions(kind: Kind, md: dict[str, Any], opts: DeleteOptions) -> None:
    """The API server names the kind (not the resource) in these two conflicts."""
    subject = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
    name = str(md.get("name") or "")
    if opts.uid and opts.uid != md.get("uid"):
        raise OperationConflict(
            subject,
            name,
            f"the UID in the precondition ({opts.uid}) does not match the UID in record "
            f"({md.get('uid', '')}). The object might have been deleted and then recreated",
        )
    if opts.resource_version and opts.resource_version != md.get("resourceVersion"):
        raise OperationConflict(
            subject,
            name,
            f"the ResourceVersion in the precondition ({opts.resource_version}) does not match "
            f"the ResourceVersion in record ({md.get('resourceVersion', '')}). The object might "
            "have been modified",
        )


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
        return WatchEvent("ADDED", ev.key, ev.revision, ev.object, text=ev.text)
    if before:
        return WatchEvent("DELETED", ev.key, ev.revision, ev.object, text=ev.text)
    return None
