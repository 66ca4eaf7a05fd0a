"""Cluster DNS benchmark (not a test): queries per second and p50/p99 latency over UDP on
loopback, against a baseline measured in the same run.

* baseline: a minimal dnslib UDP responder that answers every query with one fixed A record
  (parse, reply, pack: the floor of the library the server is built on);
* kubelite A: the cluster DNS server answering ``svc-N.default.svc.cluster.local`` A for
  ``--services`` ClusterIP Services;
* kubelite mix: A, AAAA (NODATA), SRV, headless A, NXDOMAIN and PTR in turn;
* kubelite 0x20: A again, but every query spelled in a different mix of cases, so that no
  packed answer is ever reused: the cost of parse, lookup and pack.

Each server runs in its own process; the client keeps ``--window`` queries in flight on one
socket (and, for pure latency, one at a time). Also printed: the time of one ``update`` with
all the Services and their EndpointSlices (the server rebuilds its index on every change).

    python3 bench/dns.py [--queries 20000] [--services 500] [--window 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import selectors
import socket
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dnslib import QTYPE, RR, A, DNSRecord

from kubelite.model.service import EndpointSliceView, ServiceView
from kubelite.network.dnsserver import CACHE_LIMIT, DnsConfig, DnsServer

LOOPBACK = "127.0.0.1"
HEADLESS = 50
PER_HEADLESS = 5


def cluster(services: int) -> tuple[list[ServiceView], list[EndpointSliceView]]:
    views, slices = [], []
    for i in range(services):
        views.append(
            ServiceView.of(
                {
                    "metadata": {"name": f"svc-{i}", "namespace": "default"},
                    "spec": {
                        "clusterIP": f"10.96.{i // 250}.{i % 250 + 2}",
                        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
                    },
                }
            )
        )
        slices.append(endpoint_slice(f"svc-{i}", [f"10.244.{i // 250}.{i % 250 + 2}"]))
    for i in range(HEADLESS):
        views.append(
            ServiceView.of(
                {
                    "metadata": {"name": f"hl-{i}", "namespace": "default"},
                    "spec": {"clusterIP": "None", "ports": [{"name": "http", "port": 80}]},
                }
            )
        )
        ips = [f"10.244.{100 + i}.{j + 2}" for j in range(PER_HEADLESS)]
        slices.append(endpoint_slice(f"hl-{i}", ips))
    return views, slices


def endpoint_slice(service: str, ips: list[str]) -> EndpointSliceView:
    return EndpointSliceView.of(
        {
            "metadata": {
                "name": f"{service}-x",
                "namespace": "default",
                "labels": {"kubernetes.io/service-name": service},
            },
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        }
    )


def queries(kind: str, services: int) -> list[bytes]:
    names: list[tuple[str, str]] = []
    for i in range(min(services, 200)):
        svc = f"svc-{i}.default.svc.cluster.local"
        if kind in ("a", "0x20"):
            names.append((svc, "A"))
        else:
            names += [
                (svc, "A"),
                (svc, "AAAA"),
                (f"_http._tcp.{svc}", "SRV"),
                (f"hl-{i % HEADLESS}.default.svc.cluster.local", "A"),
                (f"nope-{i}.default.svc.cluster.local", "A"),
                (f"{i % 250 + 2}.0.96.10.in-addr.arpa", "PTR"),
            ]
    if kind == "0x20":  # every query spelled differently: no answer is ever reused
        rng = random.Random(20)
        names = [
            ("".join(c.upper() if rng.random() < 0.5 else c for c in n), t)
            for _ in range(2 * CACHE_LIMIT // len(names) + 1)
            for n, t in names
        ]
    return [DNSRecord.question(n, t).pack() for n, t in names]


# --- servers (each in its own process) -----------------------------------------------------


async def serve_baseline() -> None:
    class Fixed(asyncio.DatagramProtocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: Any) -> None:
            request = DNSRecord.parse(data)
            response = request.reply()
            response.add_answer(RR(request.q.qname, QTYPE.A, ttl=30, rdata=A("10.96.0.1")))
            self.transport.sendto(response.pack(), addr)

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Fixed, local_addr=(LOOPBACK, 0))
    print("PORT", transport.get_extra_info("sockname")[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    transport.close()


async def serve_kubelite(services: int) -> None:
    views, slices = cluster(services)
    cfg = DnsConfig(reverse_cidrs=("10.96.0.0/12", "10.244.0.0/16"))
    async with DnsServer(address=LOOPBACK, port=0, config=cfg) as server:
        server.update(views, slices)
        print("PORT", server.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def spawn(kind: str, services: int) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--services", str(services)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    assert line and line[0] == "PORT", line
    return proc, int(line[1])


def stop(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- client --------------------------------------------------------------------------------


def loopback(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((LOOPBACK, port))
    return sock


def load(
    port: int, wires: list[bytes], total: int, window: int, *, sock: socket.socket | None = None
) -> dict[str, float]:
    """Keep ``window`` queries in flight until ``total`` are answered (on ``sock``, a connected
    UDP socket, if given; else on a new one to ``port`` on loopback). Closes the socket."""
    sock = sock or loopback(port)
    sock.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    in_flight: dict[int, float] = {}
    latencies: list[float] = []
    sent = lost = 0

    def send() -> None:
        nonlocal sent
        ident = sent & 0xFFFF
        wire = struct.pack("!H", ident) + wires[sent % len(wires)][2:]
        sent += 1
        in_flight[ident] = time.perf_counter()
        sock.send(wire)

    started = time.perf_counter()
    for _ in range(min(window, total)):
        send()
    while len(latencies) + lost < total:
        if not selector.select(timeout=1.0):
            lost += len(in_flight)
            in_flight.clear()
            for _ in range(min(window, total - sent)):
                send()
            continue
        while True:
            try:
                data = sock.recv(65535)
            except BlockingIOError:
                break
            t0 = in_flight.pop(struct.unpack_from("!H", data)[0], None)
            if t0 is None:
                continue
            latencies.append(time.perf_counter() - t0)
            if sent < total:
                send()
    elapsed = time.perf_counter() - started
    selector.close()
    sock.close()
    latencies.sort()
    return {
        "qps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "lost": float(lost),
    }


def measure(kind: str, wires: list[bytes], args: argparse.Namespace) -> dict[str, float]:
    proc, port = spawn(kind, args.services)
    try:
        load(port, wires, 500, args.window)  # warm up
        out = load(port, wires, args.queries, args.window)
        serial = load(port, wires, max(1000, args.queries // 10), 1)
        out["serial_p50_ms"], out["serial_p99_ms"] = serial["p50_ms"], serial["p99_ms"]
        return out
    finally:
        stop(proc)


def update_ms(services: int) -> float:
    views, slices = cluster(services)
    server = DnsServer(address=LOOPBACK, port=0)
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        server.update(views, slices)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def report(name: str, got: dict[str, float], base: dict[str, float] | None) -> None:
    line = (
        f"{name:<13} {got['qps']:8.0f} qps  p50 {got['p50_ms']:6.2f} ms  "
        f"p99 {got['p99_ms']:6.2f} ms  one-at-a-time p50 {got['serial_p50_ms']:5.2f} ms "
        f"p99 {got['serial_p99_ms']:5.2f} ms  lost {got['lost']:.0f}"
    )
    if base is not None:
        qps, p50, p99 = (got[k] / base[k] for k in ("qps", "p50_ms", "p99_ms"))
        line += f"   ratio qps {qps:4.2f}x  p50 {p50:4.2f}x  p99 {p99:4.2f}x"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=20000)
    parser.add_argument("--services", type=int, default=500)
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--serve", choices=("baseline", "kubelite"))
    args = parser.parse_args()
    if args.serve == "baseline":
        asyncio.run(serve_baseline())
        return
    if args.serve == "kubelite":
        asyncio.run(serve_kubelite(args.services))
        return
    print(
        f"{args.queries} queries over UDP on loopback, {args.window} in flight; "
        f"{args.services} ClusterIP + {HEADLESS} headless Services",
        flush=True,
    )
    base = measure("baseline", queries("a", args.services), args)
    report("baseline", base, None)
    report("kubelite A", measure("kubelite", queries("a", args.services), args), base)
    report("kubelite mix", measure("kubelite", queries("mix", args.services), args), base)
    report("kubelite 0x20", measure("kubelite", queries("0x20", args.services), args), base)
    print(f"update() with {args.services + HEADLESS} Services: {update_ms(args.services):.1f} ms")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
