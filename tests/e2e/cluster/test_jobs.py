"""Jobs and CronJobs on a whole node (``kubelite up``) with real containers, driven by the real
kubectl: the migration Job with a native sidecar completes (``kubectl wait``, ``kubectl logs
job/…``), a failing Job stops after ``backoffLimit`` with one pod per try, a CronJob fires
(``kubectl create job --from=cronjob/…`` and its own schedule), and after a kill -9 of kubelite
a completed Job is not run again."""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cluster.conftest import Cluster, start_cluster, tear_down

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "cluster"


def job_manifest(name: str, command: str, **spec: object) -> str:
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            **spec,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", command]}
                    ],
                }
            },
        },
    }
    return json.dumps(body)


def pods_of(cluster: Cluster, job: str) -> list[dict]:
    out = cluster.kubectl("get", "pods", "-l", f"batch.kubernetes.io/job-name={job}", "-o", "json")
    return list(json.loads(out.stdout)["items"])


def row(cluster: Cluster, *args: str) -> list[str]:
    lines = cluster.kubectl("get", *args).stdout.splitlines()
    return lines[1].split()


def test_the_migration_job_with_a_native_sidecar_completes_before_the_app(
    cluster: Cluster,
) -> None:
    text = (EXAMPLES / "migration-job.yaml").read_text()
    job, app = text.split("\n---\n")
    cluster.apply(job)
    cluster.wait("job/migrate", "condition=complete", timeout=120)
    logs = cluster.kubectl("logs", "job/migrate", "-c", "migrate").stdout
    assert "connected to PostgreSQL stand-in" in logs
    assert logs.splitlines()[-1] == "schema at version 42"
    name, status, completions, *_ = row(cluster, "jobs", "migrate")
    assert (name, status, completions) == ("migrate", "Complete", "1/1")
    (pod,) = pods_of(cluster, "migrate")
    assert pod["status"]["phase"] == "Succeeded"
    assert not pod["metadata"].get("finalizers")  # counted: the tracking finalizer is gone
    got = cluster.get("job", "migrate")
    assert [c["type"] for c in got["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]
    cluster.apply(app)
    cluster.wait("pod/app-after-migration-job", "condition=Ready", timeout=120)
    described = cluster.kubectl("describe", "job", "migrate").stdout
    assert "1 Succeeded" in described and "Completed" in described
    cluster.kubectl("delete", "-f", str(EXAMPLES / "migration-job.yaml"), "--wait=false")


def test_a_failing_job_stops_after_its_backoff_limit_with_one_pod_per_try(
    cluster: Cluster,
) -> None:
    cluster.apply(job_manifest("fails", "echo trying; exit 3", backoffLimit=2))
    cluster.wait("job/fails", "condition=failed", timeout=150)
    got = cluster.get("job", "fails")
    failed = got["status"]["conditions"][-1]
    assert (failed["type"], failed["reason"], failed["message"]) == (
        "Failed",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    assert got["status"]["failed"] == 3
    pods = pods_of(cluster, "fails")
    assert len(pods) == 3 and {p["status"]["phase"] for p in pods} == {"Failed"}
    _, status, completions, *_ = row(cluster, "jobs", "fails")
    assert (status, completions) == ("Failed", "0/1")
    time.sleep(3)
    assert len(pods_of(cluster, "fails")) == 3  # nothing more after the failure
    assert "trying" in cluster.kubectl("logs", "job/fails").stdout
    cluster.kubectl("delete", "job", "fails", "--wait=false")


def test_a_cronjob_runs_on_demand_and_on_its_schedule(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(EXAMPLES / "cronjob.yaml"))
    lines = cluster.kubectl("get", "cronjobs", "report").stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"
    ]  # fmt: skip
    assert re.split(r"\s{2,}", lines[1])[:6] == [
        "report", "*/1 * * * *", "<none>", "False", "0", "<none>"
    ]  # fmt: skip
    cluster.kubectl("create", "job", "--from=cronjob/report", "report-now")
    cluster.wait("job/report-now", "condition=complete", timeout=120)
    assert "report at" in cluster.kubectl("logs", "job/report-now").stdout
    deadline = time.monotonic() + 100
    fired: list[dict] = []
    while time.monotonic() < deadline and not fired:
        jobs = json.loads(cluster.kubectl("get", "jobs", "-o", "json").stdout)["items"]
        fired = [
            j
            for j in jobs
            if j["metadata"]["name"].startswith("report-") and j["metadata"]["name"] != "report-now"
        ]
        time.sleep(2)
    assert fired, "the CronJob did not fire within 100 s"
    job = fired[0]
    minutes = int(job["metadata"]["name"].rsplit("-", 1)[1])
    stamp = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(minutes * 60))
    cluster.wait(f"job/{job['metadata']['name']}", "condition=complete", timeout=120)
    cj = cluster.get("cronjob", "report")
    assert cj["status"]["lastScheduleTime"] == stamp
    events = cluster.kubectl("describe", "cronjob", "report").stdout
    assert f"Created job {job['metadata']['name']}" in events
    cluster.kubectl("delete", "cronjob", "report", "--wait=false")


@pytest.fixture
def own_cluster(tmp_path: Path, registry_config_file: Path) -> Iterator[Cluster]:
    """A kubelite of this test's own, which it kills and starts again."""
    c = start_cluster(tmp_path / "restart", registry_config_file)
    try:
        yield c
    finally:
        problems = tear_down(c)  # the kubelite started again, if it was
        if problems:
            pytest.fail("\n".join(problems))


def test_after_a_kill_9_a_completed_job_is_not_run_again(
    own_cluster: Cluster, registry_config_file: Path
) -> None:
    c = own_cluster
    c.apply(job_manifest("once", "echo ran", completions=2, parallelism=1))
    c.wait("job/once", "condition=complete", timeout=120)
    before = sorted(p["metadata"]["name"] for p in pods_of(c, "once"))
    assert len(before) == 2
    c.stop(signal.SIGKILL)
    again = start_cluster(c.data_dir, registry_config_file, c.ranges)
    c.proc, c.kubeconfig, c.port = again.proc, again.kubeconfig, again.port
    time.sleep(5)
    after = sorted(p["metadata"]["name"] for p in pods_of(c, "once"))
    assert after == before
    got = c.get("job", "once")
    assert got["status"]["succeeded"] == 2
    assert [x["type"] for x in got["status"]["conditions"]] == ["SuccessCriteriaMet", "Complete"]


def test_kubectl_creates_jobs_and_cronjobs_and_lists_them_among_all(cluster: Cluster) -> None:
    cluster.kubectl("create", "job", "hello", "--image=busybox:1.36", "--", "echo", "hello")
    cluster.kubectl(
        "create", "cronjob", "nightly", "--image=busybox:1.36", "--schedule=0 3 * * *",
        "--", "echo", "night",
    )  # fmt: skip
    cluster.wait("job/hello", "condition=complete", timeout=120)
    assert cluster.kubectl("logs", "job/hello").stdout.strip() == "hello"
    cj = cluster.get("cronjob", "nightly")
    template = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert template["restartPolicy"] == "OnFailure"
    assert template["containers"][0]["command"] == ["echo", "night"]
    listed = cluster.kubectl("get", "all").stdout
    assert "job.batch/hello" in listed and "cronjob.batch/nightly" in listed
    explained = cluster.kubectl("explain", "job.spec.backoffLimit").stdout
    assert "Failed pods tolerated before the Job fails" in explained
    cluster.kubectl("delete", "job", "hello", "--wait=false")
    cluster.kubectl("delete", "cronjob", "nightly", "--wait=false")


def test_deleting_a_job_deletes_its_running_pod_through_the_garbage_collector(
    cluster: Cluster,
) -> None:
    command = 'trap "exit 0" TERM; sleep 3600 & wait'
    cluster.apply(job_manifest("long", command))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pods = pods_of(cluster, "long")
        if pods and pods[0]["status"].get("phase") == "Running":
            break
        time.sleep(1)
    assert pods and pods[0]["status"]["phase"] == "Running"
    cluster.kubectl("delete", "job", "long", "--timeout=60s")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and pods_of(cluster, "long"):
        time.sleep(1)
    assert pods_of(cluster, "long") == []  # gone, the tracking finalizer let go of
