"""Benchmark of the Service proxy's rule updates (not a test): after one endpoint change,
how long until the kernel has the new rules (render the whole ruleset + one ``nft -f``)?

Against a floor measured in the same run, interleaved: one ``nft -f -`` of a trivial script
(the cost of any nft transaction at all). ``nft.apply`` goes through libnftables in-process;
the same update through the ``nft`` command is measured alongside. Also the render alone
at 100, 300 and 1000 Services. Each figure comes with its CPU time (this process and its
children), which the machine's other load does not inflate as it does the wall clock.
Runs in a throwaway network namespace (it re-executes itself inside it). Needs root and nft.

    python3 bench/proxy.py [--services 100] [--endpoints 3] [--updates 200]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubelite.model.service import EndpointSliceView, ServiceView
from kubelite.network import nft
from kubelite.network.proxyrules import ProxyConfig, render

CONFIG = ProxyConfig(
    table="kubelite-bench", pod_cidr="10.244.0.0/16", service_cidr="10.96.0.0/16",
    nodeport_addresses=("127.0.0.1", "10.244.0.1"),
)  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Timings:
    """Wall-clock and CPU time (this process and its children) of each run."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def _cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


class _Timed:
    def __init__(self, into: Timings) -> None:
        self.into = into

    def __enter__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), _cpu()

    def __exit__(self, *_: object) -> None:
        self.into.wall.append(time.perf_counter() - self.wall)
        self.into.cpu.append(_cpu() - self.cpu)


def _report(name: str, t: Timings, base: Timings | None = None) -> None:
    p50, p99 = statistics.median(t.wall) * 1000, _pct(t.wall, 0.99) * 1000
    cpu = statistics.median(t.cpu) * 1000
    line = f"{name:<46} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  cpu p50 {cpu:6.2f} ms"
    if base:
        line += f"  {p50 / (statistics.median(base.wall) * 1000):5.2f}x floor"
    print(line, flush=True)


def service(i: int) -> ServiceView:
    port: dict[str, object] = {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    spec: dict[str, object] = {"type": "ClusterIP", "clusterIP": f"10.96.{i // 250}.{i % 250 + 2}"}
    if i % 4 == 0:
        spec["type"], port["nodePort"] = "NodePort", 30000 + i
    if i % 10 == 0:
        spec["sessionAffinity"] = "ClientIP"
    dns = {"name": "dns", "port": 53, "targetPort": 5353, "protocol": "UDP"}
    spec["ports"] = [port, dns] if i % 5 == 0 else [port]
    return ServiceView.of({"metadata": {"namespace": "bench", "name": f"svc-{i}"}, "spec": spec})


def endpoints(i: int, n: int, generation: int = 0) -> EndpointSliceView:
    eps = [
        {"addresses": [f"10.244.{(i * n + k) // 250 % 250}.{(i * n + k) % 250 + 2}"]}
        for k in range(n)
    ]
    if generation:  # one endpoint replaced by a new pod
        eps[0] = {"addresses": [f"10.245.{generation // 250 % 250}.{generation % 250 + 2}"]}
    return EndpointSliceView.of({
        "metadata": {"namespace": "bench", "name": f"svc-{i}-abc",
                     "labels": {"kubernetes.io/service-name": f"svc-{i}"}},
        "addressType": "IPv4",
        "endpoints": eps,
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"},
                  {"name": "dns", "port": 5353, "protocol": "UDP"}],
    })  # fmt: skip


def _render_times(count: int, per: int, runs: int) -> tuple[Timings, str]:
    services = [service(i) for i in range(count)]
    slices = [endpoints(i, per) for i in range(count)]
    times, text = Timings(), ""
    for _ in range(runs):
        with _Timed(times):
            text = render(services, slices, CONFIG)
    return times, text


def _raw_nft(script: bytes) -> None:
    """One plain ``nft -f -``, waited for without an event loop: the floor."""
    subprocess.run(["nft", "-f", "-"], input=script, check=True)


async def inside(count: int, per: int, updates: int) -> None:
    for n in (count, 300, 1000):
        times, text = _render_times(n, per, 30 if n <= 300 else 10)
        lines, size = text.count("\n"), len(text) // 1024
        _report(f"render, {n} Services ({lines} lines, {size} KiB)", times)

    services = [service(i) for i in range(count)]
    slices = [endpoints(i, per) for i in range(count)]
    trivial = b"add table ip kubelite-floor\n"
    for _ in range(5):  # warm-up: page cache, nft binary, kernel objects
        _raw_nft(trivial)
        await nft.apply(render(services, slices, CONFIG))

    floor, floor_edge, update, command = Timings(), Timings(), Timings(), Timings()
    for u in range(1, updates + 1):  # interleaved, so all see the same machine load
        with _Timed(floor):
            _raw_nft(trivial)
        with _Timed(floor_edge):
            await nft.apply(trivial.decode())
        i = u % count
        slices[i] = endpoints(i, per, generation=u)
        with _Timed(update):
            await nft.apply(render(services, slices, CONFIG))
        slices[i] = endpoints(i, per, generation=u + updates)
        with _Timed(command):
            _raw_nft(render(services, slices, CONFIG).encode())

    print(f"updates: {updates}, Services: {count}, endpoints each: {per}, load {_load()}")
    _report("floor: nft -f - of a trivial script", floor)
    _report("floor through nft.apply (libnftables)", floor_edge, floor)
    _report("one endpoint changed: render + nft.apply", update, floor)
    _report("  the same through the nft command", command, floor)
    await nft.delete_table("ip", CONFIG.table)


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        asyncio.run(inside(args.services, args.endpoints, args.updates))
        return
    netns = f"kl-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        argv = [sys.executable, __file__, "--inside", "--services", str(args.services),
                "--endpoints", str(args.endpoints), "--updates", str(args.updates)]  # fmt: skip
        subprocess.run(["ip", "netns", "exec", netns, *argv], check=True)
    finally:
        subprocess.run(["ip", "netns", "delete", netns], check=False)


if __name__ == "__main__":
    main()
