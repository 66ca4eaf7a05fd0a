"""Pod network benchmark (not a test), on the real components:

1. Sandbox creation with the pod network (CNI bridge + host-local + portmap ADD, cached
   result) against without it (loopback only), median and p90 over ``--sandboxes`` sandboxes
   each, created alternately. Anchor: the CNI step is the long pole of sandbox creation in
   containerd; target: the network adds at most 15 ms.
2. Cluster DNS from a pod: queries per second and p50/p99 from inside a pod's network
   namespace to the kube-dns Service IP (veth, bridge, the proxy's nftables DNAT, the DNS
   server on the node), against the same server queried from the node directly (the floor).
   Target: at least 2,000 qps, p99 at most 5 ms.

Everything is made under a temporary data directory with its own pod and Service ranges and
no egress, and removed at the end (sandboxes, the node network, the nftables table).

    python3 bench/network.py [--sandboxes 30] [--queries 20000] [--window 8]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import ipaddress
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubelite.images.service import Images
from kubelite.model.service import EndpointSliceView, ServiceView
from kubelite.network import hostsetup, nft, proxyrules
from kubelite.network.cni import CniNetwork
from kubelite.network.layout import NetworkLayout
from kubelite.runtime.interface import SandboxConfig
from kubelite.runtime.netdial import socket_in_netns
from kubelite.runtime.network import LoopbackNetwork
from kubelite.runtime.runc import RuncRuntime
from kubelite.settings import Settings

_spec = importlib.util.spec_from_file_location("dnsbench", Path(__file__).with_name("dns.py"))
assert _spec is not None and _spec.loader is not None
dnsbench: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dnsbench)


def _ranges() -> tuple[str, str]:
    routed = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    pool = list(ipaddress.ip_network("10.200.0.0/13").subnets(new_prefix=24))
    while True:
        pod, svc = random.sample(pool, 2)
        if (
            str(pod.network_address)[:-1] not in routed
            and str(svc.network_address)[:-1] not in routed
        ):
            return str(pod), str(svc)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# --- 1. sandbox creation ----------------------------------------------------------------------


async def sandboxes(settings: Settings, count: int) -> dict[str, list[float]]:
    layout = NetworkLayout.from_settings(settings)
    await hostsetup.ensure(layout)
    rootfs = Images.from_settings(settings).rootfs
    runtimes = {
        "loopback only": RuncRuntime(settings, rootfs, network=LoopbackNetwork()),
        "pod network": RuncRuntime(settings, rootfs, network=CniNetwork(layout)),
    }
    times: dict[str, list[float]] = {name: [] for name in runtimes}
    made: list[tuple[RuncRuntime, str]] = []
    try:
        for i in range(count + 2):  # the first round warms caches up and is not counted
            for name, rt in runtimes.items():
                config = SandboxConfig(
                    pod_uid=f"bench-{name[0]}-{i}", pod_name=f"bench-{i}", namespace="bench",
                    attempt=0, hostname=f"bench-{i}",
                )  # fmt: skip
                t0 = time.perf_counter()
                sid = await rt.run_sandbox(config)
                if i >= 2:
                    times[name].append(time.perf_counter() - t0)
                made.append((rt, sid))
    finally:
        for rt, sid in made:
            await rt.remove_sandbox(sid)
        for rt in runtimes.values():
            await rt.close()
    return times


# --- 2. DNS from a pod ------------------------------------------------------------------------


def serve_dns(address: str, services: int) -> None:
    """Child process: the cluster DNS server on ``address``:53 with the bench's Services."""
    from kubelite.network.dnsserver import DnsServer

    async def main() -> None:
        views, slices = dnsbench.cluster(services)
        async with DnsServer(address=address, port=53) as server:
            server.update(views, slices)
            print("ready", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main())


def kube_dns(layout: NetworkLayout) -> tuple[ServiceView, EndpointSliceView]:
    svc = ServiceView.of(
        {
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "uid": "u"},
            "spec": {
                "clusterIP": str(layout.dns_service_ip),
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}],
            },
        }
    )
    slice_ = EndpointSliceView.of(
        {
            "metadata": {
                "name": "kube-dns-bench", "namespace": "kube-system",
                "labels": {"kubernetes.io/service-name": "kube-dns"},
            },
            "addressType": "IPv4",
            "endpoints": [{"addresses": [str(layout.gateway)], "conditions": {"ready": True}}],
            "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}],
        }
    )  # fmt: skip
    return svc, slice_


def load_from(
    make: Callable[[], socket.socket], address: tuple[str, int], args: argparse.Namespace
) -> dict[str, float]:
    """bench/dns.py's load generator, on UDP sockets from ``make`` connected to ``address``."""
    wires = dnsbench.queries("mix", args.services)

    def connected() -> socket.socket:
        sock = make()
        sock.connect(address)
        return sock

    dnsbench.load(0, wires, 500, args.window, sock=connected())  # warm up
    out: dict[str, float] = dnsbench.load(0, wires, args.queries, args.window, sock=connected())
    return out


async def dns_from_pod(settings: Settings, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    layout = NetworkLayout.from_settings(settings)
    facts = await hostsetup.ensure(layout)
    rootfs = Images.from_settings(settings).rootfs
    rt = RuncRuntime(settings, rootfs, network=CniNetwork(layout))
    config = proxyrules.ProxyConfig.from_layout(layout, masquerade_all=not facts.bridge_netfilter)
    argv = [sys.executable, __file__, "--serve-dns", str(layout.gateway),
            "--services", str(args.services)]  # fmt: skip
    server = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # noqa: ASYNC220
    sid = None
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        svc, slice_ = kube_dns(layout)
        await nft.apply(proxyrules.render([svc], [slice_], config))
        sid = await rt.run_sandbox(
            SandboxConfig(pod_uid="bench-dns", pod_name="client", namespace="bench", attempt=0,
                          hostname="client")
        )  # fmt: skip
        (status,) = [s for s in await rt.list_sandboxes() if s.id == sid]
        from_node = load_from(
            lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM), (str(layout.gateway), 53),
            args,
        )  # fmt: skip
        from_pod = load_from(
            lambda: socket_in_netns(status.netns_path, socket.AF_INET, socket.SOCK_DGRAM),
            (str(layout.dns_service_ip), 53), args,
        )  # fmt: skip
        return {"from the node, to the server": from_node, "from a pod, to kube-dns": from_pod}
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)
        if sid is not None:
            await rt.remove_sandbox(sid)
        await rt.close()
        await nft.delete_table("ip", layout.nft_table)


async def main(args: argparse.Namespace) -> None:
    base = Path(tempfile.mkdtemp(prefix="kubelite-bench-net-"))
    pod_cidr, service_cidr = _ranges()
    settings = Settings(
        data_dir=base, pod_cidr=pod_cidr, service_cidr=service_cidr, pod_egress=False
    )
    try:
        print(f"sandbox creation, {args.sandboxes} each, alternating (ms):", flush=True)
        times = await sandboxes(settings, args.sandboxes)
        base_ms = statistics.median(times["loopback only"]) * 1000
        for name, values in times.items():
            med = statistics.median(values) * 1000
            print(
                f"  {name:<15} median {med:6.1f}  p90 {_pct(values, 0.9) * 1000:6.1f}  "
                f"ratio {med / base_ms:4.2f}x  added {med - base_ms:+6.1f} ms",
                flush=True,
            )
        print(f"cluster DNS, {args.queries} mixed queries, {args.window} in flight:", flush=True)
        results = await dns_from_pod(settings, args)
        floor = results["from the node, to the server"]
        for name, got in results.items():
            qps, p99 = got["qps"] / floor["qps"], got["p99_ms"] / floor["p99_ms"]
            print(
                f"  {name:<30} {got['qps']:7.0f} qps  p50 {got['p50_ms']:5.2f} ms  "
                f"p99 {got['p99_ms']:5.2f} ms  lost {got['lost']:.0f}  "
                f"ratio qps {qps:4.2f}x  p99 {p99:4.2f}x",
                flush=True,
            )
    finally:
        layout = NetworkLayout.from_settings(settings)
        await hostsetup.teardown(layout)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    parser = argparse.ArgumentParser()
    parser.add_argument("--sandboxes", type=int, default=30)
    parser.add_argument("--queries", type=int, default=20000)
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--serve-dns", metavar="ADDRESS")
    ns = parser.parse_args()
    if ns.serve_dns:
        serve_dns(ns.serve_dns, ns.services)
    else:
        asyncio.run(main(ns))
