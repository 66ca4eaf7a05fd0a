"""Benchmark of the streaming endpoints on a whole node (not a test): ``kubelite up`` with its
pod network, the real kubectl, a busybox pod.

1. port-forward throughput: ``--megabytes`` (default 100) read through ``kubectl
   port-forward`` (its WebSocket tunnel, then plain SPDY) against the same bytes read over a
   direct TCP connection from the node to the pod's IP (and, as a floor, over loopback inside
   the pod's network namespace), in the same run, ``--rounds`` times each, interleaved.
   Target: port-forward at least 0.5x direct.
2. port-forward connection set-up: a new local connection through a running ``kubectl
   port-forward`` until the pod's echo answers one byte (a SPDY stream pair, the pod-side
   connect, the round trip), median and p95, beside the same over a direct connection.
3. exec round trip: a WebSocket ``v5.channel.k8s.io`` exec of ``true`` from this process
   (upgrade, runc exec, the Status), median and p95; and ``kubectl exec … -- true`` end to
   end (kubectl's own start-up included).

Starts and stops its own local registry and kubelite (a temporary data dir, its own ranges,
no egress) and removes everything at the end. Needs root, runc, conmon, skopeo,
docker-registry and kubectl.

    python3 bench/streams.py [--megabytes 100] [--rounds 3] [--connects 50] [--execs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools import registry, standins
from devtools.fixtures import registries_yaml
from kubelite.runtime.netdial import socket_in_netns
from tests.e2e.cluster.conftest import KUBECTL, Cluster, start_cluster, tear_down

POD = """
apiVersion: v1
kind: Pod
metadata: {name: bench}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: bulk
    image: busybox:1.36
    command: [nc, -lk, -p, "8000", -e, head, -c, "%d", /dev/zero]
  - name: echo
    image: busybox:1.36
    command: [nc, -lk, -p, "8001", -e, cat]
"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f} ms"


def _connect(host: str, port: int, netns: str | None) -> socket.socket:
    if netns is None:
        return socket.create_connection((host, port), timeout=60)
    conn = socket_in_netns(netns)
    conn.setblocking(True)
    conn.settimeout(60)
    conn.connect((host, port))
    return conn


def read_all(port: int, host: str = "127.0.0.1", netns: str | None = None) -> tuple[int, float]:
    """Bytes read until the server closes, and the seconds from connect to the last one."""
    start = time.perf_counter()
    total = 0
    with _connect(host, port, netns) as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        buf = bytearray(1 << 20)
        while n := conn.recv_into(buf):
            total += n
    return total, time.perf_counter() - start


def echo_once(port: int, host: str = "127.0.0.1") -> float:
    start = time.perf_counter()
    with socket.create_connection((host, port), timeout=30) as conn:
        conn.sendall(b"x")
        assert conn.recv(1) == b"x"
    return time.perf_counter() - start


class PortForward:
    def __init__(self, cluster: Cluster, *ports: str, websockets: bool) -> None:
        env = {**os.environ, "KUBECTL_PORT_FORWARD_WEBSOCKETS": str(websockets).lower()}
        argv = [KUBECTL, "--kubeconfig", str(cluster.kubeconfig), "--cache-dir",
                str(cluster.data_dir / "kcache"), "port-forward", "pod/bench", *ports]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)  # fmt: skip
        self.local: dict[int, int] = {}
        assert self.proc.stdout is not None
        while len(self.local) < len(ports):
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("kubectl port-forward ended")
            found = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", line)
            if found:
                self.local[int(found[2])] = int(found[1])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def pod_netns() -> str:
    """The pod's network namespace, through its bulk sender's process."""
    pids = subprocess.run(["pgrep", "-f", "nc -lk -p 8000"], capture_output=True, text=True)
    return f"/proc/{pids.stdout.split()[0]}/ns/net"


def throughput(cluster: Cluster, pod_ip: str, size: int, rounds: int) -> None:
    print(f"\n1. port-forward throughput, {size >> 20} MB per transfer, {rounds} rounds")
    results: dict[str, list[float]] = {
        "direct": [], "in-pod loopback": [], "websocket tunnel": [], "spdy": []
    }  # fmt: skip
    netns = pod_netns()
    forwards = {
        "websocket tunnel": PortForward(cluster, ":8000", websockets=True),
        "spdy": PortForward(cluster, ":8000", websockets=False),
    }
    try:
        for pf in forwards.values():  # warm-up
            read_all(pf.local[8000])
        for _ in range(rounds):
            got, seconds = read_all(8000, pod_ip)
            assert got == size, got
            results["direct"].append(size / seconds)
            got, seconds = read_all(8000, "127.0.0.1", netns)
            assert got == size, got
            results["in-pod loopback"].append(size / seconds)
            for name, pf in forwards.items():
                got, seconds = read_all(pf.local[8000])
                assert got == size, (name, got)
                results[name].append(size / seconds)
    finally:
        for pf in forwards.values():
            pf.stop()
    direct = statistics.median(results["direct"])
    for name, rates in results.items():
        rate = statistics.median(rates)
        print(f"   {name:17} {rate / 1e6:8.1f} MB/s   {rate / direct:5.2f}x direct")


def setup_latency(cluster: Cluster, pod_ip: str, count: int) -> None:
    print(f"\n2. connection set-up to the first echoed byte, {count} connections")
    pf = PortForward(cluster, ":8001", websockets=True)
    try:
        echo_once(pf.local[8001])
        through = [echo_once(pf.local[8001]) for _ in range(count)]
    finally:
        pf.stop()
    direct = [echo_once(8001, pod_ip) for _ in range(count)]
    for name, values in (("port-forward", through), ("direct", direct)):
        print(f"   {name:13} median {_ms(statistics.median(values))}   "
              f"p95 {_ms(_pct(values, 0.95))}")  # fmt: skip


async def ws_exec(session: aiohttp.ClientSession, url: str) -> float:
    start = time.perf_counter()
    async with session.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
        status = b""
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.BINARY and msg.data[:1] == b"\x03":
                status += msg.data[1:]
    assert json.loads(status)["status"] == "Success", status
    return time.perf_counter() - start


async def exec_latency(cluster: Cluster, count: int) -> None:
    print(f"\n3. exec round trip of `true`, {count} times")
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    server = config["clusters"][0]["cluster"]["server"]
    user = config["users"][0]["user"]
    workdir = Path(tempfile.mkdtemp(prefix="kubelite-bench-exec-"))
    try:
        ctx = ssl.create_default_context()
        ca = workdir / "ca.crt"
        ca.write_bytes(base64.b64decode(config["clusters"][0]["cluster"][
            "certificate-authority-data"]))  # fmt: skip
        ctx.load_verify_locations(str(ca))
        headers = {}
        if user.get("token"):
            headers["Authorization"] = f"Bearer {user['token']}"
        else:
            cert, key = workdir / "c.crt", workdir / "c.key"
            cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
            key.write_bytes(base64.b64decode(user["client-key-data"]))
            ctx.load_cert_chain(str(cert), str(key))
        url = (f"{server}/api/v1/namespaces/default/pods/bench/exec?container=echo"
               "&command=true&stdout=true&stderr=true")  # fmt: skip
        connector = aiohttp.TCPConnector(ssl=ctx)
        async with aiohttp.ClientSession(headers=headers, connector=connector) as s:
            await ws_exec(s, url)
            raw = [await ws_exec(s, url) for _ in range(count)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ends = []
    for _ in range(max(5, count // 3)):
        start = time.perf_counter()
        cluster.kubectl("exec", "bench", "-c", "echo", "--", "true")
        ends.append(time.perf_counter() - start)
    for name, values in (("WebSocket v5 exec", raw), ("kubectl exec", ends)):
        print(f"   {name:18} median {_ms(statistics.median(values))}   "
              f"p95 {_ms(_pct(values, 0.95))}")  # fmt: skip


def run(megabytes: int, rounds: int, connects: int, execs: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="kubelite-bench-streams-"))
    reg = registry.start(base / "registry")
    cluster: Cluster | None = None
    try:
        standins.push(reg.address, workdir=base)
        (base / "registries.yaml").write_text(registries_yaml(reg.address))
        cluster = start_cluster(base / "node", base / "registries.yaml")
        size = megabytes << 20
        cluster.apply(POD % size)
        cluster.wait("pod/bench", "jsonpath={.status.phase}=Running", timeout=180)
        pod_ip = cluster.get("pod", "bench")["status"]["podIP"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # nc listening
            try:
                echo_once(8001, pod_ip)
                break
            except OSError:
                time.sleep(0.2)
        throughput(cluster, pod_ip, size, rounds)
        setup_latency(cluster, pod_ip, connects)
        asyncio.run(exec_latency(cluster, execs))
    finally:
        if cluster is not None:
            problems = tear_down(cluster)
            for problem in problems:
                print(problem, file=sys.stderr)
        reg.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connects", type=int, default=50)
    parser.add_argument("--execs", type=int, default=30)
    args = parser.parse_args()
    run(args.megabytes, args.rounds, args.connects, args.execs)
