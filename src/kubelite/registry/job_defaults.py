"""Defaulting of batch/v1 Jobs and of the pod templates of Jobs and CronJobs, as the API server
does it on decode, plus the Job strategy's create-time selector generation.

A pod template is defaulted as a PodSpec is (``pod_defaults``), without what only a Pod gets:
the admission plugins' priority and tolerations, ``enableServiceLinks`` and requests copied
from limits (those come when the Job controller creates the pods).

``default_job`` (every decode): completions and parallelism 1 when both are unset, parallelism
1, backoffLimit 6, completionMode NonIndexed, suspend false, manualSelector false,
podReplacementPolicy TerminatingOrFailed (Failed with a podFailurePolicy), onPodConditions'
status True, and the Job's labels taken from its template's when it has none.
``generate_selector`` (create, unless manualSelector): the template gets ``job-name`` and
``controller-uid`` labels (legacy and ``batch.kubernetes.io/`` spellings) and the selector
matches ``batch.kubernetes.io/controller-uid``.
"""

from __future__ import annotations

from typing import Any

from kubelite.model.objects import Obj
from kubelite.registry.podtemplates import default_template

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"
DEFAULT_BACKOFF_LIMIT = 6
NON_INDEXED = "NonIndexed"
INDEXED = "Indexed"
TERMINATING_OR_FAILED = "TerminatingOrFailed"
FAILED = "Failed"


def default_job_spec_fields(spec: Obj) -> None:
    """What a JobSpec gets wherever it appears (a Job's, a CronJob's job template)."""
    default_template(spec.get("template"))  # in place, as every workload's template
    policy = spec.get("podFailurePolicy")
    if isinstance(policy, dict):
        for rule in _dicts(policy.get("rules")):
            for pattern in _dicts(rule.get("onPodConditions")):
                if not pattern.get("status"):
                    pattern["status"] = "True"


def default_job(job: Obj) -> None:
    """Default a Job in place (idempotent)."""
    spec = job.get("spec")
    if not isinstance(spec, dict):
        return
    default_job_spec_fields(spec)
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = DEFAULT_BACKOFF_LIMIT
    if spec.get("completionMode") is None:
        spec["completionMode"] = NON_INDEXED
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("manualSelector") is None:
        spec["manualSelector"] = False
    if spec.get("podReplacementPolicy") is None:
        has_policy = isinstance(spec.get("podFailurePolicy"), dict)
        spec["podReplacementPolicy"] = FAILED if has_policy else TERMINATING_OR_FAILED
    copy_template_labels(job)


def copy_template_labels(job: Obj) -> None:
    """A Job without labels takes its template's."""
    md = job.setdefault("metadata", {})
    template = (job.get("spec") or {}).get("template")
    labels = template.get("metadata", {}).get("labels") if isinstance(template, dict) else None
    if isinstance(md, dict) and isinstance(labels, dict) and labels and not md.get("labels"):
        md["labels"] = dict(labels)


def generate_selector(job: Obj) -> None:
    """The Job strategy's create-time selector: labels naming the Job and its uid on the
    template (a label the user set is left for validation to judge) and a selector on the uid.
    Nothing happens with ``manualSelector: true``."""
    spec = job.get("spec")
    if not isinstance(spec, dict) or spec.get("manualSelector") is True:
        return
    md = job.get("metadata") or {}
    name, uid = str(md.get("name") or ""), str(md.get("uid") or "")
    template = spec.get("template")
    if not isinstance(template, dict):
        return
    tmd = template.get("metadata")
    if not isinstance(tmd, dict):
        tmd = template["metadata"] = {}
    labels = tmd.get("labels")
    if not isinstance(labels, dict):
        labels = tmd["labels"] = {}
    for key in (LEGACY_JOB_NAME, JOB_NAME):
        labels.setdefault(key, name)
    for key in (LEGACY_CONTROLLER_UID, CONTROLLER_UID):
        labels.setdefault(key, uid)
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        selector = spec["selector"] = {}
    match = selector.get("matchLabels")
    if not isinstance(match, dict):
        match = selector["matchLabels"] = {}
    match.setdefault(CONTROLLER_UID, uid)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
