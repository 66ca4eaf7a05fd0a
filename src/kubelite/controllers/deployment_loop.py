"""The Deployment controller: for one Deployment, one sync as upstream's ``syncDeployment``
orders it, carried out with the decisions of ``deployment`` and ``deployment_status``.

1. claim ReplicaSets (adopt orphans the selector selects, release those it no longer does);
2. being deleted → status only; paused or resumed → the Progressing condition says so;
3. paused, or a scaling event → resize proportionally (``sync``);
4. else roll out: RollingUpdate (grow the new ReplicaSet, else shrink old ones) or Recreate
   (old ones to zero, wait for their pods to go, then the new one);
5. old ReplicaSets beyond ``revisionHistoryLimit`` are deleted once the rollout completes;
6. the status is written, and a rollout in progress is looked at again when its progress
   deadline would pass.

Each step writes through the API and keeps what it got back (the next step builds on it),
and posts the controller's events (``ScalingReplicaSet``). Nothing is named at random: a new
ReplicaSet's name comes from its template's hash, so after a kill -9 the controller finds
the one it had made (or meets it as an AlreadyExists) instead of making a second.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from kubelite.client.informer import Informer
from kubelite.client.rest import ApiClient, ApiError, Obj, Resource
from kubelite.clock import Clock, SystemClock
from kubelite.controllers import deployment as dep
from kubelite.controllers import deployment_rollout as rollout
from kubelite.controllers import deployment_status as dstatus
from kubelite.controllers import replicaset as rs_rules
from kubelite.controllers.eventrecorder import NORMAL, WARNING, EventRecorder
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import labelselector, owners
from kubelite.model.objects import JSON

log = logging.getLogger(__name__)

Key = tuple[str, str]
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
REPLICASETS = Resource("apps", "v1", "replicasets", "ReplicaSet")
COMPONENT = "deployment-controller"


def key_of(obj: JSON) -> Key:
    return (owners.namespace_of(obj), owners.name_of(obj))


def typed(obj: Obj, res: Resource) -> Obj:
    if obj.get("kind") and obj.get("apiVersion"):
        return obj
    return {**obj, "apiVersion": res.api_version, "kind": res.kind}


class DeploymentController:
    def __init__(
        self,
        client: ApiClient,
        *,
        deployments: Informer,
        replicasets: Informer,
        pods: Informer,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self._clock = clock or SystemClock()
        self.deployments = deployments
        self.replicasets = replicasets
        self.pods = pods
        self.queue: WorkQueue[Key] = WorkQueue(clock=self._clock)
        self.events = EventRecorder(client, COMPONENT, clock=self._clock)
        self._rs_owner: dict[Key, Key] = {}
        deployments.add_handler(lambda kind, d: self.queue.add(key_of(d)))
        replicasets.add_handler(self._on_replicaset)
        pods.add_handler(self._on_pod)

    # ------------------------------------------------------------------ events -> keys

    def _owner_key(self, rs: JSON) -> Key | None:
        ref = owners.controller_of(rs)
        if ref is None or ref.get("kind") != "Deployment":
            return None
        key = (owners.namespace_of(rs), str(ref.get("name") or ""))
        d = self.deployments.get(*key)
        return key if d is not None and owners.uid_of(d) == ref.get("uid") else None

    def _on_replicaset(self, kind: str, rs: Obj) -> None:
        rkey = key_of(rs)
        owner = self._owner_key(rs)
        before = self._rs_owner.pop(rkey, None)
        if kind != "DELETED" and owner is not None:
            self._rs_owner[rkey] = owner
        if before is not None and before != owner:
            self.queue.add(before)
        if owner is not None:
            self.queue.add(owner)
        elif kind != "DELETED" and owners.controller_of(rs) is None:
            for d in self.deployments.items():
                if owners.namespace_of(d) == rkey[0] and labelselector.selects(
                    dep.spec(d).get("selector"), rs
                ):
                    self.queue.add(key_of(d))

    def _on_pod(self, kind: str, pod: Obj) -> None:
        if kind != "DELETED":
            return
        ref = owners.controller_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        owner = self._rs_owner.get((owners.namespace_of(pod), str(ref.get("name") or "")))
        if owner is not None:
            d = self.deployments.get(*owner)
            if d is not None and not dep.is_rolling(d):
                self.queue.add(owner)  # Recreate waits for old pods to go

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        informers = (self.deployments, self.replicasets, self.pods)
        await asyncio.gather(*(i.synced.wait() for i in informers))
        for d in self.deployments.items():
            self.queue.add(key_of(d))
        await self.queue.run(self.reconcile, name=COMPONENT)

    async def reconcile(self, key: Key) -> None:
        cached = self.deployments.get(*key)
        if cached is None:
            return
        d = typed(copy.deepcopy(cached), DEPLOYMENTS)
        rss = await self._claim(d)
        if owners.being_deleted(d):
            d, new, old = await self._sync_revision(d, rss, create=False)
            await self._write_status(d, dstatus.calculate([*old, new], new, d, self._now()))
            return
        d = await self._check_paused(d)
        if dep.spec(d).get("paused") or rollout.is_scaling_event(d, rss):
            await self._sync(d, rss)
        elif dep.is_rolling(d):
            await self._rolling(d, rss)
        else:
            await self._recreate(d, rss)

    def _now(self) -> float:
        return self._clock.now()

    # ------------------------------------------------------------------ 1. claiming

    async def _claim(self, d: Obj) -> list[Obj]:
        selector = dep.spec(d).get("selector")
        candidates = [
            typed(r, REPLICASETS)
            for r in self.replicasets.items()
            if owners.namespace_of(r) == owners.namespace_of(d)
        ]
        claims = rs_rules.claim(d, candidates, lambda r: labelselector.selects(selector, r))
        owned = list(claims.owned)
        if claims.adopt:
            fresh = await self._client.get(DEPLOYMENTS, *key_of(d))
            if owners.uid_of(fresh) == owners.uid_of(d) and not owners.being_deleted(fresh):
                ref = owners.controller_reference(d, DEPLOYMENTS.api_version, DEPLOYMENTS.kind)
                for rs in claims.adopt:
                    made = await self._patch_rs(rs, owners.adopt_patch(rs, ref))
                    if made is not None:
                        owned.append(typed(made, REPLICASETS))
        for rs in claims.release:
            await self._patch_rs(rs, owners.release_patch(rs, owners.uid_of(d)))
        return owned

    async def _patch_rs(self, rs: JSON, patch: Obj) -> Obj | None:
        made = await self._client.patch_unless_gone(REPLICASETS, rs, patch)
        if made is not None:
            self.replicasets.assume(made)
        return made

    # ------------------------------------------------------------------ revisions

    async def _sync_revision(
        self, d: Obj, rss: list[Obj], *, create: bool
    ) -> tuple[Obj, Obj | None, list[Obj]]:
        """``getAllReplicaSetsAndSyncRevision``: (deployment, new ReplicaSet, old ones)."""
        old = dep.find_old(d, rss)
        existing = dep.find_new(d, rss)
        new_revision = dep.max_revision(old) + 1
        if existing is not None:
            return await self._sync_existing(d, existing, old, new_revision)
        if not create:
            return d, None, old
        return await self._create_new(d, old, new_revision)

    async def _sync_existing(
        self, d: Obj, rs: Obj, old: list[Obj], new_revision: int
    ) -> tuple[Obj, Obj | None, list[Obj]]:
        notes, changed = dep.new_rs_annotations(d, rs, new_revision, exists=True)
        min_ready = int(dep.spec(d).get("minReadySeconds") or 0)
        if changed or int(dep.spec(rs).get("minReadySeconds") or 0) != min_ready:
            body = copy.deepcopy(rs)
            body["metadata"]["annotations"] = notes
            body["spec"]["minReadySeconds"] = min_ready
            rs = typed(await self._client.replace(REPLICASETS, body), REPLICASETS)
            self.replicasets.assume(rs)
            return d, rs, old
        status = copy.deepcopy(d.get("status") or {})
        needs = self._set_revision(d, dep.annotations_of(rs).get(dep.REVISION, ""))
        if (
            dstatus.has_progress_deadline(d)
            and dstatus.get_condition(status, dstatus.PROGRESSING) is None
        ):
            message = f'Found new replica set "{owners.name_of(rs)}"'
            cond = dstatus.new_condition(dstatus.PROGRESSING, "True", dstatus.FOUND_NEW_RS, message,
                                         self._now())  # fmt: skip
            dstatus.set_condition(status, cond)
            needs = True
        if needs:
            d = await self._write_status(d, status)
        return d, rs, old

    def _set_revision(self, d: Obj, revision: str) -> bool:
        notes = d["metadata"].setdefault("annotations", {})
        if notes.get(dep.REVISION) == revision:
            return False
        notes[dep.REVISION] = revision
        return True

    async def _create_new(
        self, d: Obj, old: list[Obj], new_revision: int
    ) -> tuple[Obj, Obj | None, list[Obj]]:
        body = dep.new_replica_set(d, new_revision, 0, DEPLOYMENTS.api_version, DEPLOYMENTS.kind)
        size = dep.new_rs_replicas(d, [*old, body], 0)
        body["spec"]["replicas"] = size
        name = body["metadata"]["name"]
        already = False
        try:
            created = await self._client.create(REPLICASETS, owners.namespace_of(d), body)
        except ApiError as err:
            if err.conflict and err.reason == "AlreadyExists":
                created, already = await self._existing_or_collision(d, name, err), True
            elif err.status == 403:
                raise  # the namespace is going: every create would fail
            else:
                await self._create_failed(d, name, err)
                raise
        created = typed(created, REPLICASETS)
        self.replicasets.assume(created)
        if not already and size > 0:
            message = f"Scaled up replica set {name} from 0 to {size}"
            await self.events.event(d, NORMAL, "ScalingReplicaSet", message)
        status = copy.deepcopy(d.get("status") or {})
        needs = self._set_revision(d, str(new_revision))
        if not already and dstatus.has_progress_deadline(d):
            message = f'Created new replica set "{name}"'
            cond = dstatus.new_condition(dstatus.PROGRESSING, "True", dstatus.NEW_RS_CREATED,
                                         message, self._now())  # fmt: skip
            dstatus.set_condition(status, cond)
            needs = True
        if needs:
            d = await self._write_status(d, status)
        return d, created, old

    async def _existing_or_collision(self, d: Obj, name: str, err: ApiError) -> Obj:
        """A ReplicaSet of the new one's name exists: ours (a cache behind, a restart) or a
        hash collision, which bumps ``collisionCount`` and retries with a new hash."""
        rs = await self._client.get(REPLICASETS, owners.namespace_of(d), name)
        if owners.is_controlled_by(rs, owners.uid_of(d)) and dep.equal_ignore_hash(
            dep.spec(d).get("template"), dep.spec(rs).get("template")
        ):
            return rs
        status = copy.deepcopy(d.get("status") or {})
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        await self._write_status(d, status)
        raise err

    async def _create_failed(self, d: Obj, name: str, err: ApiError) -> None:
        message = f'Failed to create new replica set "{name}": {err.message}'
        if dstatus.has_progress_deadline(d):
            status = copy.deepcopy(d.get("status") or {})
            cond = dstatus.new_condition(dstatus.PROGRESSING, "False", dstatus.FAILED_RS_CREATE,
                                         message, self._now())  # fmt: skip
            dstatus.set_condition(status, cond)
            try:
                await self._write_status(d, status)
            except ApiError:
                pass
        await self.events.event(d, WARNING, dstatus.FAILED_RS_CREATE, message)

    # ------------------------------------------------------------------ scaling

    async def _scale(self, d: Obj, rs: Obj, size: int, operation: str = "") -> tuple[bool, Obj]:
        """``scaleReplicaSet``: the size and the replica annotations; an event if the size
        moved."""
        old_size = dep.replicas_of(rs)
        size_changed = old_size != size
        if not size_changed and not dep.replica_annotations_need_update(d, rs):
            return False, rs
        body = copy.deepcopy(rs)
        body["spec"]["replicas"] = size
        body["metadata"]["annotations"] = dep.with_replica_annotations(d, rs)
        made = typed(await self._client.replace(REPLICASETS, body), REPLICASETS)
        self.replicasets.assume(made)
        if size_changed:
            word = operation or ("up" if size > old_size else "down")
            message = f"Scaled {word} replica set {owners.name_of(rs)} from {old_size} to {size}"
            await self.events.event(d, NORMAL, "ScalingReplicaSet", message)
        return size_changed, made

    async def _resize(self, d: Obj, rs: Obj, size: int) -> tuple[bool, Obj]:
        """``scaleReplicaSetAndRecordEvent``: nothing when the size is already right."""
        if dep.replicas_of(rs) == size:
            return False, rs
        return await self._scale(d, rs, size)

    async def _sync(self, d: Obj, rss: list[Obj]) -> None:
        """A paused Deployment or a scaling event: proportional sizes, no rollout."""
        d, new, old = await self._sync_revision(d, rss, create=False)
        plan = rollout.scale(d, new, old)
        updated: dict[str, Obj] = {}
        proportional = bool(plan.operation) or len(plan.resizes) > 1
        for resize in plan.resizes:
            if proportional:
                _, made = await self._scale(d, resize.rs, resize.replicas, plan.operation)
            else:
                _, made = await self._resize(d, resize.rs, resize.replicas)
            updated[owners.uid_of(made)] = made
        new = updated.get(owners.uid_of(new), new) if new is not None else None
        old = [updated.get(owners.uid_of(r), r) for r in old]
        if dep.spec(d).get("paused"):
            await self._clean_up(d, old)
        await self._write_status(d, dstatus.calculate([*old, new], new, d, self._now()))

    async def _rolling(self, d: Obj, rss: list[Obj]) -> None:
        d, new, old = await self._sync_revision(d, rss, create=True)
        assert new is not None  # created above
        target = rollout.reconcile_new(d, [*old, new], new)
        if target is not None:
            scaled, new = await self._resize(d, new, target)
            if scaled:
                await self._rollout_status(d, [*old, new], new)
                return
        resizes = rollout.reconcile_old(d, [*old, new], dep.active(old), new)
        updated: dict[str, Obj] = {}
        for resize in resizes:
            _, made = await self._resize(d, resize.rs, resize.replicas)
            updated[owners.uid_of(made)] = made
        old = [updated.get(owners.uid_of(r), r) for r in old]
        if not resizes and dstatus.complete(d, d.get("status") or {}):
            await self._clean_up(d, old)
        await self._rollout_status(d, [*old, new], new)

    async def _recreate(self, d: Obj, rss: list[Obj]) -> None:
        d, new, old = await self._sync_revision(d, rss, create=False)
        scaled_down = False
        updated: dict[str, Obj] = {}
        for rs in dep.active(old):
            scaled, made = await self._resize(d, rs, 0)
            scaled_down = scaled_down or scaled
            updated[owners.uid_of(made)] = made
        old = [updated.get(owners.uid_of(r), r) for r in old]
        if scaled_down or rollout.old_pods_running(new, old, self._pods_by_rs(d, rss)):
            await self._rollout_status(d, [*old, new], new)
            return
        if new is None:
            d, new, old = await self._sync_revision(d, [*old], create=True)
        assert new is not None
        _, new = await self._resize(d, new, dep.replicas_of(d))
        if dstatus.complete(d, d.get("status") or {}):
            await self._clean_up(d, old)
        await self._rollout_status(d, [*old, new], new)

    def _pods_by_rs(self, d: Obj, rss: list[Obj]) -> dict[str, list[JSON]]:
        uids = {owners.uid_of(r) for r in rss}
        out: dict[str, list[JSON]] = {uid: [] for uid in uids}
        for pod in self.pods.items():
            if owners.namespace_of(pod) != owners.namespace_of(d):
                continue
            ref = owners.controller_of(pod)
            if ref is not None and ref.get("uid") in uids:
                out[str(ref["uid"])].append(pod)
        return out

    async def _clean_up(self, d: Obj, old: list[Obj]) -> None:
        for rs in rollout.to_clean_up(d, old):
            try:
                await self._client.request(
                    "DELETE", REPLICASETS.path(owners.namespace_of(rs), owners.name_of(rs))
                )
            except ApiError as err:
                if not err.not_found:
                    raise
            self.replicasets.assume_deleted(*key_of(rs))

    # ------------------------------------------------------------------ status

    async def _check_paused(self, d: Obj) -> Obj:
        cond = dstatus.paused_condition(d, self._now())
        if cond is None:
            return d
        status = copy.deepcopy(d.get("status") or {})
        dstatus.set_condition(status, cond)
        return await self._write_status(d, status)

    async def _rollout_status(self, d: Obj, all_rss: list[Any], new: Obj | None) -> None:
        now = self._now()
        failure = dstatus.replica_failure(all_rss, new, now)
        status = dstatus.rollout_status(all_rss, new, d, now, failure)
        d = await self._write_status(d, status)
        wait = dstatus.requeue_after(d, status, now)
        if wait is not None:
            self.queue.add_after(key_of(d), wait)

    async def _write_status(self, d: Obj, status: Obj) -> Obj:
        """Write ``status`` (and the annotations the revision step set) unless nothing moved."""
        cached = self.deployments.get(*key_of(d)) or {}
        same_notes = dep.annotations_of(cached) == dep.annotations_of(d)
        if (
            same_notes
            and dstatus.same(d.get("status") or {}, status)
            and dstatus.same(cached.get("status") or {}, status)
        ):
            return d
        body = {**d, "status": dstatus.compact(status)}
        try:
            made = await self._client.replace(DEPLOYMENTS, body, sub="status")
        except ApiError as err:
            if err.not_found:
                return d
            raise
        self.deployments.assume(made)
        return typed(made, DEPLOYMENTS)
