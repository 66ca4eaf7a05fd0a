"""kubectl logs, exec, attach and port-forward through the real kubectl (WebSocket and SPDY),
and the official Python client's exec with stdin and port-forward, against an in-process
server whose node side is a fake (the real node agent plugs in the same protocols)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.api.streams import LogOptions
from kubelite.commands.kubeconfig import render
from kubelite.store.memory import MemoryStore
from tests.component.api.streamfakes import FakeNode
from tests.e2e.api.conftest import KUBECTL

pytestmark = pytest.mark.e2e

POD = """apiVersion: v1
kind: Pod
metadata: {name: s}
spec:
  nodeName: node-1
  containers:
  - {name: app, image: busybox:1.36}
  - {name: side, image: busybox:1.36}
"""


class Logs:
    async def stream(self, pod: dict[str, Any], opts: LogOptions) -> AsyncIterator[bytes]:
        prefix = "2025-01-01T00:00:00.000000000Z " if opts.timestamps else ""
        for i in range(3):
            yield f"{prefix}{opts.container} line {i}\n".encode()


class Served:
    def __init__(self, loop: asyncio.AbstractEventLoop, node: FakeNode, kc: Path) -> None:
        self.loop, self.node, self.kubeconfig = loop, node, kc


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("streams")
    pki = ensure_pki(tmp / "pki")
    loop = asyncio.new_event_loop()
    node = FakeNode()
    server = ApiServer(store=MemoryStore(), port=0, ssl_context=pki.server_ssl_context(),
                       token=pki.token(), logs=Logs(), exec_backend=node)  # fmt: skip
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        loop.run_until_complete(node.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    path = tmp / "kc"
    path.write_text(render(pki, host="127.0.0.1", port=server.port))
    s = Served(loop, node, path)
    assert kubectl(s, "apply", "-f", "-", input=POD).returncode == 0
    r = kubectl(s, "patch", "pod", "s", "--subresource=status", "--type=merge",
                "-p", '{"status":{"phase":"Running"}}')  # fmt: skip
    assert r.returncode == 0, r.stderr
    yield s
    asyncio.run_coroutine_threadsafe(node.stop(), loop).result(10)
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def kubectl(
    s: Served, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(s.kubeconfig),
         "--cache-dir", str(s.kubeconfig.parent / "cache"), *args],
        input=input, capture_output=True, text=True, timeout=60,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_logs(served: Served) -> None:
    r = kubectl(served, "logs", "s", "-c", "side", "--timestamps", "--tail=2")
    assert r.stdout.splitlines()[0] == "2025-01-01T00:00:00.000000000Z side line 0"


@pytest.mark.parametrize("websockets", ["true", "false"], ids=["websocket", "spdy"])
def test_exec_with_stdin_and_exit_codes(served: Served, websockets: str) -> None:
    env = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": websockets}
    r = kubectl(served, "exec", "s", "-c", "app", "--", "true", env=env)
    assert (r.returncode, r.stdout) == (0, "ran true\n")
    r = kubectl(served, "exec", "-i", "s", "-c", "app", "--", "cat", "exit:3", input="abc",
                env=env)  # fmt: skip
    assert r.stdout == "ran cat exit:3\nabc"
    assert r.returncode == 3 and "command terminated with exit code 3" in r.stderr


@pytest.mark.parametrize("websockets", ["true", "false"], ids=["websocket", "spdy"])
def test_attach_with_piped_stdin(served: Served, websockets: str) -> None:
    env = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": websockets}
    r = kubectl(served, "attach", "-i", "s", "-c", "app", input="typed\n", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ran attach\ntyped\n"


def test_exec_refused_by_the_node(served: Served) -> None:
    served.node.refuse = 'container not found ("app")'
    try:
        r = kubectl(served, "exec", "s", "-c", "app", "--", "ls")
        assert r.returncode == 1
        assert r.stderr.strip() == (
            "error: Internal error occurred: unable to upgrade connection: container not "
            'found ("app")'
        )
        r = kubectl(served, "exec", "s", "-c", "app", "--", "ls",
                    env={"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"})  # fmt: skip
        assert (
            r.stderr.strip() == 'error: unable to upgrade connection: container not found ("app")'
        )
    finally:
        served.node.refuse = None


class PortForward:
    """``kubectl port-forward pod/s :<port>...`` running until stopped."""

    def __init__(self, s: Served, *ports: str, env: dict[str, str]) -> None:
        argv = [KUBECTL, "--kubeconfig", str(s.kubeconfig),
                "--cache-dir", str(s.kubeconfig.parent / "cache"), "port-forward", "pod/s",
                *ports]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env={**os.environ, **env})  # fmt: skip
        self.local: dict[int, int] = {}
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 20
        while len(self.local) < len(ports) and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            found = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", line)
            if found:
                self.local[int(found[2])] = int(found[1])
            elif not line:
                break
        assert len(self.local) == len(ports), self.proc.stderr.read() if self.proc.stderr else ""

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def fetch(port: int, payload: bytes | None) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        if payload is not None:
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := conn.recv(1 << 20):
            out += chunk
        return out


@pytest.mark.parametrize("websockets", ["true", "false"], ids=["websocket-tunnel", "spdy"])
def test_port_forward_many_connections_and_a_large_transfer(
    served: Served, websockets: str
) -> None:
    pf = PortForward(served, ":80", ":81", env={"KUBECTL_PORT_FORWARD_WEBSOCKETS": websockets})
    try:
        results: list[bytes] = []
        threads = [
            threading.Thread(target=lambda i=i: results.append(fetch(pf.local[80], b"n%d" % i)))
            for i in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(results) == sorted(b"n%d" % i for i in range(8))
        assert len(fetch(pf.local[81], None)) == served.node.bulk
    finally:
        pf.stop()


def test_port_forward_to_a_port_nobody_listens_on(served: Served) -> None:
    pf = PortForward(served, ":82", env={})
    try:
        assert fetch(pf.local[82], b"hello?") == b""
        deadline = time.monotonic() + 10
        while pf.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        err = pf.stop()
    assert "an error occurred forwarding" in err and "error forwarding port 82 to pod" in err


def test_python_client_exec_with_stdin_and_port_forward(served: Served) -> None:
    from kubernetes import client, config

    api_client = config.new_client_from_config(str(served.kubeconfig))
    try:
        _python_client_session(client.CoreV1Api(api_client))
    finally:
        api_client.close()  # its connection pool, or sockets are left to the GC


def _python_client_session(api: Any) -> None:
    from kubernetes.stream import portforward, stream

    resp = stream(api.connect_get_namespaced_pod_exec, "s", "default", container="app",
                  command=["cat"], stdin=True, stdout=True, stderr=True, tty=False,
                  _preload_content=False)  # fmt: skip
    resp.write_stdin("from python\n")
    out = ""
    deadline = time.monotonic() + 10
    while "from python" not in out and time.monotonic() < deadline:
        resp.update(timeout=1)
        out += resp.read_stdout()
    resp.close()
    resp.sock.shutdown()  # websocket-client keeps its socket after the server's close
    assert out == "ran cat\nfrom python\n"
    pf = portforward(api.connect_get_namespaced_pod_portforward, "s", "default", ports="80")
    sock = pf.socket(80)
    sock.setblocking(True)
    sock.sendall(b"through python")
    got = b""
    while len(got) < len(b"through python"):
        got += sock.recv(1024)
    sock.close()
    pf.close()
    deadline = time.monotonic() + 10  # its proxy thread ends once the local sockets are closed
    while time.monotonic() < deadline and any(
        t.name.startswith("Kubernetes port forward proxy") for t in threading.enumerate()
    ):
        time.sleep(0.05)
    pf.websocket.shutdown()
    assert got == b"through python"
