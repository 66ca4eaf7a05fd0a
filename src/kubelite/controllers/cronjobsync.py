"""The CronJob controller's decision (PURE): from a CronJob, the Jobs it controls and the time,
what to do now (the 1.32 controller's syncCronJob and cleanupFinishedJobs).

1. Its Jobs: a finished one leaves ``status.active`` (``SawCompletedJob``), the latest
   completion is ``lastSuccessfulTime``, an active reference with no Job left goes
   (``MissingJob``), a running Job it does not list is reported (``UnexpectedJob``).
2. Unless it is being deleted, suspended, or its schedule or zone cannot be read: the most
   recent firing not yet run (``TooManyMissedTimes`` past 100 missed) is run, unless it is
   older than ``startingDeadlineSeconds`` (``MissSchedule``), or a Job is active and the
   policy is Forbid (``JobAlreadyActive``); Replace deletes the active Jobs first.
3. The new Job is ``<cronjob>-<minutes since the epoch>`` from the job template, with the
   ``batch.kubernetes.io/cronjob-scheduled-timestamp`` annotation: a name per firing, so a
   restart never runs a firing twice (a Job of that name it controls is taken as the run).
4. Finished Jobs beyond ``successfulJobsHistoryLimit``/``failedJobsHistoryLimit`` are
   deleted, oldest first.

The loop creates the Job, adds its reference to ``status.active`` with ``lastScheduleTime``,
writes the status and looks again ``requeue_after`` seconds later.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from kubelite.clock import parse_rfc3339, rfc3339
from kubelite.controllers import cronschedule as cs
from kubelite.controllers.jobsync import Event, finished_condition
from kubelite.model.objects import JSON, Obj

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
FORBID_MESSAGE = (
    "Not starting job because prior execution is running and concurrency policy is Forbid"
)


@dataclass(frozen=True, slots=True)
class CronPlan:
    status: Obj | None = None  # the status to write (without the new Job's reference)
    create: Obj | None = None  # the Job to create
    scheduled: str = ""  # its firing, as lastScheduleTime
    adopt: JSON | None = None  # a Job already made for this firing: listed, not made again
    delete: tuple[str, ...] = ()  # Jobs to delete (Replace, history limits), in the background
    events: tuple[Event, ...] = ()
    requeue_after: float | None = None


@dataclass
class _Sync:
    cj: JSON
    jobs: list[JSON]
    status: Obj
    now: float
    events: list[Event] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)


def _name(obj: JSON) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _uid(obj: JSON) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def _time(value: object) -> float | None:
    try:
        return parse_rfc3339(str(value)) if value else None
    except ValueError:
        return None


def job_name(cronjob: str, scheduled: datetime) -> str:
    return f"{cronjob}-{int(scheduled.timestamp()) // 60}"


def reference(job: JSON) -> Obj:
    md = job.get("metadata") or {}
    return {
        "kind": "Job", "namespace": md.get("namespace", ""), "name": md.get("name", ""),
        "uid": md.get("uid", ""), "apiVersion": "batch/v1",
        "resourceVersion": md.get("resourceVersion", ""),
    }  # fmt: skip


def plan_cronjob(cj: JSON, jobs: list[JSON], now: float) -> CronPlan:
    """What to do for the CronJob ``cj`` whose Jobs are ``jobs``, at ``now``."""
    s = _Sync(cj=cj, jobs=jobs, status=copy.deepcopy(dict(cj.get("status") or {})), now=now)
    _observe_jobs(s)  # 1
    plan = _schedule(s)  # 2, 3
    _history(s)  # 4
    status = None if s.status == (cj.get("status") or {}) else s.status
    return CronPlan(
        status=status,
        create=plan.create,
        scheduled=plan.scheduled,
        adopt=plan.adopt,
        delete=tuple(dict.fromkeys(s.delete)),
        events=tuple(s.events),
        requeue_after=plan.requeue_after,
    )


# -- 1. the Jobs it made ---------------------------------------------------------------------


def _active(s: _Sync) -> list[Obj]:
    return [a for a in s.status.get("active") or [] if isinstance(a, dict)]


def _set_active(s: _Sync, refs: list[Obj]) -> None:
    if refs:
        s.status["active"] = refs
    else:
        s.status.pop("active", None)


def _observe_jobs(s: _Sync) -> None:
    active_uids = {str(a.get("uid") or "") for a in _active(s)}
    for job in s.jobs:
        finished = finished_condition(job)
        if _uid(job) not in active_uids and finished is None:
            message = f"Saw a job that the controller did not create or forgot: {_name(job)}"
            s.events.append(Event("Warning", "UnexpectedJob", message))
        elif _uid(job) in active_uids and finished is not None:
            _set_active(s, [a for a in _active(s) if a.get("uid") != _uid(job)])
            message = f"Saw completed job: {_name(job)}, status: {finished}"
            s.events.append(Event("Normal", "SawCompletedJob", message))
        if finished == "Complete":
            done = (job.get("status") or {}).get("completionTime")
            last = _time(s.status.get("lastSuccessfulTime"))
            when = _time(done)
            if when is not None and (last is None or when > last):
                s.status["lastSuccessfulTime"] = done
    present = {_uid(j) for j in s.jobs}
    for ref in _active(s):
        if ref.get("uid") not in present:
            message = f"Active job went missing: {ref.get('name')}"
            s.events.append(Event("Normal", "MissingJob", message))
            _set_active(s, [a for a in _active(s) if a.get("uid") != ref.get("uid")])


# -- 2, 3. the schedule --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Run:
    create: Obj | None = None
    scheduled: str = ""
    adopt: JSON | None = None
    requeue_after: float | None = None


def _schedule(s: _Sync) -> _Run:
    spec = s.cj.get("spec") or {}
    md = s.cj.get("metadata") or {}
    if md.get("deletionTimestamp"):
        return _Run()
    zone_name = spec.get("timeZone")
    try:
        zone = cs.zone_of(zone_name)
    except cs.BadSchedule as err:
        message = f'invalid timeZone: "{zone_name}": {err}'
        s.events.append(Event("Warning", "UnknownTimeZone", message))
        return _Run()
    if spec.get("suspend") is True:
        return _Run()
    schedule_text = str(spec.get("schedule") or "")
    try:
        schedule = cs.parse(schedule_text, zone)
    except cs.BadSchedule as err:
        message = f'unparseable schedule: "{schedule_text}" : {err}'
        s.events.append(Event("Warning", "UnparseableSchedule", message))
        return _Run()
    now = datetime.fromtimestamp(s.now, UTC)
    last = _time(s.status.get("lastScheduleTime")) or _time(md.get("creationTimestamp")) or s.now
    last_dt = datetime.fromtimestamp(last, UTC)
    deadline = spec.get("startingDeadlineSeconds")
    again = cs.next_delay(schedule, last_dt, now)
    try:
        window = deadline if isinstance(deadline, int) else None
        recent = cs.most_recent(schedule, last_dt, now, window)
    except cs.BadSchedule as err:
        message = f"invalid schedule: {schedule_text} : {err}"
        s.events.append(Event("Warning", "InvalidSchedule", message))
        return _Run()
    if recent.many_missed:
        message = (
            "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or "
            "check clock skew"
        )
        s.events.append(Event("Warning", "TooManyMissedTimes", message))
    when = recent.time
    if when is None:
        return _Run(requeue_after=again)
    if isinstance(deadline, int) and when.timestamp() + deadline < s.now:
        stamp = when.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        message = f"Missed scheduled time to start a job: {stamp}"
        s.events.append(Event("Warning", "MissSchedule", message))
        return _Run(requeue_after=again)
    name = job_name(_name(s.cj), when)
    scheduled = rfc3339(when.timestamp())
    listed = any(a.get("name") == name for a in _active(s))
    if listed or s.status.get("lastScheduleTime") == scheduled:
        return _Run(requeue_after=again)
    existing = next((j for j in s.jobs if _name(j) == name), None)
    if existing is not None:  # made before a restart, not yet listed
        return _Run(adopt=existing, scheduled=scheduled, requeue_after=again)
    policy = spec.get("concurrencyPolicy")
    if policy == "Forbid" and _active(s):
        s.events.append(Event("Normal", "JobAlreadyActive", FORBID_MESSAGE))
        return _Run(requeue_after=again)
    if policy == "Replace":
        for ref in _active(s):
            s.delete.append(str(ref.get("name") or ""))
            s.events.append(Event("Normal", "SuccessfulDelete", f"Deleted job {ref.get('name')}"))
        _set_active(s, [])
    return _Run(create=new_job(s.cj, when, zone), scheduled=scheduled, requeue_after=again)


def new_job(cj: JSON, scheduled: datetime, zone: tzinfo) -> Obj:
    """The Job for one firing: the template's labels, annotations and spec, named for the
    firing, controlled by the CronJob."""
    template = (cj.get("spec") or {}).get("jobTemplate") or {}
    tmd = template.get("metadata") or {}
    md = cj.get("metadata") or {}
    local = scheduled.astimezone(zone)
    annotations = dict(tmd.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP] = _rfc3339_zone(local)
    owner = {"apiVersion": "batch/v1", "kind": "CronJob", "name": md.get("name", ""),
             "uid": md.get("uid", ""), "controller": True, "blockOwnerDeletion": True}  # fmt: skip
    job_md: Obj = {
        "name": job_name(str(md.get("name") or ""), scheduled),
        "namespace": md.get("namespace", ""),
        "annotations": annotations,
        "ownerReferences": [owner],
    }
    if tmd.get("labels"):
        job_md["labels"] = dict(tmd["labels"])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": job_md,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def _rfc3339_zone(t: datetime) -> str:
    """Go's RFC3339 of a time in its zone: ``Z`` for UTC, else the offset."""
    offset = t.utcoffset()
    if offset is None or offset.total_seconds() == 0:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = t.strftime("%Y-%m-%dT%H:%M:%S%z")
    return text[:-2] + ":" + text[-2:]


# -- 4. history ---------------------------------------------------------------------------------


def _history(s: _Sync) -> None:
    spec = s.cj.get("spec") or {}
    for outcome, limit_field in (("Complete", "successfulJobsHistoryLimit"),
                                 ("Failed", "failedJobsHistoryLimit")):  # fmt: skip
        limit = spec.get(limit_field)
        if not isinstance(limit, int):
            continue
        done = [j for j in s.jobs if finished_condition(j) == outcome]
        extra = len(done) - limit
        if extra <= 0:
            continue
        for job in sorted(done, key=_start_order)[:extra]:
            s.delete.append(_name(job))
            s.events.append(Event("Normal", "SuccessfulDelete", f"Deleted job {_name(job)}"))


def _start_order(job: JSON) -> tuple[int, float, str]:
    """Oldest start first; Jobs that never started last; names break ties."""
    start = _time((job.get("status") or {}).get("startTime"))
    return (1, 0.0, _name(job)) if start is None else (0, start, _name(job))
