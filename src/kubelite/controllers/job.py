"""The Job controller: keeps each Job's pods as ``jobsync.plan_job`` decides, and deletes a
finished Job once its ``ttlSecondsAfterFinished`` has passed (the TTL-after-finished
controller's work).

An API client like the controller manager's: two informers (Jobs, Pods) and one work queue
whose keys are Jobs (``("job", ns, name)``) or pods left with the tracking finalizer after
their Job went or finished (``("orphan", ns, name)``). The Job's pods are those whose
controller reference carries its uid. Each reconcile plans, acts, and plans again until there
is nothing to do (at most a few rounds: create or delete, write the status, remove the
finalizers of counted pods, write the terminal condition).

Nothing is done twice after a restart: a pod it created is in the pods informer (and in its
cache at once, ``Informer.assume``) before the next plan; a finished pod is counted once (its
uid is written to ``uncountedTerminatedPods`` before its finalizer goes); a finished Job is
never planned again.
"""

from __future__ import annotations

import logging
from typing import Any

from kubelite.client.rest import JOBS, PODS, STRATEGIC, ApiClient, ApiError, Obj
from kubelite.clock import Clock, SystemClock
from kubelite.controllers import jobpods as jp
from kubelite.controllers.eventrecorder import EventRecorder
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.jobsync import JobPlan, finish_time, finished_condition, plan_job
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model.objects import JSON

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # ("job" | "orphan", namespace, name)
DROP_FINALIZER = {"metadata": {"$deleteFromPrimitiveList/finalizers": [jp.TRACKING_FINALIZER]}}
MAX_ROUNDS = 6


class JobController:
    def __init__(
        self, client: ApiClient, *, clock: Clock | None = None, informers: InformerSet | None = None
    ) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self._clock = clock or SystemClock()
        self.jobs = self._informers.get(JOBS)
        self.pods = self._informers.get(PODS)
        self.queue: WorkQueue[Key] = WorkQueue(clock=self._clock)
        self.events = EventRecorder(client, "job-controller", clock=self._clock)
        self._later: dict[Key, float] = {}  # key -> when a delayed look is already due
        self.jobs.add_handler(self._on_job)
        self.pods.add_handler(self._on_pod)

    # ------------------------------------------------------------------ events -> keys

    def _on_job(self, kind: str, obj: Obj) -> None:
        md = obj.get("metadata") or {}
        self.queue.add(("job", str(md.get("namespace") or ""), str(md.get("name") or "")))

    def _on_pod(self, kind: str, obj: Obj) -> None:
        md = obj.get("metadata") or {}
        ns = str(md.get("namespace") or "")
        job = self._owner(obj)
        if job is not None:
            self.queue.add(("job", ns, jp.name_of(job)))
        orphaned = job is None or finished_condition(job) is not None
        if kind != "DELETED" and jp.tracked(obj) and orphaned:
            self.queue.add(("orphan", ns, str(md.get("name") or "")))

    def _owner(self, pod: JSON) -> JSON | None:
        """The Job that controls ``pod``, if it is in the cache."""
        md = pod.get("metadata") or {}
        for ref in md.get("ownerReferences") or []:
            if not isinstance(ref, dict) or ref.get("kind") != "Job":
                continue
            if ref.get("controller") is True:
                job = self.jobs.get(str(md.get("namespace") or ""), str(ref.get("name") or ""))
                if job is not None and jp.uid_of(job) == ref.get("uid"):
                    return job
        return None

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        async with self._informers.running(self.jobs, self.pods):
            for job in self.jobs.items():
                self._on_job("ADDED", job)
            for pod in self.pods.items():
                self._on_pod("ADDED", pod)
            await self.queue.run(self.reconcile, name="job controller")

    async def reconcile(self, key: Key) -> None:
        what, ns, name = key
        self._later.pop(key, None)
        if what == "orphan":
            await self._release_orphan(ns, name)
            return
        for _ in range(MAX_ROUNDS):
            job = self.jobs.get(ns, name)
            if job is None:
                return
            if finished_condition(job) is not None and await self._expire(key, job):
                return
            plan = plan_job(job, self._pods_of(job), self._clock.now())
            if plan.requeue_after is not None:
                self._look_again(key, plan.requeue_after)
            if not plan.acts:
                return
            await self._act(job, plan)

    def _pods_of(self, job: JSON) -> list[JSON]:
        ns, uid = (job.get("metadata") or {}).get("namespace"), jp.uid_of(job)
        return [
            p
            for p in self.pods.items()
            if (p.get("metadata") or {}).get("namespace") == ns and jp.controller_uid(p) == uid
        ]

    def _look_again(self, key: Key, delay: float) -> None:
        due = self._clock.monotonic() + delay
        if key in self._later and self._later[key] <= due:
            return
        self._later[key] = due
        self.queue.add_after(key, delay)

    # ------------------------------------------------------------------ acting

    async def _act(self, job: JSON, plan: JobPlan) -> None:
        """Carry a plan out: pods first, then the status, then the finalizers of the pods it
        counted, then the events."""
        for name in plan.release:
            await self._patch_pod(job, name)
            await self._delete_pod(job, name)
        for name in plan.delete:
            await self._delete_pod(job, name)
        for body in plan.create:
            await self._create_pod(job, body)
        if plan.status is not None:
            body = {**job, "status": plan.status}
            written = await self._client.replace(JOBS, body, sub="status")
            self.jobs.assume(written)
            job = written
        for name in plan.unfinalize:
            await self._patch_pod(job, name)
        for event in plan.events:
            await self.events.event(job, event.type, event.reason, event.message)

    async def _create_pod(self, job: JSON, body: Obj) -> None:
        ns = str((job.get("metadata") or {}).get("namespace") or "")
        try:
            pod = await self._client.create(PODS, ns, body)
        except ApiError as err:
            message = f"Error creating: {err.message}"
            await self.events.event(job, "Warning", "FailedCreate", message)
            raise
        self.pods.assume(pod)
        message = f"Created pod: {jp.name_of(pod)}"
        await self.events.event(job, "Normal", "SuccessfulCreate", message)

    async def _delete_pod(self, job: JSON, name: str) -> None:
        ns = str((job.get("metadata") or {}).get("namespace") or "")
        try:
            gone = await self._client.request("DELETE", PODS.path(ns, name))
        except ApiError as err:
            if err.not_found:
                self.pods.assume_deleted(ns, name)
                return
            message = f"Error deleting: {err.message}"
            await self.events.event(job, "Warning", "FailedDelete", message)
            raise
        if gone.get("kind") == "Pod":
            self._assume_pod(gone)
        await self.events.event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {name}")

    async def _patch_pod(self, job: JSON, name: str) -> None:
        ns = str((job.get("metadata") or {}).get("namespace") or "")
        await self._drop_finalizer(ns, name)

    async def _drop_finalizer(self, ns: str, name: str) -> None:
        try:
            pod = await self._client.request(
                "PATCH", PODS.path(ns, name), DROP_FINALIZER, content_type=STRATEGIC
            )
        except ApiError as err:
            if not err.not_found:
                raise
            self.pods.assume_deleted(ns, name)
            return
        self._assume_pod(pod)

    def _assume_pod(self, pod: Obj) -> None:
        md = pod.get("metadata") or {}
        if md.get("deletionTimestamp") and not md.get("finalizers") and _grace_over(md):
            self.pods.assume_deleted(str(md.get("namespace") or ""), str(md.get("name") or ""))
        else:
            self.pods.assume(pod)

    async def _release_orphan(self, ns: str, name: str) -> None:
        """A pod whose Job is gone or finished loses the tracking finalizer."""
        pod = self.pods.get(ns, name)
        if pod is None or not jp.tracked(pod):
            return
        owner = self._owner(pod)
        if owner is not None and finished_condition(owner) is None:
            return  # still its Job's to count
        await self._drop_finalizer(ns, name)

    # ------------------------------------------------------------------ ttlSecondsAfterFinished

    async def _expire(self, key: Key, job: JSON) -> bool:
        """Delete a finished Job whose time to live has run out (its dependents in the
        foreground, as the TTL-after-finished controller does); True if it was deleted."""
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        finished = finish_time(job)
        md = job.get("metadata") or {}
        if not isinstance(ttl, int) or finished is None or md.get("deletionTimestamp"):
            return False
        left = finished + ttl - self._clock.now()
        if left > 0:
            self._look_again(key, left)
            return False
        options: dict[str, Any] = {
            "apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground",
            "preconditions": {"uid": jp.uid_of(job)},
        }  # fmt: skip
        try:
            await self._client.request("DELETE", JOBS.path(key[1], key[2]), options)
        except ApiError as err:
            if not (err.not_found or err.conflict):
                raise
        log.info("job %s/%s finished %d s ago: deleted", key[1], key[2], ttl)
        return True


def _grace_over(md: JSON) -> bool:
    return md.get("deletionGracePeriodSeconds") == 0
