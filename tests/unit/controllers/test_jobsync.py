"""The Job controller's decisions (``jobsync.plan_job``), run against a small in-memory world
that carries plans out as the loop does (pods created, deleted, finalizers removed, status
written), so whole runs read as sequences of facts."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest

from kubelite.clock import rfc3339
from kubelite.controllers import jobpods as jp
from kubelite.controllers.jobscale import backoff_remaining
from kubelite.controllers.jobsync import JobPlan, plan_job

T0 = 1_800_000_000.0


def job(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "completions": 1,
        "parallelism": 1,
        "backoffLimit": 6,
        "completionMode": "NonIndexed",
        "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed",
        "template": {
            "metadata": {"labels": {"job-name": "pi"}},
            "spec": {
                "containers": [{"name": "main", "image": "busybox:1.36"}],
                "restartPolicy": "Never",
            },
        },
    }
    base.update(spec)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default", "uid": "job-uid"},
        "spec": base,
        "status": {},
    }


@dataclass
class World:
    """A Job and its pods, changed only by plans (and by the test, playing the kubelet)."""

    job: dict[str, Any]
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: list[JobPlan] = field(default_factory=list)
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count())

    def step(self, now: float) -> JobPlan:
        plan = plan_job(self.job, list(self.pods.values()), now)
        self.plans.append(plan)
        for name in plan.release:
            self._drop_finalizer(name)
            self._delete(name, now)
        for name in plan.delete:
            self._delete(name, now)
        for body in plan.create:
            n = next(self.serial)
            pod = copy.deepcopy(body)
            pod["metadata"]["name"] = f"{body['metadata']['generateName']}{n:05d}"
            pod["metadata"]["uid"] = f"uid-{n}"
            pod["metadata"]["creationTimestamp"] = rfc3339(now)
            pod["status"] = {"phase": "Pending"}
            self.pods[pod["metadata"]["name"]] = pod
        if plan.status is not None:
            self.job = {**self.job, "status": plan.status}
        for name in plan.unfinalize:
            self._drop_finalizer(name)
        return plan

    def settle(self, now: float, rounds: int = 6) -> None:
        for _ in range(rounds):
            if not self.step(now).acts:
                return

    def _drop_finalizer(self, name: str) -> None:
        pod = self.pods.get(name)
        if pod is None:
            return
        md = pod["metadata"]
        md["finalizers"] = [f for f in md.get("finalizers", []) if f != jp.TRACKING_FINALIZER]
        if md.get("deletionGracePeriodSeconds") == 0 and not md["finalizers"]:
            del self.pods[name]

    def _delete(self, name: str, now: float) -> None:
        pod = self.pods.get(name)
        if pod is not None:
            pod["metadata"]["deletionTimestamp"] = rfc3339(now)
            pod["metadata"]["deletionGracePeriodSeconds"] = 30

    def finish(self, name: str, phase: str, now: float, exit_code: int = 0) -> None:
        """The kubelet's part: the pod's container ends and the pod reaches ``phase``."""
        pod = self.pods[name]
        term = {"exitCode": exit_code, "finishedAt": rfc3339(now)}
        pod["status"] = {
            "phase": phase,
            "containerStatuses": [{"name": "main", "state": {"terminated": term}}],
        }

    def gone(self, name: str) -> None:
        """A terminating pod's containers stopped: the kubelet's final delete."""
        pod = self.pods[name]
        pod["status"]["phase"] = "Failed"
        pod["metadata"]["deletionGracePeriodSeconds"] = 0
        if not pod["metadata"].get("finalizers"):
            del self.pods[name]

    def running(self) -> list[str]:
        return [n for n, p in self.pods.items() if jp.is_active(p)]

    def conditions(self) -> list[tuple[str, str, str]]:
        return [
            (c["type"], c["status"], c.get("reason", ""))
            for c in self.job["status"].get("conditions", [])
        ]


def test_a_new_job_creates_one_tracked_pod_owned_by_it_and_starts() -> None:
    w = World(job())
    plan = w.step(T0)
    assert len(plan.create) == 1
    pod = plan.create[0]
    assert pod["metadata"]["generateName"] == "pi-"
    assert pod["metadata"]["finalizers"] == [jp.TRACKING_FINALIZER]
    assert pod["metadata"]["ownerReferences"] == [
        {"apiVersion": "batch/v1", "kind": "Job", "name": "pi", "uid": "job-uid",
         "controller": True, "blockOwnerDeletion": True}
    ]  # fmt: skip
    assert pod["metadata"]["labels"] == {"job-name": "pi"}
    assert w.job["status"] == {
        "startTime": rfc3339(T0),
        "active": 1,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
    }
    assert not w.step(T0).acts  # its pod is seen: nothing more


def test_a_succeeded_pod_is_counted_once_and_the_job_completes_in_the_1_32_order() -> None:
    w = World(job())
    w.step(T0)
    (name,) = w.running()
    w.finish(name, "Succeeded", T0 + 5)
    first = w.step(T0 + 6)
    assert first.unfinalize == (name,)
    assert w.job["status"]["uncountedTerminatedPods"] == {"succeeded": ["uid-0"]}
    assert w.conditions() == [("SuccessCriteriaMet", "True", "CompletionsReached")]
    w.settle(T0 + 6)
    status = w.job["status"]
    assert status["succeeded"] == 1 and "active" not in status
    assert status["uncountedTerminatedPods"] == {}
    assert w.conditions() == [
        ("SuccessCriteriaMet", "True", "CompletionsReached"),
        ("Complete", "True", "CompletionsReached"),
    ]
    assert status["completionTime"] == rfc3339(T0 + 6)
    complete = status["conditions"][1]
    assert complete["message"] == "Reached expected number of succeeded pods"
    events = [(e.reason, e.message) for p in w.plans for e in p.events]
    assert events == [("Completed", "Job completed")]
    assert not w.step(T0 + 100).acts  # a finished Job is never planned again


def test_parallelism_bounds_the_pods_and_remaining_completions_bound_them_further() -> None:
    w = World(job(completions=5, parallelism=3))
    w.step(T0)
    assert len(w.running()) == 3
    for name in w.running():
        w.finish(name, "Succeeded", T0 + 1)
    w.settle(T0 + 2)
    assert w.job["status"]["succeeded"] == 3
    assert len(w.running()) == 2  # only two completions remain


@pytest.mark.parametrize(
    ("case", "failures", "wait"),
    [
        ("no failure, no wait", 0, 0.0),
        ("one failure waits 10 s", 1, 10.0),
        ("two wait 20 s", 2, 20.0),
        ("seven reach 640 s", 7, 600.0),
    ],
)
def test_the_back_off_doubles_from_10_seconds_up_to_10_minutes(
    case: str, failures: int, wait: float
) -> None:
    end = {"state": {"terminated": {"exitCode": 1, "finishedAt": rfc3339(T0)}}}
    pods = [{"metadata": {}, "status": {"phase": "Failed", "containerStatuses": [end]}}] * failures
    assert backoff_remaining(pods, T0) == wait


def test_a_failed_pod_is_replaced_after_the_back_off_and_the_job_fails_past_the_limit() -> None:
    w = World(job(backoffLimit=2))
    now = T0
    w.step(now)
    for attempt in range(3):
        (name,) = w.running()
        w.finish(name, "Failed", now, exit_code=1)
        now += 1
        plan = w.step(now)
        if attempt < 2:
            assert not plan.create and plan.requeue_after == pytest.approx(
                9.0 * 2**attempt + 2**attempt - 1
            )
            w.settle(now)
            now += 10.0 * 2**attempt
            w.settle(now)
    w.settle(now)
    status = w.job["status"]
    assert status["failed"] == 3 and len(w.pods) == 3
    assert w.conditions() == [
        ("FailureTarget", "True", "BackoffLimitExceeded"),
        ("Failed", "True", "BackoffLimitExceeded"),
    ]
    assert "completionTime" not in status
    warnings = [(e.type, e.reason, e.message) for p in w.plans for e in p.events]
    assert warnings == [
        ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    ]


def test_a_job_past_its_active_deadline_stops_its_pod_and_fails_once_the_pod_is_gone() -> None:
    w = World(job(activeDeadlineSeconds=30))
    plan = w.step(T0)
    assert plan.requeue_after == 30
    (name,) = w.running()
    plan = w.step(T0 + 31)
    assert plan.delete == (name,)
    assert w.conditions() == [("FailureTarget", "True", "DeadlineExceeded")]
    w.settle(T0 + 31)
    assert ("Failed", "True", "DeadlineExceeded") not in w.conditions()  # still terminating
    w.gone(name)
    w.settle(T0 + 35)
    assert w.conditions()[-1] == ("Failed", "True", "DeadlineExceeded")
    assert w.job["status"]["failed"] == 1 and w.job["status"]["terminating"] == 0


def test_a_fail_job_rule_fails_the_job_at_once_with_the_containers_exit_code() -> None:
    rules = [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}]
    w = World(job(podFailurePolicy={"rules": rules}, podReplacementPolicy="Failed"))
    w.step(T0)
    (name,) = w.running()
    w.finish(name, "Failed", T0 + 1, exit_code=42)
    w.settle(T0 + 2)
    failed = w.job["status"]["conditions"][-1]
    assert (failed["type"], failed["reason"]) == ("Failed", "PodFailurePolicy")
    assert failed["message"] == (
        f"Container main for pod default/{name} failed with exit code 42 matching FailJob "
        "rule at index 0"
    )


def test_an_ignored_failure_is_not_counted_but_the_replacement_still_backs_off() -> None:
    rules = [{"action": "Ignore", "onExitCodes": {"operator": "In", "values": [3]}}]
    w = World(job(podFailurePolicy={"rules": rules}, podReplacementPolicy="Failed"))
    w.step(T0)
    (name,) = w.running()
    w.finish(name, "Failed", T0 + 1, exit_code=3)
    w.settle(T0 + 2)
    assert "failed" not in w.job["status"] and w.running() == []
    w.settle(T0 + 12)
    assert len(w.running()) == 1  # replaced


def test_suspending_deletes_the_pods_uncounted_and_resuming_restarts_the_clock() -> None:
    w = World(job(parallelism=2, completions=2))
    w.step(T0)
    w.job["spec"]["suspend"] = True
    plan = w.step(T0 + 5)
    assert len(plan.release) == 2 and not plan.delete
    assert w.conditions() == [("Suspended", "True", "JobSuspended")]
    assert [(e.reason, e.message) for e in plan.events] == [("Suspended", "Job suspended")]
    for name in list(w.pods):
        w.gone(name)
    w.settle(T0 + 6)
    assert "failed" not in w.job["status"] and w.running() == []
    w.job["spec"]["suspend"] = False
    plan = w.step(T0 + 60)
    assert w.conditions() == [("Suspended", "False", "JobResumed")]
    assert w.job["status"]["startTime"] == rfc3339(T0 + 60)
    assert len(plan.create) == 2


def test_an_indexed_job_makes_one_pod_per_index_and_records_completed_indexes() -> None:
    w = World(job(completionMode="Indexed", completions=4, parallelism=4))
    plan = w.step(T0)
    names = sorted(p["metadata"]["generateName"] for p in plan.create)
    assert names == ["pi-0-", "pi-1-", "pi-2-", "pi-3-"]
    first = plan.create[0]
    assert first["metadata"]["annotations"][jp.COMPLETION_INDEX] == "0"
    assert first["metadata"]["labels"][jp.COMPLETION_INDEX] == "0"
    assert first["spec"]["hostname"] == "pi-0"
    assert first["spec"]["containers"][0]["env"] == [
        {
            "name": "JOB_COMPLETION_INDEX",
            "valueFrom": {
                "fieldRef": {
                    "fieldPath": "metadata.labels['batch.kubernetes.io/job-completion-index']"
                }
            },
        }
    ]
    by_index = {jp.completion_index(p): n for n, p in w.pods.items()}
    for ix in (0, 1, 3):
        w.finish(by_index[ix], "Succeeded", T0 + 1)
    w.settle(T0 + 2)
    assert w.job["status"]["completedIndexes"] == "0,1,3"
    assert w.job["status"]["succeeded"] == 3
    w.finish(by_index[2], "Succeeded", T0 + 3)
    w.settle(T0 + 3)
    assert w.job["status"]["completedIndexes"] == "0-3"
    assert w.conditions()[-1] == ("Complete", "True", "CompletionsReached")


def test_a_failed_indexed_pod_is_replaced_for_the_same_index() -> None:
    w = World(job(completionMode="Indexed", completions=2, parallelism=2))
    w.step(T0)
    by_index = {jp.completion_index(p): n for n, p in w.pods.items()}
    w.finish(by_index[1], "Failed", T0 + 1, exit_code=1)
    w.settle(T0 + 20)
    again = [p for p in w.pods.values() if jp.is_active(p) and jp.completion_index(p) == 1]
    assert len(again) == 1


def test_restarts_with_on_failure_count_against_the_back_off_limit() -> None:
    template = job()["spec"]["template"]
    template["spec"]["restartPolicy"] = "OnFailure"
    w = World(job(template=template, backoffLimit=2))
    w.step(T0)
    (name,) = w.running()
    w.pods[name]["status"] = {
        "phase": "Running",
        "containerStatuses": [{"name": "main", "restartCount": 2, "state": {"running": {}}}],
    }
    plan = w.step(T0 + 60)
    assert plan.delete == (name,)
    assert w.conditions() == [("FailureTarget", "True", "BackoffLimitExceeded")]


@pytest.mark.parametrize(
    ("case", "uncounted", "finalizer", "succeeded"),
    [
        ("an uncounted pod without its finalizer is counted", ["uid-a"], False, 1),
        ("an uncounted pod still tracked waits for its finalizer", ["uid-a"], True, 0),
    ],
)
def test_after_a_restart_uncounted_pods_are_counted_exactly_once(
    case: str, uncounted: list[str], finalizer: bool, succeeded: int
) -> None:
    j = job()
    j["status"] = {"startTime": rfc3339(T0), "uncountedTerminatedPods": {"succeeded": uncounted}}
    pod = {
        "metadata": {
            "name": "pi-a", "namespace": "default", "uid": "uid-a",
            "finalizers": [jp.TRACKING_FINALIZER] if finalizer else [],
            "ownerReferences": [jp.owner_reference(j)],
        },
        "status": {"phase": "Succeeded"},
    }  # fmt: skip
    plan = plan_job(j, [pod], T0 + 1)
    status = plan.status or j["status"]
    assert int(status.get("succeeded") or 0) == succeeded
    assert not plan.create  # no second run


def test_a_finished_job_only_lets_go_of_pods_it_still_tracks() -> None:
    j = job()
    j["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    pod = {"metadata": {"name": "p", "finalizers": [jp.TRACKING_FINALIZER]}, "status": {}}
    assert plan_job(j, [pod], T0) == JobPlan(unfinalize=("p",))


def test_the_completions_unset_job_completes_on_the_first_success_once_others_end() -> None:
    w = World(job(completions=None, parallelism=2))
    w.step(T0)
    first, second = w.running()
    w.finish(first, "Succeeded", T0 + 1)
    w.settle(T0 + 1)
    assert second in w.running() and w.conditions() == []  # the other one may finish its work
    w.finish(second, "Succeeded", T0 + 2)
    w.settle(T0 + 2)
    assert w.conditions()[-1] == ("Complete", "True", "CompletionsReached")
    assert w.job["status"]["succeeded"] == 2
