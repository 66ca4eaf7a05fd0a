"""The ReplicaSet controller and the ReplicationController manager: one loop, two kinds
(``REPLICA_SETS``, ``REPLICATION_CONTROLLERS``), around the decisions of ``replicaset``.

For one owner it: claims pods (adopting orphans it selects, releasing pods it no longer
selects, by patching their ownerReferences); if its expectations are settled and it is not
being deleted, creates pods from its template in slow-start batches or deletes the pods the
ranking puts first; then writes its status. Pod events settle expectations (a new pod of
the owner counts as an observed creation, a pod deleted or marked for deletion as an observed
deletion) and queue the owners concerned, so a pod's change is seen by its owner and by the
owners that might adopt it. After a kill -9 a new process lists every pod before its first
sync: pods created just before are counted, never created again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from kubelite.client.informer import Informer
from kubelite.client.rest import PODS, ApiClient, ApiError, Obj, Resource
from kubelite.clock import Clock, SystemClock
from kubelite.controllers import replicaset as rs
from kubelite.controllers.eventrecorder import NORMAL, WARNING, EventRecorder
from kubelite.controllers.expectations import Expectations
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import labelselector, owners
from kubelite.model.objects import JSON

log = logging.getLogger(__name__)

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ReplicatedKind:
    resource: Resource
    component: str  # the events' source
    set_selector: bool  # a map selector (ReplicationController) rather than a LabelSelector

    def selector_of(self, owner: JSON) -> Callable[[JSON], bool]:
        selector = (owner.get("spec") or {}).get("selector")
        if self.set_selector:
            return lambda pod: labelselector.set_matches(
                selector, (pod.get("metadata") or {}).get("labels")
            )
        return lambda pod: labelselector.selects(selector, pod)

    def controller_ref(self, owner: JSON) -> Obj:
        return owners.controller_reference(owner, self.resource.api_version, self.resource.kind)


REPLICA_SETS = ReplicatedKind(
    Resource("apps", "v1", "replicasets", "ReplicaSet"), "replicaset-controller", False
)
REPLICATION_CONTROLLERS = ReplicatedKind(
    Resource("", "v1", "replicationcontrollers", "ReplicationController"),
    "replication-controller",
    True,
)


def key_of(obj: JSON) -> Key:
    return (owners.namespace_of(obj), owners.name_of(obj))


class ReplicaSetController:
    def __init__(
        self,
        client: ApiClient,
        kind: ReplicatedKind,
        *,
        owners_informer: Informer,
        pods: Informer,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self.kind = kind
        self._clock = clock or SystemClock()
        self.owners = owners_informer
        self.pods = pods
        self.queue: WorkQueue[Key] = WorkQueue(clock=self._clock)
        self.expectations: Expectations[Key] = Expectations(self._clock)
        self.events = EventRecorder(client, kind.component, clock=self._clock)
        self._pod_owner: dict[str, Key] = {}  # pod key -> the owner it was last seen with
        self.owners.add_handler(self._on_owner)
        self.pods.add_handler(self._on_pod)

    # ------------------------------------------------------------------ events -> keys

    def _on_owner(self, kind: str, obj: Obj) -> None:
        key = key_of(obj)
        if kind == "DELETED":
            self.expectations.forget(key)
        self.queue.add(key)

    def _owner_key(self, pod: JSON) -> Key | None:
        """The owner of ours that controls ``pod`` (by name and uid), if any."""
        ref = owners.controller_of(pod)
        if ref is None or ref.get("kind") != self.kind.resource.kind:
            return None
        key = (owners.namespace_of(pod), str(ref.get("name") or ""))
        owner = self.owners.get(*key)
        if owner is None or owners.uid_of(owner) != ref.get("uid"):
            return None
        return key

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
                self._queue_selecting(pod)
            return
        if kind == "DELETED" or owners.being_deleted(pod):
            self.expectations.deletion_observed(owner, pkey)
        elif kind == "ADDED":
            self.expectations.creation_observed(owner)
        self.queue.add(owner)

    def _queue_selecting(self, pod: JSON) -> None:
        ns = owners.namespace_of(pod)
        for owner in self.owners.items():
            if owners.namespace_of(owner) == ns and self.kind.selector_of(owner)(pod):
                self.queue.add(key_of(owner))

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        await asyncio.gather(self.owners.synced.wait(), self.pods.synced.wait())
        for owner in self.owners.items():
            self.queue.add(key_of(owner))
        await self.queue.run(self.reconcile, name=self.kind.component)

    async def reconcile(self, key: Key) -> None:
        owner = self.owners.get(*key)
        if owner is None:
            self.expectations.forget(key)
            return
        needs_sync = self.expectations.satisfied(key)
        selects = self.kind.selector_of(owner)
        candidates = [p for p in self.pods.items() if rs.is_active(p)]
        claims = rs.claim(owner, candidates, selects)
        owned = list(claims.owned) + await self._adopt(owner, claims.adopt)
        await self._release(owner, claims.release)
        failure: tuple[str, str] | None = None
        error: Exception | None = None
        if needs_sync and not owners.being_deleted(owner):
            try:
                await self._manage(key, owner, owned)
            except _ManageError as err:
                failure, error = (err.reason, err.message), err
        await self._write_status(owner, owned, failure)
        if error is not None:
            raise error

    async def _adopt(self, owner: JSON, pods: tuple[Obj, ...]) -> list[Obj]:
        if not pods:
            return []
        fresh = await self._client.get(self.kind.resource, *key_of(owner))
        if owners.uid_of(fresh) != owners.uid_of(owner) or owners.being_deleted(fresh):
            return []  # recreated or being deleted since the cache saw it: adopt nothing
        adopted = []
        for pod in pods:
            made = await self._patch_pod(
                pod, owners.adopt_patch(pod, self.kind.controller_ref(owner))
            )
            if made is not None:
                adopted.append(made)
        return adopted

    async def _release(self, owner: JSON, pods: tuple[Obj, ...]) -> None:
        for pod in pods:
            await self._patch_pod(pod, owners.release_patch(pod, owners.uid_of(owner)))

    async def _patch_pod(self, pod: JSON, patch: Obj) -> Obj | None:
        made = await self._client.patch_unless_gone(PODS, pod, patch)
        if made is not None:
            self.pods.assume(made)
        return made

    # ------------------------------------------------------------------ scaling

    async def _manage(self, key: Key, owner: Obj, owned: list[Obj]) -> None:
        spec = owner.get("spec") or {}
        plan = rs.scaling(owned, int(spec.get("replicas") or 0), self._clock.now())
        if plan.create:
            await self._create(key, owner, plan.create)
        elif plan.delete:
            await self._delete(key, owner, plan.delete)

    async def _create(self, key: Key, owner: Obj, count: int) -> None:
        self.expectations.expect_creations(key, count)
        template = (owner.get("spec") or {}).get("template") or {}
        pod = rs.pod_from_template(owner, template, self.kind.controller_ref(owner))
        if not (pod["metadata"].get("labels")):
            raise _ManageError(rs.FAILED_CREATE, "unable to create pods, no labels")
        made = 0
        for size in rs.slow_start_batches(count):
            results = await asyncio.gather(
                *(self._create_one(owner, pod) for _ in range(size)), return_exceptions=True
            )
            made += sum(1 for r in results if r is None)
            failures = [r for r in results if isinstance(r, BaseException)]
            if failures:
                for _ in range(count - made):  # never attempted or failed: not expected
                    self.expectations.creation_observed(key)
                first = failures[0]
                if isinstance(first, ApiError):
                    raise _ManageError(rs.FAILED_CREATE, first.message)
                raise first

    async def _create_one(self, owner: Obj, pod: Obj) -> None:
        ns = owners.namespace_of(owner)
        try:
            created = await self._client.create(PODS, ns, pod)
        except ApiError as err:
            if err.namespace_terminating:
                return None  # the namespace is going: every create would fail
            await self.events.event(
                owner, WARNING, rs.FAILED_CREATE, f"Error creating: {err.message}"
            )
            raise
        self.pods.assume(created)
        message = f"Created pod: {owners.name_of(created)}"
        await self.events.event(owner, NORMAL, "SuccessfulCreate", message)
        return None

    async def _delete(self, key: Key, owner: Obj, pods: tuple[Obj, ...]) -> None:
        self.expectations.expect_deletions(key, [rs.pod_key(p) for p in pods])
        results = await asyncio.gather(
            *(self._delete_one(key, owner, p) for p in pods), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            first = failures[0]
            if isinstance(first, ApiError):
                raise _ManageError(rs.FAILED_DELETE, first.message)
            raise first

    async def _delete_one(self, key: Key, owner: Obj, pod: Obj) -> None:
        name = owners.name_of(pod)
        try:
            await self._client.request("DELETE", PODS.path(owners.namespace_of(pod), name))
        except ApiError as err:
            self.expectations.deletion_observed(key, rs.pod_key(pod))
            if err.not_found:
                return
            await self.events.event(
                owner, WARNING, rs.FAILED_DELETE, f"Error deleting: {err.message}"
            )
            raise
        await self.events.event(owner, NORMAL, "SuccessfulDelete", f"Deleted pod: {name}")

    # ------------------------------------------------------------------ status

    async def _write_status(
        self, owner: Obj, pods: list[Obj], failure: tuple[str, str] | None
    ) -> None:
        spec = owner.get("spec") or {}
        template = spec.get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = self._clock.now()
        status = rs.replica_status(owner, pods, labels, now=now, min_ready_seconds=min_ready,
                                   failure=failure)  # fmt: skip
        if rs.status_changed(owner, status):
            body = {**owner, "status": status}
            try:
                self.owners.assume(
                    await self._client.replace(self.kind.resource, body, sub="status")
                )
            except ApiError as err:
                if err.not_found:
                    return
                if not err.conflict:
                    raise
                fresh = await self._client.get(self.kind.resource, *key_of(owner))
                self.owners.assume(fresh)
                raise  # the queue retries with what is there now
        wait = rs.next_availability_check(pods, min_ready, now)
        if wait is not None:
            self.queue.add_after(key_of(owner), wait + 0.001)


class _ManageError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
