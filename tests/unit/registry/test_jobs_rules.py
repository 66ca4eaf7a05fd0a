"""The batch/v1 registry rules as pure functions: Job and CronJob defaulting, the generated
selector, validation with the API server's field paths and texts, robfig/cron's schedule
errors, and the ``kubectl get jobs``/``cronjobs`` cells."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.registry.cronjob_schedule import ScheduleError, check_schedule
from kubelite.registry.cronjobs import CRONJOBS, default_cronjob, validate_cronjob
from kubelite.registry.job_defaults import default_job, generate_selector
from kubelite.registry.job_validation import validate_job, validate_job_update
from kubelite.registry.jobs import JOBS, completions_cell, selector_cell, status_cell

NOW = 1_800_000_000.0


def job(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default", "uid": "u-1"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "main", "image": "busybox:1.36"}],
                    "restartPolicy": "Never",
                }
            },
            **spec,
        },
    }


def created(**spec: Any) -> dict[str, Any]:
    obj = job(**spec)
    JOBS.prepare_create(obj)
    return obj


def messages(obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate_job(obj)]


def test_a_job_is_defaulted_as_the_api_server_defaults_it() -> None:
    obj = created()
    spec = obj["spec"]
    assert {k: spec[k] for k in ("completions", "parallelism", "backoffLimit", "completionMode",
                                 "suspend", "manualSelector", "podReplacementPolicy")} == {
        "completions": 1, "parallelism": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
        "suspend": False, "manualSelector": False, "podReplacementPolicy": "TerminatingOrFailed",
    }  # fmt: skip
    labels = {
        "batch.kubernetes.io/controller-uid": "u-1",
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "u-1",
        "job-name": "pi",
    }
    assert spec["template"]["metadata"]["labels"] == labels
    assert obj["metadata"]["labels"] == labels
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}
    tspec = spec["template"]["spec"]
    assert tspec["dnsPolicy"] == "ClusterFirst" and tspec["terminationGracePeriodSeconds"] == 30
    assert "tolerations" not in tspec and "enableServiceLinks" not in tspec
    assert obj["status"] == {} and messages(obj) == []


@pytest.mark.parametrize(
    ("case", "spec", "expected"),
    [
        ("parallelism alone leaves completions unset", {"parallelism": 3}, (None, 3)),
        ("completions alone gets parallelism 1", {"completions": 5}, (5, 1)),
    ],
)
def test_completions_and_parallelism_defaults(
    case: str, spec: dict[str, Any], expected: tuple[int | None, int]
) -> None:
    obj = job(**spec)
    default_job(obj)
    assert (obj["spec"].get("completions"), obj["spec"]["parallelism"]) == expected


def test_a_pod_failure_policy_makes_failed_the_replacement_policy() -> None:
    rules = [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]
    obj = job(podFailurePolicy={"rules": rules})
    default_job(obj)
    assert obj["spec"]["podReplacementPolicy"] == "Failed"
    assert obj["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"


def test_a_manual_selector_is_left_alone() -> None:
    obj = job(manualSelector=True, selector={"matchLabels": {"app": "x"}})
    obj["spec"]["template"]["metadata"] = {"labels": {"app": "x"}}
    generate_selector(obj)
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "x"}}
    assert obj["spec"]["template"]["metadata"]["labels"] == {"app": "x"}


@pytest.mark.parametrize(
    ("case", "change", "expected"),
    [
        (
            "negative counts",
            {"completions": -1, "backoffLimit": -2},
            [
                "spec.completions: Invalid value: -1: must be greater than or equal to 0",
                "spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0",
            ],
        ),
        (
            "an unknown completion mode",
            {"completionMode": "Sometimes"},
            [
                'spec.completionMode: Unsupported value: "Sometimes": supported values: '
                '"NonIndexed", "Indexed"'
            ],
        ),
        (
            "a pod failure policy rule with both kinds of match",
            {
                "podFailurePolicy": {
                    "rules": [
                        {
                            "action": "FailJob",
                            "onExitCodes": {"operator": "In", "values": [0, 2, 1]},
                            "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
                        }
                    ]
                },
                "podReplacementPolicy": "Failed",
            },
            [
                "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must "
                "not be 0 for the In operator",
                "spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: "
                "[]int32{0, 2, 1}: must be ordered",
                "spec.podFailurePolicy.rules[0]: Invalid value: specifying both OnExitCodes "
                "and OnPodConditions is not supported",
            ],
        ),
        (
            "a rule without an action",
            {
                "podFailurePolicy": {"rules": [{"onExitCodes": {"operator": "In", "values": [1]}}]},
                "podReplacementPolicy": "Failed",
            },
            [
                'spec.podFailurePolicy.rules[0].action: Required value: valid values: ["Count" '
                '"FailIndex" "FailJob" "Ignore"]'
            ],
        ),
        (
            "Indexed without completions",
            {"completionMode": "Indexed", "completions": None},
            ["spec.completions: Required value: when completion mode is Indexed"],
        ),
    ],
)
def test_invalid_specs_have_the_api_servers_causes(
    case: str, change: dict[str, Any], expected: list[str]
) -> None:
    obj = created()
    obj["spec"].update(change)
    if obj["spec"].get("completions") is None:
        obj["spec"].pop("completions", None)
    assert messages(obj) == expected


def test_a_template_that_may_restart_always_is_refused() -> None:
    obj = created()
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert messages(obj) == [
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    ]


def test_pod_rules_apply_to_the_template_under_its_path() -> None:
    obj = created()
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    assert messages(obj) == ["spec.template.spec.containers[0].image: Required value"]


def test_a_selector_that_does_not_match_the_template_is_refused() -> None:
    obj = job(manualSelector=True, selector={"matchLabels": {"app": "other"}})
    obj["spec"]["template"]["metadata"] = {"labels": {"app": "web", "tier": "batch"}}
    JOBS.prepare_create(obj)
    assert messages(obj) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web", '
        '"tier":"batch"}: `selector` does not match template `labels`'
    ]


def test_an_indexed_job_name_too_long_for_its_pods_host_names_is_refused() -> None:
    obj = created(completionMode="Indexed", completions=10)
    obj["metadata"]["name"] = "x" * 62
    assert any("will not able to create pod with invalid DNS label" in m for m in messages(obj))


@pytest.mark.parametrize(
    ("case", "change", "field"),
    [
        ("completions", {"completions": 3}, "spec.completions"),
        ("the template", {"template": {"spec": {"restartPolicy": "OnFailure"}}}, "spec.template"),
        ("the completion mode", {"completionMode": "Indexed"}, "spec.completionMode"),
    ],
)
def test_what_an_update_may_not_change(case: str, change: dict[str, Any], field: str) -> None:
    old = created()
    new = copy.deepcopy(old)
    if "template" in change:
        new["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"
    else:
        new["spec"].update(change)
    errs = validate_job_update(new, old)
    assert [e.field for e in errs] == [field]
    assert errs[0].message.endswith("field is immutable")


def test_a_suspended_job_that_never_started_may_change_its_node_selector() -> None:
    old = created(suspend=True)
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    assert validate_job_update(new, old) == []


@pytest.mark.parametrize(
    ("case", "schedule", "error"),
    [
        ("a valid one", "*/5 * * * *", None),
        ("a descriptor", "@daily", None),
        ("every so long", "@every 1h30m", None),
        ("names", "0 6 * jan-mar mon-fri", None),
        ("four fields", "* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("a minute too large", "60 * * * *", "end of range (60) above maximum (59): 60"),
        (
            "a word",
            "x * * * *",
            'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax',
        ),
        ("a zero step", "*/0 * * * *", "step of range should be a positive number: */0"),
        ("day seven", "0 0 * * 7", "end of range (7) above maximum (6): 7"),
        ("a reversed range", "5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("an unknown descriptor", "@sometimes", "unrecognized descriptor: @sometimes"),
    ],
)
def test_schedules_are_judged_as_robfig_cron_judges_them(
    case: str, schedule: str, error: str | None
) -> None:
    if error is None:
        check_schedule(schedule)
        return
    with pytest.raises(ScheduleError) as got:
        check_schedule(schedule)
    assert str(got.value) == error


def cronjob(**spec: Any) -> dict[str, Any]:
    template = {"spec": {"template": {"spec": {"containers": [{"name": "r", "image": "busybox"}],
                                               "restartPolicy": "OnFailure"}}}}  # fmt: skip
    obj = {
        "metadata": {"name": "report", "namespace": "default"},
        "spec": {"schedule": "*/1 * * * *", "jobTemplate": template, **spec},
    }
    default_cronjob(obj)
    return obj


def test_a_cronjob_is_defaulted_and_valid() -> None:
    obj = cronjob()
    spec = obj["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"], spec["successfulJobsHistoryLimit"],
            spec["failedJobsHistoryLimit"]) == ("Allow", False, 3, 1)  # fmt: skip
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]  # only the pod template is
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert validate_cronjob(obj) == []


@pytest.mark.parametrize(
    ("case", "spec", "expected"),
    [
        (
            "a zone in the schedule",
            {"schedule": "TZ=UTC 0 * * * *"},
            'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in '
            "schedule, use timeZone field instead",
        ),
        (
            "an unknown zone",
            {"timeZone": "Mars/Olympus"},
            'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
        ),
        (
            "an unknown policy",
            {"concurrencyPolicy": "Sometimes"},
            'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: '
            '"Allow", "Forbid", "Replace"',
        ),
        (
            "a negative deadline",
            {"startingDeadlineSeconds": -5},
            "spec.startingDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0",
        ),
    ],
)
def test_invalid_cronjobs(case: str, spec: dict[str, Any], expected: str) -> None:
    assert [str(e) for e in validate_cronjob(cronjob(**spec))] == [expected]


def test_a_cronjob_name_longer_than_52_characters_is_refused_on_create_only() -> None:
    obj = cronjob()
    obj["metadata"]["name"] = "r" * 53
    assert [str(e) for e in validate_cronjob(obj)] == [
        f'metadata.name: Invalid value: "{"r" * 53}": must be no more than 52 characters'
    ]
    assert validate_cronjob(obj, old=copy.deepcopy(obj)) == []


@pytest.mark.parametrize(
    ("case", "conditions", "deleting", "status"),
    [
        ("a job without conditions runs", [], False, "Running"),
        ("complete", [("SuccessCriteriaMet", "True"), ("Complete", "True")], False, "Complete"),
        ("failed", [("FailureTarget", "True"), ("Failed", "True")], False, "Failed"),
        ("interim failure", [("FailureTarget", "True")], False, "FailureTarget"),
        ("suspended", [("Suspended", "True")], False, "Suspended"),
        ("resumed", [("Suspended", "False")], False, "Running"),
        ("being deleted", [], True, "Terminating"),
    ],
)
def test_the_status_column(
    case: str, conditions: list[tuple[str, str]], deleting: bool, status: str
) -> None:
    obj: dict[str, Any] = {"metadata": {}, "status": {
        "conditions": [{"type": t, "status": s} for t, s in conditions]}}  # fmt: skip
    if deleting:
        obj["metadata"]["deletionTimestamp"] = "2027-01-01T00:00:00Z"
    assert status_cell(obj) == status


@pytest.mark.parametrize(
    ("case", "spec", "succeeded", "cell"),
    [
        ("completions", {"completions": 3}, 1, "1/3"),
        ("a work queue", {"parallelism": 4}, 2, "2/1 of 4"),
        ("one at a time", {"parallelism": 1}, 0, "0/1"),
    ],
)
def test_the_completions_column(case: str, spec: dict[str, Any], succeeded: int, cell: str) -> None:
    assert completions_cell(spec, {"succeeded": succeeded}) == cell


def test_cells_of_a_job_and_a_cronjob() -> None:
    obj = created()
    obj["metadata"]["creationTimestamp"] = "2027-01-15T08:00:00Z"
    obj["status"] = {"startTime": "2027-01-15T08:00:00Z", "completionTime": "2027-01-15T08:01:05Z",
                     "succeeded": 1}  # fmt: skip
    assert JOBS.cells(obj, NOW)[:4] == ["pi", "Running", "1/1", "65s"]
    expression = {"key": "a", "operator": "In", "values": ["y", "x"]}
    assert selector_cell({"matchExpressions": [expression]}) == "a in (x,y)"
    cj = cronjob()
    cj["metadata"]["creationTimestamp"] = "2027-01-15T08:00:00Z"
    assert CRONJOBS.cells(cj, NOW)[:6] == ["report", "*/1 * * * *", "<none>", "False", 0, "<none>"]
