"""Benchmark of the real runtime (not a test): latency of create → start → exit.

* one container (busybox ``true``) through RuncRuntime, against raw ``runc run`` of the very
  same bundle measured in the same run;
* a sandbox with three containers (sandbox set-up included), against three raw runs;
* sandbox teardown (``remove_sandbox`` of the three-container sandbox).

Prints median and p95 over ``--runs`` runs (default 30). Needs root, runc, conmon, busybox.

    python3 bench/runtime.py [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubelite.runtime.interface import ContainerConfig, SandboxConfig
from kubelite.runtime.runc import RuncRuntime
from kubelite.settings import Settings
from tests.e2e.runtime.busybox_rootfs import BusyboxRootfs, build_lower


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _report(name: str, values: list[float], base: list[float] | None = None) -> None:
    med, p95 = statistics.median(values) * 1000, _pct(values, 0.95) * 1000
    line = f"{name:<38} median {med:7.1f} ms   p95 {p95:7.1f} ms"
    if base:
        line += f"   ratio {med / (statistics.median(base) * 1000):4.2f}x (median)"
        line += f"  {p95 / (_pct(base, 0.95) * 1000):4.2f}x (p95)"
    print(line, flush=True)


async def _timed(fn: Callable[[], Awaitable[None]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


def _config(
    rt: RuncRuntime, name: str, n: int, argv: tuple[str, ...] = ("true",)
) -> ContainerConfig:
    log = rt.settings.pod_logs_dir / "bench_b_uid" / name / f"{n}.log"
    return ContainerConfig(name=name, attempt=n, image="busybox", command=argv, log_path=log)


async def _raw_runc(rt: RuncRuntime, bundle: Path, n: int) -> float:
    async def run() -> None:
        proc = await asyncio.create_subprocess_exec(
            *rt.runc.argv("run", "--bundle", str(bundle), f"raw-{n}"),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        if await proc.wait() != 0:
            raise SystemExit("raw runc run failed")

    return await _timed(run)


async def main(runs: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="kubelite-bench-"))
    try:
        rt = RuncRuntime(Settings(data_dir=base / "data"), BusyboxRootfs(build_lower(base)))
        await bench(rt, runs)
    finally:
        rt = RuncRuntime(Settings(data_dir=base / "data"), BusyboxRootfs(build_lower(base)))
        for sb in await rt.list_sandboxes():
            await rt.remove_sandbox(sb.id)
        shutil.rmtree(base, ignore_errors=True)


async def _three(
    rt: RuncRuntime, n: int, made: list[str], argv: tuple[str, ...] = ("true",), wait: bool = True
) -> None:
    """A fresh sandbox with three containers, each run to its exit when ``wait``."""
    config = SandboxConfig(pod_uid=f"p{n}", pod_name="t", namespace="bench", attempt=0,
                           hostname="t")  # fmt: skip
    sandbox = await rt.run_sandbox(config)
    made.append(sandbox)
    ids = []
    for name in ("a", "b", "c"):
        cid = await rt.create_container(sandbox, _config(rt, name, n, argv))
        await rt.start_container(cid)
        ids.append(cid)
    for cid in ids if wait else ():
        await rt.wait_container(cid, 10)


async def bench(rt: RuncRuntime, runs: int) -> None:
    sid = await rt.run_sandbox(
        SandboxConfig(pod_uid="uid", pod_name="b", namespace="bench", attempt=0, hostname="b")
    )
    # A bundle made by the runtime, kept for the raw runs (same config.json, same rootfs).
    keep = await rt.create_container(sid, _config(rt, "raw", 0))
    bundle = rt.containers.dir(keep)
    for i in range(3):  # warm-up: page cache, runc and conmon binaries
        await _raw_runc(rt, bundle, 1000 + i)
        cid = await rt.create_container(sid, _config(rt, "warm", i))
        await rt.start_container(cid)
        await rt.wait_container(cid, 10)
        await rt.remove_container(cid)

    raw: list[float] = []
    ours: list[float] = []
    for n in range(runs):  # interleaved, so both see the same machine load
        raw.append(await _raw_runc(rt, bundle, n))

        async def one(n: int = n) -> None:
            cid = await rt.create_container(sid, _config(rt, "one", n))
            await rt.start_container(cid)
            await rt.wait_container(cid, 10)

        ours.append(await _timed(one))
        for c in await rt.list_containers(sid):
            if c.id != keep:
                await rt.remove_container(c.id)

    trio: list[float] = []
    teardown: list[float] = []
    for n in range(runs):
        made: list[str] = []
        trio.append(await _timed(lambda n=n, made=made: _three(rt, n, made)))
        teardown.append(await _timed(lambda made=made: rt.remove_sandbox(made[0])))

    killed: list[float] = []
    for n in range(runs):
        made = []
        await _three(rt, n, made, argv=("sleep", "60"), wait=False)
        killed.append(await _timed(lambda made=made: rt.remove_sandbox(made[0])))

    print(f"runs: {runs}")
    _report("raw runc run (busybox true)", raw)
    _report("kubelite create+start+exit, 1 ctr", ours, raw)
    _report("kubelite sandbox + 3 ctrs to exit", trio, [3 * r for r in raw])
    _report("sandbox teardown (3 exited ctrs)", teardown)
    _report("sandbox teardown (3 running, SIGKILL)", killed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(parser.parse_args().runs))
