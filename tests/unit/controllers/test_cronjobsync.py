"""The CronJob controller's decisions (``cronjobsync.plan_cronjob``) and its reading of
schedules (``cronschedule``): which firing runs, what is skipped and said, what is deleted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kubelite.clock import parse_rfc3339, rfc3339
from kubelite.controllers import cronschedule as cs
from kubelite.controllers.cronjobsync import job_name, plan_cronjob

CREATED = "2027-01-15T08:00:30Z"
T_CREATED = parse_rfc3339(CREATED)


def cronjob(schedule: str = "*/5 * * * *", status: dict[str, Any] | None = None,
            **spec: Any) -> dict[str, Any]:  # fmt: skip
    template = {
        "metadata": {"labels": {"app": "report"}, "annotations": {"team": "ops"}},
        "spec": {"template": {"spec": {"containers": [{"name": "r", "image": "busybox"}],
                                       "restartPolicy": "OnFailure"}}},
    }  # fmt: skip
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "default", "uid": "cj-uid",
                     "creationTimestamp": CREATED},
        "spec": {"schedule": schedule, "concurrencyPolicy": "Allow", "suspend": False,
                 "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
                 "jobTemplate": template, **spec},
        "status": status or {},
    }  # fmt: skip


def job(name: str, outcome: str | None = None, start: float = T_CREATED, uid: str = "") -> dict:
    status: dict[str, Any] = {"startTime": rfc3339(start)}
    if outcome:
        status["conditions"] = [{"type": outcome, "status": "True"}]
        if outcome == "Complete":
            status["completionTime"] = rfc3339(start + 10)
    return {"metadata": {"name": name, "namespace": "default", "uid": uid or f"uid-{name}"},
            "status": status}  # fmt: skip


def at(text: str) -> float:
    return parse_rfc3339(text)


def test_nothing_runs_before_the_first_firing_and_it_looks_again_just_after_it() -> None:
    plan = plan_cronjob(cronjob(), [], at("2027-01-15T08:03:00Z"))
    assert plan.create is None and plan.status is None
    assert plan.requeue_after == pytest.approx(120.1)


def test_the_due_firing_makes_a_job_named_for_its_minute_from_the_template() -> None:
    plan = plan_cronjob(cronjob(), [], at("2027-01-15T08:05:02Z"))
    fired = datetime(2027, 1, 15, 8, 5, tzinfo=UTC)
    assert plan.scheduled == "2027-01-15T08:05:00Z"
    assert plan.create is not None
    md = plan.create["metadata"]
    assert md["name"] == f"report-{int(fired.timestamp()) // 60}" == job_name("report", fired)
    assert md["labels"] == {"app": "report"}
    assert md["annotations"] == {
        "team": "ops",
        "batch.kubernetes.io/cronjob-scheduled-timestamp": "2027-01-15T08:05:00Z",
    }
    assert md["ownerReferences"] == [
        {"apiVersion": "batch/v1", "kind": "CronJob", "name": "report", "uid": "cj-uid",
         "controller": True, "blockOwnerDeletion": True}
    ]  # fmt: skip
    assert plan.create["spec"]["template"]["spec"]["restartPolicy"] == "OnFailure"
    assert plan.requeue_after == pytest.approx(298.1)


def test_the_scheduled_timestamp_is_written_in_the_cronjobs_time_zone() -> None:
    plan = plan_cronjob(cronjob(timeZone="Europe/Berlin"), [], at("2027-01-15T08:05:02Z"))
    assert plan.create is not None
    stamp = plan.create["metadata"]["annotations"][
        "batch.kubernetes.io/cronjob-scheduled-timestamp"
    ]
    assert stamp == "2027-01-15T09:05:00+01:00"


@pytest.mark.parametrize(
    ("case", "spec", "status", "now", "reason"),
    [
        ("a suspended cronjob runs nothing", {"suspend": True}, {}, "2027-01-15T08:05:02Z", None),
        (
            "a firing older than the starting deadline is missed",
            {"startingDeadlineSeconds": 10},
            {},
            "2027-01-15T08:09:00Z",
            None,
        ),
        (
            "a firing already run is not run again",
            {},
            {"lastScheduleTime": "2027-01-15T08:05:00Z"},
            "2027-01-15T08:05:30Z",
            None,
        ),
        (
            "an unknown zone is said and nothing runs",
            {"timeZone": "Mars/Olympus"},
            {},
            "2027-01-15T08:05:02Z",
            "UnknownTimeZone",
        ),
    ],
)
def test_when_nothing_is_made(
    case: str, spec: dict[str, Any], status: dict[str, Any], now: str, reason: str | None
) -> None:
    plan = plan_cronjob(cronjob(status=status, **spec), [], at(now))
    assert plan.create is None
    if reason:
        assert [e.reason for e in plan.events] == [reason]


def test_a_missed_start_within_the_deadline_window_still_runs_and_says_nothing() -> None:
    plan = plan_cronjob(cronjob(startingDeadlineSeconds=200), [], at("2027-01-15T08:06:00Z"))
    assert plan.create is not None and plan.events == ()


def test_forbid_skips_a_firing_while_a_job_runs_and_says_so() -> None:
    running = job("report-1", uid="u1")
    active = [{"kind": "Job", "name": "report-1", "namespace": "default", "uid": "u1"}]
    cj = cronjob(concurrencyPolicy="Forbid", status={"active": active})
    plan = plan_cronjob(cj, [running], at("2027-01-15T08:05:02Z"))
    assert plan.create is None
    assert [(e.reason, e.message) for e in plan.events] == [
        ("JobAlreadyActive",
         "Not starting job because prior execution is running and concurrency policy is Forbid")
    ]  # fmt: skip


def test_replace_deletes_the_running_job_before_making_the_new_one() -> None:
    running = job("report-1", uid="u1")
    active = [{"kind": "Job", "name": "report-1", "namespace": "default", "uid": "u1"}]
    cj = cronjob(concurrencyPolicy="Replace", status={"active": active})
    plan = plan_cronjob(cj, [running], at("2027-01-15T08:05:02Z"))
    assert plan.delete == ("report-1",) and plan.create is not None
    assert plan.status is not None and "active" not in plan.status
    assert ("SuccessfulDelete", "Deleted job report-1") in [
        (e.reason, e.message) for e in plan.events
    ]


def test_a_finished_job_leaves_the_active_list_and_sets_the_last_success() -> None:
    done = job("report-1", "Complete", uid="u1")
    active = [{"kind": "Job", "name": "report-1", "namespace": "default", "uid": "u1"}]
    plan = plan_cronjob(cronjob(status={"active": active}), [done], at("2027-01-15T08:03:00Z"))
    assert plan.status == {"lastSuccessfulTime": done["status"]["completionTime"]}
    assert [(e.reason, e.message) for e in plan.events] == [
        ("SawCompletedJob", "Saw completed job: report-1, status: Complete")
    ]


def test_an_active_job_that_is_gone_is_dropped_as_missing() -> None:
    active = [{"kind": "Job", "name": "report-1", "namespace": "default", "uid": "u1"}]
    plan = plan_cronjob(cronjob(status={"active": active}), [], at("2027-01-15T08:03:00Z"))
    assert plan.status == {}
    assert [(e.reason, e.message) for e in plan.events] == [
        ("MissingJob", "Active job went missing: report-1")
    ]


def test_a_job_made_for_this_firing_before_a_restart_is_recorded_not_made_again() -> None:
    fired = datetime(2027, 1, 15, 8, 5, tzinfo=UTC)
    made = job(job_name("report", fired))
    plan = plan_cronjob(cronjob(), [made], at("2027-01-15T08:05:40Z"))
    assert plan.create is None and plan.adopt is made
    assert plan.scheduled == "2027-01-15T08:05:00Z"


def test_finished_jobs_past_the_history_limits_are_deleted_oldest_first() -> None:
    ok = [job(f"ok-{i}", "Complete", start=T_CREATED + i) for i in range(5)]
    bad = [job(f"bad-{i}", "Failed", start=T_CREATED + i) for i in range(2)]
    plan = plan_cronjob(cronjob(), ok + bad, at("2027-01-15T08:03:00Z"))
    assert plan.delete == ("ok-0", "ok-1", "bad-0")


@pytest.mark.parametrize(
    ("case", "schedule", "after", "expected"),
    [
        ("every five minutes", "*/5 * * * *", "2027-01-15T08:01:00Z", "2027-01-15T08:05:00Z"),
        ("hourly", "@hourly", "2027-01-15T08:01:00Z", "2027-01-15T09:00:00Z"),
        ("a question mark is any", "0 ? * * *", "2027-01-15T08:01:00Z", "2027-01-15T09:00:00Z"),
        ("every 90 seconds", "@every 90s", "2027-01-15T08:01:00Z", "2027-01-15T08:02:30Z"),
        ("names of days", "30 6 * * mon", "2027-01-15T08:01:00Z", "2027-01-18T06:30:00Z"),
    ],
)
def test_when_a_schedule_fires_next(case: str, schedule: str, after: str, expected: str) -> None:
    start = datetime.fromtimestamp(at(after), UTC)
    assert rfc3339(cs.parse(schedule).next(start).timestamp()) == expected


def test_more_than_a_hundred_missed_runs_are_reported() -> None:
    schedule = cs.parse("* * * * *")
    earliest = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    recent = cs.most_recent(schedule, earliest, datetime(2027, 1, 15, 12, 0, 30, tzinfo=UTC))
    assert recent.many_missed
    assert recent.time == datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
