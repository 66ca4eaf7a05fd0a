"""What the Job controller reads off a Job's pods and how it writes a new one (PURE).

A pod is *active* until it reaches a terminal phase or its deletion starts; *terminating*
while it is being deleted and not yet terminal; *failed* when its phase is Failed or, under
``podReplacementPolicy: TerminatingOrFailed``, when its deletion started before it succeeded.
The Job's own ``batch.kubernetes.io/job-tracking`` finalizer keeps a finished pod in the store
until the Job's status has counted it (the controller's job tracking).

A pod's *finish time* (for the back-off between failures) is the latest of its containers'
``finishedAt``, else when its Ready condition turned False, else when its deletion started,
else its creation. The pod failure policy's first matching rule decides what a failed pod
means: FailJob (the message says which container or condition matched), Ignore (not
counted), Count.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubelite.clock import parse_rfc3339
from kubelite.model.objects import JSON, Obj

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
SUCCEEDED, FAILED = "Succeeded", "Failed"
TERMINAL = (SUCCEEDED, FAILED)


def meta(obj: JSON) -> JSON:
    md = obj.get("metadata")
    return md if isinstance(md, dict) else {}


def name_of(obj: JSON) -> str:
    return str(meta(obj).get("name") or "")


def uid_of(obj: JSON) -> str:
    return str(meta(obj).get("uid") or "")


def phase(pod: JSON) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def deleting(obj: JSON) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def tracked(pod: JSON) -> bool:
    return TRACKING_FINALIZER in (meta(pod).get("finalizers") or [])


def is_active(pod: JSON) -> bool:
    return phase(pod) not in TERMINAL and not deleting(pod)


def is_terminating(pod: JSON) -> bool:
    return deleting(pod) and phase(pod) not in TERMINAL


def is_ready(pod: JSON) -> bool:
    return any(
        isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def is_failed(pod: JSON, only_failed_replaced: bool) -> bool:
    """Failed phase; or, unless only failed pods are replaced, deleted before succeeding."""
    if phase(pod) == FAILED:
        return True
    if only_failed_replaced:
        return False
    return deleting(pod) and phase(pod) != SUCCEEDED


def only_failed_replaced(job: JSON) -> bool:
    """Whether only Failed pods count as failed (and are replaced): ``podReplacementPolicy:
    Failed``, which a pod failure policy implies."""
    spec = job.get("spec") or {}
    return spec.get("podReplacementPolicy") == "Failed" or isinstance(
        spec.get("podFailurePolicy"), dict
    )


def controller_uid(obj: JSON) -> str:
    for ref in meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            return str(ref.get("uid") or "")
    return ""


def completion_index(pod: JSON) -> int | None:
    text = (meta(pod).get("annotations") or {}).get(COMPLETION_INDEX)
    if not isinstance(text, str) or not text.isdigit():
        return None
    return int(text)


def _time(value: Any) -> float | None:
    try:
        return parse_rfc3339(str(value)) if value else None
    except ValueError:
        return None


def finish_time(pod: JSON) -> float:
    status = pod.get("status") or {}
    ends = []
    statuses = [s for s in status.get("containerStatuses") or [] if isinstance(s, dict)]
    for s in statuses:
        done = _time(((s.get("state") or {}).get("terminated") or {}).get("finishedAt"))
        if done is None:
            break
        ends.append(done)
    else:
        if ends:
            return max(ends)
    for c in status.get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") == "False":
            when = _time(c.get("lastTransitionTime"))
            if when is not None:
                return when
    started_deletion = _time(meta(pod).get("deletionTimestamp"))
    if started_deletion is not None:
        return started_deletion - float(meta(pod).get("deletionGracePeriodSeconds") or 0)
    return _time(meta(pod).get("creationTimestamp")) or 0.0


def restarts(pod: JSON) -> int:
    status = pod.get("status") or {}
    return sum(
        int(s.get("restartCount") or 0)
        for key in ("initContainerStatuses", "containerStatuses")
        for s in status.get(key) or []
        if isinstance(s, dict)
    )


# -- the pod failure policy ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyMatch:
    action: str | None  # FailJob, Ignore, Count, FailIndex; None when no rule matched
    counts: bool  # whether the failure counts towards backoffLimit
    message: str | None = None  # FailJob's reason, for the FailureTarget condition


NO_MATCH = PolicyMatch(None, True)


def match_failure_policy(policy: JSON | None, pod: JSON) -> PolicyMatch:
    """The first rule of ``policy`` a failed pod matches."""
    if not isinstance(policy, dict):
        return NO_MATCH
    for index, rule in enumerate(policy.get("rules") or []):
        if not isinstance(rule, dict):
            continue
        action = str(rule.get("action") or "")
        why = _rule_matches(rule, pod)
        if why is None:
            continue
        if action == "FailJob":
            return PolicyMatch(action, True, f"{why} matching FailJob rule at index {index}")
        if action == "Ignore":
            return PolicyMatch(action, False)
        if action in ("Count", "FailIndex"):
            return PolicyMatch(action, True)
    return NO_MATCH


def _rule_matches(rule: JSON, pod: JSON) -> str | None:
    """How the pod matches the rule, worded for a FailJob message; None if it does not."""
    codes = rule.get("onExitCodes")
    if isinstance(codes, dict):
        return _exit_code_match(codes, pod)
    for pattern in rule.get("onPodConditions") or []:
        if not isinstance(pattern, dict):
            continue
        for c in (pod.get("status") or {}).get("conditions") or []:
            if (
                isinstance(c, dict)
                and c.get("type") == pattern.get("type")
                and c.get("status") == (pattern.get("status") or "True")
            ):
                return f"Pod {_full_name(pod)} has condition {c.get('type')}"
    return None


def _full_name(pod: JSON) -> str:
    return f"{meta(pod).get('namespace', '')}/{name_of(pod)}"


def _exit_code_match(req: JSON, pod: JSON) -> str | None:
    status = pod.get("status") or {}
    values = {int(v) for v in req.get("values") or [] if isinstance(v, int)}
    only = req.get("containerName")
    op = req.get("operator")
    for key in ("containerStatuses", "initContainerStatuses"):
        for s in status.get(key) or []:
            if not isinstance(s, dict) or (only is not None and s.get("name") != only):
                continue
            term = (s.get("state") or {}).get("terminated")
            if not isinstance(term, dict):
                continue
            code = int(term.get("exitCode") or 0)
            if code == 0:
                continue
            if (op == "In" and code in values) or (op == "NotIn" and code not in values):
                return (
                    f"Container {s.get('name')} for pod {_full_name(pod)} failed with exit "
                    f"code {code}"
                )
    return None


# -- a new pod ---------------------------------------------------------------------------------


def owner_reference(job: JSON) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": name_of(job),
        "uid": uid_of(job),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def new_pod(job: JSON, index: int | None) -> Obj:
    """The pod the Job controller creates from the Job's template (for ``index`` in an
    Indexed Job: named, labelled and annotated with it, with its host name and the
    ``JOB_COMPLETION_INDEX`` variable)."""
    spec = job.get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    tmd = template.get("metadata") or {}
    name = name_of(job)
    md: Obj = {
        "generateName": f"{name}-" if index is None else f"{name}-{index}-",
        "namespace": meta(job).get("namespace", ""),
        "labels": dict(tmd.get("labels") or {}),
        "annotations": dict(tmd.get("annotations") or {}),
        "finalizers": [*(tmd.get("finalizers") or []), TRACKING_FINALIZER],
        "ownerReferences": [owner_reference(job)],
    }
    pod_spec = template.get("spec") or {}
    if index is not None:
        md["annotations"][COMPLETION_INDEX] = str(index)
        md["labels"][COMPLETION_INDEX] = str(index)
        pod_spec["hostname"] = f"{name}-{index}"
        for key in ("initContainers", "containers"):
            for c in pod_spec.get(key) or []:
                _add_index_env(c)
    if not md["annotations"]:
        del md["annotations"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": pod_spec}


def _add_index_env(container: Obj) -> None:
    env = container.setdefault("env", [])
    if any(isinstance(e, dict) and e.get("name") == INDEX_ENV for e in env):
        return
    path = f"metadata.labels['{COMPLETION_INDEX}']"
    env.append({"name": INDEX_ENV, "valueFrom": {"fieldRef": {"fieldPath": path}}})


# -- completion indexes ("0-2,4") -----------------------------------------------------------------


def parse_indexes(text: Any, completions: int) -> set[int]:
    """The indexes an interval list names, below ``completions`` (malformed parts skipped)."""
    out: set[int] = set()
    for part in str(text or "").split(","):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            continue
        for i in range(int(low), int(high or low) + 1):
            if i < completions:
                out.add(i)
    return out


def format_indexes(indexes: Iterable[int]) -> str:
    """Sorted intervals as the controller writes them: ``0-2,4,6,7`` (a run of two is two
    numbers, a longer one a range)."""
    parts = []
    ordered = sorted(set(indexes))
    for _, run in itertools.groupby(enumerate(ordered), key=lambda p: p[1] - p[0]):
        values = [v for _, v in run]
        first, last = values[0], values[-1]
        if last == first:
            parts.append(str(first))
        elif last == first + 1:
            parts.append(f"{first},{last}")
        else:
            parts.append(f"{first}-{last}")
    return ",".join(parts)
