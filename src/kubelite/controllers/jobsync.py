"""The Job controller's decision (PURE): from a Job and its pods, what to do now.

``plan_job(job, pods, now)`` follows the 1.32 controller's sync, one step at a time:

1. Pods counted before (their uids in ``status.uncountedTerminatedPods``) whose tracking
   finalizer is gone move into ``succeeded``/``failed``.
2. Is the Job finished? An earlier SuccessCriteriaMet or FailureTarget condition says so; else
   a FailJob rule of the pod failure policy, failures past ``backoffLimit`` (restarts, with
   OnFailure), or ``activeDeadlineSeconds`` run out.
3. A finishing Job deletes its active pods; a running one keeps the pods ``jobscale`` says
   (``parallelism`` of them, created after the back-off; none while suspended), and gets the
   Suspended condition while suspended (its removal restarts ``startTime``).
4. Enough successes (or any, without ``completions``) with nothing active: SuccessCriteriaMet.
5. Finished pods still tracked: their uids are written to ``uncountedTerminatedPods`` (with
   the interim SuccessCriteriaMet or FailureTarget condition) before their finalizers go, so
   a restart between the two counts nothing twice.
6. Nothing left uncounted and no pod terminating: the terminal condition (Complete with
   ``completionTime``, or Failed), and its event.

The loop (``controllers.job``) writes the status, then removes the finalizers, and plans
again: step 1 of the next plan counts them. Indexed Jobs count completed indexes
(``completedIndexes``), one pod per index, named ``<job>-<index>-<random>``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from kubelite.clock import parse_rfc3339, rfc3339
from kubelite.controllers import jobpods as jp
from kubelite.controllers import jobscale as js
from kubelite.model.objects import JSON, Obj

MAX_UNCOUNTED = 500

COMPLETE, FAILED = "Complete", "Failed"
SUCCESS_CRITERIA_MET, FAILURE_TARGET, SUSPENDED = "SuccessCriteriaMet", "FailureTarget", "Suspended"
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")
POD_FAILURE_POLICY = "PodFailurePolicy"


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class JobPlan:
    status: Obj | None = None  # the status to write; None: unchanged
    create: tuple[Obj, ...] = ()  # pods to create (their names are generated)
    delete: tuple[str, ...] = ()  # pods to delete; tracking counts them as failed
    release: tuple[str, ...] = ()  # pods to delete uncounted: their finalizer goes first
    unfinalize: tuple[str, ...] = ()  # pods whose finalizer goes once the status is written
    events: tuple[Event, ...] = ()  # to post once the status is written
    requeue_after: float | None = None  # look again then, if nothing happens before

    @property
    def acts(self) -> bool:
        return bool(
            self.status is not None or self.create or self.delete or self.release
            or self.unfinalize
        )  # fmt: skip


@dataclass
class _Sync:
    """What one sync works out as it goes (upstream's syncJobCtx)."""

    job: JSON
    pods: list[JSON]
    status: Obj
    now: float
    indexed: bool
    completions: int | None
    finished: tuple[str, str, str] | None = None  # (condition type, reason, message)
    active: list[JSON] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    requeue: list[float] = field(default_factory=list)


def finished_condition(job: JSON) -> str | None:
    """``Complete`` or ``Failed`` once the Job has that condition True."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if (
            isinstance(c, dict)
            and c.get("type") in (COMPLETE, FAILED)
            and c.get("status") == "True"
        ):
            return str(c["type"])
    return None


def finish_time(job: JSON) -> float | None:
    """When the Job finished (its terminal condition's transition)."""
    kind = finished_condition(job)
    for c in (job.get("status") or {}).get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == kind:
            try:
                return parse_rfc3339(str(c.get("lastTransitionTime") or ""))
            except ValueError:
                return None
    return None


def plan_job(job: JSON, pods: list[JSON], now: float) -> JobPlan:
    """What to do for ``job`` given its pods (those it controls) at ``now``."""
    if finished_condition(job) is not None:
        return JobPlan(unfinalize=tuple(jp.name_of(p) for p in pods if jp.tracked(p)))
    spec = job.get("spec") or {}
    completions = spec.get("completions")
    s = _Sync(
        job=job,
        pods=pods,
        status=_status_copy(job),
        now=now,
        indexed=spec.get("completionMode") == "Indexed" and isinstance(completions, int),
        completions=completions if isinstance(completions, int) else None,
    )
    _count_unfinalized(s)  # 1
    s.active = [p for p in pods if jp.is_active(p)]
    terminating = sum(1 for p in pods if jp.is_terminating(p))
    ready = sum(1 for p in s.active if jp.is_ready(p))
    succeeded, failed = _totals(s)
    if s.status.get("startTime") is None and not _suspended(job):
        s.status["startTime"] = rfc3339(now)
    _decide_failure(s, failed)  # 2
    if s.indexed:
        succeeded = len(_succeeded_indexes(s))
    delete: list[str] = []
    release: list[str] = []
    create: list[Obj] = []
    if s.finished is not None:  # 3
        delete = [jp.name_of(p) for p in s.active]
        terminating += len(delete)
        ready -= sum(1 for p in s.active if jp.is_ready(p))
        active = 0
    else:
        active, managed = len(s.active), not jp.deleting(job)
        if managed:
            release, create = _manage(s, succeeded, terminating)
            active += len(create) - len(release)
            terminating += len(release)
            ready -= sum(1 for p in s.active if jp.name_of(p) in release and jp.is_ready(p))
        done = succeeded > 0 if s.completions is None else succeeded >= s.completions
        if done and active == 0:  # 4
            s.finished = (SUCCESS_CRITERIA_MET, *COMPLETIONS_REACHED)
        elif managed:
            _suspend_condition(s)
    s.status["active"] = active
    s.status["ready"] = ready
    s.status["terminating"] = terminating
    unfinalize = _track(s)  # 5
    _enact(s, terminating)  # 6
    _omit_zeros(s.status)
    status = None if s.status == (job.get("status") or {}) else s.status
    return JobPlan(
        status=status,
        create=tuple(create),
        delete=tuple(delete),
        release=tuple(release),
        unfinalize=tuple(unfinalize),
        events=tuple(s.events),
        requeue_after=min(s.requeue) if s.requeue else None,
    )


def _omit_zeros(status: Obj) -> None:
    """Counters at 0 (and no completed index) are left out, as the API serializes them;
    ``ready`` and ``terminating`` stay."""
    for key in ("active", "succeeded", "failed"):
        if status.get(key) == 0:
            del status[key]
    if status.get("completedIndexes") == "":
        del status["completedIndexes"]


# -- 1. counting -------------------------------------------------------------------------------


def _status_copy(job: JSON) -> Obj:
    status = copy.deepcopy(dict(job.get("status") or {}))
    uncounted = status.get("uncountedTerminatedPods")
    status["uncountedTerminatedPods"] = uncounted if isinstance(uncounted, dict) else {}
    return status


def _uncounted(s: _Sync, key: str) -> list[str]:
    value = s.status["uncountedTerminatedPods"].get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _set_uncounted(s: _Sync, key: str, uids: list[str]) -> None:
    if uids:
        s.status["uncountedTerminatedPods"][key] = uids
    else:
        s.status["uncountedTerminatedPods"].pop(key, None)


def _count_unfinalized(s: _Sync) -> None:
    """Uids whose pods no longer carry the finalizer (or are gone) move to the counters."""
    still = {jp.uid_of(p) for p in s.pods if jp.tracked(p)}
    for key in ("succeeded", "failed"):
        uids = _uncounted(s, key)
        kept = [u for u in uids if u in still]
        if len(kept) != len(uids):
            s.status[key] = int(s.status.get(key) or 0) + len(uids) - len(kept)
            _set_uncounted(s, key, kept)


def _valid_index(s: _Sync, pod: JSON) -> bool:
    if not s.indexed:
        return True
    ix = jp.completion_index(pod)
    return ix is not None and s.completions is not None and ix < s.completions


def _new_finished(s: _Sync) -> tuple[list[JSON], list[JSON]]:
    """Tracked pods that finished and are not yet among the uncounted."""
    only_failed = jp.only_failed_replaced(s.job)
    up_s, up_f = set(_uncounted(s, "succeeded")), set(_uncounted(s, "failed"))
    succeeded, failed = [], []
    for p in s.pods:
        if not jp.tracked(p) or not _valid_index(s, p):
            continue
        if jp.phase(p) == jp.SUCCEEDED and jp.uid_of(p) not in up_s:
            succeeded.append(p)
        elif jp.is_failed(p, only_failed) and jp.uid_of(p) not in up_f:
            failed.append(p)
    return succeeded, failed


def _totals(s: _Sync) -> tuple[int, int]:
    new_s, new_f = _new_finished(s)
    policy = (s.job.get("spec") or {}).get("podFailurePolicy")
    counted_f = [p for p in new_f if jp.match_failure_policy(policy, p).counts]
    succeeded = int(s.status.get("succeeded") or 0) + len(new_s) + len(_uncounted(s, "succeeded"))
    failed = int(s.status.get("failed") or 0) + len(counted_f) + len(_uncounted(s, "failed"))
    return succeeded, failed


# -- 2. failure ---------------------------------------------------------------------------------


def _condition(status: JSON, kind: str) -> JSON | None:
    for c in status.get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == kind:
            return c
    return None


def _true(status: JSON, kind: str) -> JSON | None:
    c = _condition(status, kind)
    return c if c is not None and c.get("status") == "True" else None


def _suspended(job: JSON) -> bool:
    return (job.get("spec") or {}).get("suspend") is True


def _decide_failure(s: _Sync, failed: int) -> None:
    spec = s.job.get("spec") or {}
    met = _true(s.status, SUCCESS_CRITERIA_MET)
    if met is not None:
        s.finished = (
            SUCCESS_CRITERIA_MET,
            str(met.get("reason") or ""),
            str(met.get("message") or ""),
        )
        return
    target = _true(s.status, FAILURE_TARGET)
    if target is not None:
        s.finished = (FAILED, *_why(target))
        return
    message = _fail_job_message(s)
    if message is not None:
        s.finished = (FAILURE_TARGET, POD_FAILURE_POLICY, message)
        return
    if failed > int(spec.get("backoffLimit") or 0) or _past_restart_limit(s):
        s.finished = (FAILURE_TARGET, *BACKOFF_EXCEEDED)
        return
    deadline = spec.get("activeDeadlineSeconds")
    start = s.status.get("startTime")
    if isinstance(deadline, int) and start and not _suspended(s.job):
        left = parse_rfc3339(str(start)) + deadline - s.now
        if left <= 0:
            s.finished = (FAILURE_TARGET, *DEADLINE_EXCEEDED)
        else:
            s.requeue.append(left)


def _why(condition: JSON) -> tuple[str, str]:
    return str(condition.get("reason") or ""), str(condition.get("message") or "")


def _fail_job_message(s: _Sync) -> str | None:
    policy = (s.job.get("spec") or {}).get("podFailurePolicy")
    if not isinstance(policy, dict):
        return None
    for p in s.pods:
        if jp.is_failed(p, True):
            match = jp.match_failure_policy(policy, p)
            if match.message is not None:
                return match.message
    return None


def _past_restart_limit(s: _Sync) -> bool:
    """With restartPolicy OnFailure, container restarts count as failures."""
    spec = s.job.get("spec") or {}
    template_spec = (spec.get("template") or {}).get("spec") or {}
    if template_spec.get("restartPolicy") != "OnFailure":
        return False
    total = sum(jp.restarts(p) for p in s.pods if jp.phase(p) in ("Running", "Pending"))
    limit = int(spec.get("backoffLimit") or 0)
    return total > 0 if limit == 0 else total >= limit


# -- 3. managing pods ---------------------------------------------------------------------------


def _succeeded_indexes(s: _Sync) -> set[int]:
    assert s.completions is not None
    return js.succeeded_indexes(s.status, s.pods, s.completions)


def _manage(s: _Sync, succeeded: int, terminating: int) -> tuple[list[str], list[Obj]]:
    """Pods to delete (uncounted) and pods to create."""
    done = _succeeded_indexes(s) if s.indexed else set()
    blocking = terminating if jp.only_failed_replaced(s.job) else 0
    plan = js.scale(s.job, s.pods, s.active, succeeded, blocking, s.now, done)
    if plan.wait is not None:
        s.requeue.append(plan.wait)
    return plan.release, plan.create


def _suspend_condition(s: _Sync) -> None:
    now = rfc3339(s.now)
    if _suspended(s.job):
        if _set_condition(s.status, SUSPENDED, "True", "JobSuspended", "Job suspended", now):
            s.events.append(Event("Normal", "Suspended", "Job suspended"))
    elif _set_condition(s.status, SUSPENDED, "False", "JobResumed", "Job resumed", now):
        s.events.append(Event("Normal", "Resumed", "Job resumed"))
        s.status["startTime"] = now  # the deadline counts from the resumption


def _set_condition(status: Obj, kind: str, value: str, reason: str, message: str, now: str) -> bool:
    """Add or change a condition (a False one is never added); True if anything changed."""
    conditions = status.setdefault("conditions", [])
    new = {"type": kind, "status": value, "lastProbeTime": now, "lastTransitionTime": now,
           "reason": reason, "message": message}  # fmt: skip
    for i, c in enumerate(conditions):
        if isinstance(c, dict) and c.get("type") == kind:
            if (c.get("status"), c.get("reason"), c.get("message")) == (value, reason, message):
                return False
            conditions[i] = new
            return True
    if value == "False":
        if not conditions:
            status.pop("conditions")
        return False
    conditions.append(new)
    return True


# -- 5. tracking ------------------------------------------------------------------------------


def _track(s: _Sync) -> list[str]:
    """Finished tracked pods join the uncounted ones; their finalizers may then go."""
    policy = (s.job.get("spec") or {}).get("podFailurePolicy")
    only_failed = jp.only_failed_replaced(s.job)
    failing = s.finished is not None and s.finished[0] != SUCCESS_CRITERIA_MET
    up_s, up_f = _uncounted(s, "succeeded"), _uncounted(s, "failed")
    done_ix = jp.parse_indexes(s.status.get("completedIndexes"), s.completions or 0)
    unfinalize = []
    for p in sorted(s.pods, key=lambda p: jp.completion_index(p) or 0):
        if not jp.tracked(p):
            continue
        failed = jp.is_failed(p, only_failed)
        removable = jp.deleting(s.job) or s.finished is not None or jp.phase(p) == jp.SUCCEEDED
        if not (removable or failed):
            continue
        unfinalize.append(jp.name_of(p))
        uid = jp.uid_of(p)
        if jp.phase(p) == jp.SUCCEEDED and uid not in up_f:
            if s.indexed:
                if _valid_index(s, p):
                    done_ix.add(jp.completion_index(p) or 0)
            elif uid not in up_s:
                up_s.append(uid)
        elif (
            (failed or failing)
            and uid not in up_f
            and _valid_index(s, p)
            and jp.match_failure_policy(policy, p).counts
        ):
            up_f.append(uid)
        if len(up_s) + len(up_f) >= MAX_UNCOUNTED:
            break
    _set_uncounted(s, "succeeded", up_s)
    _set_uncounted(s, "failed", up_f)
    if s.indexed:
        s.status["completedIndexes"] = jp.format_indexes(done_ix)
        s.status["succeeded"] = len(done_ix)
    stamp = rfc3339(s.now)
    if s.finished is not None and s.finished[0] == FAILURE_TARGET:
        _set_condition(s.status, FAILURE_TARGET, "True", s.finished[1], s.finished[2], stamp)
        s.finished = (FAILED, s.finished[1], s.finished[2])
    if s.finished is not None and s.finished[0] == SUCCESS_CRITERIA_MET:
        _set_condition(s.status, SUCCESS_CRITERIA_MET, "True", s.finished[1], s.finished[2], stamp)
        s.finished = (COMPLETE, s.finished[1], s.finished[2])
    return unfinalize


# -- 6. finishing -------------------------------------------------------------------------------


def _enact(s: _Sync, terminating: int) -> None:
    if s.finished is None:
        return
    if _uncounted(s, "succeeded") or _uncounted(s, "failed") or terminating > 0:
        return
    kind, reason, message = s.finished
    stamp = rfc3339(s.now)
    _set_condition(s.status, kind, "True", reason, message, stamp)
    if kind == COMPLETE:
        s.status["completionTime"] = stamp
        completions = s.completions
        if completions is not None and int(s.status.get("succeeded") or 0) > completions:
            s.events.append(
                Event(
                    "Warning",
                    "TooManySucceededPods",
                    "Too many succeeded pods running after completion count reached",
                )
            )
        s.events.append(Event("Normal", "Completed", "Job completed"))
    else:
        s.events.append(Event("Warning", reason, message))
