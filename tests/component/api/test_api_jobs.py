"""Jobs and CronJobs through the HTTP API on the memory store, with the Job and CronJob
controllers running against it as API clients on virtual time. The test plays the kubelet:
it moves pods to Succeeded or Failed through their status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient, TestServer

from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.client.rest import ApiClient, Credentials
from kubelite.clock import ManualClock, rfc3339
from kubelite.controllers.cronjob import CronJobController
from kubelite.controllers.job import JobController
from kubelite.registry.bootstrap import bootstrap
from kubelite.store.memory import MemoryStore

T = TypeVar("T")
NS = "/api/v1/namespaces/default"
JOBS = "/apis/batch/v1/namespaces/default/jobs"
CRONJOBS = "/apis/batch/v1/namespaces/default/cronjobs"
START = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def job_body(name: str = "pi", command: str = "true", **spec: Any) -> dict[str, Any]:
    template = {
        "spec": {
            "containers": [
                {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", command]}
            ],
            "restartPolicy": "Never",
        }
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": template, **spec},
    }


async def until(probe: Callable[[], Awaitable[T | None]], seconds: float = 5.0) -> T:
    async with asyncio.timeout(seconds):
        while True:
            got = await probe()
            if got:
                return got
            await asyncio.sleep(0.02)


@dataclass
class Cluster:
    client: TestClient
    rest: ApiClient
    clock: ManualClock

    async def get(self, path: str) -> Any:
        return await (await self.client.get(path)).json()

    async def pods(self, job: str) -> list[dict[str, Any]]:
        listing = await self.get(f"{NS}/pods?labelSelector=batch.kubernetes.io/job-name={job}")
        return list(listing["items"])

    async def finish(self, pod: dict[str, Any], phase: str, code: int = 0) -> None:
        """The kubelet's report: the container ended, the pod is terminal."""
        term = {"exitCode": code, "finishedAt": rfc3339(self.clock.now()), "reason": phase}
        status = {
            "phase": phase,
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "main", "ready": False, "restartCount": 0,
                                   "image": "busybox:1.36", "imageID": "",
                                   "state": {"terminated": term}}],
        }  # fmt: skip
        body = {**pod, "status": status}
        r = await self.client.put(f"{NS}/pods/{pod['metadata']['name']}/status", json=body)
        assert r.status == 200, await r.text()

    async def job(self, name: str = "pi") -> dict[str, Any]:
        return dict(await self.get(f"{JOBS}/{name}"))

    async def events(self, name: str) -> list[tuple[str, str]]:
        listing = await self.get(f"{NS}/events?fieldSelector=involvedObject.name={name}")
        return [(e["reason"], e["message"]) for e in listing["items"]]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    clock = ManualClock(START)
    server = ApiServer(store=MemoryStore(), require_auth=False, clock=clock)
    await bootstrap(server.registry)
    pki = ensure_pki(tmp_path / "pki")
    async with TestServer(server.app) as http, TestClient(http) as client:
        rest = ApiClient(Credentials(str(http.make_url("")), pki.ca_cert, "unused"))
        yield Cluster(client, rest, clock)
        await rest.close()


@contextlib.asynccontextmanager
async def running(*controllers: JobController | CronJobController) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(c.run()) for c in controllers]
    try:
        yield
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def conditions(job: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["type"], c.get("reason", "")) for c in job["status"].get("conditions", [])]


async def test_a_job_runs_one_pod_and_completes_with_the_1_32_conditions(cluster: Cluster) -> None:
    async with running(JobController(cluster.rest, clock=cluster.clock)):
        r = await cluster.client.post(JOBS, json=job_body())
        assert r.status == 201
        (pod,) = await until(lambda: cluster.pods("pi"))
        md = pod["metadata"]
        assert md["generateName"] == "pi-" and md["finalizers"] == [
            "batch.kubernetes.io/job-tracking"
        ]
        assert md["ownerReferences"][0]["kind"] == "Job"
        await cluster.finish(pod, "Succeeded")

        async def complete() -> dict[str, Any] | None:
            job = await cluster.job()
            return job if ("Complete", "CompletionsReached") in conditions(job) else None

        job = await until(complete)
        assert conditions(job) == [
            ("SuccessCriteriaMet", "CompletionsReached"),
            ("Complete", "CompletionsReached"),
        ]
        status = job["status"]
        assert status["succeeded"] == 1 and status["ready"] == 0 and status["terminating"] == 0
        assert status["uncountedTerminatedPods"] == {}
        assert status["completionTime"] and status["startTime"]
        (pod,) = await cluster.pods("pi")
        assert not pod["metadata"].get("finalizers")
        events = await until(lambda: _with(cluster.events("pi"), "Completed"))
        assert ("SuccessfulCreate", f"Created pod: {md['name']}") in events
        assert ("Completed", "Job completed") in events


async def _with(
    events: Awaitable[list[tuple[str, str]]], reason: str
) -> list[tuple[str, str]] | None:
    got = await events
    return got if any(r == reason for r, _ in got) else None


async def test_a_job_past_its_backoff_limit_fails_with_one_pod_per_try(cluster: Cluster) -> None:
    async with running(JobController(cluster.rest, clock=cluster.clock)):
        await cluster.client.post(JOBS, json=job_body("fails", "exit 1", backoffLimit=1))
        (first,) = await until(lambda: cluster.pods("fails"))
        await cluster.finish(first, "Failed", 1)
        await asyncio.sleep(0.3)
        assert len(await cluster.pods("fails")) == 1  # the back-off holds the next one
        await cluster.clock.advance(11)
        second = await until(lambda: _active(cluster.pods("fails")))
        await cluster.finish(second, "Failed", 1)

        async def failed() -> dict[str, Any] | None:
            job = await cluster.job("fails")
            return job if ("Failed", "BackoffLimitExceeded") in conditions(job) else None

        job = await until(failed)
        assert conditions(job) == [
            ("FailureTarget", "BackoffLimitExceeded"),
            ("Failed", "BackoffLimitExceeded"),
        ]
        assert job["status"]["failed"] == 2 and len(await cluster.pods("fails")) == 2
        events = await until(lambda: _with(cluster.events("fails"), "BackoffLimitExceeded"))
        assert ("BackoffLimitExceeded", "Job has reached the specified backoff limit") in events


async def _active(pods: Awaitable[list[dict[str, Any]]]) -> dict[str, Any] | None:
    return next((p for p in await pods if p["status"].get("phase") == "Pending"), None)


async def test_a_restarted_controller_makes_no_second_pod_and_no_second_run(
    cluster: Cluster,
) -> None:
    async with running(JobController(cluster.rest, clock=cluster.clock)):
        await cluster.client.post(JOBS, json=job_body(parallelism=2, completions=2))
        pods = await until(lambda: _count(cluster.pods("pi"), 2))
    async with running(JobController(cluster.rest, clock=cluster.clock)):
        await asyncio.sleep(0.3)
        assert len(await cluster.pods("pi")) == 2
        for pod in pods:
            await cluster.finish(pod, "Succeeded")
        await until(lambda: _done(cluster))
    async with running(JobController(cluster.rest, clock=cluster.clock)):
        await asyncio.sleep(0.3)
        assert len(await cluster.pods("pi")) == 2
        assert (await cluster.job())["status"]["succeeded"] == 2


async def _count(pods: Awaitable[list[dict[str, Any]]], n: int) -> list[dict[str, Any]] | None:
    got = await pods
    return got if len(got) == n else None


async def _done(cluster: Cluster) -> bool:
    return ("Complete", "CompletionsReached") in conditions(await cluster.job())


async def test_a_cronjob_starts_a_job_named_for_its_minute_and_records_it(cluster: Cluster) -> None:
    template = job_body()["spec"]
    template["template"]["spec"]["restartPolicy"] = "OnFailure"
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick"},
        "spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": template}},
    }
    async with running(CronJobController(cluster.rest, clock=cluster.clock)):
        assert (await cluster.client.post(CRONJOBS, json=cronjob)).status == 201
        await asyncio.sleep(0.2)
        await cluster.clock.advance(61)

        async def jobs() -> list[dict[str, Any]] | None:
            return list((await cluster.get(JOBS))["items"]) or None

        (job,) = await until(jobs)
        minute = int(START + 60) // 60
        assert job["metadata"]["name"] == f"tick-{minute}"
        scheduled = job["metadata"]["annotations"][
            "batch.kubernetes.io/cronjob-scheduled-timestamp"
        ]
        assert scheduled == rfc3339(minute * 60)
        assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"

        async def recorded() -> dict[str, Any] | None:
            cj = await cluster.get(f"{CRONJOBS}/tick")
            return cj if cj["status"].get("active") else None

        cj = await until(recorded)
        assert cj["status"]["lastScheduleTime"] == scheduled
        assert cj["status"]["active"][0]["name"] == f"tick-{minute}"
        events = await until(lambda: _with(cluster.events("tick"), "SuccessfulCreate"))
        assert ("SuccessfulCreate", f"Created job tick-{minute}") in events


async def test_a_finished_job_is_deleted_once_its_time_to_live_is_over(cluster: Cluster) -> None:
    async with running(JobController(cluster.rest, clock=cluster.clock)):
        await cluster.client.post(JOBS, json=job_body("short", ttlSecondsAfterFinished=30))
        (pod,) = await until(lambda: cluster.pods("short"))
        await cluster.finish(pod, "Succeeded")

        async def finished() -> bool:
            return ("Complete", "CompletionsReached") in conditions(await cluster.job("short"))

        await until(finished)
        await cluster.clock.advance(20)
        await asyncio.sleep(0.2)
        assert not (await cluster.job("short"))["metadata"].get("deletionTimestamp")
        await cluster.clock.advance(11)

        async def deleting() -> bool:
            r = await cluster.client.get(f"{JOBS}/short")
            return r.status == 404 or bool((await r.json())["metadata"].get("deletionTimestamp"))

        await until(deleting)
