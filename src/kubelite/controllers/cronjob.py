"""The CronJob controller: runs each CronJob's Jobs as ``cronjobsync.plan_cronjob`` decides.

Two informers (CronJobs, Jobs) and a work queue of CronJob keys: a CronJob's change, or a
change to a Job it controls, queues it; each reconcile asks to be queued again at the next
firing (plus 100 ms). Creating the Job for a firing and recording it in ``status.active``
(with ``lastScheduleTime``) are two writes; a restart between them finds the Job by its
name, which is the firing's, and records it instead of making it again.
"""

from __future__ import annotations

import copy
import logging

from kubelite.client.rest import CRONJOBS, JOBS, ApiClient, ApiError, Obj
from kubelite.clock import Clock, SystemClock
from kubelite.controllers import jobpods as jp
from kubelite.controllers.cronjobsync import CronPlan, plan_cronjob, reference
from kubelite.controllers.eventrecorder import EventRecorder
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model.objects import JSON

log = logging.getLogger(__name__)

Key = tuple[str, str]
BACKGROUND = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"}


class CronJobController:
    def __init__(
        self, client: ApiClient, *, clock: Clock | None = None, informers: InformerSet | None = None
    ) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self._clock = clock or SystemClock()
        self.cronjobs = self._informers.get(CRONJOBS)
        self.jobs = self._informers.get(JOBS)
        self.queue: WorkQueue[Key] = WorkQueue(clock=self._clock)
        self.events = EventRecorder(client, "cronjob-controller", clock=self._clock)
        self._later: dict[Key, float] = {}
        self.cronjobs.add_handler(self._on_cronjob)
        self.jobs.add_handler(self._on_job)

    def _on_cronjob(self, kind: str, obj: Obj) -> None:
        md = obj.get("metadata") or {}
        self.queue.add((str(md.get("namespace") or ""), str(md.get("name") or "")))

    def _on_job(self, kind: str, obj: Obj) -> None:
        md = obj.get("metadata") or {}
        for ref in md.get("ownerReferences") or []:
            if not isinstance(ref, dict) or ref.get("kind") != "CronJob":
                continue
            if ref.get("controller") is True:
                self.queue.add((str(md.get("namespace") or ""), str(ref.get("name") or "")))

    async def run(self) -> None:
        async with self._informers.running(self.cronjobs, self.jobs):
            for cj in self.cronjobs.items():
                self._on_cronjob("ADDED", cj)
            await self.queue.run(self.reconcile, name="cronjob controller")

    async def reconcile(self, key: Key) -> None:
        ns, name = key
        self._later.pop(key, None)
        cj = self.cronjobs.get(ns, name)
        if cj is None:
            return
        uid = jp.uid_of(cj)
        jobs: list[JSON] = [
            j
            for j in self.jobs.items()
            if (j.get("metadata") or {}).get("namespace") == ns and jp.controller_uid(j) == uid
        ]
        plan = plan_cronjob(cj, jobs, self._clock.now())
        status = copy.deepcopy(plan.status if plan.status is not None else cj.get("status") or {})
        for job_name in plan.delete:
            await self._delete_job(ns, job_name)
        for event in plan.events:
            await self.events.event(cj, event.type, event.reason, event.message)
        made = await self._run(cj, plan)
        if made is not None:
            status["active"] = [*(status.get("active") or []), reference(made)]
            status["lastScheduleTime"] = plan.scheduled
        if status != (cj.get("status") or {}):
            body = {**cj, "status": status}
            written = await self._client.replace(CRONJOBS, body, sub="status")
            self.cronjobs.assume(written)
        if plan.requeue_after is not None:
            self._look_again(key, plan.requeue_after)

    async def _run(self, cj: JSON, plan: CronPlan) -> JSON | None:
        """The Job of this firing: the one made before a restart, or a new one."""
        if plan.adopt is not None:
            return plan.adopt
        if plan.create is None:
            return None
        ns = str((cj.get("metadata") or {}).get("namespace") or "")
        try:
            job = await self._client.create(JOBS, ns, plan.create)
        except ApiError as err:
            if err.conflict and err.reason == "AlreadyExists":
                existing = await self._client.get(JOBS, ns, jp.name_of(plan.create))
                return existing if jp.controller_uid(existing) == jp.uid_of(cj) else None
            message = f"Error creating job: {err.message}"
            await self.events.event(cj, "Warning", "FailedCreate", message)
            raise
        self.jobs.assume(job)
        message = f"Created job {jp.name_of(job)}"
        await self.events.event(cj, "Normal", "SuccessfulCreate", message)
        return job

    async def _delete_job(self, ns: str, name: str) -> None:
        try:
            await self._client.request("DELETE", JOBS.path(ns, name), BACKGROUND)
        except ApiError as err:
            if not err.not_found:
                raise
        self.jobs.assume_deleted(ns, name)

    def _look_again(self, key: Key, delay: float) -> None:
        due = self._clock.monotonic() + delay
        if key in self._later and self._later[key] <= due:
            return
        self._later[key] = due
        self.queue.add_after(key, delay)
