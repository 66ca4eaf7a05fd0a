"""The DaemonSet controller: for one DaemonSet, claim its pods, place one on every node that
should run it (``daemonset.manage``), replace old pods as its update strategy allows
(``daemonset.rolling_update``), and write its status. Node changes queue every DaemonSet;
pod changes queue their owner (or the DaemonSets that could adopt an orphan). A failed
daemon pod is deleted with a per-node back-off (1 s doubling to 15 min) and a
``FailedDaemonPod`` event, so a pod the node keeps rejecting is not recreated in a hot loop.
"""

from __future__ import annotations

import asyncio
import copy
import logging

from kubelite.client.informer import Informer
from kubelite.client.rest import PODS, ApiClient, ApiError, Obj, Resource
from kubelite.clock import Clock, SystemClock
from kubelite.controllers import daemonset as dsr
from kubelite.controllers import daemonset_history as history
from kubelite.controllers import replicaset as rs
from kubelite.controllers.eventrecorder import NORMAL, WARNING, EventRecorder
from kubelite.controllers.expectations import Expectations
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import owners
from kubelite.model.objects import JSON
from kubelite.model.survival import Failures

log = logging.getLogger(__name__)

Key = tuple[str, str]
DAEMONSETS = Resource("apps", "v1", "daemonsets", "DaemonSet")
NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
CONTROLLER_REVISIONS = Resource("apps", "v1", "controllerrevisions", "ControllerRevision")
COMPONENT = "daemonset-controller"
ALWAYS_SHOWN = ("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled",
                "numberReady")  # fmt: skip


def key_of(obj: JSON) -> Key:
    return (owners.namespace_of(obj), owners.name_of(obj))


class DaemonSetController:
    def __init__(
        self,
        client: ApiClient,
        *,
        daemonsets: Informer,
        pods: Informer,
        nodes: Informer,
        revisions: Informer | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self._clock = clock or SystemClock()
        self.daemonsets = daemonsets
        self.pods = pods
        self.nodes = nodes
        self.revisions = revisions
        self.queue: WorkQueue[Key] = WorkQueue(clock=self._clock)
        self.expectations: Expectations[Key] = Expectations(self._clock)
        self.events = EventRecorder(client, COMPONENT, clock=self._clock)
        self.failed_backoff: Failures[tuple[Key, str]] = Failures(first=1.0, cap=900.0)
        self._retry_at: dict[tuple[Key, str], float] = {}
        self._pod_owner: dict[str, Key] = {}
        daemonsets.add_handler(self._on_daemonset)
        pods.add_handler(self._on_pod)
        nodes.add_handler(self._on_node)
        if revisions is not None:
            revisions.add_handler(self._on_revision)

    # ------------------------------------------------------------------ events -> keys

    def _on_daemonset(self, kind: str, ds: Obj) -> None:
        if kind == "DELETED":
            self.expectations.forget(key_of(ds))
        self.queue.add(key_of(ds))

    def _on_node(self, kind: str, node: Obj) -> None:
        for ds in self.daemonsets.items():
            self.queue.add(key_of(ds))

    def _on_revision(self, kind: str, rev: Obj) -> None:
        owner = self._owner_key(rev)
        if owner is not None:
            self.queue.add(owner)

    def _owner_key(self, pod: JSON) -> Key | None:
        ref = owners.controller_of(pod)
        if ref is None or ref.get("kind") != "DaemonSet":
            return None
        key = (owners.namespace_of(pod), str(ref.get("name") or ""))
        ds = self.daemonsets.get(*key)
        return key if ds is not None and owners.uid_of(ds) == ref.get("uid") else None

    def _on_pod(self, kind: str, pod: Obj) -> None:
        pkey = rs.pod_key(pod)
        owner = self._owner_key(pod)
        before = self._pod_owner.pop(pkey, None)
        if kind != "DELETED" and owner is not None:
            self._pod_owner[pkey] = owner
        if before is not None and before != owner:
            self.queue.add(before)
        if owner is None:
            if kind != "DELETED" and owners.controller_of(pod) is None:
                for ds in self.daemonsets.items():
                    if owners.namespace_of(ds) == pkey.split("/")[0] and dsr.selects(ds)(pod):
                        self.queue.add(key_of(ds))
            return
        if kind == "DELETED" or owners.being_deleted(pod):
            self.expectations.deletion_observed(owner, pkey)
        elif kind == "ADDED":
            self.expectations.creation_observed(owner)
        self.queue.add(owner)

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        informers = [self.daemonsets, self.pods, self.nodes]
        if self.revisions is not None:
            informers.append(self.revisions)
        await asyncio.gather(*(i.synced.wait() for i in informers))
        for ds in self.daemonsets.items():
            self.queue.add(key_of(ds))
        await self.queue.run(self.reconcile, name=COMPONENT)

    async def reconcile(self, key: Key) -> None:
        cached = self.daemonsets.get(*key)
        if cached is None:
            self.expectations.forget(key)
            return
        ds = (
            cached
            if cached.get("kind")
            else {**cached, "apiVersion": "apps/v1", "kind": "DaemonSet"}
        )
        by_node = await self._claim(ds)
        nodes = self.nodes.items()
        old_revisions: tuple[Obj, ...] = ()
        if self.revisions is None or owners.being_deleted(ds):
            pod_hash = dsr.revision_hash(ds)
        else:
            pod_hash, old_revisions = await self._history(ds)
        if self.expectations.satisfied(key) and not owners.being_deleted(ds):
            plan = dsr.manage(ds, nodes, by_node, pod_hash)
            failed = self._failed_to_delete(ds, key, plan.failed)
            await self._sync_nodes(ds, key, list(plan.create_on), [*plan.delete, *failed], pod_hash)
            strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
            if strategy.get("type") == "RollingUpdate" and self.expectations.satisfied(key):
                desired = sum(1 for n in nodes if dsr.placement(ds, n).should_run)
                update = dsr.rolling_update(ds, by_node, desired, pod_hash, self._clock.now())
                await self._sync_nodes(
                    ds, key, list(update.create_on), list(update.delete), pod_hash
                )
            if self.expectations.satisfied(key):
                await self._clean_up_history(ds, old_revisions, by_node)
        await self._write_status(ds, nodes, by_node, pod_hash)

    # ------------------------------------------------------------------ revisions

    async def _history(self, ds: Obj) -> tuple[str, tuple[Obj, ...]]:
        """The current revision (made or renumbered as needed): its pod hash, and the old
        revisions (``constructHistory``)."""
        assert self.revisions is not None
        uid = owners.uid_of(ds)
        owned = [r for r in self.revisions.items() if owners.is_controlled_by(r, uid)]
        found = history.classify(ds, owned)
        current = found.current
        if current is None:
            body = history.snapshot(ds, found.next_number)
            try:
                current = await self._client.create(
                    CONTROLLER_REVISIONS, owners.namespace_of(ds), body
                )
            except ApiError as err:
                if not err.conflict:
                    raise
                current = await self._existing_revision(ds, body, err)
            self.revisions.assume(current)
        elif history.number_of(current) < found.next_number:
            body = {**copy.deepcopy(current), "revision": found.next_number}
            current = await self._client.replace(CONTROLLER_REVISIONS, body)
            self.revisions.assume(current)
        return history.pod_hash_of(current), found.old

    async def _existing_revision(self, ds: Obj, body: Obj, err: ApiError) -> Obj:
        """A revision of that name exists: ours (a cache behind) or a hash collision, which
        bumps ``collisionCount`` so the next sync hashes differently."""
        ns, name = owners.namespace_of(ds), body["metadata"]["name"]
        existing = await self._client.get(CONTROLLER_REVISIONS, ns, name)
        if (
            owners.is_controlled_by(existing, owners.uid_of(ds))
            and existing.get("data") == body["data"]
        ):
            return existing
        status = copy.deepcopy(ds.get("status") or {})
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        self.daemonsets.assume(
            await self._client.replace(DAEMONSETS, {**ds, "status": status}, sub="status")
        )
        raise err

    async def _clean_up_history(
        self, ds: Obj, old: tuple[Obj, ...], by_node: dict[str, list[Obj]]
    ) -> None:
        live = {
            str(((p.get("metadata") or {}).get("labels") or {}).get(dsr.REVISION_HASH) or "")
            for pods in by_node.values()
            for p in pods
        }
        for rev in history.to_clean_up(ds, old, live):
            await self._client.delete(
                CONTROLLER_REVISIONS, owners.namespace_of(rev), owners.name_of(rev)
            )
            if self.revisions is not None:
                self.revisions.assume_deleted(owners.namespace_of(rev), owners.name_of(rev))

    # ------------------------------------------------------------------ pods

    async def _claim(self, ds: Obj) -> dict[str, list[Obj]]:
        candidates = [
            p for p in self.pods.items() if owners.namespace_of(p) == owners.namespace_of(ds)
        ]
        claims = rs.claim(ds, candidates, dsr.selects(ds))
        owned = list(claims.owned)
        ref = owners.controller_reference(ds, DAEMONSETS.api_version, DAEMONSETS.kind)
        if claims.adopt:
            fresh = await self._client.get(DAEMONSETS, *key_of(ds))
            if owners.uid_of(fresh) == owners.uid_of(ds) and not owners.being_deleted(fresh):
                for pod in claims.adopt:
                    made = await self._patch_pod(pod, owners.adopt_patch(pod, ref))
                    if made is not None:
                        owned.append(made)
        for pod in claims.release:
            await self._patch_pod(pod, owners.release_patch(pod, owners.uid_of(ds)))
        by_node: dict[str, list[Obj]] = {}
        for pod in owned:
            by_node.setdefault(dsr.target_node(pod), []).append(pod)
        return by_node

    async def _patch_pod(self, pod: JSON, patch: Obj) -> Obj | None:
        made = await self._client.patch_unless_gone(PODS, pod, patch)
        if made is not None:
            self.pods.assume(made)
        return made

    def _failed_to_delete(
        self, ds: Obj, key: Key, failed: tuple[tuple[Obj, str], ...]
    ) -> list[Obj]:
        out: list[Obj] = []
        now = self._clock.monotonic()
        for pod, node in failed:
            backoff_key = (key, node)
            retry_at = self._retry_at.get(backoff_key, 0.0)
            if retry_at > now:
                self.queue.add_after(key, retry_at - now)
                continue
            self._retry_at[backoff_key] = now + self.failed_backoff.failed(backoff_key, now)
            out.append(pod)
        return out

    async def _sync_nodes(
        self, ds: Obj, key: Key, create_on: list[str], delete: list[Obj], pod_hash: str
    ) -> None:
        for pod in delete:
            phase = (pod.get("status") or {}).get("phase")
            if phase == "Failed":
                node = dsr.target_node(pod)
                name = f"{owners.namespace_of(pod)}/{owners.name_of(pod)}"
                message = f"Found failed daemon pod {name} on node {node}, will try to kill it"
                await self.events.event(ds, WARNING, "FailedDaemonPod", message)
        if delete:
            self.expectations.expect_deletions(key, [rs.pod_key(p) for p in delete])
        for pod in delete:
            await self._delete_one(ds, key, pod)
        if not create_on:
            return
        self.expectations.expect_creations(key, len(create_on))
        ref = owners.controller_reference(ds, DAEMONSETS.api_version, DAEMONSETS.kind)
        for i, node in enumerate(create_on):
            body = dsr.daemon_pod(ds, node, pod_hash, ref)
            try:
                created = await self._client.create(PODS, owners.namespace_of(ds), body)
            except ApiError as err:
                for _ in range(len(create_on) - i):
                    self.expectations.creation_observed(key)
                await self.events.event(
                    ds, WARNING, rs.FAILED_CREATE, f"Error creating: {err.message}"
                )
                raise
            self.pods.assume(created)
            await self.events.event(ds, NORMAL, "SuccessfulCreate",
                                    f"Created pod: {owners.name_of(created)}")  # fmt: skip

    async def _delete_one(self, ds: Obj, key: Key, pod: Obj) -> None:
        name = owners.name_of(pod)
        try:
            await self._client.request("DELETE", PODS.path(owners.namespace_of(pod), name))
        except ApiError as err:
            self.expectations.deletion_observed(key, rs.pod_key(pod))
            if err.not_found:
                return
            await self.events.event(ds, WARNING, rs.FAILED_DELETE, f"Error deleting: {err.message}")
            raise
        await self.events.event(ds, NORMAL, "SuccessfulDelete", f"Deleted pod: {name}")

    async def _write_status(
        self, ds: Obj, nodes: list[Obj], by_node: dict[str, list[Obj]], pod_hash: str
    ) -> None:
        now = self._clock.now()
        status = dsr.daemon_status(ds, nodes, by_node, pod_hash, now)
        status = {k: v for k, v in status.items() if v not in (0, None) or k in ALWAYS_SHOWN}
        old = {k: v for k, v in (ds.get("status") or {}).items()
               if v not in (0, None) or k in ALWAYS_SHOWN}  # fmt: skip
        if status != old:
            body = {**copy.deepcopy(ds), "status": status}
            try:
                self.daemonsets.assume(await self._client.replace(DAEMONSETS, body, sub="status"))
            except ApiError as err:
                if not err.not_found:
                    raise
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        pods = [p for ps in by_node.values() for p in ps]
        wait = rs.next_availability_check(pods, min_ready, now)
        if wait is not None:
            self.queue.add_after(key_of(ds), wait + 0.001)
