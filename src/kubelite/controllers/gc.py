"""The garbage collector: deletes objects whose owners are all gone, and carries out the
Foreground and Orphan deletions the API marks with the ``foregroundDeletion`` and
``orphan`` finalizers. Its picture and decisions are ``gc_graph``; this module watches,
checks owners against the API and writes.

It watches every resource discovery lists as listable, watchable and deletable (but Events),
so a Job's pods or a StatefulSet's go with their owner as a Deployment's ReplicaSets do.
Two queues, as upstream's: *attempt to delete* (a dependent to check, or an owner waiting
for its dependents) and *attempt to orphan*. A dependent's owners are looked up live (or in
a cache of owners known to be absent) before anything is deleted, so a cache that is behind
never deletes an object whose owner exists. Deletions carry the dependent's uid and
resourceVersion as preconditions.

After a restart the whole graph is rebuilt from lists before any work starts: dependents of
owners that went while kubelite was down are collected then, and deletions interrupted half
way resume from their finalizers.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from kubelite.client.rest import STRATEGIC, ApiClient, ApiError, Obj, Resource
from kubelite.clock import Clock, SystemClock
from kubelite.controllers import gc_graph as g
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import owners
from kubelite.model.objects import JSON

log = logging.getLogger(__name__)

IGNORED = {("", "events"), ("events.k8s.io", "events")}
NEEDED_VERBS = {"list", "watch", "delete"}
MERGE = "application/merge-patch+json"
ABSENT_CACHE = 500
DISCOVERY_RETRY = 1.0


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


class GarbageCollector:
    def __init__(
        self, client: ApiClient, informers: InformerSet, *, clock: Clock | None = None
    ) -> None:
        self._client = client
        self._informers = informers
        self._clock = clock or SystemClock()
        self.graph = g.Graph()
        self.resources: dict[tuple[str, str], Resource] = {}  # (group, kind) -> resource
        self.delete_queue: WorkQueue[str] = WorkQueue(clock=self._clock)
        self.orphan_queue: WorkQueue[str] = WorkQueue(clock=self._clock)
        self._absent: OrderedDict[str, None] = OrderedDict()
        self._started = False

    # ------------------------------------------------------------------ discovery

    async def discover(self) -> list[Resource]:
        """Find every resource to watch and take an informer for each."""
        while True:
            try:
                found = await self._discovery()
                break
            except ApiError as err:
                log.info("garbage collector: discovery failed (%s); retrying", err)
                await asyncio.sleep(DISCOVERY_RETRY)
        for res in found:
            self.resources[(res.group, res.kind)] = res
            informer = self._informers.get(res)
            informer.add_handler(self._handler(res))
        return found

    async def _discovery(self) -> list[Resource]:
        found: list[Resource] = []
        core = await self._client.request("GET", "/api/v1")
        found += _resources("", "v1", core)
        groups = await self._client.request("GET", "/apis")
        for group in groups.get("groups") or []:
            preferred = (group.get("preferredVersion") or {}).get("version")
            if not preferred:
                continue
            listing = await self._client.request("GET", f"/apis/{group['name']}/{preferred}")
            found += _resources(str(group["name"]), str(preferred), listing)
        return found

    def _handler(self, res: Resource) -> Any:
        def on_event(kind: str, obj: Obj) -> None:
            typed = (
                obj if obj.get("kind") else {**obj, "apiVersion": res.api_version, "kind": res.kind}
            )
            work = self.graph.forget(typed) if kind == "DELETED" else self.graph.observe(typed)
            if self._started:
                self._enqueue(work)

        return on_event

    def _enqueue(self, work: g.Work) -> None:
        for uid in work.attempt_delete:
            self.delete_queue.add(uid)
        for uid in work.attempt_orphan:
            self.orphan_queue.add(uid)

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        await self._informers.synced()
        self._started = True
        self._initial_work()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.delete_queue.run(self.attempt_delete, name="garbage collector"))
            tg.create_task(self.orphan_queue.run(self.attempt_orphan, name="orphaning"))

    def _initial_work(self) -> None:
        """Once the graph is complete: dependents of unknown owners, and deletions that were
        under way (kubelite may have stopped half way through one)."""
        work = g.Work()
        for node in list(self.graph.nodes.values()):
            if any(o.uid not in self.graph.nodes for o in node.owners):
                work.attempt_delete.add(node.uid)
            if node.orphaning:
                work.attempt_orphan.add(node.uid)
            elif node.deleting_dependents:
                work.attempt_delete.add(node.uid)
                work.attempt_delete.update(self.graph.dependents.get(node.uid, ()))
        self._enqueue(work)

    # ------------------------------------------------------------------ attempt to delete

    async def attempt_delete(self, uid: str) -> None:
        node = self.graph.get(uid)
        if node is None:
            return
        if node.deleting_dependents:
            await self._process_deleting_dependents(node)
            return
        if node.being_deleted or not node.owners:
            return
        latest = await self._live(node)
        if latest is None or (
            owners.being_deleted(latest) and not owners.deleting_dependents(latest)
        ):
            return
        if owners.deleting_dependents(latest):
            await self._process_deleting_dependents(node)
            return
        states = {}
        for ref in owners.owner_references(latest):
            state = await self._owner_state(g.OwnerRef.of(ref), node.namespace)
            if state is None:
                return  # an owner of a kind not served here: leave the object alone
            states[str(ref.get("uid") or "")] = state
        deps = self.graph.dependents_of(uid)
        decision = g.decide(latest, states, has_dependents=bool(deps),
                            dependent_waiting=any(d.deleting_dependents for d in deps))  # fmt: skip
        await self._carry_out(node, latest, decision)

    async def _carry_out(self, node: g.Node, latest: Obj, decision: g.Decision) -> None:
        if decision.action is g.Action.REMOVE_REFERENCES:
            patch = {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": u}
                                                      for u in decision.remove],
                                  "uid": node.uid}}  # fmt: skip
            log.info("garbage collector: removing dangling owner references of %s %s/%s",
                     node.kind, node.namespace, node.name)  # fmt: skip
            await self._patch(node, patch, STRATEGIC)
        elif decision.action is g.Action.DELETE:
            if decision.unblock:
                await self._patch(node, g.unblock_patch(latest), STRATEGIC)
            log.info("garbage collector: deleting %s %s/%s (%s)", node.kind, node.namespace,
                     node.name, decision.policy)  # fmt: skip
            await self._delete(node, latest, decision.policy)

    async def _process_deleting_dependents(self, node: g.Node) -> None:
        blocking = self.graph.blocking_dependents(node.uid)
        if not blocking:
            await self._remove_finalizer(node, owners.FOREGROUND_FINALIZER)
            return
        for dep in blocking:
            if not dep.deleting_dependents:
                self.delete_queue.add(dep.uid)

    # ------------------------------------------------------------------ attempt to orphan

    async def attempt_orphan(self, uid: str) -> None:
        node = self.graph.get(uid)
        if node is None:
            return
        for dep in self.graph.dependents_of(uid):
            patch = {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": uid}],
                                  "uid": dep.uid}}  # fmt: skip
            await self._patch(dep, patch, STRATEGIC)
        await self._remove_finalizer(node, owners.ORPHAN_FINALIZER)

    # ------------------------------------------------------------------ API calls

    def _resource(self, api_version: str, kind: str) -> Resource | None:
        return self.resources.get((group_of(api_version), kind))

    def _path(self, node: g.Node) -> str | None:
        res = self._resource(node.api_version, node.kind)
        if res is None:
            return None
        return res.path(node.namespace if res.namespaced else None, node.name)

    async def _live(self, node: g.Node) -> Obj | None:
        """The object as the API has it now (None if gone or replaced by another uid)."""
        path = self._path(node)
        if path is None:
            return None
        try:
            obj = await self._client.request("GET", path)
        except ApiError as err:
            if err.not_found:
                return None
            raise
        return obj if owners.uid_of(obj) == node.uid else None

    async def _owner_state(self, ref: g.OwnerRef, namespace: str) -> g.OwnerState | None:
        if ref.uid in self._absent:
            return g.OwnerState.DANGLING
        res = self._resource(ref.api_version, ref.kind)
        if res is None:
            return None
        path = res.path(namespace if res.namespaced else None, ref.name)
        try:
            owner = await self._client.request("GET", path)
        except ApiError as err:
            if not err.not_found:
                raise
            owner = None
        if owner is None or owners.uid_of(owner) != ref.uid:
            self._absent[ref.uid] = None
            while len(self._absent) > ABSENT_CACHE:
                self._absent.popitem(last=False)
            return g.OwnerState.DANGLING
        if owners.deleting_dependents(owner):
            return g.OwnerState.WAITING
        return g.OwnerState.SOLID

    async def _patch(self, node: g.Node, patch: Obj, content_type: str) -> None:
        path = self._path(node)
        if path is None:
            return
        try:
            await self._client.request("PATCH", path, patch, content_type=content_type)
        except ApiError as err:
            if not err.not_found:
                raise

    async def _delete(self, node: g.Node, latest: Obj, policy: str) -> None:
        path = self._path(node)
        if path is None:
            return
        rv = str((latest.get("metadata") or {}).get("resourceVersion") or "")
        preconditions = {"uid": node.uid, "resourceVersion": rv}
        body: dict[str, Any] = {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": policy,
            "preconditions": preconditions,
        }
        try:
            await self._client.request("DELETE", path, body)
        except ApiError as err:
            if err.not_found:
                return
            if not err.conflict:
                raise
            live = await self._live(node)
            if live is None:
                return
            if owners.owner_references(live) != owners.owner_references(latest):
                raise  # its owners changed: look again
            body["preconditions"] = {"uid": node.uid}
            try:
                await self._client.request("DELETE", path, body)
            except ApiError as again:
                if not again.not_found:
                    raise

    async def _remove_finalizer(self, node: g.Node, finalizer: str) -> None:
        latest = await self._live(node)
        if latest is None:
            return
        rest = g.without_finalizer(latest, finalizer)
        if rest is None:
            return
        rv = (latest.get("metadata") or {}).get("resourceVersion")
        patch = {"metadata": {"finalizers": rest or None, "resourceVersion": rv}}
        log.info("garbage collector: removing the %s finalizer of %s %s/%s", finalizer,
                 node.kind, node.namespace, node.name)  # fmt: skip
        await self._patch(node, patch, MERGE)


def _resources(group: str, version: str, listing: JSON) -> list[Resource]:
    out = []
    for r in listing.get("resources") or []:
        name = str(r.get("name") or "")
        if "/" in name or (group, name) in IGNORED:
            continue
        if not set(r.get("verbs") or []) >= NEEDED_VERBS:
            continue
        out.append(Resource(group, version, name, str(r.get("kind") or ""),
                            namespaced=bool(r.get("namespaced"))))  # fmt: skip
    return out
