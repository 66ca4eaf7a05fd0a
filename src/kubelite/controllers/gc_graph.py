"""The garbage collector's picture of ownership, and its decisions, with no I/O.

``Graph`` keeps one small record per watched object (its identity, owner references and
deletion state) and, for every owner uid, the uids of its dependents — also for owners not
(or no longer) in the graph. ``observe`` and ``forget`` apply a watch event and say what
the collector must look at next:

- a dependent whose owner is unknown or has just gone (``attempt_delete``): it is deleted
  once every owner is absent;
- an owner that started a foreground deletion (``attempt_delete`` for it and each of its
  dependents): dependents go first, the owner's ``foregroundDeletion`` finalizer is removed
  once none of them blocks it;
- an owner that started an orphaning deletion (``attempt_orphan``): its dependents lose
  their references to it, then its ``orphan`` finalizer goes.

``classify`` and ``decide`` are ``attemptToDeleteItem``: given what the live owners are, a
dependent is kept (a solid owner remains; dangling references and references to owners
waiting for it are removed), deleted in the foreground (an owner waits for it and it has
dependents of its own), or deleted with the policy its own finalizers ask for (Background
by default).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kubelite.model import owners
from kubelite.model.objects import JSON


@dataclass(frozen=True, slots=True)
class OwnerRef:
    uid: str
    api_version: str
    kind: str
    name: str
    block: bool  # blockOwnerDeletion

    @classmethod
    def of(cls, ref: JSON) -> OwnerRef:
        return cls(str(ref.get("uid") or ""), str(ref.get("apiVersion") or ""),
                   str(ref.get("kind") or ""), str(ref.get("name") or ""),
                   ref.get("blockOwnerDeletion") is True)  # fmt: skip


@dataclass(slots=True)
class Node:
    uid: str
    api_version: str
    kind: str
    namespace: str
    name: str
    owners: tuple[OwnerRef, ...]
    being_deleted: bool = False
    deleting_dependents: bool = False
    orphaning: bool = False
    dependents: set[str] = field(default_factory=set)


def node_of(obj: JSON) -> Node:
    return Node(
        uid=owners.uid_of(obj),
        api_version=str(obj.get("apiVersion") or ""),
        kind=str(obj.get("kind") or ""),
        namespace=owners.namespace_of(obj),
        name=owners.name_of(obj),
        owners=tuple(OwnerRef.of(r) for r in owners.owner_references(obj)),
        being_deleted=owners.being_deleted(obj),
        deleting_dependents=owners.deleting_dependents(obj),
        orphaning=owners.orphaning(obj),
    )


@dataclass(slots=True)
class Work:
    """What to look at after an event: uids to attempt to delete, owners to orphan for."""

    attempt_delete: set[str] = field(default_factory=set)
    attempt_orphan: set[str] = field(default_factory=set)


class Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.dependents: dict[str, set[str]] = {}  # owner uid -> dependent uids

    def get(self, uid: str) -> Node | None:
        return self.nodes.get(uid)

    def dependents_of(self, uid: str) -> list[Node]:
        return [n for d in self.dependents.get(uid, ()) if (n := self.nodes.get(d)) is not None]

    def blocking_dependents(self, uid: str) -> list[Node]:
        """Dependents whose reference to ``uid`` has blockOwnerDeletion."""
        return [
            n for n in self.dependents_of(uid) if any(o.uid == uid and o.block for o in n.owners)
        ]

    def observe(self, obj: JSON) -> Work:
        """An object was added or changed."""
        work = Work()
        new = node_of(obj)
        if not new.uid:
            return work
        old = self.nodes.get(new.uid)
        self.nodes[new.uid] = new
        before = {o.uid: o for o in old.owners} if old is not None else {}
        after = {o.uid: o for o in new.owners}
        for uid in before.keys() - after.keys():
            self.dependents.get(uid, set()).discard(new.uid)
            self._owner_may_finish(uid, work)
        for uid, ref in after.items():
            self.dependents.setdefault(uid, set()).add(new.uid)
            if uid not in before and uid not in self.nodes:
                work.attempt_delete.add(new.uid)  # an owner we have not seen: verify it
            if uid in before and before[uid].block and not ref.block:
                self._owner_may_finish(uid, work)
        if new.orphaning and (old is None or not old.orphaning):
            work.attempt_orphan.add(new.uid)
        elif new.deleting_dependents and (old is None or not old.deleting_dependents):
            work.attempt_delete.add(new.uid)
            work.attempt_delete.update(self.dependents.get(new.uid, ()))
        return work

    def forget(self, obj: JSON) -> Work:
        """An object was deleted."""
        work = Work()
        uid = owners.uid_of(obj)
        old = self.nodes.pop(uid, None)
        if old is None:
            return work
        for ref in old.owners:
            deps = self.dependents.get(ref.uid)
            if deps is not None:
                deps.discard(uid)
                if not deps and ref.uid not in self.nodes:
                    del self.dependents[ref.uid]
            self._owner_may_finish(ref.uid, work)
        work.attempt_delete.update(self.dependents.get(uid, ()))
        if not self.dependents.get(uid):
            self.dependents.pop(uid, None)
        return work

    def _owner_may_finish(self, uid: str, work: Work) -> None:
        owner = self.nodes.get(uid)
        if owner is not None and owner.deleting_dependents:
            work.attempt_delete.add(uid)


# -- attemptToDeleteItem ------------------------------------------------------------------------
class OwnerState(enum.Enum):
    SOLID = "solid"  # exists and is not waiting for its dependents
    DANGLING = "dangling"  # absent (not found, or another object of that name)
    WAITING = "waiting"  # being deleted in the foreground: waits for its dependents


class Action(enum.Enum):
    NONE = "none"
    REMOVE_REFERENCES = "remove-references"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    remove: tuple[str, ...] = ()  # owner uids whose references go (REMOVE_REFERENCES)
    policy: str = ""  # Background, Foreground or Orphan (DELETE)
    unblock: bool = False  # first make its own references non-blocking (DELETE)


def decide(
    obj: JSON,
    states: Mapping[str, OwnerState],
    *,
    has_dependents: bool,
    dependent_waiting: bool,
) -> Decision:
    """What to do with dependent ``obj`` given its owners' ``states`` (by uid).
    ``dependent_waiting``: one of its own dependents is waiting in a foreground deletion
    (a possible cycle: its references are made non-blocking before it is deleted)."""
    refs = [OwnerRef.of(r) for r in owners.owner_references(obj)]
    if not refs:
        return Decision(Action.NONE)
    solid = [r.uid for r in refs if states.get(r.uid) is OwnerState.SOLID]
    dangling = [r.uid for r in refs if states.get(r.uid) is OwnerState.DANGLING]
    waiting = [r.uid for r in refs if states.get(r.uid) is OwnerState.WAITING]
    if solid:
        if not dangling and not waiting:
            return Decision(Action.NONE)
        return Decision(Action.REMOVE_REFERENCES, remove=tuple(dangling + waiting))
    if waiting and has_dependents:
        return Decision(Action.DELETE, policy="Foreground", unblock=dependent_waiting)
    finalizers = owners.finalizers(obj)
    if owners.ORPHAN_FINALIZER in finalizers:
        policy = "Orphan"
    elif owners.FOREGROUND_FINALIZER in finalizers:
        policy = "Foreground"
    else:
        policy = "Background"
    return Decision(Action.DELETE, policy=policy)


def unblock_patch(obj: JSON) -> dict[str, object]:
    """The strategic merge patch that turns off blockOwnerDeletion on every reference."""
    refs = [
        {"uid": r.get("uid"), "blockOwnerDeletion": False}
        for r in owners.owner_references(obj)
        if r.get("blockOwnerDeletion") is True
    ]
    return {"metadata": {"ownerReferences": refs, "uid": owners.uid_of(obj)}}


def without_finalizer(obj: JSON, finalizer: str) -> list[str] | None:
    """The finalizers without ``finalizer`` (None if it is not there)."""
    current = owners.finalizers(obj)
    if finalizer not in current:
        return None
    return [f for f in current if f != finalizer]


def uids(nodes: Iterable[Node]) -> set[str]:
    return {n.uid for n in nodes}
