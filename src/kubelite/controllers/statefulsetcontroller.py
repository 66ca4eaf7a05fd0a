"""The StatefulSet controller's loop: informers on StatefulSets, pods, claims and
ControllerRevisions, a work queue of set keys, and per set: its revisions
(``statefulsetrevisions.plan_revisions``), its orphaned members adopted, the plan
(``statefulset.plan``) carried out, its status written, and old revisions pruned.

Every name it creates is deterministic (``<set>-<ordinal>``, ``<template>-<set>-<ordinal>``,
``<set>-<hash>``), so a creation that finds the object already there (a kill -9 between the
create and the watch event) takes it as made: nothing is made twice. A set being deleted is
left to the garbage collector.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kubelite.client.informer import Informer
from kubelite.client.rest import (
    CONTROLLER_REVISIONS,
    PERSISTENT_VOLUME_CLAIMS,
    PODS,
    STATEFUL_SETS,
    ApiClient,
    ApiError,
    Obj,
    Resource,
)
from kubelite.clock import Clock, SystemClock
from kubelite.controllers import statefulset as ss
from kubelite.controllers import statefulsetrevisions as rv
from kubelite.controllers.eventrecorder import EventRecorder
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.statefulsetpods import (
    SetView,
    available,
    ordinal_of,
    revision_of,
    running_and_ready,
)
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import labelselector

log = logging.getLogger(__name__)

COMPONENT = "statefulset-controller"
RESYNC_SECONDS = 30.0
Key = tuple[str, str]


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _key(obj: Obj) -> Key:
    meta = _meta(obj)
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def controller_uid(obj: Obj) -> str:
    for ref in _meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return str(ref.get("uid") or "")
    return ""


class StatefulSetController:
    def __init__(
        self,
        client: ApiClient,
        *,
        clock: Clock | None = None,
        resync: float = RESYNC_SECONDS,
        informers: InformerSet | None = None,
    ) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self._clock = clock or SystemClock()
        self._resync = resync
        self.sets = self._informers.get(STATEFUL_SETS)
        self.pods = self._informers.get(PODS)
        self.claims = self._informers.get(PERSISTENT_VOLUME_CLAIMS)
        self.revisions = self._informers.get(CONTROLLER_REVISIONS)
        self.queue: WorkQueue[Key] = WorkQueue(clock=self._clock)
        self.events = EventRecorder(client, COMPONENT, clock=self._clock)
        self.sets.add_handler(lambda _, o: self.queue.add(_key(o)))
        self.pods.add_handler(self._on_member)
        self.revisions.add_handler(self._on_member)
        self.claims.add_handler(self._on_claim)

    # ------------------------------------------------------------------ events -> keys

    def _owner(self, obj: Obj) -> Obj | None:
        uid = controller_uid(obj)
        ns = _key(obj)[0]
        return (
            next(
                (s for s in self.sets.items() if _meta(s).get("uid") == uid and _key(s)[0] == ns),
                None,
            )
            if uid
            else None
        )

    def _on_member(self, kind: str, obj: Obj) -> None:
        owner = self._owner(obj)
        if owner is not None:
            self.queue.add(_key(owner))
            return
        ns = _key(obj)[0]
        for sts in self.sets.items():  # an orphan: the sets that might adopt it
            if _key(sts)[0] == ns and _selects(sts, obj):
                self.queue.add(_key(sts))

    def _on_claim(self, kind: str, obj: Obj) -> None:
        ns, name = _key(obj)
        for sts in self.sets.items():
            if _key(sts)[0] == ns and f"-{_key(sts)[1]}-" in name:
                self.queue.add(_key(sts))

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        async with self._informers.running(self.sets, self.pods, self.claims, self.revisions) as tg:
            tg.create_task(self._resync_every(), name="statefulset resync")
            await self.queue.run(self.reconcile, name=COMPONENT)

    async def _resync_every(self) -> None:
        while True:
            for sts in self.sets.items():
                self.queue.add(_key(sts))
            await self._clock.sleep(self._resync)

    async def reconcile(self, key: Key) -> None:
        ns, name = key
        sts = self.sets.get(ns, name)
        if sts is None or _meta(sts).get("deletionTimestamp"):
            return
        revs = await self._revisions(sts)
        pods = await self._members(sts)
        claims = {_key(c)[1]: c for c in self.claims.items() if _key(c)[0] == ns}
        result = ss.plan(
            sts, pods, claims, ss.Revisions(revs.current, revs.update), self._clock.now()
        )
        await self.carry_out(sts, result.actions)
        status = {**result.status, "collisionCount": revs.collisions}
        await self._write_status(sts, status)
        live = {rv.name_of(revs.current), rv.name_of(revs.update)}
        live |= {rv_label for p in pods if (rv_label := revision_of(p))}
        for old in rv.to_prune(sts, self._owned_revisions(sts), live):
            await self._client.delete(CONTROLLER_REVISIONS, ns, old)
            self.revisions.assume_deleted(ns, old)
        self._wake_for_availability(sts, pods)

    # ------------------------------------------------------------------ revisions, members

    def _owned_revisions(self, sts: Obj) -> list[Obj]:
        ns = _key(sts)[0]
        return rv.owned_revisions(sts, [r for r in self.revisions.items() if _key(r)[0] == ns])

    async def _revisions(self, sts: Obj) -> rv.RevisionPlan:
        decided = rv.plan_revisions(sts, self._owned_revisions(sts))
        ns = _key(sts)[0]
        if decided.create:
            try:
                made = await self._client.create(CONTROLLER_REVISIONS, ns, decided.update)
            except ApiError as err:
                if not err.conflict:
                    raise
                made = await self._client.get(CONTROLLER_REVISIONS, ns, rv.name_of(decided.update))
            self.revisions.assume(made)
        elif decided.renumber:
            stored = self.revisions.get(ns, rv.name_of(decided.update))
            body = {**(stored or decided.update), "revision": decided.update["revision"]}
            self.revisions.assume(await self._client.replace(CONTROLLER_REVISIONS, body))
        return decided

    async def _members(self, sts: Obj) -> list[Obj]:
        """The set's pods, adopting orphans named and labelled as its members."""
        ns, name = _key(sts)
        uid = str(_meta(sts).get("uid") or "")
        out: list[Obj] = []
        for pod in self.pods.items():
            if _key(pod)[0] != ns:
                continue
            owner = controller_uid(pod)
            if owner == uid:
                out.append(pod)
            elif (
                not owner
                and ordinal_of(pod, name) >= 0
                and _selects(sts, pod)
                and not _meta(pod).get("deletionTimestamp")
            ):
                ref = SetView.of(sts).controller_ref()
                refs = [*(_meta(pod).get("ownerReferences") or []), ref]
                patch = {"metadata": {"ownerReferences": refs}}
                adopted = await self._client.merge_patch(PODS, ns, _key(pod)[1], patch)
                self.pods.assume(adopted)
                out.append(adopted)
        return out

    # ------------------------------------------------------------------ actions

    async def carry_out(self, sts: Obj, actions: Iterable[object]) -> None:
        """Carry the plan out in order; a creation that finds its object already made (after a
        restart) is taken as done, without its event."""
        ns = _key(sts)[0]
        made = True
        for action in actions:
            match action:
                case ss.Event():
                    if made:
                        await self.events.event(sts, action.type, action.reason, action.message)
                    made = True
                case ss.CreateClaim():
                    made = await self._create(
                        PERSISTENT_VOLUME_CLAIMS, ns, action.claim, self.claims
                    )
                case ss.CreatePod():
                    made = await self._create(PODS, ns, action.pod, self.pods)
                case ss.DeletePod():
                    await self._delete_pod(ns, action)
                case ss.SetClaimOwners():
                    patch = {"metadata": {"ownerReferences": list(action.owner_references)}}
                    self.claims.assume(
                        await self._client.merge_patch(
                            PERSISTENT_VOLUME_CLAIMS, ns, action.name, patch
                        )
                    )

    async def _create(self, res: Resource, ns: str, body: Obj, informer: Informer) -> bool:
        """True if made now; False if it was there already."""
        try:
            informer.assume(await self._client.create(res, ns, body))
        except ApiError as err:
            if not err.conflict:
                raise
            informer.assume(await self._client.get(res, ns, _meta(body)["name"]))
            return False
        return True

    async def _delete_pod(self, ns: str, action: ss.DeletePod) -> None:
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": action.uid}}
        try:
            await self._client.request("DELETE", PODS.path(ns, action.name), body)
        except ApiError as err:
            if not (err.not_found or err.conflict):
                raise

    async def _write_status(self, sts: Obj, status: Obj) -> None:
        before = sts.get("status") or {}
        if all(before.get(k) == v for k, v in status.items()):
            return
        ns, name = _key(sts)
        patched = await self._client.merge_patch(
            STATEFUL_SETS, ns, name, {"status": status}, sub="status"
        )
        self.sets.assume(patched)

    def _wake_for_availability(self, sts: Obj, pods: list[Obj]) -> None:
        """With minReadySeconds, look again when the next ready pod becomes available."""
        view = SetView.of(sts)
        if view.min_ready <= 0:
            return
        now = self._clock.now()
        if any(running_and_ready(p) and not available(p, view.min_ready, now) for p in pods):
            self.queue.add_after(_key(sts), 1.0)


def _selects(sts: Obj, obj: Obj) -> bool:
    selector = (sts.get("spec") or {}).get("selector")
    try:
        return bool(selector) and labelselector.matches(selector, _meta(obj).get("labels") or {})
    except labelselector.InvalidSelector:
        return False
