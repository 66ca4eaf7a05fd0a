"""Benchmark of Jobs (issue 13): 100 Jobs of one short pod each (not a test).

1. On a whole node: a ``kubelite up`` of its own (its own data dir, pod and Service ranges,
   ``--no-pod-egress``; started and removed as the e2e tests do, left-overs checked), 100 Jobs
   whose pod runs ``true`` created at once through the API; reported: the time from the first
   create to the last Job ``Complete``, the median and p95 of each Job's create-to-Complete,
   and the CPU time of the kubelite process meanwhile (API server, agent and controllers;
   conmon and runc are other processes).
2. The Job controller alone: an in-process API server on the memory store, a stand-in kubelet
   that reports each new pod Succeeded at once, and the Job controller on a thread (and event
   loop) of its own, so that thread's CPU time is the controller's alone (its HTTP client
   included): the same 100 Jobs, total time and the controller's CPU per Job.

Needs root, runc, conmon, skopeo and the local registry's tools (devtools) for part 1.

    python3 bench/jobs.py [--jobs 100] [--skip-node]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp.test_utils import TestServer

from devtools import registry, standins
from devtools.fixtures import registries_yaml
from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.client.rest import JOBS, PODS, ApiClient, Credentials
from kubelite.clock import parse_rfc3339, rfc3339
from kubelite.controllers.job import JobController
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.pods import PODS as POD_KIND
from kubelite.store.memory import MemoryStore
from tests.e2e.cluster.conftest import Cluster, start_cluster, tear_down


def job(i: int) -> dict[str, Any]:
    container = {"name": "main", "image": "busybox:1.36", "command": ["true"]}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": f"bench-{i:03d}"},
        "spec": {"template": {"spec": {"containers": [container], "restartPolicy": "Never"}}},
    }


def complete_at(obj: dict[str, Any]) -> float | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Complete" and c.get("status") == "True":
            return parse_rfc3339(c["lastTransitionTime"])
    return None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / 100.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- 1. a whole node -----------------------------------------------------------------------


def on_a_node(count: int) -> dict[str, float]:
    base = Path(tempfile.mkdtemp(prefix="kubelite-bench-jobs-"))
    reg = registry.start(base / "registry")
    cluster: Cluster | None = None
    try:
        standins.push(reg.address, workdir=base)
        config = base / "registries.yaml"
        config.write_text(registries_yaml(reg.address))
        cluster = start_cluster(base / "node", config)
        warm = json.dumps(job(999) | {"metadata": {"name": "warm-up"}})
        cluster.kubectl("apply", "-f", "-", input=warm)
        cluster.wait("job/warm-up", "condition=complete", timeout=180)
        items = json.dumps({"apiVersion": "v1", "kind": "List",
                            "items": [job(i) for i in range(count)]})  # fmt: skip
        cpu0, t0 = cpu_seconds(cluster.proc.pid), time.time()
        cluster.kubectl("create", "-f", "-", input=items, timeout=120)
        done: dict[str, float] = {}
        created: dict[str, float] = {}
        while len(done) < count and time.time() - t0 < 900:
            out = cluster.kubectl("get", "jobs", "-l", "", "-o", "json", timeout=60).stdout
            for obj in json.loads(out)["items"]:
                name = obj["metadata"]["name"]
                if not name.startswith("bench-"):
                    continue
                created[name] = parse_rfc3339(obj["metadata"]["creationTimestamp"])
                finished = complete_at(obj)
                if finished is not None:
                    done[name] = finished
            time.sleep(0.5)
        total = time.time() - t0
        cpu = cpu_seconds(cluster.proc.pid) - cpu0
        spans = [done[n] - created[n] for n in done]
        return {
            "jobs complete": float(len(done)),
            "total s": total,
            "per job p50 s": statistics.median(spans) if spans else 0.0,
            "per job p95 s": pct(spans, 0.95) if spans else 0.0,
            "kubelite CPU s": cpu,
        }
    finally:
        if cluster is not None:
            for problem in tear_down(cluster):
                print(problem, file=sys.stderr)
        reg.stop()
        shutil.rmtree(base, ignore_errors=True)


# -- 2. the controller alone -----------------------------------------------------------------


class ControllerThread:
    """The Job controller on its own thread and event loop; ``cpu`` is that thread's time."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.cpu = 0.0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name="job-controller", daemon=True)
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._run())

    async def _run(self) -> None:
        start = time.thread_time()
        self._stop = asyncio.Event()
        client = ApiClient(self.credentials)
        task = asyncio.create_task(JobController(client).run())
        self._started.set()
        await self._stop.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.close()
        self.cpu = time.thread_time() - start

    def start(self) -> None:
        self.thread.start()
        self._started.wait(10)

    def stop(self) -> None:
        assert self._stop is not None
        self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)


async def kubelet(server: ApiServer) -> None:
    """Report every pod Succeeded as soon as it exists (a node that runs ``true`` instantly)."""
    seen: set[str] = set()
    registry_ = server.registry
    while True:
        pods, _ = await registry_.list(POD_KIND, "default")
        for pod in pods:
            name = pod["metadata"]["name"]
            if name in seen or pod.get("status", {}).get("phase") != "Pending":
                continue
            seen.add(name)
            now = rfc3339(time.time())
            term = {"exitCode": 0, "reason": "Completed", "finishedAt": now, "startedAt": now}
            pod["status"] = {
                "phase": "Succeeded",
                "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": now}],
                "containerStatuses": [{"name": "main", "ready": False, "restartCount": 0,
                                       "image": "busybox:1.36", "imageID": "",
                                       "state": {"terminated": term}}],
            }  # fmt: skip
            await registry_.update(POD_KIND, "default", name, pod, subresource="status")
        await asyncio.sleep(0.05)


async def controller_alone(count: int) -> dict[str, float]:
    server = ApiServer(store=MemoryStore(), require_auth=False)
    await bootstrap(server.registry)
    with tempfile.TemporaryDirectory() as tmp:
        pki = ensure_pki(Path(tmp) / "pki")
        async with TestServer(server.app) as http:
            creds = Credentials(str(http.make_url("")), pki.ca_cert, "unused")
            controller = ControllerThread(creds)
            node = asyncio.create_task(kubelet(server))
            client = ApiClient(creds)
            try:
                await asyncio.to_thread(controller.start)
                t0 = time.time()
                await asyncio.gather(
                    *(client.create(JOBS, "default", job(i)) for i in range(count))
                )
                while True:
                    items = (await client.list(JOBS, "default"))["items"]
                    if sum(1 for j in items if complete_at(j) is not None) == count:
                        break
                    await asyncio.sleep(0.05)
                total = time.time() - t0
                pods = len((await client.list(PODS, "default"))["items"])
            finally:
                await asyncio.to_thread(controller.stop)
                node.cancel()
                await asyncio.gather(node, return_exceptions=True)
                await client.close()
    return {
        "jobs complete": float(count),
        "pods made": float(pods),
        "total s": total,
        "controller CPU s": controller.cpu,
        "controller CPU ms per job": controller.cpu / count * 1000,
    }


def report(title: str, figures: dict[str, float]) -> None:
    print(title)
    for key, value in figures.items():
        print(f"  {key:28s} {value:10.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--skip-node", action="store_true", help="only the controller alone")
    args = parser.parse_args()
    report("the Job controller alone (stand-in kubelet)", asyncio.run(controller_alone(args.jobs)))
    if not args.skip_node:
        report("a whole node (kubelite up, real containers)", on_a_node(args.jobs))


if __name__ == "__main__":
    main()
