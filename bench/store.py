"""The API on etcd against the API on SQLite, in the same run: create, get, list and watch.

    python bench/store.py [--pods 500] [--watchers 20] [--members 1] [--parallel 16]

Both are measured in-process over HTTP (no TLS) against an ApiServer with no authentication,
so the figures include JSON, routing, the registry and the store: SQLite commits with fsync
on every write (group commit under concurrency); etcd is a real etcd (``--members`` of them on
127.0.0.1, data in a tmp dir) reached through its JSON gateway, every write a compare-and-swap
transaction agreed by the members. For etcd a second API server on the same etcd measures how
soon a write through one reaches a watch on the other. Output: each store's figures and
etcd/SQLite ratios (above 1: etcd is slower).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubelite.api.server import ApiServer
from kubelite.registry.bootstrap import bootstrap
from kubelite.store.etcd import EtcdStore
from kubelite.store.etcdconfig import parse_etcd_url
from kubelite.store.interface import Store
from kubelite.store.sqlite import SqliteStore
from tests.e2e.etcd.etcdproc import EtcdCluster

PODS = "/api/v1/namespaces/default/pods"


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"b": "1"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p))] * 1000


async def timed(samples: list[float], request: Any) -> None:
    t0 = time.perf_counter()
    async with request as r:
        await r.read()
        assert r.status < 300, (r.status, await r.text())
    samples.append(time.perf_counter() - t0)


async def measure(store: Store, args: argparse.Namespace, peer: Store | None) -> dict[str, float]:
    server = ApiServer(store=store, require_auth=False)
    await bootstrap(server.registry)
    out: dict[str, float] = {}
    async with TestServer(server.app) as ts, aiohttp.ClientSession(str(ts.make_url(""))) as s:
        creates: list[float] = []
        for i in range(args.pods):
            await timed(creates, s.post(PODS, json=pod(f"p{i}")))
        gets: list[float] = []
        for i in range(args.pods):
            await timed(gets, s.get(f"{PODS}/p{i}"))
        out["create_p50_ms"], out["create_p99_ms"] = pct(creates, 0.5), pct(creates, 0.99)
        out["get_p50_ms"], out["get_p99_ms"] = pct(gets, 0.5), pct(gets, 0.99)
        lists: list[float] = []
        for _ in range(20):
            await timed(lists, s.get(PODS))
        out[f"list_{args.pods}_p50_ms"] = pct(lists, 0.5)
        pages: list[float] = []
        for _ in range(20):
            await timed(pages, s.get(PODS, params={"limit": "50"}))
        out["list_page_50_p50_ms"] = pct(pages, 0.5)
        out["parallel_creates_per_s"] = await parallel_creates(s, args.parallel, args.pods)
        out.update(await fanout(s, s, args.watchers, "watch"))
        if peer is not None:
            other = ApiServer(store=peer, require_auth=False)
            async with (
                TestServer(other.app) as ts2,
                aiohttp.ClientSession(str(ts2.make_url(""))) as s2,
            ):
                out.update(await fanout(s, s2, args.watchers, "watch_other_server"))
    return out


async def parallel_creates(s: aiohttp.ClientSession, clients: int, total: int) -> float:
    names = iter(range(total))

    async def client() -> None:
        for i in names:
            async with s.post(PODS, json=pod(f"par{i}")) as r:
                await r.read()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return total / (time.perf_counter() - t0)


async def fanout(
    writer: aiohttp.ClientSession, reader: aiohttp.ClientSession, watchers: int, name: str
) -> dict[str, float]:
    async with reader.get(PODS, params={"limit": "1"}) as r:
        rv = (await r.json())["metadata"]["resourceVersion"]
    streams = [
        await reader.get(PODS, params={"watch": "1", "resourceVersion": rv})
        for _ in range(watchers)
    ]
    rounds = []
    for i in range(20):
        t0 = time.perf_counter()
        async with writer.post(PODS, json=pod(f"{name.replace('_', '-')}-{i}")) as r:
            await r.read()
            assert r.status == 201, r.status
        await asyncio.gather(*(st.content.readline() for st in streams))
        rounds.append(time.perf_counter() - t0)
    for st in streams:
        st.close()
    return {
        f"{name}_{watchers}_p50_ms": pct(rounds, 0.5),
        f"{name}_{watchers}_max_ms": max(rounds) * 1000,
    }


async def run(args: argparse.Namespace, tmp: Path, etcd_url: str) -> dict[str, Any]:
    sqlite = SqliteStore(tmp / "db")
    try:
        on_sqlite = await measure(sqlite, args, None)
    finally:
        await sqlite.close()
    config = parse_etcd_url(etcd_url + "/bench")
    etcd, peer = EtcdStore(config), EtcdStore(config)
    try:
        on_etcd = await measure(etcd, args, peer)
    finally:
        await etcd.close()
        await peer.close()
    ratios = {k: on_etcd[k] / v for k, v in on_sqlite.items() if k in on_etcd and v}
    return {
        "sqlite": on_sqlite,
        "etcd": on_etcd,
        "etcd_over_sqlite": ratios,
        "etcd_members": args.members,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=500)
    parser.add_argument("--watchers", type=int, default=20)
    parser.add_argument("--members", type=int, default=1, help="etcd members (1 or 3)")
    parser.add_argument("--parallel", type=int, default=16, help="concurrent creating clients")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cluster = EtcdCluster(tmp / "etcd", size=args.members)
        cluster.start()
        try:
            results = asyncio.run(run(args, tmp, cluster.store_url))
        finally:
            cluster.stop()
    rounded = {
        k: ({n: round(x, 2) for n, x in v.items()} if isinstance(v, dict) else v)
        for k, v in results.items()
    }
    print(json.dumps(rounded, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
