"""Benchmark of Deployments (issue 13): a 10-replica Deployment from create to all available,
then a rolling update of it, against the time its pods themselves take to start (not a test).

A ``kubelite up`` of its own (its own data dir, pod and Service ranges, ``--no-pod-egress``;
started and removed as the e2e tests do, left-overs checked) with the stand-in images of a
local registry. The bench watches pods from its own process and stamps, on one clock, when
each pod appears and when it first turns Ready: a pod's own start (scheduling, sandbox,
container, readiness) is that interval. For each phase it reports:

* total: from the request (create, or the template change) to the Deployment reporting the
  rollout complete (all replicas updated and available, generation observed);
* pods: the time during which at least one of the phase's new pods was starting (the union
  of their intervals), and for reference the sum and the longest of them;
* overhead: total minus pods, the time nothing was starting — the controllers deciding,
  creating ReplicaSets and pods, and reporting status — as a share of pods (target ≤ 20 %);
* kubelite's CPU time (the whole process: API server, controllers, agent).

Needs root, runc, conmon, skopeo and the local registry's tools (devtools).

    python3 bench/workloads.py [--replicas 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools import registry, standins
from devtools.fixtures import registries_yaml
from kubelite.api.pki import ensure_pki
from kubelite.client.informer import Informer
from kubelite.client.rest import PODS, ApiClient, Credentials, Resource
from tests.e2e.cluster.conftest import Cluster, start_cluster, tear_down

DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
NAME = "bench-web"


def deployment(replicas: int) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": "busybox:1.36",
        "command": ["sh", "-c", 'trap "exit 0" TERM; sleep 3600 & wait'],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": NAME}},
            "template": {
                "metadata": {"labels": {"app": NAME}},
                "spec": {"containers": [container], "terminationGracePeriodSeconds": 1},
            },
        },
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


class PodClock:
    """When each pod of the Deployment appeared and first turned Ready (this process's clock)."""

    def __init__(self, client: ApiClient) -> None:
        self.informer = Informer(client, PODS, namespace="default")
        self.appeared: dict[str, float] = {}
        self.ready: dict[str, float] = {}
        self.informer.add_handler(self._on_pod)

    def _on_pod(self, kind: str, pod: dict[str, Any]) -> None:
        now = time.monotonic()
        meta = pod.get("metadata") or {}
        if (meta.get("labels") or {}).get("app") != NAME:
            return
        uid = str(meta.get("uid"))
        self.appeared.setdefault(uid, now)
        conds = (pod.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
            self.ready.setdefault(uid, now)

    def intervals(self, since: float) -> list[tuple[float, float]]:
        return [
            (t, self.ready[u]) for u, t in self.appeared.items() if t >= since and u in self.ready
        ]


async def complete(client: ApiClient, replicas: int) -> None:
    while True:
        d = await client.get(DEPLOYMENTS, "default", NAME)
        st = d.get("status") or {}
        if (
            st.get("updatedReplicas") == replicas
            and st.get("replicas") == replicas
            and st.get("availableReplicas") == replicas
            and st.get("observedGeneration", 0) >= d["metadata"]["generation"]
        ):
            return
        await asyncio.sleep(0.02)


async def phases(cluster: Cluster, replicas: int) -> list[tuple[str, dict[str, float]]]:
    pki = ensure_pki(cluster.data_dir / "pki")
    client = ApiClient(Credentials(f"https://127.0.0.1:{cluster.port}", pki.ca_cert, pki.token()))
    clock = PodClock(client)
    watcher = asyncio.create_task(clock.informer.run())
    out = []
    try:
        await clock.informer.synced.wait()
        pid = cluster.proc.pid
        # 1. create → all available
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        await client.create(DEPLOYMENTS, "default", deployment(replicas))
        await complete(client, replicas)
        out.append(("create → all available", figures(clock, t0, cpu0, pid)))
        # 2. a rolling update (a new environment variable: new pods, same image)
        patch = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "app", "env": [{"name": "REVISION", "value": "2"}]}]
                    }
                }
            }
        }
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        path = DEPLOYMENTS.path("default", NAME)
        await client.request(
            "PATCH", path, patch, content_type="application/strategic-merge-patch+json"
        )
        await complete(client, replicas)
        out.append(("rolling update → complete", figures(clock, t0, cpu0, pid)))
        body = {"propagationPolicy": "Foreground"}
        await client.request("DELETE", path, body)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await client.close()
    return out


def figures(clock: PodClock, t0: float, cpu0: float, pid: int) -> dict[str, float]:
    total = time.monotonic() - t0
    spans = clock.intervals(t0)
    busy = union(spans)
    return {
        "total s": total,
        "pods started": float(len(spans)),
        "pods starting (union) s": busy,
        "pods' own starts (sum) s": sum(b - a for a, b in spans),
        "longest pod start s": max((b - a for a, b in spans), default=0.0),
        "overhead s": total - busy,
        "overhead % of pods": 100.0 * (total - busy) / busy if busy else 0.0,
        "kubelite CPU s": cpu_seconds(pid) - cpu0,
    }


def run(replicas: int) -> list[tuple[str, dict[str, float]]]:
    base = Path(tempfile.mkdtemp(prefix="kubelite-bench-workloads-"))
    reg = registry.start(base / "registry")
    cluster: Cluster | None = None
    try:
        standins.push(reg.address, workdir=base)
        config = base / "registries.yaml"
        config.write_text(registries_yaml(reg.address))
        cluster = start_cluster(base / "node", config)
        warm = deployment(1) | {"metadata": {"name": "warm-up"}}
        warm["spec"]["selector"] = {"matchLabels": {"app": "warm-up"}}
        warm["spec"]["template"]["metadata"] = {"labels": {"app": "warm-up"}}
        cluster.kubectl("apply", "-f", "-", input=json.dumps(warm))
        cluster.kubectl("rollout", "status", "deployment/warm-up", "--timeout=180s", timeout=200)
        cluster.kubectl("delete", "deployment", "warm-up", "--timeout=60s", timeout=90)
        return asyncio.run(phases(cluster, replicas))
    finally:
        if cluster is not None:
            for problem in tear_down(cluster):
                print(problem, file=sys.stderr)
        reg.stop()
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=10)
    args = parser.parse_args()
    for title, values in run(args.replicas):
        print(title)
        for key, value in values.items():
            print(f"  {key:28s} {value:10.3f}")


if __name__ == "__main__":
    main()
