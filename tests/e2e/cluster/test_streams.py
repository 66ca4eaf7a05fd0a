"""kubectl port-forward, run -i/-it, attach and exec on a real node, and the official Python
client's exec with stdin and port-forward: what a user types, against real containers.

nginx answers through ``kubectl port-forward pod/web`` (kubectl's WebSocket tunnel and plain
SPDY); ``kubectl run --rm -i … -- sh`` reads piped input through the container's stdin that
conmon keeps; ``kubectl run -it`` gets a terminal; ``kubectl attach -i`` feeds a running
container without ending its input; exec passes stdin and the exit code on.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import socket
import struct
import subprocess
import termios
import threading
import time
from typing import Any

import pytest

from tests.e2e.cluster.conftest import KUBECTL, Cluster

pytestmark = pytest.mark.e2e

WEB = """
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx
    image: nginx:1.25.3
    ports: [{containerPort: 80}]
    readinessProbe: {tcpSocket: {port: 80}, periodSeconds: 1}
"""
SLOW = """
apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: wait
    image: busybox:1.36
    command: [sh, -c, 'echo waiting; trap "exit 0" TERM; sleep 3600 & wait']
  containers:
  - {name: app, image: busybox:1.36, command: [sleep, "3600"]}
"""
READER = """
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: reader
    image: busybox:1.36
    stdin: true
    command: [sh, -c, 'while read line; do echo "got:$line"; done; echo "stdin ended"; sleep 3600']
"""


@pytest.fixture(scope="module")
def web(cluster: Cluster) -> Cluster:
    cluster.apply(WEB)
    cluster.wait("pod/web", "condition=Ready", timeout=120)
    return cluster


def kubectl_argv(cluster: Cluster, *args: str) -> list[str]:
    return [KUBECTL, "--kubeconfig", str(cluster.kubeconfig),
            "--cache-dir", str(cluster.data_dir / "kcache"), *args]  # fmt: skip


class PortForward:
    def __init__(self, cluster: Cluster, *ports: str, websockets: bool = True) -> None:
        env = {**os.environ, "KUBECTL_PORT_FORWARD_WEBSOCKETS": str(websockets).lower()}
        self.proc = subprocess.Popen(
            kubectl_argv(cluster, "port-forward", "pod/web", *ports),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.local: dict[int, int] = {}
        assert self.proc.stdout is not None
        while len(self.local) < len(ports):
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"port-forward ended: {self.stop()}")
            found = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", line)
            if found:
                self.local[int(found[2])] = int(found[1])

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err


def http_get(port: int, path: str = "/") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n".encode())
        out = b""
        while chunk := conn.recv(1 << 16):
            out += chunk
        return out


@pytest.mark.parametrize("websockets", [True, False], ids=["websocket-tunnel", "spdy"])
def test_port_forward_reaches_nginx(web: Cluster, websockets: bool) -> None:
    pf = PortForward(web, ":80", websockets=websockets)
    try:
        answers: list[bytes] = []
        threads = [threading.Thread(target=lambda: answers.append(http_get(pf.local[80])))
                   for _ in range(6)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(answers) == 6
        for answer in answers:
            assert answer.startswith(b"HTTP/1.1 200 OK") and b"Welcome to nginx!" in answer
        assert http_get(pf.local[80], "/missing").startswith(b"HTTP/1.1 404")
    finally:
        pf.stop()


def test_port_forward_to_a_port_nobody_listens_on_prints_the_kubelets_error(web: Cluster) -> None:
    pf = PortForward(web, ":81")
    try:
        with socket.create_connection(("127.0.0.1", pf.local[81]), timeout=30) as conn:
            conn.sendall(b"anyone?")
            assert conn.recv(100) == b""
        pf.proc.wait(20)  # kubectl gives up on the whole forward after an error
    finally:
        err = pf.stop()
    assert "error forwarding port 81 to pod" in err
    assert "failed to connect to localhost:81 inside namespace" in err
    assert "dial tcp4 127.0.0.1:81: connect: connection refused" in err


def test_exec_with_stdin_and_an_exit_code(web: Cluster) -> None:
    r = web.kubectl("exec", "-i", "web", "--", "cat", input="piped through exec\n")
    assert r.stdout == "piped through exec\n"
    r = web.kubectl("exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 7",
                    check=False)  # fmt: skip
    assert (r.returncode, r.stdout) == (7, "out\n")
    assert "err\n" in r.stderr and "command terminated with exit code 7" in r.stderr
    r = web.kubectl(
        "exec", "web", "--", "cat", "/etc/hostname", check=False
    )  # fmt: skip  (SPDY below: same answer)
    spdy = subprocess.run(
        kubectl_argv(web, "exec", "-i", "web", "--", "cat"), input="over spdy\n",
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"},
    )  # fmt: skip
    assert (spdy.returncode, spdy.stdout) == (0, "over spdy\n")


def test_run_with_piped_input_and_rm(cluster: Cluster) -> None:
    r = cluster.kubectl(
        "run", "tmp", "--rm", "-i", "--restart=Never", "--image=busybox:1.36",
        "--pod-running-timeout=2m", "--", "sh",
        input="echo hello from piped sh\nuname -s\n", timeout=180, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "hello from piped sh\nLinux\n" in r.stdout
    assert 'pod "tmp" deleted' in r.stdout + r.stderr
    gone = cluster.kubectl("get", "pod", "tmp", check=False)
    assert "NotFound" in gone.stderr


def in_a_terminal(argv: list[str], lines: list[bytes], until: bytes) -> tuple[str, int]:
    """Run ``argv`` on a 40x132 pseudo-terminal; type each line once the previous output
    settled (the first after ``try pressing enter``, if kubectl prints it); read until
    ``until``. Its output and exit code."""
    pid, fd = pty.fork()
    if pid == 0:  # a terminal of 40 rows, 132 columns, as the user's window would be
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 132, 0, 0))
        os.execvp(argv[0], argv)
    out = b""

    def pump(stop: bytes, seconds: float) -> None:
        nonlocal out
        deadline = time.monotonic() + seconds
        while stop not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                out += chunk

    try:
        pump(b"# ", 180)  # the shell's prompt (kubectl run prints its hint first)
        for line in lines:
            os.write(fd, line)
            time.sleep(0.3)
        pump(until, 60)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return out.decode(errors="replace"), os.waitstatus_to_exitcode(status)


def test_run_with_a_terminal(cluster: Cluster) -> None:
    """``kubectl run -it``: a TTY from end to end (conmon's console), sized as the user's."""
    argv = kubectl_argv(cluster, "run", "tty", "--rm", "-it", "--restart=Never",
                        "--image=busybox:1.36", "--pod-running-timeout=2m", "--", "sh")  # fmt: skip
    text, code = in_a_terminal(
        argv, [b"\r", b"stty size; echo tty-$((6*7))\r", b"exit\r"], b"deleted"
    )
    assert "tty-42" in text
    assert "\n40 132\r\n" in text, text  # stty size: kubectl's size reached the container
    assert code == 0, text


def test_exec_with_a_terminal(web: Cluster) -> None:
    """``kubectl exec -it``: runc's terminal, sized as the user's, exit code passed on."""
    argv = kubectl_argv(web, "exec", "-it", "web", "--", "sh")
    text, code = in_a_terminal(argv, [b"stty size\r", b"exit 5\r"], b"exit 5")
    assert "\n40 132\r\n" in text, text
    assert code == 5, text


def test_logs_answer_the_api_servers_400s(cluster: Cluster) -> None:
    cluster.apply(SLOW)
    cluster.wait("pod/slow", "jsonpath={.status.initContainerStatuses[0].state.running}")
    r = cluster.kubectl("logs", "slow", "-c", "app", check=False)
    assert r.stderr.strip() == (
        'Error from server (BadRequest): container "app" in pod "slow" is waiting to start: '
        "PodInitializing"
    )
    r = cluster.kubectl("logs", "slow", "-c", "wait", "--previous", check=False)
    assert r.stderr.strip() == (
        'Error from server (BadRequest): previous terminated container "wait" in pod "slow" '
        "not found"
    )
    assert cluster.kubectl("logs", "slow", "-c", "wait").stdout == "waiting\n"
    cluster.kubectl("delete", "pod", "slow", "--wait=false")


def attach_and_say(cluster: Cluster, line: str) -> str:
    """``kubectl attach -i`` with input kept open until the answer shows, then ended."""
    proc = subprocess.Popen(
        kubectl_argv(cluster, "attach", "-i", "reader"), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        answer = proc.stdout.readline() if ready else ""
        proc.stdin.close()  # the end of input detaches: stdin stays open (not stdinOnce)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == 0
    return answer


def test_attach_feeds_a_running_container_and_leaves_its_stdin_open(cluster: Cluster) -> None:
    cluster.apply(READER)
    cluster.wait("pod/reader", "condition=Ready", timeout=120)
    assert attach_and_say(cluster, "one") == "got:one\n"
    assert attach_and_say(cluster, "two") == "got:two\n"  # the next client feeds it too
    logs = cluster.logs("reader")
    assert "got:one\ngot:two\n" in logs and "stdin ended" not in logs
    assert cluster.get("pod", "reader")["status"]["phase"] == "Running"
    cluster.kubectl("delete", "pod", "reader", "--wait=false")


def test_python_client_exec_with_stdin_and_port_forward(web: Cluster) -> None:
    from kubernetes import client, config

    api_client = config.new_client_from_config(str(web.kubeconfig))
    try:
        _python_client_session(client.CoreV1Api(api_client))
    finally:
        api_client.close()  # its connection pool, or sockets are left to the GC


def _python_client_session(api: Any) -> None:
    from kubernetes.stream import portforward, stream

    resp = stream(api.connect_get_namespaced_pod_exec, "web", "default",
                  command=["sh", "-c", "read line; echo \"read: $line\""], stdin=True,
                  stdout=True, stderr=True, tty=False, _preload_content=False)  # fmt: skip
    resp.write_stdin("typed in python\n")
    resp.run_forever(timeout=30)
    try:
        assert resp.read_stdout() == "read: typed in python\n"
        assert resp.returncode == 0
    finally:
        resp.close()
        resp.sock.shutdown()  # websocket-client keeps its socket after the server's close
    pf = portforward(api.connect_get_namespaced_pod_portforward, "web", "default", ports="80")
    sock = pf.socket(80)
    sock.setblocking(True)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n")
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    pf.close()
    deadline = time.monotonic() + 10  # its proxy thread ends once the local sockets are closed
    while time.monotonic() < deadline and any(
        t.name.startswith("Kubernetes port forward proxy") for t in threading.enumerate()
    ):
        time.sleep(0.05)
    pf.websocket.shutdown()
    assert answer.startswith(b"HTTP/1.1 200 OK") and b"Welcome to nginx!" in answer
