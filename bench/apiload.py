"""The API under load (issue 11's benchmark): 20 concurrent clients creating, listing and
watching for 60 s against a real ``kubelite up`` holding 5,000 pods, against the same with 100.
Each client paces itself (``--rate`` iterations a second, 1.5 by default: about the load of the
probe in issue 11, whose 20 clients added 1,600 pods in a minute); ``--rate 0`` runs flat out,
which measures throughput instead (latency is then queueing).

    python bench/apiload.py [--stored 5000 100] [--clients 20] [--seconds 60] [--rate 1.5]

Each run starts its own ``kubelite up --no-agent`` (API server on SQLite, scheduler, controllers;
no node agent, so no pod network and no containers; its own pod and Service ranges and
``--no-pod-egress`` regardless), registers a Node for the scheduler to bind to, and stores the
pods. Then every client, each with its own watch of the namespace open, loops: create a pod, list
the namespace (``limit=500``, kubectl's chunk size), delete the pod it created, so the number
stored stays put. Reported per verb: p50/p99 latency of ``create``, ``list`` and ``delete``, and
``watch`` (from a create's answer to its ADDED event reaching that client's watch); and the
server's RSS after loading, at the end, and after every pod is deleted again. Targets: create p99
<= 20 ms and list p99 <= 50 ms at 5,000 pods, the 5,000-pod figures within 1.5x of the 100-pod
ones.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.netranges import unique_ranges  # noqa: E402

NAMESPACE = "bench"
PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"
TARGETS = {"create_p99_ms": 20.0, "list_p99_ms": 50.0}
ADDED_NAME = re.compile(rb'^\{"type":"ADDED","object":\{.*?"metadata":\{"name":"([^"]+)"')
RATIO_KEYS = ("create_p50_ms", "create_p99_ms", "list_p50_ms", "list_p99_ms", "delete_p99_ms",
              "watch_p99_ms")  # fmt: skip


def pod(name: str, client: int = 99) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench", "client": str(client)}},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "busybox:1.36",
                    "command": ["sleep", "3600"],
                    "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}},
                    "env": [{"name": f"VAR_{i}", "value": f"value-{i}"} for i in range(5)],
                }
            ]
        },
    }


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    ssl: ssl.SSLContext
    headers: dict[str, str]
    tmp: Path


def _credentials(kubeconfig: Path, tmp: Path) -> tuple[str, ssl.SSLContext, dict[str, str]]:
    config = yaml.safe_load(kubeconfig.read_text())
    cluster = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    ca = tmp / "ca.crt"
    ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
    context = ssl.create_default_context(cafile=str(ca))
    headers = {}
    if "token" in user:
        headers["Authorization"] = f"Bearer {user['token']}"
    else:
        cert, key = tmp / "client.crt", tmp / "client.key"
        cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
        key.write_bytes(base64.b64decode(user["client-key-data"]))
        key.chmod(0o600)
        context.load_cert_chain(str(cert), str(key))
    return cluster["server"], context, headers


def start_server(tmp: Path) -> Server:
    ranges = unique_ranges()
    kubeconfig = tmp / "kubeconfig"
    log = (tmp / "up.log").open("w")
    profile = os.environ.get("APILOAD_PROFILE")  # a file: run the server under cProfile
    python = [sys.executable, *(["-m", "cProfile", "-o", profile] if profile else [])]
    proc = subprocess.Popen(
        [*python, "-m", "kubelite", "up", "--no-agent", "--data-dir", str(tmp / "data"),
         "--port", "0", "--kubeconfig-out", str(kubeconfig), "--log-level", "WARNING",
         *ranges.flags()],
        stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((tmp / "up.log").read_text())
        if kubeconfig.exists() and re.search(r"listening", (tmp / "up.log").read_text()):
            url, context, headers = _credentials(kubeconfig, tmp)
            return Server(proc, url, context, headers, tmp)
        time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError("kubelite up did not start in 60 s")


def stop_server(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@contextlib.asynccontextmanager
async def session(server: Server) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(ssl=server.ssl, limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    async with aiohttp.ClientSession(
        server.url, connector=connector, headers=server.headers, timeout=timeout
    ) as s:
        yield s


async def request(
    s: aiohttp.ClientSession, method: str, path: str, *, parse: bool = True, **kw: Any
) -> Any:
    """The answer, parsed unless ``parse`` is false (the client's own work is kept small:
    it shares the machine with the server it measures)."""
    async with s.request(method, path, **kw) as resp:
        body = await resp.read()
        if resp.status >= 400:
            raise RuntimeError(f"{method} {path}: {resp.status} {body[:300]!r}")
        return json.loads(body) if body and parse else None


async def prepare(s: aiohttp.ClientSession, stored: int) -> None:
    """The namespace, a Node to bind to, and ``stored`` pods (20 at a time)."""
    await request(s, "POST", "/api/v1/namespaces", json={"metadata": {"name": NAMESPACE}})
    capacity = {"cpu": "1000", "memory": "10Ti", "pods": "1000000"}
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "bench-node"},
            "status": {"capacity": capacity, "allocatable": capacity}}  # fmt: skip
    await request(s, "POST", "/api/v1/nodes", json=node)
    queue = list(range(stored))

    async def worker() -> None:
        while queue:
            i = queue.pop()
            await request(s, "POST", PODS, json=pod(f"stored-{i:05d}"))

    await asyncio.gather(*(worker() for _ in range(20)))


VERBS = ("create", "list", "delete", "watch")


@dataclass
class Samples:
    seconds: dict[str, list[float]] = field(default_factory=lambda: {v: [] for v in VERBS})
    errors: int = 0


async def client(
    s: aiohttp.ClientSession, n: int, until: float, rate: float, samples: Samples
) -> None:
    """One client: a watch of its own pods (a label selector: the server filters every event
    for every watcher, each client reads only its own), then create / list / delete until
    ``until``."""
    rv = (await request(s, "GET", PODS, params={"limit": "1"}))["metadata"]["resourceVersion"]
    created_at: dict[str, float] = {}
    seen = asyncio.Event()
    watch = await s.get(PODS, params={"watch": "1", "resourceVersion": rv,
                                      "labelSelector": f"client={n}",
                                      "allowWatchBookmarks": "true"})  # fmt: skip

    async def follow() -> None:
        async for line in watch.content:
            found = ADDED_NAME.search(line)
            name = found.group(1).decode() if found else ""
            if name in created_at:
                samples.seconds["watch"].append(time.perf_counter() - created_at.pop(name))
                seen.set()

    follower = asyncio.create_task(follow())
    i = 0
    start = time.perf_counter() + n * (1 / rate / 20 if rate else 0)  # spread the clients
    try:
        while time.perf_counter() < until:
            if rate:  # iteration i is due at start + i / rate; a late one runs at once
                await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            name = f"load-{n:02d}-{i:06d}"
            i += 1
            try:
                t0 = time.perf_counter()
                await request(s, "POST", PODS, json=pod(name, n), parse=False)
                t1 = time.perf_counter()
                samples.seconds["create"].append(t1 - t0)
                created_at[name] = t1
                await request(s, "GET", PODS, params={"limit": "500"}, parse=False)
                t2 = time.perf_counter()
                samples.seconds["list"].append(t2 - t1)
                await request(
                    s, "DELETE", f"{PODS}/{name}", json={"gracePeriodSeconds": 0}, parse=False
                )
                samples.seconds["delete"].append(time.perf_counter() - t2)
            except (RuntimeError, aiohttp.ClientError):
                samples.errors += 1
    finally:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(seen.wait(), 2)
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
            await follower
        watch.close()


async def delete_all(s: aiohttp.ClientSession) -> None:
    listing = await request(s, "GET", PODS)
    names = [p["metadata"]["name"] for p in listing["items"]]

    async def worker() -> None:
        while names:
            await request(s, "DELETE", f"{PODS}/{names.pop()}", json={"gracePeriodSeconds": 0})

    await asyncio.gather(*(worker() for _ in range(20)))


async def run(stored: int, clients: int, seconds: float, rate: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="kubelite-apiload-") as d:
        server = start_server(Path(d))
        try:
            async with session(server) as s:
                t0 = time.perf_counter()
                await prepare(s, stored)
                out: dict[str, float] = {
                    "stored": stored,
                    "load_s": time.perf_counter() - t0,
                    "rss_loaded_mb": rss_mb(server.proc.pid),
                }
                # the figures are the server's: this process's own full collections (its 20
                # clients' buffers, 40 000 samples) would otherwise land in the latencies
                gc.collect()
                gc.freeze()
                samples = Samples()
                until = time.perf_counter() + seconds
                await asyncio.gather(*(client(s, n, until, rate, samples) for n in range(clients)))
                out["rss_end_mb"] = rss_mb(server.proc.pid)
                for verb in VERBS:
                    got = samples.seconds[verb]
                    out[f"{verb}_p50_ms"] = percentile(got, 0.50)
                    out[f"{verb}_p99_ms"] = percentile(got, 0.99)
                    out[f"{verb}_count"] = len(got)
                out["errors"] = samples.errors
                gc.unfreeze()
                out["requests_per_s"] = 3 * len(samples.seconds["create"]) / seconds
                await delete_all(s)
                await asyncio.sleep(40)  # the store checks every 30 s whether it shrank
                out["rss_after_delete_mb"] = rss_mb(server.proc.pid)
                return out
        finally:
            stop_server(server.proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, nargs="+", default=[5000, 100])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--rate", type=float, default=1.5,
        help="iterations (create, list, delete) per second per client; 0: as fast as it goes",
    )  # fmt: skip
    args = parser.parse_args()
    results = [asyncio.run(run(n, args.clients, args.seconds, args.rate)) for n in args.stored]
    report: dict[str, Any] = {
        "clients": args.clients, "seconds": args.seconds, "rate_per_client": args.rate,
        "runs": [{k: round(v, 2) for k, v in r.items()} for r in results],
    }  # fmt: skip
    by = {int(r["stored"]): r for r in results}
    if 5000 in by:
        big = by[5000]
        report["targets"] = {k: {"value": round(big[k], 2), "target": v, "met": big[k] <= v}
                             for k, v in TARGETS.items()}  # fmt: skip
        if 100 in by:
            small = by[100]
            report["ratio_5000_to_100"] = {
                k: round(big[k] / small[k], 2) for k in RATIO_KEYS if small[k] > 0
            }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
