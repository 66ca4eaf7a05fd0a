"""The ReplicaSet (and ReplicationController) controller's decisions, with no I/O: which pods
an owner claims, how many to create or which to delete, and the status it reports.

- ``claim``: the owner keeps the active pods it controls whose labels it still selects,
  adopts orphans it selects (unless it is being deleted, or they are), and releases pods it
  controls but no longer selects; pods another controller owns are left alone
  (``ClaimObject``).
- ``scaling``: too few pods → create the difference (at most ``BURST`` at a time); too many
  → delete the ones ranked first by ``deletion_order``, the replicaset controller's ranking
  (unscheduled before scheduled, pending before unknown before running, not ready before
  ready, lower ``controller.kubernetes.io/pod-deletion-cost`` first, ready for less time
  first (by powers of two of the time), more restarts first, newer first).
- ``replica_status``: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas
  (ready for ``minReadySeconds``), the ReplicaFailure condition after a failed create or
  delete, and ``observedGeneration`` (``calculateStatus``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.clock import parse_rfc3339, rfc3339
from kubelite.model import owners
from kubelite.model.objects import JSON, Obj

BURST = 500  # the most pods created or deleted in one sync (burstReplicas)
SLOW_START = 1  # creations go in batches of 1, 2, 4, … (SlowStartInitialBatchSize)
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
REPLICA_FAILURE = "ReplicaFailure"
FAILED_CREATE, FAILED_DELETE = "FailedCreate", "FailedDelete"
_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


# -- pods --------------------------------------------------------------------------------------
def _meta(obj: JSON) -> JSON:
    return obj.get("metadata") or {}


def pod_key(pod: JSON) -> str:
    return f"{_meta(pod).get('namespace', '')}/{_meta(pod).get('name', '')}"


def is_active(pod: JSON) -> bool:
    """Not finished (Succeeded/Failed) and not being deleted (``IsPodActive``)."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not _meta(pod).get("deletionTimestamp")


def ready_condition(pod: JSON) -> JSON | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            return cond
    return None


def is_ready(pod: JSON) -> bool:
    cond = ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def ready_since(pod: JSON) -> float | None:
    """When the pod last turned ready (its Ready condition's lastTransitionTime)."""
    cond = ready_condition(pod)
    if cond is None or cond.get("status") != "True" or not cond.get("lastTransitionTime"):
        return None
    try:
        return parse_rfc3339(str(cond["lastTransitionTime"]))
    except ValueError:
        return None


def is_available(pod: JSON, min_ready_seconds: int, now: float) -> bool:
    """Ready, and for at least ``minReadySeconds`` (``IsPodAvailable``)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + min_ready_seconds <= now


def available_at(pod: JSON, min_ready_seconds: int) -> float | None:
    """When a ready pod becomes available (None if it is not ready)."""
    since = ready_since(pod)
    return None if since is None else since + max(0, min_ready_seconds)


# -- claiming ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Claims:
    owned: tuple[Obj, ...]  # active pods it controls and selects
    adopt: tuple[Obj, ...]  # orphans to adopt (then owned)
    release: tuple[Obj, ...]  # pods it controls but no longer selects


def claim(owner: JSON, candidates: Sequence[Obj], selects: Callable[[JSON], bool]) -> Claims:
    """What ``owner`` claims of ``candidates`` (pods of its namespace)."""
    uid = owners.uid_of(owner)
    deleting = owners.being_deleted(owner)
    ns = owners.namespace_of(owner)
    owned: list[Obj] = []
    adopt: list[Obj] = []
    release: list[Obj] = []
    for obj in candidates:
        if owners.namespace_of(obj) != ns:
            continue
        ref = owners.controller_of(obj)
        if ref is not None:
            if str(ref.get("uid") or "") != uid:
                continue  # someone else's
            if selects(obj):
                owned.append(obj)
            elif not deleting:
                release.append(obj)
            continue
        if deleting or not selects(obj) or owners.being_deleted(obj):
            continue
        adopt.append(obj)
    return Claims(tuple(owned), tuple(adopt), tuple(release))


# -- scaling -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Scaling:
    create: int = 0
    delete: tuple[Obj, ...] = ()


def scaling(
    pods: Sequence[Obj], replicas: int, now: float, related: Sequence[JSON] = ()
) -> Scaling:
    """What brings ``pods`` (the owner's active pods) to ``replicas``."""
    diff = len(pods) - replicas
    if diff < 0:
        return Scaling(create=min(-diff, BURST))
    if diff > 0:
        count = min(diff, BURST)
        if count >= len(pods):
            return Scaling(delete=tuple(pods))
        return Scaling(delete=tuple(deletion_order(pods, now, related)[:count]))
    return Scaling()


def slow_start_batches(total: int, initial: int = SLOW_START) -> list[int]:
    """Sizes of the creation batches: 1, 2, 4, … up to ``total`` in all (``slowStartBatch``);
    a batch with a failure ends the sync, so a broken template costs one request, not N."""
    sizes, remaining, size = [], total, max(1, initial)
    while remaining > 0:
        batch = min(size, remaining)
        sizes.append(batch)
        remaining -= batch
        size *= 2
    return sizes


def deletion_order(pods: Sequence[Obj], now: float, related: Sequence[JSON] = ()) -> list[Obj]:
    """``pods`` sorted so the ones to delete first come first (``ActivePodsWithRanks``).
    ``related`` are the active pods of the owner's sibling controllers (a Deployment's other
    ReplicaSets): a pod sharing its node with more of them goes earlier."""
    on_node: dict[str, int] = {}
    for pod in related or pods:
        if is_active(pod):
            node = _node(pod)
            on_node[node] = on_node.get(node, 0) + 1

    def before(a: Obj, b: Obj) -> int:
        return -1 if _less(a, b, now, on_node) else (1 if _less(b, a, now, on_node) else 0)

    return sorted(pods, key=functools.cmp_to_key(before))


def _node(pod: JSON) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def _less(a: JSON, b: JSON, now: float, on_node: dict[str, int]) -> bool:
    """Whether ``a`` goes before ``b``, criterion by criterion as upstream compares them."""
    na, nb = _node(a), _node(b)
    if na != nb and (not na or not nb):
        return not na  # 1. unassigned first
    pa = _PHASE_ORDER.get(str((a.get("status") or {}).get("phase") or ""), 3)
    pb = _PHASE_ORDER.get(str((b.get("status") or {}).get("phase") or ""), 3)
    if pa != pb:
        return pa < pb  # 2. pending < unknown < running
    ra, rb = is_ready(a), is_ready(b)
    if ra != rb:
        return not ra  # 3. not ready first
    ca, cb = deletion_cost(a), deletion_cost(b)
    if ca != cb:
        return ca < cb  # 4. lower deletion cost first
    da, db = on_node.get(na, 0), on_node.get(nb, 0)
    if da != db:
        return da > db  # 5. doubled up first
    if ra and rb:  # 6. ready for less time first
        ta, tb = ready_since(a), ready_since(b)
        if ta != tb:
            return _younger(a, b, ta, tb, now)
    (ga, sa), (gb, sb) = max_restarts(a), max_restarts(b)
    if ga != gb:
        return ga > gb  # 7. more restarts first
    if sa != sb:
        return sa > sb
    ta, tb = _time(_meta(a).get("creationTimestamp")), _time(_meta(b).get("creationTimestamp"))
    if ta != tb:
        return _younger(a, b, ta, tb, now)  # 8. newer first
    return False


def _younger(a: JSON, b: JSON, ta: float | None, tb: float | None, now: float) -> bool:
    """An unknown time first; else by the power of two of the age in nanoseconds (younger
    first), a tie broken by uid (the logarithmic scale-down)."""
    if ta is None or tb is None:
        return ta is None
    diff = _log_age(ta, now) - _log_age(tb, now)
    if diff == 0:
        return str(_meta(a).get("uid") or "") < str(_meta(b).get("uid") or "")
    return diff < 0


def _log_age(at: float, now: float) -> int:
    age_ns = (now - at) * 1e9
    return int(math.log2(age_ns)) if age_ns > 0 else -1


def _time(value: Any) -> float | None:
    if not value:
        return None
    try:
        return parse_rfc3339(str(value))
    except ValueError:
        return None


def deletion_cost(pod: JSON) -> int:
    raw = (_meta(pod).get("annotations") or {}).get(DELETION_COST)
    try:
        return int(str(raw)) if raw is not None else 0
    except ValueError:
        return 0


def max_restarts(pod: JSON) -> tuple[int, int]:
    """The highest restart count of a regular container and of a sidecar."""
    status = pod.get("status") or {}
    regular = max((int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or []),
                  default=0)  # fmt: skip
    sidecars = {
        c.get("name")
        for c in (pod.get("spec") or {}).get("initContainers") or []
        if isinstance(c, dict) and c.get("restartPolicy") == "Always"
    }
    sidecar = max(
        (int(c.get("restartCount") or 0) for c in status.get("initContainerStatuses") or []
         if c.get("name") in sidecars),
        default=0,
    )  # fmt: skip
    return regular, sidecar


# -- pods from the template --------------------------------------------------------------------
def pod_from_template(owner: JSON, template: JSON, controller_ref: JSON) -> Obj:
    """``GetPodFromTemplate``: the template's labels, annotations, finalizers and spec, named
    ``<owner>-`` plus a random suffix, controlled by ``controller_ref``."""
    meta = template.get("metadata") or {}
    pod_meta: Obj = {"generateName": f"{owners.name_of(owner)}-"}
    for field in ("labels", "annotations"):
        if meta.get(field):
            pod_meta[field] = dict(meta[field])
    if meta.get("finalizers"):
        pod_meta["finalizers"] = list(meta["finalizers"])
    pod_meta["ownerReferences"] = [dict(controller_ref)]
    spec = template.get("spec") or {}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": _copy(spec)}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# -- status ------------------------------------------------------------------------------------
def replica_status(
    owner: JSON,
    pods: Sequence[JSON],
    template_labels: JSON,
    *,
    now: float,
    min_ready_seconds: int,
    failure: tuple[str, str] | None = None,
) -> Obj:
    """The owner's status from its active pods; ``failure`` is (reason, message) of a
    create/delete that failed in this sync, None if it went through."""
    old = dict(owner.get("status") or {})
    ready = [p for p in pods if is_ready(p)]
    new: Obj = {k: v for k, v in old.items() if k != "conditions"}
    new["replicas"] = len(pods)
    new["fullyLabeledReplicas"] = sum(1 for p in pods if _labelled(p, template_labels))
    new["readyReplicas"] = len(ready)
    new["availableReplicas"] = sum(1 for p in ready if is_available(p, min_ready_seconds, now))
    new["observedGeneration"] = int(_meta(owner).get("generation") or 0)
    conditions = [c for c in old.get("conditions") or [] if isinstance(c, dict)]
    has_failure = any(c.get("type") == REPLICA_FAILURE for c in conditions)
    if failure is not None and not has_failure:
        reason, message = failure
        conditions.append({"type": REPLICA_FAILURE, "status": "True", "reason": reason,
                           "message": message, "lastTransitionTime": rfc3339(now)})  # fmt: skip
    elif failure is None and has_failure:
        conditions = [c for c in conditions if c.get("type") != REPLICA_FAILURE]
    if conditions:
        new["conditions"] = conditions
    return {k: v for k, v in new.items() if v != 0 or k == "replicas"}


def _labelled(pod: JSON, template_labels: JSON) -> bool:
    labels = _meta(pod).get("labels") or {}
    return all(labels.get(k) == v for k, v in template_labels.items())


def status_changed(owner: JSON, new_status: JSON) -> bool:
    old = {k: v for k, v in (owner.get("status") or {}).items() if v not in (0, None)}
    new = {k: v for k, v in new_status.items() if v not in (0, None)}
    return old != new


def next_availability_check(
    pods: Sequence[JSON], min_ready_seconds: int, now: float
) -> float | None:
    """Seconds until the next ready pod becomes available (None if none is waiting)."""
    if min_ready_seconds <= 0:
        return None
    waits = [
        at - now
        for p in pods
        if (at := available_at(p, min_ready_seconds)) is not None and at > now
    ]
    return min(waits) if waits else None
