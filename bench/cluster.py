"""Benchmark of several nodes (issue 14): 3 nodes x 30 pods scheduled and running, against one
node x 90, in the same run (not a test).

Both sides get the same pods from the same stand-in images of one local registry: a busybox
pod with an init container (``true``) and a sleeping app, spread over the nodes by a topology
spread constraint on the hostname (maxSkew 1, so 30 land on each of three nodes), created at
once by one client. Per side: a warm-up pod per node (images in place, the first sandbox
made), then the measured batch, from the first create to the last pod Ready, on one clock in
this process (a pod watch):

* 1 x 90: ``kubelite up`` with its own agent in process, on its default store (SQLite), as
  a person runs it on one machine;
* 3 x 30: ``kubelite up --no-agent --store etcd://…`` on a 3-member etcd on 127.0.0.1 and
  three machines (network namespaces on a LAN of the bench's own, ``kubelite agent`` joined
  with a token each: tests/e2e/multinode/harness.py), the scheduler placing every pod.

For each: the time to all created (the API's answers), to all scheduled, to all Ready, the
median and longest pod start (create to Ready), pods per node; then the ratio 3x30 / 1x90
(below 1: three nodes bring the batch up faster). Everything is removed afterwards,
left-overs reported.

Needs root, runc, conmon, etcd, skopeo and the local registry's tools (devtools).

    python3 bench/cluster.py [--per-node 30] [--nodes 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools import registry, standins
from devtools.fixtures import registries_yaml
from kubelite.api.pki import Pki
from kubelite.client.informer import Informer
from kubelite.client.rest import PODS, ApiClient, Credentials
from tests.e2e.cluster.conftest import start_cluster, tear_down
from tests.e2e.etcd.etcdproc import ETCD, EtcdCluster
from tests.e2e.multinode.harness import Cluster as MultiNode

LABEL = "bench-cluster"


def pod(name: str, group: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": LABEL, "group": group}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "initContainers": [{"name": "init", "image": "busybox:1.36", "command": ["true"]}],
            "containers": [
                {
                    "name": "app",
                    "image": "busybox:1.36",
                    "command": ["sh", "-c", 'trap "exit 0" TERM; sleep 3600 & wait'],
                }
            ],
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": {"group": group}},
                }
            ],
        },
    }


class PodClock:
    """When each pod of a group was created, bound and first Ready (this process's clock)."""

    def __init__(self, client: ApiClient, group: str) -> None:
        self.group = group
        self.informer = Informer(client, PODS, namespace="default")
        self.bound: dict[str, float] = {}
        self.ready: dict[str, float] = {}
        self.node: dict[str, str] = {}
        self.informer.add_handler(self._on_pod)

    def _on_pod(self, kind: str, obj: dict[str, Any]) -> None:
        now = time.monotonic()
        meta = obj.get("metadata") or {}
        if (meta.get("labels") or {}).get("group") != self.group:
            return
        name = str(meta.get("name"))
        node = (obj.get("spec") or {}).get("nodeName")
        if node:
            self.bound.setdefault(name, now)
            self.node[name] = node
        conds = (obj.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds):
            self.ready.setdefault(name, now)


async def batch(client: ApiClient, group: str, count: int, timeout: float) -> dict[str, Any]:
    """Create ``count`` pods of ``group`` at once; figures once all are Ready."""
    clock = PodClock(client, group)
    watcher = asyncio.create_task(clock.informer.run())
    try:
        await clock.informer.synced.wait()
        names = [f"{group}-{i}" for i in range(count)]
        created: dict[str, float] = {}
        t0 = time.monotonic()

        async def create(name: str) -> None:
            created[name] = time.monotonic()
            await client.create(PODS, "default", pod(name, group))

        sem = asyncio.Semaphore(16)  # as a controller's burst of creates

        async def limited(name: str) -> None:
            async with sem:
                await create(name)

        await asyncio.gather(*(limited(n) for n in names))
        all_created = time.monotonic() - t0
        deadline = t0 + timeout
        while len(clock.ready) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{group}: {len(clock.ready)}/{count} pods Ready after "
                                   f"{timeout:g}s")  # fmt: skip
            await asyncio.sleep(0.05)
        starts = [clock.ready[n] - created[n] for n in names]
        per_node: dict[str, int] = {}
        for n in names:
            per_node[clock.node[n]] = per_node.get(clock.node[n], 0) + 1
        return {
            "all created s": all_created,
            "all scheduled s": max(clock.bound.values()) - t0,
            "all Ready s": max(clock.ready.values()) - t0,
            "median pod start s": statistics.median(starts),
            "longest pod start s": max(starts),
            "pods per node": ", ".join(f"{k} {v}" for k, v in sorted(per_node.items())),
        }
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


async def measure(url: str, pki_dir: Path, nodes: int, count: int) -> dict[str, Any]:
    pki = Pki(pki_dir)  # read only: the server's own files stay as they are
    client = ApiClient(Credentials(url, pki.ca_cert, pki.token()))
    try:
        await batch(client, "warm", nodes, 300)  # a pod per node: images, first sandbox
        return await batch(client, "bench", count, 900)
    finally:
        await client.close()


def single(base: Path, config: Path, count: int) -> dict[str, Any]:
    cluster = start_cluster(base / "single", config)
    try:
        url = f"https://127.0.0.1:{cluster.port}"
        return asyncio.run(measure(url, cluster.data_dir / "pki", 1, count))
    finally:
        for problem in tear_down(cluster):
            print(f"1 node: {problem}", file=sys.stderr)


def several(base: Path, config: Path, nodes: int, per_node: int) -> dict[str, Any]:
    etcd = EtcdCluster(base / "etcd", size=3)
    etcd.start()
    cluster: MultiNode | None = None
    try:
        cluster = MultiNode.open(base / "multi", config, up_extra=("--store", etcd.store_url))
        for i in range(1, nodes + 1):
            cluster.join(f"m{i}")
        deadline = time.monotonic() + 120
        while not all(cluster.node_ready(f"m{i}") for i in range(1, nodes + 1)):
            if time.monotonic() > deadline:
                raise TimeoutError("the nodes were not all Ready after 120s")
            time.sleep(0.5)
        control = cluster.control
        return asyncio.run(measure(control.url, control.data_dir / "pki", nodes,
                                   nodes * per_node))  # fmt: skip
    finally:
        if cluster is not None:
            for problem in cluster.close():
                print(f"{nodes} nodes: {problem}", file=sys.stderr)
        etcd.stop()


def run(nodes: int, per_node: int) -> list[tuple[str, dict[str, Any]]]:
    if ETCD is None:
        raise SystemExit("bench/cluster.py needs etcd (scripts/install-deps.sh)")
    base = Path(tempfile.mkdtemp(prefix="kubelite-bench-cluster-"))
    reg = registry.start(base / "registry")
    try:
        standins.push(reg.address, workdir=base)
        config = base / "registries.yaml"
        config.write_text(registries_yaml(reg.address))
        count = nodes * per_node
        one = single(base, config, count)
        many = several(base, config, nodes, per_node)
        multi = (
            f"{nodes} nodes x {per_node} (kubelite up on a 3-member etcd, {nodes} joined agents"
            " in network namespaces)"
        )
        return [
            (f"1 node x {count} (kubelite up, agent in process, store: SQLite)", one),
            (multi, many),
        ]
    finally:
        reg.stop()
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--per-node", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    results = run(args.nodes, args.per_node)
    for title, values in results:
        print(title)
        for key, value in values.items():
            shown = f"{value:10.3f}" if isinstance(value, float) else f"{value:>10}"
            print(f"  {key:24s} {shown}")
    (_, one), (_, many) = results
    print(f"ratio {args.nodes}x{args.per_node} / 1x{args.nodes * args.per_node} "
          "(below 1: faster on several nodes)")  # fmt: skip
    for key in ("all scheduled s", "all Ready s", "median pod start s"):
        print(f"  {key:24s} {many[key] / one[key]:10.2f}")
    if args.json:
        print(json.dumps({title: values for title, values in results}))


if __name__ == "__main__":
    main()
