"""Logs, exec, attach, port-forward, cp and top of pods on joined nodes, with the real kubectl
against ``kubelite up --no-agent``: the API server reaches each node's server (the kubelet
API on <node address>:10250, its serving certificate from an approved kubelet-serving CSR)
with its kubelet client certificate and passes the streams through. The node's server
refuses clients without a certificate (401) and other nodes (403); the API server refuses a
node's certificate the cluster CA did not sign."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import re
import select
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.cluster.test_streams import in_a_terminal
from tests.e2e.multinode.harness import KUBECTL, Agent, Cluster, wait_for

pytestmark = pytest.mark.e2e

SERVING_SIGNER = "kubernetes.io/kubelet-serving"
CSRS = "/apis/certificates.k8s.io/v1/certificatesigningrequests"

TALK = """
apiVersion: v1
kind: Pod
metadata: {name: talk}
spec:
  nodeName: m1
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:1.36
    command: [sh, -c, 'echo hello from $(hostname); i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done']
  - name: web
    image: busybox:1.36
    command: [sh, -c, 'mkdir -p /www && echo "served by $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www']
  - name: reader
    image: busybox:1.36
    stdin: true
    command: [sh, -c, 'while read line; do echo "got:$line"; done; echo "stdin ended"; sleep 3600']
"""  # noqa: E501
CRASHER = """
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  nodeName: m2
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: "busybox:1.36", command: [sh, -c, 'echo "attempt at $(date +%s%N)"; sleep 1; exit 3']}
"""  # noqa: E501


def agent(cluster: Cluster, name: str) -> Agent:
    return next(a for a in cluster.agents if a.name == name)


def serving_csrs(cluster: Cluster) -> list[dict[str, Any]]:
    return [c for c in cluster.control.get("csr")["items"]
            if c["spec"]["signerName"] == SERVING_SIGNER]  # fmt: skip


def issued_for(cluster: Cluster, node: str) -> bool:
    return any(
        c["spec"]["username"] == f"system:node:{node}" and c["status"].get("certificate")
        for c in serving_csrs(cluster)
    )


def served_certificate(a: Agent) -> str | None:
    """The certificate the node serves with, None while it does not listen yet."""
    try:
        return ssl.get_server_certificate((a.machine.address, 10250), timeout=10)
    except ConnectionRefusedError:
        return None


@pytest.fixture(scope="module")
def pods(joined: Cluster) -> Iterator[Cluster]:
    """``talk`` on m1 and ``crasher`` on m2, both nodes serving their kubelet API."""
    for a in joined.agents:
        wait_for(f"{a.name}'s serving certificate", lambda n=a.name: issued_for(joined, n), 120)
        # the node listens once it has written the issued certificate, a moment later
        wait_for(f"{a.name} serving on 10250", lambda a=a: served_certificate(a), 60)
    joined.kubectl("apply", "-f", "-", input=TALK)
    joined.kubectl("apply", "-f", "-", input=CRASHER)
    joined.kubectl("wait", "pod/talk", "--for=condition=Ready", "--timeout=180s", timeout=200)
    yield joined


def kubectl_argv(cluster: Cluster, *args: str) -> list[str]:
    return [KUBECTL, "--kubeconfig", str(cluster.control.kubeconfig),
            "--cache-dir", str(cluster.control.data_dir / "kcache"), *args]  # fmt: skip


# ---------------------------------------------------------------------------- the certificate


def test_each_node_serves_with_a_certificate_from_an_approved_kubelet_serving_csr(
    pods: Cluster,
) -> None:
    ca = x509.load_pem_x509_certificate((pods.control.data_dir / "pki" / "ca.crt").read_bytes())
    for a in pods.agents:
        [csr] = [c for c in serving_csrs(pods) if c["spec"]["username"] == f"system:node:{a.name}"]
        assert csr["spec"]["usages"] == ["digital signature", "key encipherment", "server auth"]
        [approved] = [c for c in csr["status"]["conditions"] if c["type"] == "Approved"]
        assert approved["reason"] == "AutoApproved"
        node = pods.control.get("node", a.name)
        assert node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] == 10250
        pem = served_certificate(a)
        assert pem is not None
        cert = x509.load_pem_x509_certificate(pem.encode())
        cert.verify_directly_issued_by(ca)
        assert cert.subject.rfc4514_string() == f"CN=system:node:{a.name},O=system:nodes"
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert [str(i) for i in san.get_values_for_type(x509.IPAddress)] == [a.machine.address]
        assert san.get_values_for_type(x509.DNSName) == [a.name]


def test_a_serving_csr_for_another_nodes_address_stays_pending(pods: Cluster) -> None:
    m1, m2 = agent(pods, "m1"), agent(pods, "m2")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "system:node:m1")])  # fmt: skip
    alt = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(m2.machine.address))])
    req = (x509.CertificateSigningRequestBuilder().subject_name(subject)
           .add_extension(alt, critical=False).sign(key, hashes.SHA256()))  # fmt: skip
    body = {
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": "m1-steals-m2"},
        "spec": {"request": base64.b64encode(req.public_bytes(serialization.Encoding.PEM)).decode(),
                 "signerName": SERVING_SIGNER,
                 "usages": ["digital signature", "key encipherment", "server auth"]},
    }  # fmt: skip
    status, _ = node_api(pods, m1, "POST", CSRS, body)
    assert status == 201
    time.sleep(3)
    csr = pods.control.get("csr", "m1-steals-m2")
    assert csr["status"].get("conditions") is None and not csr["status"].get("certificate")
    assert "Pending" in pods.kubectl("get", "csr", "m1-steals-m2").stdout
    pods.kubectl("delete", "csr", "m1-steals-m2")


def node_api(cluster: Cluster, a: Agent, method: str, path: str,
             body: Any) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """A request to the API server with the node's own certificate."""
    ctx = ssl.create_default_context(cafile=str(cluster.control.data_dir / "pki" / "ca.crt"))
    ctx.load_cert_chain(a.data_dir / "node-pki" / "kubelet-client-current.pem")
    req = urllib.request.Request(
        cluster.control.url + path, data=json.dumps(body).encode(), method=method,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


# ---------------------------------------------------------------------------- the node's server


def kubelet_get(
    a: Agent, path: str, ca: Path, cert: Path | None, key: Path | None = None
) -> tuple[int, str]:
    """GET on a node's server (its certificate checked), as whoever ``cert`` is."""
    ctx = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        ctx.load_cert_chain(cert, key)
    address = a.machine.address
    with (
        socket.create_connection((address, 10250), timeout=30) as raw,
        ctx.wrap_socket(raw, server_hostname=address) as conn,
    ):
        conn.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def test_the_node_server_refuses_anonymous_clients_and_other_nodes(pods: Cluster) -> None:
    pki = pods.control.data_dir / "pki"
    m1, m2 = agent(pods, "m1"), agent(pods, "m2")
    path = "/containerLogs/default/talk/main"
    assert kubelet_get(m1, path, pki / "ca.crt", None) == (401, "Unauthorized")
    other = m2.data_dir / "node-pki" / "kubelet-client-current.pem"
    assert kubelet_get(m1, path, pki / "ca.crt", other) == (
        403, "Forbidden (user=system:node:m2, verb=get, resource=nodes, subresource=proxy)",
    )  # fmt: skip
    assert kubelet_get(m1, "/metrics/resource", pki / "ca.crt", other) == (
        403, "Forbidden (user=system:node:m2, verb=get, resource=nodes, subresource=metrics)",
    )  # fmt: skip
    apiserver = (pki / "apiserver-kubelet-client.crt", pki / "apiserver-kubelet-client.key")
    code, text = kubelet_get(m1, path + "?tailLines=1", pki / "ca.crt", *apiserver)
    assert code == 200 and "\r\ntick " in text  # chunked, as the kubelet sends logs


# ---------------------------------------------------------------------------- logs


def test_logs_of_a_pod_on_another_node(pods: Cluster) -> None:
    out = pods.kubectl("logs", "talk", "-c", "main").stdout
    assert out.startswith("hello from talk\ntick 1\n")
    assert pods.kubectl("logs", "talk", "-c", "main", "--tail=1").stdout.count("\n") == 1
    stamped = pods.kubectl("logs", "talk", "-c", "main", "--tail=1", "--timestamps").stdout
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z tick \d+\n", stamped)
    r = pods.kubectl("logs", "talk", "-c", "nope", check=False)
    assert "container nope is not valid for pod talk" in r.stderr


def test_logs_follow_sees_new_lines(pods: Cluster) -> None:
    proc = subprocess.Popen(kubectl_argv(pods, "logs", "-f", "talk", "-c", "main", "--tail=1"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None
    try:
        first = proc.stdout.readline()
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "no new line within 30 s"
        second = proc.stdout.readline()
    finally:
        proc.kill()
        proc.communicate()
    n1, n2 = int(first.split()[1]), int(second.split()[1])
    assert n2 == n1 + 1


def test_logs_of_the_previous_instance(pods: Cluster) -> None:
    def restarted() -> bool:
        pod = pods.control.get("pod", "crasher")
        return any(
            c.get("restartCount", 0) >= 1 for c in pod["status"].get("containerStatuses") or []
        )

    wait_for("crasher to restart", restarted, 120)
    r = pods.kubectl("logs", "crasher", "--previous")
    assert r.stdout.startswith("attempt at ")
    r = pods.kubectl("logs", "talk", "-c", "main", "--previous", check=False)
    assert r.stderr.strip() == (
        'Error from server (BadRequest): previous terminated container "main" in pod "talk" '
        "not found"
    )


# ---------------------------------------------------------------------------- exec, attach


def test_exec_with_stdin_and_an_exit_code(pods: Cluster) -> None:
    r = pods.kubectl("exec", "-i", "talk", "-c", "main", "--", "cat", input="through m1\n")
    assert r.stdout == "through m1\n"
    script = "echo out; echo err >&2; exit 7"
    r = pods.kubectl("exec", "talk", "-c", "main", "--", "sh", "-c", script, check=False)
    assert (r.returncode, r.stdout) == (7, "out\n")
    assert "err\n" in r.stderr and "command terminated with exit code 7" in r.stderr
    spdy = subprocess.run(
        kubectl_argv(pods, "exec", "-i", "talk", "-c", "main", "--", "cat"), input="over spdy\n",
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"},
    )  # fmt: skip
    assert (spdy.returncode, spdy.stdout) == (0, "over spdy\n")
    assert pods.kubectl("exec", "talk", "-c", "main", "--", "hostname").stdout == "talk\n"


def test_exec_with_a_terminal(pods: Cluster) -> None:
    argv = kubectl_argv(pods, "exec", "-it", "talk", "-c", "main", "--", "sh")
    text, code = in_a_terminal(argv, [b"stty size\r", b"exit 5\r"], b"exit 5")
    assert re.search(r"\n40 132\r+\n", text), text  # kubectl's terminal size reached it
    assert code == 5, text


def test_attach_feeds_the_running_container(pods: Cluster) -> None:
    proc = subprocess.Popen(
        kubectl_argv(pods, "attach", "-i", "talk", "-c", "reader"), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write("across nodes\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        answer = proc.stdout.readline() if ready else ""
        proc.stdin.close()  # the end of input detaches
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert answer == "got:across nodes\n"
    assert proc.returncode == 0


def test_cp_into_and_out_of_the_pod(pods: Cluster, tmp_path: Path) -> None:
    src = tmp_path / "note.txt"
    src.write_text("copied across\n" * 1000)
    pods.kubectl("cp", str(src), "default/talk:/tmp/note.txt", "-c", "main")
    r = pods.kubectl("exec", "talk", "-c", "main", "--", "wc", "-l", "/tmp/note.txt")
    assert r.stdout.split()[0] == "1000"
    back = tmp_path / "back.txt"
    pods.kubectl("cp", "default/talk:/tmp/note.txt", str(back), "-c", "main")
    assert back.read_text() == src.read_text()


# ---------------------------------------------------------------------------- port-forward


@pytest.mark.parametrize("websockets", [True, False], ids=["websocket-tunnel", "spdy"])
def test_port_forward_reaches_a_listener_in_the_pod(pods: Cluster, websockets: bool) -> None:
    env = {**os.environ, "KUBECTL_PORT_FORWARD_WEBSOCKETS": str(websockets).lower()}
    proc = subprocess.Popen(
        kubectl_argv(pods, "port-forward", "pod/talk", ":8080"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        found = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 8080", line)
        assert found, line
        local = int(found[1])
        answers: list[bytes] = []

        def get() -> None:
            with socket.create_connection(("127.0.0.1", local), timeout=30) as conn:
                conn.sendall(b"GET / HTTP/1.1\r\nHost: talk\r\nConnection: close\r\n\r\n")
                out = b""
                while chunk := conn.recv(65536):
                    out += chunk
                answers.append(out)

        threads = [threading.Thread(target=get) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert len(answers) == 4
    for answer in answers:
        assert answer.startswith(b"HTTP/1.") and b"served by talk" in answer


# ---------------------------------------------------------------------------- top


def test_top_pod_and_node_cover_every_node(pods: Cluster) -> None:
    def top_pod() -> dict[str, list[str]]:
        """The rows by container once all three are listed. Like metrics-server, the API
        server reads other nodes once a resolution (10 s): a round taken while the pod's
        containers were still starting lists only those running then, until the next."""
        r = pods.kubectl("top", "pod", "talk", "--containers", check=False)
        lines = r.stdout.splitlines()[1:] if r.returncode == 0 else []
        rows = {line.split()[1]: line.split() for line in lines}
        return rows if set(rows) == {"main", "web", "reader"} else {}

    rows = wait_for("metrics of talk's three containers", top_pod, 90, every=2)
    assert all(row[2].endswith("m") and row[3].endswith("Mi") for row in rows.values())

    def top_nodes() -> str:
        r = pods.kubectl("top", "node", check=False)
        return r.stdout if r.returncode == 0 and "<unknown>" not in r.stdout else ""

    nodes = wait_for("metrics of every node", top_nodes, 90, every=2)
    names = {line.split()[0] for line in nodes.splitlines()[1:]}
    assert {"m1", "m2"} <= names
    raw = pods.kubectl("get", "--raw", "/api/v1/nodes/m1/proxy/metrics/resource").stdout
    sample = 'container_cpu_usage_seconds_total{container="main",namespace="default",pod="talk"}'
    assert sample in raw


# ---------------------------------------------------------------------------- a node's own cert


def self_signed(address: str, directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "system:node:m3")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "m3.crt", directory / "m3.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path


def test_the_api_server_refuses_a_nodes_certificate_of_its_own(
    pods: Cluster, tmp_path: Path
) -> None:
    m3 = pods.add_agent("m3")
    cert, key = self_signed(m3.machine.address, tmp_path)
    server, token, ca_hash = pods.control.token_create()
    m3.start(server, token, ca_hash, "--tls-cert-file", str(cert), "--tls-private-key-file",
             str(key))  # fmt: skip
    m3.wait_serving()
    pod = TALK.replace("name: talk", "name: lonely").replace("nodeName: m1", "nodeName: m3")
    pods.kubectl("apply", "-f", "-", input=pod)
    pods.kubectl("wait", "pod/lonely", "--for=condition=Ready", "--timeout=180s", timeout=200)
    r = pods.kubectl("logs", "lonely", "-c", "main", check=False)
    assert r.returncode != 0
    assert r.stderr.strip() == (
        f'Error from server: Get "https://{m3.machine.address}:10250/containerLogs/default/'
        'lonely/main": tls: failed to verify certificate: x509: certificate signed by unknown '
        "authority"
    )
    r = pods.kubectl("exec", "lonely", "-c", "main", "--", "true", check=False)
    assert r.returncode != 0
    assert (
        "error dialing backend: tls: failed to verify certificate: x509: certificate signed by "
        "unknown authority" in r.stderr
    )
    assert not any(c["spec"]["username"] == "system:node:m3" for c in serving_csrs(pods))
    pods.kubectl("delete", "pod", "lonely", "--wait=false")
