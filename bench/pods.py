"""Benchmark of whole pods on the real runtime (not a test): submit → all containers running.

The pod: one init container (``true``), one native sidecar whose exec startup probe (``true``)
passes at once, one app (``sleep``). Composed as ``kubelite run`` composes it (NodeAgent fed by
StaticPods, the real runc/conmon runtime and image store), in this process, so submission and
the status update that shows every container running are timestamped on one clock.

1. one pod at a time, ``--pods`` times (default 30): median and p95 of submit → running, beside
   the runc floor measured in the same run, interleaved: the sum of raw ``runc run`` latencies
   of the same three containers (``true`` to its exit, then two ``sleep``s detached, i.e. until
   started) on a busybox bundle made with ``runc spec``; and, as the pod network's own
   irreducible cost, a bare CNI ADD of the node's plugin chain (the plugins executed with
   their network configuration, as ``cnitool`` would, into a network namespace made
   beforehand), measured in the same run: the ratio is printed to the runc floor alone and to
   the runc floor plus that ADD;
2. ``--burst`` pods (default 100) submitted at once: time until all are running, this process's
   CPU time (the agent; runc/conmon children apart) and its peak RSS while they start; and,
   as the burst's floor measured in the same run, the CPU the whole machine spent busy meanwhile
   (``/proc/stat``) less the agent's: the work of runc, conmon, the CNI plugins and the kernel,
   spread over every core, is how long the burst would take if the agent cost nothing. The
   burst is printed as a ratio to that floor (run it on an otherwise quiet machine);
3. the agent's idle RSS (running, no pods), before the pods and after they are gone.

Starts and stops its own local registry (devtools) with the stand-in images. Needs root, runc,
conmon, skopeo, docker-registry and busybox.

    python3 bench/pods.py [--pods 30] [--burst 100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools import registry, standins
from devtools.fixtures import registries_yaml
from kubelite.agent.node import Node, NodeAgent, build_node
from kubelite.agent.static import StaticPods
from kubelite.clock import SystemClock
from kubelite.network import cniconfig
from kubelite.network.layout import CNI_BIN_DIRS, POD_IFNAME, NetworkLayout
from kubelite.nodemetrics import busy_ticks
from kubelite.registry.pod_defaults import default_pod
from kubelite.runtime import namespaces
from kubelite.settings import Settings
from tests.e2e.run import leftovers
from tests.e2e.runtime.busybox_rootfs import build_lower

IMAGE = "busybox:1.36"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _machine_busy_s() -> float:
    """CPU-seconds all cores have spent busy since boot, as the node's metrics count them."""
    return busy_ticks(Path("/proc/stat").read_text()) / os.sysconf("SC_CLK_TCK")


def bench_pod(name: str) -> dict[str, Any]:
    return default_pod(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "initContainers": [
                    {"name": "init", "image": IMAGE, "command": ["true"]},
                    {
                        "name": "sidecar",
                        "image": IMAGE,
                        "restartPolicy": "Always",
                        "command": ["sleep", "3600"],
                        "startupProbe": {"exec": {"command": ["true"]}, "periodSeconds": 1},
                    },
                ],
                "containers": [{"name": "app", "image": IMAGE, "command": ["sleep", "3600"]}],
            },
        }
    )


def all_running(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    inits = {c["name"]: c for c in status.get("initContainerStatuses") or ()}
    apps = {c["name"]: c for c in status.get("containerStatuses") or ()}
    init_done = ((inits.get("init") or {}).get("state") or {}).get("terminated", {})
    return (
        init_done.get("exitCode") == 0
        and "running" in ((inits.get("sidecar") or {}).get("state") or {})
        and "running" in ((apps.get("app") or {}).get("state") or {})
    )


# ---------------------------------------------------------------------- the runc floor


class RawRunc:
    """``runc run`` of busybox bundles made with ``runc spec``, in a runc root of its own."""

    def __init__(self, base: Path) -> None:
        self.root = base / "raw-runc"
        lower = build_lower(base)
        self.bundles = {}
        for name, args in (("true", ["true"]), ("sleep", ["sleep", "3600"])):
            bundle = base / f"bundle-{name}"
            bundle.mkdir()
            subprocess.run(["runc", "spec", "--bundle", str(bundle)], check=True)
            config = json.loads((bundle / "config.json").read_text())
            config["process"]["terminal"] = False
            config["process"]["args"] = args
            config["root"] = {"path": str(lower), "readonly": True}
            (bundle / "config.json").write_text(json.dumps(config))
            self.bundles[name] = bundle
        self.ids: list[str] = []

    async def _run(self, cid: str, bundle: str, *, detach: bool) -> float:
        argv = ["runc", "--root", str(self.root), "run", *(["-d"] if detach else [])]
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *argv, "--bundle", str(self.bundles[bundle]), cid,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        if await proc.wait() != 0:
            raise SystemExit(f"raw runc run of {cid} failed")
        return time.perf_counter() - start

    async def pod_floor(self, n: int) -> float:
        """init ``true`` to its exit + sidecar and app ``sleep`` until started."""
        total = await self._run(f"raw-{n}-init", "true", detach=False)
        for name in ("sidecar", "app"):
            cid = f"raw-{n}-{name}"
            self.ids.append(cid)
            total += await self._run(cid, "sleep", detach=True)
        await self.remove()
        return total

    async def remove(self) -> None:
        for cid in self.ids:
            for args in (("kill", cid, "KILL"), ("delete", "--force", cid)):
                proc = await asyncio.create_subprocess_exec(
                    "runc", "--root", str(self.root), *args,
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
                await proc.wait()
        self.ids.clear()


class BareCni:
    """The node's CNI plugin chain run by hand: each plugin's ADD, in order, with the
    previous result, as libcni chains them (no cache file, no Python around it but the
    spawn); DEL afterwards, untimed, so the addresses go back to the pool."""

    def __init__(self, base: Path, layout: NetworkLayout) -> None:
        self.base = base / "bare-cni"
        self.base.mkdir()
        self.conf = cniconfig.network_config_list(layout, port_mappings=False)
        self.path = ":".join(str(d) for d in CNI_BIN_DIRS)

    def _binary(self, plugin: str) -> str:
        for d in CNI_BIN_DIRS:
            if (d / plugin).exists():
                return str(d / plugin)
        raise SystemExit(f"CNI plugin {plugin} not found")

    async def _chain(
        self, command: str, cid: str, netns: str, result: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """ADD: ``result`` threads through the plugins; DEL (reversed): the ADD's result."""
        plugins = self.conf["plugins"]
        for plugin in plugins if command == "ADD" else list(reversed(plugins)):
            stdin = cniconfig.plugin_input(
                self.conf, plugin, prev_result=result, capability_args={}
            )
            env = {
                "CNI_COMMAND": command, "CNI_CONTAINERID": cid, "CNI_NETNS": netns,
                "CNI_IFNAME": POD_IFNAME, "CNI_PATH": self.path, "PATH": "/usr/sbin:/usr/bin",
            }  # fmt: skip
            proc = await asyncio.create_subprocess_exec(
                self._binary(plugin["type"]), env=env, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await proc.communicate(cniconfig.dumps(stdin))
            if proc.returncode != 0:
                raise SystemExit(f"bare CNI {command} failed: {(out or err).decode()[:300]}")
            if command == "ADD":
                result = json.loads(out) if out.strip() else result
        return result

    async def add_cost(self, n: int) -> float:
        """One ADD of the chain into a fresh network namespace (made and removed untimed)."""
        d = self.base / f"ns-{n}"
        await namespaces.create_namespaces(d, f"bare-{n}", ("net",))
        netns = str(namespaces.ns_path(d, "net"))
        cid = f"bare-cni-{n}"
        try:
            start = time.perf_counter()
            result = await self._chain("ADD", cid, netns)
            took = time.perf_counter() - start
            await self._chain("DEL", cid, netns, result)
        finally:
            namespaces.remove_namespaces(d)
        return took


# ---------------------------------------------------------------------- the agent


class Bench:
    def __init__(self, node: Node, settings: Settings) -> None:
        self.clock = SystemClock()
        self.running_at: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Event] = {}
        self.source = StaticPods(
            clock=self.clock, node_name=settings.node_name, on_status=self._on_status
        )
        self.agent = NodeAgent(
            settings=settings, runtime=node.runtime, images=node.images, client=self.source,
            clock=self.clock,
        )  # fmt: skip

    def _on_status(self, pod: dict[str, Any]) -> None:
        name = pod["metadata"]["name"]
        if name not in self.running_at and all_running(pod):
            self.running_at[name] = time.perf_counter()
            if name in self.waiters:
                self.waiters[name].set()

    def submit(self, name: str) -> tuple[float, asyncio.Event]:
        pod = bench_pod(name)
        self.waiters[name] = asyncio.Event()
        at = time.perf_counter()
        self.source.add_pod(pod)
        return at, self.waiters[name]

    async def delete_all(self) -> None:
        if self.source.pods():
            self.source.delete_all(grace=0)
            await asyncio.wait_for(self.source.removed.wait(), 300)


async def idle_rss(seconds: float = 3.0) -> int:
    await asyncio.sleep(seconds)
    return _rss_kb()


async def main(base: Path, address: str, pods: int, burst: int) -> None:
    (base / "registries.yaml").write_text(registries_yaml(address))
    settings = Settings(data_dir=base / "data", registry_config=base / "registries.yaml")
    node = await build_node(settings)
    raw = RawRunc(base)
    assert node.network is not None, "the bench needs the node's pod network"
    cni = BareCni(base, node.network)
    try:
        bench = Bench(node, settings)
        agent_task = asyncio.create_task(bench.agent.run())
        try:
            await run_phases(bench, raw, cni, pods, burst)
        finally:
            await bench.delete_all()
            agent_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await agent_task
    finally:
        await raw.remove()
        for sandbox in await node.runtime.list_sandboxes():
            await node.runtime.remove_sandbox(sandbox.id)
        await node.close()


def run(pods: int, burst: int) -> None:
    """Registry up, benchmark, then everything removed (left-overs by id, even on failure)."""
    base = Path(tempfile.mkdtemp(prefix="kubelite-bench-pods-"))
    reg = registry.start(base / "registry")
    try:
        standins.push(reg.address, workdir=base)
        asyncio.run(main(base, reg.address, pods, burst))
    finally:
        reg.stop()
        found = leftovers.find(base / "data")
        if found:
            print(f"removing left-overs: {found.describe()}", file=sys.stderr)
            leftovers.remove(base / "data", found)
        shutil.rmtree(base, ignore_errors=True)


async def run_phases(bench: Bench, raw: RawRunc, cni: BareCni, pods: int, burst: int) -> None:
    # warm-up: the image pull, page cache, runc/conmon binaries
    for i in range(2):
        _, ready = bench.submit(f"warm-{i}")
        await asyncio.wait_for(ready.wait(), 120)
        await raw.pod_floor(1000 + i)
        await cni.add_cost(1000 + i)
    await bench.delete_all()
    idle_before = await idle_rss()

    # 1. one pod at a time, interleaved with the raw floor
    latencies: list[float] = []
    floors: list[float] = []
    adds: list[float] = []
    for i in range(pods):
        floors.append(await raw.pod_floor(i))
        adds.append(await cni.add_cost(i))
        name = f"seq-{i}"
        at, ready = bench.submit(name)
        await asyncio.wait_for(ready.wait(), 60)
        latencies.append(bench.running_at[name] - at)
        await bench.delete_all()

    # 2. a burst
    peak = [_rss_kb()]
    sampling = True

    async def sample() -> None:
        while sampling:
            peak[0] = max(peak[0], _rss_kb())
            await asyncio.sleep(0.02)

    sampler = asyncio.create_task(sample())
    cpu0 = _cpu_s()
    busy0 = _machine_busy_s()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    events = [bench.submit(f"burst-{i}")[1] for i in range(burst)]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 600)
    elapsed = time.perf_counter() - start
    cpu = _cpu_s() - cpu0
    busy = _machine_busy_s() - busy0
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampling = False
    await sampler
    child_cpu = (children1.ru_utime + children1.ru_stime) - (
        children0.ru_utime + children0.ru_stime
    )
    teardown_start = time.perf_counter()
    await bench.delete_all()
    teardown = time.perf_counter() - teardown_start
    idle_after = await idle_rss()

    med, p95 = statistics.median(latencies), _pct(latencies, 0.95)
    fmed, fp95 = statistics.median(floors), _pct(floors, 0.95)
    print(f"pods one at a time: {pods}")
    print(f"  submit -> all 3 containers running   median {_ms(med)}   p95 {_ms(p95)}")
    print(f"  runc floor (sum of 3 raw runc run)    median {_ms(fmed)}   p95 {_ms(fp95)}")
    ratio, ratio95 = med / fmed, p95 / fp95
    print(f"  ratio to the floor                    median {ratio:5.2f}x     p95 {ratio95:5.2f}x")
    net = [f + a for f, a in zip(floors, adds, strict=True)]
    amed, ap95 = statistics.median(adds), _pct(adds, 0.95)
    nmed, np95 = statistics.median(net), _pct(net, 0.95)
    print(f"  bare CNI ADD of the plugin chain      median {_ms(amed)}   p95 {_ms(ap95)}")
    print(f"  runc floor + CNI ADD                  median {_ms(nmed)}   p95 {_ms(np95)}")
    nratio, nratio95 = med / nmed, p95 / np95
    print(f"  ratio to the floor with the network   median {nratio:5.2f}x     p95 {nratio95:5.2f}x")
    print(f"burst: {burst} pods submitted at once")
    print(f"  all running after                     {elapsed:7.2f} s")
    print(f"  agent CPU time (this process)         {cpu:7.2f} s")
    print(f"  waited-for children CPU (runc, ...)   {child_cpu:7.2f} s")
    cores = os.cpu_count() or 1
    rest = busy - cpu
    floor = rest / cores
    print(f"  machine busy CPU (every process)      {busy:7.2f} s")
    print(f"  of it not the agent (runc, kernel...) {rest:7.2f} s")
    print(f"  burst floor: that work on {cores:2d} cores    {floor:7.2f} s")
    print(f"  ratio to the burst floor              {elapsed / floor:7.2f}x")
    print(f"  agent peak RSS                        {peak[0] / 1024:7.1f} MB")
    print(f"  deleting all (grace 0)                {teardown:7.2f} s")
    print(f"agent idle RSS: before {idle_before / 1024:.1f} MB, after {idle_after / 1024:.1f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=30)
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args()
    run(args.pods, args.burst)
