"""API server benchmarks: request latency, watch fan-out, idle memory, time to first kubectl.

    python bench/api.py [--pods 1000] [--watchers 50]

Latencies are measured in-process over HTTP against the SQLite store (fsync on every write),
so they include JSON, routing, registry and durable commit, but not TLS. Idle RSS and time to
the first ``kubectl get pods`` are measured on a real ``kubelite up`` subprocess.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from kubelite.api.server import ApiServer
from kubelite.registry.bootstrap import bootstrap
from kubelite.store.sqlite import SqliteStore

PODS = "/api/v1/namespaces/default/pods"


def pod(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"b": "1"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p))] * 1000


async def latency(n: int, watchers: int, tmp: Path) -> dict[str, float]:
    server = ApiServer(store=SqliteStore(tmp / "db"), require_auth=False)
    await bootstrap(server.registry)
    out: dict[str, float] = {}
    async with TestServer(server.app) as ts, aiohttp.ClientSession(str(ts.make_url(""))) as s:
        for verb in ("create", "get"):
            samples = []
            for i in range(n):
                t0 = time.perf_counter()
                if verb == "create":
                    r = await s.post(PODS, json=pod(f"p{i}"))
                else:
                    r = await s.get(f"{PODS}/p{i}")
                await r.read()
                samples.append(time.perf_counter() - t0)
            out[f"{verb}_p50_ms"], out[f"{verb}_p99_ms"] = pct(samples, 0.5), pct(samples, 0.99)
        samples = []
        for _ in range(20):
            t0 = time.perf_counter()
            await (await s.get(PODS)).read()
            samples.append(time.perf_counter() - t0)
        out[f"list_{n}_p50_ms"] = pct(samples, 0.5)
        table = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
        t0 = time.perf_counter()
        await (await s.get(PODS, headers=table)).read()
        out[f"list_{n}_table_ms"] = (time.perf_counter() - t0) * 1000
        out.update(await fanout(s, watchers))
    await server.stop()
    return out


async def fanout(s: aiohttp.ClientSession, watchers: int) -> dict[str, float]:
    rv = (await (await s.get(PODS + "?limit=1")).json())["metadata"]["resourceVersion"]
    streams = [
        await s.get(PODS, params={"watch": "1", "resourceVersion": rv}) for _ in range(watchers)
    ]
    rounds = []
    for i in range(10):
        t0 = time.perf_counter()
        await (await s.post(PODS, json=pod(f"w{i}"))).read()
        await asyncio.gather(*(r.content.readline() for r in streams))
        rounds.append(time.perf_counter() - t0)
    for r in streams:
        r.close()
    return {
        f"watch_{watchers}_delivery_p50_ms": pct(rounds, 0.5),
        f"watch_{watchers}_delivery_max_ms": max(rounds) * 1000,
    }


def process_metrics(tmp: Path) -> dict[str, float]:
    kc = tmp / "kc"
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kubelite",
            "up",
            "--data-dir",
            str(tmp / "up"),
            "--port",
            "0",
            "--kubeconfig-out",
            str(kc),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert re.search(r"listening", line), line
        r = subprocess.run(
            ["kubectl", "--kubeconfig", str(kc), "--cache-dir", str(tmp / "cache"), "get", "pods"],
            capture_output=True,
            timeout=30,
        )
        first = time.monotonic() - t0
        assert r.returncode == 0, r.stderr
        time.sleep(2)
        rss_kb = 0
        for status in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if status.startswith("VmRSS:"):
                rss_kb = int(status.split()[1])
        return {"first_kubectl_get_pods_s": first, "idle_rss_mb": rss_kb / 1024}
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--watchers", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        results = asyncio.run(latency(args.pods, args.watchers, tmp))
        results.update(process_metrics(tmp))
    print(json.dumps({k: round(v, 2) for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
