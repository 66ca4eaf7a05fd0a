"""A Deployment's status and conditions, as the deployment controller computes them
(``calculateStatus``, ``syncRolloutStatus``, ``checkPausedConditions``), with no I/O.

Available: True (``MinimumReplicasAvailable``, "Deployment has minimum availability.") while
at least replicas - maxUnavailable pods are available, else False
(``MinimumReplicasUnavailable``).

Progressing (only with a progress deadline): ``NewReplicaSetCreated`` / ``FoundNewReplicaSet``
when the controller makes or first finds the new ReplicaSet; ``ReplicaSetUpdated`` each time
it sees progress (lastUpdateTime moves, lastTransitionTime stays while True);
``NewReplicaSetAvailable`` once complete; ``ProgressDeadlineExceeded`` (False) when nothing
moved for ``progressDeadlineSeconds``; ``DeploymentPaused`` / ``DeploymentResumed``
(Unknown) around a pause. A condition is only rewritten when its status or reason changes.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from kubelite.clock import parse_rfc3339, rfc3339
from kubelite.controllers import deployment as dep
from kubelite.model import owners
from kubelite.model.objects import JSON, Obj

AVAILABLE, PROGRESSING, REPLICA_FAILURE = "Available", "Progressing", "ReplicaFailure"
MIN_AVAILABLE, MIN_UNAVAILABLE = "MinimumReplicasAvailable", "MinimumReplicasUnavailable"
NEW_RS_CREATED, FOUND_NEW_RS = "NewReplicaSetCreated", "FoundNewReplicaSet"
RS_UPDATED, NEW_RS_AVAILABLE = "ReplicaSetUpdated", "NewReplicaSetAvailable"
TIMED_OUT, FAILED_RS_CREATE = "ProgressDeadlineExceeded", "ReplicaSetCreateError"
PAUSED, RESUMED = "DeploymentPaused", "DeploymentResumed"


def new_condition(kind: str, status: str, reason: str, message: str, now: float) -> Obj:
    stamp = rfc3339(now)
    return {"type": kind, "status": status, "lastUpdateTime": stamp,
            "lastTransitionTime": stamp, "reason": reason, "message": message}  # fmt: skip


def get_condition(status: JSON, kind: str) -> JSON | None:
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def set_condition(status: Obj, cond: Obj) -> None:
    """``SetDeploymentCondition``: unchanged status and reason leave the old one; the same
    status keeps its lastTransitionTime; the condition moves to the end of the list."""
    current = get_condition(status, cond["type"])
    if (
        current is not None
        and current.get("status") == cond["status"]
        and current.get("reason") == cond["reason"]
    ):
        return
    if current is not None and current.get("status") == cond["status"]:
        cond = {**cond, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def remove_condition(status: Obj, kind: str) -> None:
    kept = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


def has_progress_deadline(d: JSON) -> bool:
    value = dep.spec(d).get("progressDeadlineSeconds")
    return isinstance(value, int) and value != dep.MAX_INT32


def calculate(all_rss: Sequence[Obj | None], new: Obj | None, d: JSON, now: float) -> Obj:
    """``calculateStatus``: counts summed over the ReplicaSets, the Available condition."""
    rss = [r for r in all_rss if r is not None]
    available = dep.total_status(rss, "availableReplicas")
    unavailable = max(0, dep.total_replicas(rss) - available)
    old = d.get("status") or {}
    status: Obj = {
        "observedGeneration": int((d.get("metadata") or {}).get("generation") or 0),
        "replicas": dep.total_status(rss, "replicas"),
        "updatedReplicas": dep.status_count(new, "replicas") if new is not None else 0,
        "readyReplicas": dep.total_status(rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
    }
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = copy.deepcopy(list(old["conditions"]))
    if available >= dep.replicas_of(d) - dep.max_unavailable(d):
        cond = new_condition(AVAILABLE, "True", MIN_AVAILABLE,
                             "Deployment has minimum availability.", now)  # fmt: skip
    else:
        cond = new_condition(AVAILABLE, "False", MIN_UNAVAILABLE,
                             "Deployment does not have minimum availability.", now)  # fmt: skip
    set_condition(status, cond)
    return status


def complete(d: JSON, status: JSON) -> bool:
    """All replicas updated and available, no old ones, and the spec observed."""
    n = dep.replicas_of(d)
    return (
        status.get("updatedReplicas", 0) == n
        and status.get("replicas", 0) == n
        and status.get("availableReplicas", 0) == n
        and int(status.get("observedGeneration") or 0)
        >= int((d.get("metadata") or {}).get("generation") or 0)
    )


def progressing(d: JSON, status: JSON) -> bool:
    old = d.get("status") or {}

    def n(s: JSON, k: str) -> int:
        return int(s.get(k) or 0)

    old_old = n(old, "replicas") - n(old, "updatedReplicas")
    new_old = n(status, "replicas") - n(status, "updatedReplicas")
    return (
        n(status, "updatedReplicas") > n(old, "updatedReplicas")
        or new_old < old_old
        or n(status, "readyReplicas") > n(old, "readyReplicas")
        or n(status, "availableReplicas") > n(old, "availableReplicas")
    )


def timed_out(d: JSON, status: JSON, now: float) -> bool:
    if not has_progress_deadline(d):
        return False
    cond = get_condition(status, PROGRESSING)
    if cond is None:
        return False
    if cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    since = _time(cond.get("lastUpdateTime"))
    deadline = int(dep.spec(d).get("progressDeadlineSeconds") or 0)
    return since is not None and since + deadline < now


def _time(value: object) -> float | None:
    try:
        return parse_rfc3339(str(value)) if value else None
    except ValueError:
        return None


def rollout_status(
    all_rss: Sequence[Obj | None], new: Obj | None, d: JSON, now: float,
    replica_failure: Obj | None = None,
) -> Obj:  # fmt: skip
    """``syncRolloutStatus``: the status with Progressing estimated."""
    status = calculate(all_rss, new, d, now)
    if not has_progress_deadline(d):
        remove_condition(status, PROGRESSING)
    current = get_condition(d.get("status") or {}, PROGRESSING)
    is_complete = (
        status["replicas"] == status["updatedReplicas"]
        and current is not None
        and current.get("reason") == NEW_RS_AVAILABLE
    )
    name = owners.name_of(new) if new is not None else ""
    subject = f'ReplicaSet "{name}"' if new is not None else f'Deployment "{owners.name_of(d)}"'
    if has_progress_deadline(d) and not is_complete:
        if complete(d, status):
            message = f"{subject} has successfully progressed."
            set_condition(
                status, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE, message, now)
            )
        elif progressing(d, status):
            cond = new_condition(PROGRESSING, "True", RS_UPDATED, f"{subject} is progressing.", now)
            if current is not None:
                if current.get("status") == "True":
                    cond["lastTransitionTime"] = current.get("lastTransitionTime")
                remove_condition(status, PROGRESSING)
            set_condition(status, cond)
        elif timed_out(d, status, now):
            message = f"{subject} has timed out progressing."
            set_condition(status, new_condition(PROGRESSING, "False", TIMED_OUT, message, now))
    if replica_failure is not None:
        set_condition(status, replica_failure)
    else:
        remove_condition(status, REPLICA_FAILURE)
    return status


def replica_failure(all_rss: Sequence[Obj | None], new: Obj | None, now: float) -> Obj | None:
    """``getReplicaFailures``: the new ReplicaSet's ReplicaFailure condition, else the first
    one an old ReplicaSet shows, as a Deployment condition."""
    candidates = ([new] if new is not None else []) + [r for r in all_rss if r is not new]
    for rs in candidates:
        if rs is None:
            continue
        for cond in (rs.get("status") or {}).get("conditions") or []:
            if cond.get("type") == REPLICA_FAILURE:
                stamp = cond.get("lastTransitionTime") or rfc3339(now)
                return {"type": REPLICA_FAILURE, "status": cond.get("status"),
                        "lastUpdateTime": stamp, "lastTransitionTime": stamp,
                        "reason": cond.get("reason"), "message": cond.get("message")}  # fmt: skip
    return None


def requeue_after(d: JSON, status: JSON, now: float) -> float | None:
    """``requeueStuckDeployment``: when a rollout in progress would pass its deadline."""
    cond = get_condition(status, PROGRESSING)
    if not has_progress_deadline(d) or cond is None:
        return None
    if cond.get("reason") in (NEW_RS_AVAILABLE, TIMED_OUT) or cond.get("status") != "True":
        return None
    if complete(d, status):
        return None
    since = _time(cond.get("lastUpdateTime"))
    if since is None:
        return None
    after = since + int(dep.spec(d).get("progressDeadlineSeconds") or 0) - now
    return max(after, 0.0) + 1.0


def paused_condition(d: JSON, now: float) -> Obj | None:
    """``checkPausedConditions``: the Progressing condition a pause or resume sets, if any."""
    if not has_progress_deadline(d):
        return None
    cond = get_condition(d.get("status") or {}, PROGRESSING)
    if cond is not None and cond.get("reason") == TIMED_OUT:
        return None
    paused_now = cond is not None and cond.get("reason") == PAUSED
    if dep.spec(d).get("paused") and not paused_now:
        return new_condition(PROGRESSING, "Unknown", PAUSED, "Deployment is paused", now)
    if not dep.spec(d).get("paused") and paused_now:
        return new_condition(PROGRESSING, "Unknown", RESUMED, "Deployment is resumed", now)
    return None


def compact(status: Obj) -> Obj:
    """The status as the API serializes it: zero counts left out (``omitempty``)."""
    return {k: v for k, v in status.items() if v not in (0, None, [])}


def same(a: JSON, b: JSON) -> bool:
    return compact(dict(a)) == compact(dict(b))
