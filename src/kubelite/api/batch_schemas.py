"""OpenAPI schemas, described in our own words, for batch/v1 Jobs and CronJobs, so that
``kubectl explain job.spec`` or ``kubectl explain cronjob.spec.jobTemplate`` work. The pod
template's spec is core/v1's PodSpec, taken with what it refers to from ``pod_schema``.
``openapi_schemas.schemas_for`` takes the definitions (``definitions_for``) and a kind's own
properties (``properties_for``) from here."""

from __future__ import annotations

from typing import Any

from kubelite.registry import pod_schema

BATCH = "io.k8s.api.batch.v1."
CORE = "io.k8s.api.core.v1."
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_REF = "#/components/schemas/"


def _p(type_: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "description": description, **extra}


def _ref(name: str, description: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": _REF + name}], "description": description}


def _list(name: str, description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"allOf": [{"$ref": _REF + name}], "default": {}},
            "description": description, "x-kubernetes-list-type": "atomic"}  # fmt: skip


def _obj(description: str, props: dict[str, Any], required: list[str] | None = None) -> Any:
    out: dict[str, Any] = {"type": "object", "description": description, "properties": props}
    if required:
        out["required"] = required
    return out


_INT = "integer"
BATCH_DEFS: dict[str, Any] = {
    BATCH + "JobSpec": _obj(
        "What a Job runs and how many times.",
        {
            "parallelism": _p(_INT, "Most pods running at once. Defaults to 1.", format="int32"),
            "completions": _p(
                _INT,
                "Successful pods needed; unset means the first success (with nothing else "
                "running) completes the Job.",
                format="int32",
            ),
            "completionMode": _p(
                "string",
                "NonIndexed (default): any successes count; Indexed: one success per index "
                "0..completions-1, each pod told its index.",
                enum=["Indexed", "NonIndexed"],
            ),
            "backoffLimit": _p(
                _INT, "Failed pods tolerated before the Job fails. Defaults to 6.", format="int32"
            ),
            "activeDeadlineSeconds": _p(
                _INT, "Seconds the Job may run before it is failed.", format="int64"
            ),
            "ttlSecondsAfterFinished": _p(
                _INT, "Seconds after finishing before the Job is deleted.", format="int32"
            ),
            "suspend": _p("boolean", "True deletes the running pods and starts no new ones."),
            "selector": _ref(META + "LabelSelector", "The pods the Job counts; generated."),
            "manualSelector": _p("boolean", "True: the selector is the user's, not generated."),
            "template": _ref(CORE + "PodTemplateSpec", "The pod each try runs."),
            "podFailurePolicy": _ref(
                BATCH + "PodFailurePolicy", "What a failed pod means, by exit code or condition."
            ),
            "podReplacementPolicy": _p(
                "string",
                "TerminatingOrFailed: replace a pod once it is being deleted; Failed: only "
                "once it has failed.",
                enum=["Failed", "TerminatingOrFailed"],
            ),
            "backoffLimitPerIndex": _p(_INT, "Failures tolerated per index.", format="int32"),
            "maxFailedIndexes": _p(_INT, "Failed indexes tolerated.", format="int32"),
            "managedBy": _p("string", "The controller that runs the Job."),
        },
        ["template"],
    ),
    BATCH + "JobStatus": _obj(
        "How far the Job has come.",
        {
            "conditions": _list(BATCH + "JobCondition", "Complete, Failed, Suspended …"),
            "startTime": _ref(META + "Time", "When the Job started (or resumed)."),
            "completionTime": _ref(META + "Time", "When the Job completed."),
            "active": _p(_INT, "Pods running.", format="int32"),
            "ready": _p(_INT, "Running pods that are ready.", format="int32"),
            "succeeded": _p(_INT, "Pods that succeeded.", format="int32"),
            "failed": _p(_INT, "Pods that failed.", format="int32"),
            "terminating": _p(_INT, "Pods being deleted.", format="int32"),
            "completedIndexes": _p("string", "Indexes done, e.g. 1,3-5,7."),
            "uncountedTerminatedPods": _ref(
                BATCH + "UncountedTerminatedPods", "Finished pods not yet in the counters."
            ),
        },
    ),
    BATCH + "JobCondition": _obj(
        "One fact about the Job.",
        {
            "type": _p("string", "Complete, Failed, SuccessCriteriaMet, FailureTarget …"),
            "status": _p("string", "True, False or Unknown."),
            "reason": _p("string", "Why, in one word."),
            "message": _p("string", "Why, in a sentence."),
            "lastProbeTime": _ref(META + "Time", "When it was last checked."),
            "lastTransitionTime": _ref(META + "Time", "When it last changed."),
        },
        ["type", "status"],
    ),
    BATCH + "UncountedTerminatedPods": _obj(
        "Uids of finished pods the counters do not include yet.",
        {
            "succeeded": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Succeeded pods.",
            },
            "failed": {"type": "array", "items": {"type": "string"}, "description": "Failed pods."},
        },
    ),
    BATCH + "PodFailurePolicy": _obj(
        "Rules over failed pods; the first that matches decides.",
        {"rules": _list(BATCH + "PodFailurePolicyRule", "The rules, in order.")},
        ["rules"],
    ),
    BATCH + "PodFailurePolicyRule": _obj(
        "One rule: an action and what it matches.",
        {
            "action": _p("string", "FailJob, FailIndex, Ignore or Count."),
            "onExitCodes": _ref(
                BATCH + "PodFailurePolicyOnExitCodesRequirement", "Exit codes it matches."
            ),
            "onPodConditions": _list(
                BATCH + "PodFailurePolicyOnPodConditionsPattern", "Pod conditions it matches."
            ),
        },
        ["action"],
    ),
    BATCH + "PodFailurePolicyOnExitCodesRequirement": _obj(
        "A container's exit code In or NotIn a list.",
        {
            "containerName": _p("string", "Only this container."),
            "operator": _p("string", "In or NotIn."),
            "values": {
                "type": "array",
                "items": {"type": "integer", "format": "int32"},
                "description": "The exit codes, in order.",
            },
        },
        ["operator", "values"],
    ),
    BATCH + "PodFailurePolicyOnPodConditionsPattern": _obj(
        "A pod condition and its status.",
        {"type": _p("string", "The condition."), "status": _p("string", "Its status.")},
        ["type"],
    ),
    BATCH + "JobTemplateSpec": _obj(
        "The Job a CronJob makes each time.",
        {
            "metadata": _ref(META + "ObjectMeta", "Labels and annotations of the Jobs."),
            "spec": _ref(BATCH + "JobSpec", "The Jobs' spec."),
        },
    ),
    BATCH + "CronJobSpec": _obj(
        "When a CronJob runs and what.",
        {
            "schedule": _p("string", "When, in cron format (five fields or @hourly …)."),
            "timeZone": _p("string", "The IANA zone the schedule is read in."),
            "startingDeadlineSeconds": _p(
                _INT, "A run later than this after its time is skipped.", format="int64"
            ),
            "concurrencyPolicy": _p(
                "string", "Allow, Forbid or Replace a run while one is active."
            ),
            "suspend": _p("boolean", "True starts no new runs."),
            "jobTemplate": _ref(BATCH + "JobTemplateSpec", "The Job each run makes."),
            "successfulJobsHistoryLimit": _p(
                _INT, "Successful Jobs kept. Defaults to 3.", format="int32"
            ),
            "failedJobsHistoryLimit": _p(_INT, "Failed Jobs kept. Defaults to 1.", format="int32"),
        },
        ["schedule", "jobTemplate"],
    ),
    BATCH + "CronJobStatus": _obj(
        "What a CronJob has run.",
        {
            "active": _list(CORE + "ObjectReference", "Jobs running now."),
            "lastScheduleTime": _ref(META + "Time", "When a Job was last started."),
            "lastSuccessfulTime": _ref(META + "Time", "When a Job last completed."),
        },
    ),
    CORE + "PodTemplateSpec": _obj(
        "A pod to make: its metadata and spec.",
        {
            "metadata": _ref(META + "ObjectMeta", "The pods' labels and annotations."),
            "spec": _ref(CORE + "PodSpec", "The pods' spec."),
        },
    ),
    META + "LabelSelector": _obj(
        "A query over labels; all its requirements must hold.",
        {
            "matchLabels": _p(
                "object", "Labels that must be equal.", additionalProperties={"type": "string"}
            ),
            "matchExpressions": _list(META + "LabelSelectorRequirement", "Set requirements."),
        },
    ),
    META + "LabelSelectorRequirement": _obj(
        "A key In, NotIn, Exists or DoesNotExist over values.",
        {
            "key": _p("string", "The label."),
            "operator": _p("string", "In, NotIn, Exists or DoesNotExist."),
            "values": {"type": "array", "items": {"type": "string"}, "description": "Values."},
        },
        ["key", "operator"],
    ),
}

_KINDS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "Job": (
        {
            "spec": _ref(BATCH + "JobSpec", "What the Job runs."),
            "status": _ref(BATCH + "JobStatus", "How far it has come."),
        },
        [],
    ),
    "CronJob": (
        {
            "spec": _ref(BATCH + "CronJobSpec", "When it runs and what."),
            "status": _ref(BATCH + "CronJobStatus", "What it has run."),
        },
        [],
    ),
}


def properties_for(kind: str, group: str) -> tuple[dict[str, Any], list[str]]:
    if group != "batch" or kind not in _KINDS:
        return {}, []
    return _KINDS[kind]


def definitions_for(kind: str, group: str) -> dict[str, Any]:
    """The batch definitions and the core/v1 ones the pod template refers to."""
    if group != "batch" or kind not in _KINDS:
        return {}
    roots = [CORE + "PodSpec", CORE + "ObjectReference", META + "Time", META + "ObjectMeta"]
    return {**BATCH_DEFS, **pod_schema.referenced_schemas(roots, BATCH_DEFS)}
