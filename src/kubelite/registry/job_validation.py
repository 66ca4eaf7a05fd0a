"""Validation of batch/v1 Jobs (and of the JobSpec a CronJob's job template holds), with the API
server's field paths and texts: counts never negative, the completion modes, the pod failure
policy's rules (``job_policy``), the pod template (a Pod's spec rules, restartPolicy OnFailure
or Never), the selector and its generated labels, and on update what may not change. Values
are printed as the API server prints them (``job_values``).
"""

from __future__ import annotations

from typing import Any, TypeGuard

from kubelite.model.fielderrors import (
    FieldError,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kubelite.registry.job_defaults import (
    CONTROLLER_UID,
    FAILED,
    INDEXED,
    JOB_NAME,
    LEGACY_CONTROLLER_UID,
    LEGACY_JOB_NAME,
    NON_INDEXED,
    TERMINATING_OR_FAILED,
)
from kubelite.registry.job_policy import validate_pod_failure_policy
from kubelite.registry.job_values import invalid_go
from kubelite.registry.meta_validation import (
    dns1123_label_errors,
    validate_annotations,
    validate_labels,
)
from kubelite.registry.pod_validation import validate_pod
from kubelite.registry.rbac import selector_errors
from kubelite.registry.rbac_aggregation import requirements

NONNEGATIVE = "must be greater than or equal to 0"
IMMUTABLE = "field is immutable"
MAX_PARALLELISM_INDEXED = 100_000
MAX_FAILED_INDEXES = 100_000
COMPLETIONS_SOFT_LIMIT = 100_000
REPLACEMENT_POLICIES = [FAILED, TERMINATING_OR_FAILED]
RESTART_POLICIES = ["OnFailure", "Never"]


# -- selectors ---------------------------------------------------------------------------------


def selector_matches(selector: Any, labels: Any) -> bool:
    """Whether a LabelSelector selects ``labels`` (a malformed selector selects nothing)."""
    reqs = requirements(selector)
    if reqs is None:
        return False
    have = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
    return all(r.matches(have) for r in reqs)


def validate_generated_selector(job: dict[str, Any]) -> list[FieldError]:
    """With a generated selector, the template carries the Job's name and uid labels and the
    selector picks them."""
    spec = job.get("spec") or {}
    selector = spec.get("selector")
    if spec.get("manualSelector") is True or not isinstance(selector, dict):
        return []
    md = job.get("metadata") or {}
    name, uid = str(md.get("name") or ""), str(md.get("uid") or "")
    errs: list[FieldError] = []
    if not uid:
        errs.append(required("metadata.uid"))
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    path = "spec.template.metadata"
    for key, want in (
        (LEGACY_CONTROLLER_UID, uid),
        (LEGACY_JOB_NAME, name),
        (CONTROLLER_UID, uid),
        (JOB_NAME, name),
    ):
        errs += _has_label(labels, path, key, want)
    expected = {LEGACY_CONTROLLER_UID: uid, LEGACY_JOB_NAME: name, CONTROLLER_UID: uid,
                JOB_NAME: name}  # fmt: skip
    if requirements(selector) is not None and not selector_matches(selector, expected):
        errs.append(invalid_go("spec.selector", selector, "`selector` not auto-generated"))
    return errs


def _has_label(labels: dict[str, Any], path: str, key: str, want: str) -> list[FieldError]:
    at = f"{path}.labels[{key}]"
    if key not in labels:
        return [required(at, f"must be '{want}'")]
    if labels[key] != want:
        return [invalid_go(at, labels, f"must be '{want}'")]
    return []


# -- Job -----------------------------------------------------------------------------------------


def validate_job(job: dict[str, Any]) -> list[FieldError]:
    """Create-time rules of a defaulted Job (its metadata is the registry's)."""
    spec = job.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    errs = validate_generated_selector(job)
    errs += validate_job_spec(spec, "spec")
    errs += _selector_rules(spec, "spec")
    name = str((job.get("metadata") or {}).get("name") or "")
    completions = spec.get("completions")
    if spec.get("completionMode") == INDEXED and _int(completions) and int(completions) > 0:
        widest = f"{name}-{int(completions) - 1}"
        if dns1123_label_errors(widest):
            detail = f"will not able to create pod with invalid DNS label: {widest}"
            errs.append(invalid("metadata.name", name, detail))
    return errs


def _selector_rules(spec: dict[str, Any], path: str) -> list[FieldError]:
    selector = spec.get("selector")
    if selector is None:
        return [required(f"{path}.selector")]
    if not isinstance(selector, dict):
        return [invalid(f"{path}.selector", selector, "must be a label selector")]
    errs = selector_errors(selector, f"{path}.selector")
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
    if requirements(selector) is not None and not selector_matches(selector, labels):
        detail = "`selector` does not match template `labels`"
        errs.append(invalid_go(f"{path}.template.metadata.labels", labels, detail))
    return errs


def validate_job_spec(spec: dict[str, Any], path: str) -> list[FieldError]:
    """The rules every JobSpec follows (a Job's, a job template's), in the API server's order."""
    errs: list[FieldError] = []
    for field in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ):
        value = spec.get(field)
        if value is not None:
            errs += _nonnegative(value, f"{path}.{field}")
    if spec.get("maxFailedIndexes") is not None and spec.get("backoffLimitPerIndex") is None:
        errs.append(required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified"))
    errs += _completion_mode_rules(spec, path)
    if isinstance(spec.get("podFailurePolicy"), dict):
        errs += validate_pod_failure_policy(spec, f"{path}.podFailurePolicy")
    if spec.get("successPolicy") is not None and spec.get("completionMode") != INDEXED:
        detail = "requires indexed completion mode"
        errs.append(invalid(f"{path}.successPolicy", spec["successPolicy"], detail))
    errs += _replacement_policy(spec, f"{path}.podReplacementPolicy")
    errs += validate_template(spec.get("template"), f"{path}.template")
    errs += _restart_policy(spec, path)
    return errs


def _nonnegative(value: Any, path: str) -> list[FieldError]:
    if not _int(value):
        return [invalid(path, value, "must be an integer")]
    return [invalid(path, value, NONNEGATIVE)] if int(value) < 0 else []


def _completion_mode_rules(spec: dict[str, Any], path: str) -> list[FieldError]:
    mode = spec.get("completionMode")
    errs: list[FieldError] = []
    if mode is not None and mode not in (NON_INDEXED, INDEXED):
        errs.append(not_supported(f"{path}.completionMode", mode, [NON_INDEXED, INDEXED]))
    if mode == INDEXED:
        completions, parallelism = spec.get("completions"), spec.get("parallelism")
        max_failed = spec.get("maxFailedIndexes")
        if completions is None:
            errs.append(required(f"{path}.completions", "when completion mode is Indexed"))
        if _int(parallelism) and parallelism > MAX_PARALLELISM_INDEXED:
            detail = f"must be less than or equal to {MAX_PARALLELISM_INDEXED} when completion mode is Indexed"  # noqa: E501
            errs.append(invalid(f"{path}.parallelism", parallelism, detail))
        if _int(completions) and _int(max_failed) and max_failed > completions:
            detail = "must be less than or equal to completions"
            errs.append(invalid(f"{path}.maxFailedIndexes", max_failed, detail))
        if _int(max_failed) and max_failed > MAX_FAILED_INDEXES:
            detail = f"must be less than or equal to {MAX_FAILED_INDEXES}"
            errs.append(invalid(f"{path}.maxFailedIndexes", max_failed, detail))
    if mode in (None, NON_INDEXED):
        for field in ("backoffLimitPerIndex", "maxFailedIndexes"):
            if spec.get(field) is not None:
                detail = "requires indexed completion mode"
                errs.append(invalid(f"{path}.{field}", spec[field], detail))
    return errs


def _replacement_policy(spec: dict[str, Any], path: str) -> list[FieldError]:
    policy = spec.get("podReplacementPolicy")
    if policy is None:
        return []
    if isinstance(spec.get("podFailurePolicy"), dict):
        return [] if policy == FAILED else [not_supported(path, policy, [FAILED])]
    return (
        []
        if policy in REPLACEMENT_POLICIES
        else [not_supported(path, policy, REPLACEMENT_POLICIES)]
    )


def _restart_policy(spec: dict[str, Any], path: str) -> list[FieldError]:
    template = spec.get("template")
    tspec = template.get("spec") if isinstance(template, dict) else None
    policy = tspec.get("restartPolicy") if isinstance(tspec, dict) else None
    at = f"{path}.template.spec.restartPolicy"
    if policy in ("Always", "", None):
        return [required(at, 'valid values: "OnFailure", "Never"')]
    if policy not in RESTART_POLICIES:
        return [not_supported(at, policy, RESTART_POLICIES)]
    if isinstance(spec.get("podFailurePolicy"), dict) and policy != "Never":
        return [invalid(at, policy, 'only "Never" is supported when podFailurePolicy is specified')]
    return []


# -- the pod template ----------------------------------------------------------------------------


def validate_template(template: Any, path: str) -> list[FieldError]:
    """A PodTemplateSpec: its labels and annotations, and its spec under a Pod's rules."""
    if not isinstance(template, dict):
        return [required(path)]
    md = template.get("metadata") or {}
    errs = validate_labels(md.get("labels"), f"{path}.metadata.labels")
    errs += validate_annotations(md.get("annotations"), f"{path}.metadata.annotations")
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return [*errs, required(f"{path}.spec")]
    pod_spec = {k: v for k, v in spec.items() if k != "ephemeralContainers"}
    for err in validate_pod({"spec": pod_spec}):
        field = err.field
        if field == "spec" or field.startswith(("spec.", "spec[")):
            field = f"{path}.{field}"
        errs.append(FieldError(err.type, field, err.message))
    if spec.get("ephemeralContainers"):
        detail = "ephemeral containers not allowed in pod template"
        errs.append(forbidden(f"{path}.spec.ephemeralContainers", detail))
    return errs


# -- updates -------------------------------------------------------------------------------------


def validate_job_update(new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    """What a Job update may not change (on top of ``validate_job`` of the new one)."""
    ns, os_ = new.get("spec") or {}, old.get("spec") or {}
    errs: list[FieldError] = []
    if ns.get("completions") != os_.get("completions"):
        errs += _completions_update(ns, os_)
    for field in ("selector",):
        if ns.get(field) != os_.get(field):
            errs.append(invalid_go(f"spec.{field}", ns.get(field), IMMUTABLE))
    if _template_changed(new, old):
        errs.append(invalid("spec.template", ns.get("template"), IMMUTABLE))
    for field in (
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ):
        if ns.get(field) != os_.get(field):
            errs.append(invalid(f"spec.{field}", ns.get(field), IMMUTABLE))
    return errs


def _completions_update(ns: dict[str, Any], os_: dict[str, Any]) -> list[FieldError]:
    """Indexed Jobs may change completions together with parallelism (elastic Jobs)."""
    completions = ns.get("completions")
    if ns.get("completionMode") != INDEXED:
        return [invalid("spec.completions", completions, IMMUTABLE)]
    if completions is None or completions == ns.get("parallelism"):
        return []
    detail = "can only be modified in tandem with spec.parallelism"
    return [invalid("spec.completions", completions, detail)]


def _template_changed(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """A suspended Job that never started may change its template's scheduling directives
    (node selector, affinity, tolerations, scheduling gates, labels and annotations)."""
    nt = (new.get("spec") or {}).get("template") or {}
    ot = (old.get("spec") or {}).get("template") or {}
    old_spec = old.get("spec") or {}
    started = ((old.get("status") or {}).get("startTime")) is not None
    if old_spec.get("suspend") is True and not started:
        return _without_directives(nt) != _without_directives(ot)
    return bool(nt != ot)


def _without_directives(template: dict[str, Any]) -> dict[str, Any]:
    spec = {
        k: v
        for k, v in (template.get("spec") or {}).items()
        if k not in ("nodeSelector", "affinity", "tolerations", "schedulingGates")
    }
    return {"spec": spec}


def validate_job_status(job: dict[str, Any]) -> list[FieldError]:
    """A status update's counters are never negative."""
    status = job.get("status") or {}
    errs: list[FieldError] = []
    for field in ("active", "succeeded", "failed", "ready", "terminating"):
        value = status.get(field)
        if value is not None:
            errs += _nonnegative(value, f"status.{field}")
    return errs


def _int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
