"""Streams of a pod on another node, in one process: the API server hands exec, attach and
port-forward to that node's server (``kubelite.nodeserver``, on loopback with a serving
certificate of the cluster CA, its pods and streams in memory) and passes the bytes through;
logs are streamed from it. A node that cannot be reached, or whose certificate the CA did not
sign, is refused in the API server's words."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kubelite.api.nodeconn import NodeConnector
from kubelite.api.pki import CaSigner, Pki, ensure_pki
from kubelite.api.server import ApiServer
from kubelite.api.streams import LogOptions, StreamUnavailable
from kubelite.clock import SystemClock
from kubelite.nodeserver.server import NodeServer
from kubelite.nodeserver.servingcert import ServingNames, StaticCertificate, new_serving_request
from kubelite.registry.nodes import NODES
from tests.component.api.conftest import pod
from tests.component.api.spdyclient import upgrade
from tests.component.api.streamfakes import FakeNode
from tests.component.api.test_api_exec_attach import ws_session
from tests.component.api.test_api_portforward import exercise

PODS = "/api/v1/namespaces/default/pods"
EXEC = f"{PODS}/web/exec?container=app&command=cat&command=exit:3&stdout=true&stderr=true"


class LoggingNode(FakeNode):
    """The fake node's streams, and logs: two lines, or the kubelet's refusal for ``wait``."""

    def stream(self, pod: dict[str, Any], opts: LogOptions) -> AsyncIterator[bytes]:
        if opts.container == "wait":
            raise StreamUnavailable('container "wait" in pod "web" is waiting to start: x')
        return self._lines(opts)

    async def _lines(self, opts: LogOptions) -> AsyncIterator[bytes]:
        yield b"one\n"
        yield b"two\n" if opts.tail_lines is None else b""


class Pods:
    def __init__(self) -> None:
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}

    async def pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.pods.get((namespace, name))


class AllowAll:
    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    async def request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        self.asked.append(body)
        return {"status": {"allowed": True}}


def serving_cert(pki: Pki, directory: Path, *, signed: bool = True) -> tuple[Path, Path]:
    """A serving certificate for 127.0.0.1: the CA's, or one of its own."""
    names = ServingNames(ips=("127.0.0.1",))
    key_pem, csr_pem = new_serving_request("remote1", names)
    if signed:
        usages = ("digital signature", "key encipherment", "server auth")
        cert_pem = CaSigner(pki).sign(csr_pem, usages, 3600, dt.datetime.now(dt.UTC).timestamp())
    else:
        key = serialization.load_pem_private_key(key_pem, None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "system:node:remote1")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .sign(key, hashes.SHA256())
        )  # fmt: skip
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = directory / "serving.crt", directory / "serving.key"
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(key_pem)
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Remote:
    def __init__(self, node: LoggingNode, reviewer: AllowAll, port: int) -> None:
        self.node = node
        self.reviewer = reviewer
        self.port = port


async def start_remote(api: ApiServer, client: TestClient, tmp: Path, *, signed: bool = True,
                       serve: bool = True) -> AsyncIterator[Remote]:  # fmt: skip
    pki = ensure_pki(tmp / "pki")
    fake, pods, reviewer = LoggingNode(), Pods(), AllowAll()
    await fake.start()
    port = free_port()
    await api.registry.create(NODES, "", {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "remote1"},
        "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                   "daemonEndpoints": {"kubeletEndpoint": {"Port": port}}},
    })  # fmt: skip
    nodes = NodeConnector(registry=api.registry, tls=pki.kubelet_client_ssl_context(),
                          local_node="node-1", connect_timeout=5)  # fmt: skip
    api.set_backends(nodes=nodes)
    r = await client.post(PODS, json=pod(nodeName="remote1"))
    assert r.status == 201
    pods.pods[("default", "web")] = await r.json()
    cert, key = serving_cert(pki, tmp, signed=signed)
    server = NodeServer(
        node_name="remote1", host="127.0.0.1", port=port,
        certificate=StaticCertificate(cert=cert, key=key, ca=pki.ca_cert),
        reviewer=reviewer, pods=pods, streams=fake, metrics=None, clock=SystemClock(),
    )  # fmt: skip
    task = asyncio.create_task(server.run()) if serve else None
    try:
        if task is not None:
            await asyncio.wait_for(server.serving.wait(), 10)
        yield Remote(fake, reviewer, port)
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await nodes.close()
        await fake.stop()


@pytest.fixture
async def remote(api: ApiServer, client: TestClient, tmp_path: Path) -> AsyncIterator[Remote]:
    async for r in start_remote(api, client, tmp_path):
        yield r


async def test_an_exec_passes_through_the_nodes_server_over_websockets(
    client: TestClient, remote: Remote
) -> None:
    protocol, got = await ws_session(
        client, EXEC + "&stdin=true", "v5.channel.k8s.io", [b"\x00abc\n", b"\xff\x00"]
    )
    assert protocol == "v5.channel.k8s.io"
    assert got[1] == b"ran cat exit:3\nabc\n" and got[2] == b"cat exit:3"
    assert json.loads(got[3])["details"] == {"causes": [{"reason": "ExitCode", "message": "3"}]}
    _, v4 = await ws_session(client, EXEC, "v4.channel.k8s.io")
    assert json.loads(v4[3])["message"].endswith(
        "error executing command [cat exit:3], exit code 3"
    )
    review = remote.reviewer.asked[0]["spec"]["resourceAttributes"]
    assert (review["verb"], review["subresource"], review["name"]) == ("get", "proxy", "remote1")


async def test_port_forward_over_spdy_passes_through(client: TestClient, remote: Remote) -> None:
    up = await upgrade(client.server.host, client.server.port, f"{PODS}/web/portforward",
                       protocols=["portforward.k8s.io"])  # fmt: skip
    try:
        assert up.status == 101 and up.headers["x-stream-protocol-version"] == "portforward.k8s.io"
        assert up.peer is not None
        await exercise(up.peer, remote.node.bulk)
    finally:
        await up.aclose()


async def test_a_refusal_before_the_upgrade_is_the_nodes_own(
    client: TestClient, remote: Remote
) -> None:
    remote.node.refuse = 'container not found ("app")'
    up = await upgrade(
        client.server.host, client.server.port, EXEC, protocols=["v4.channel.k8s.io"]
    )
    assert (up.status, up.body) == (500, b'container not found ("app")')


async def test_logs_stream_from_the_node_and_its_refusals_are_the_api_servers_statuses(
    client: TestClient, remote: Remote
) -> None:
    r = await client.get(f"{PODS}/web/log")
    assert (r.status, await r.text()) == (200, "one\ntwo\n")
    r = await client.get(f"{PODS}/web/log?tailLines=1&follow=true")
    assert await r.text() == "one\n"
    r = await client.post(PODS, json={**pod("two"), "spec": {
        "nodeName": "remote1", "containers": [{"name": "wait", "image": "busybox"}]}})  # fmt: skip
    assert r.status == 201
    r = await client.get(f"{PODS}/two/log")  # the node does not know this pod
    body = await r.json()
    assert (r.status, body["reason"]) == (404, "NotFound")
    assert body["message"] == "the server could not find the requested resource ( pods/log two)"


async def test_a_node_nobody_listens_on_is_an_error_dialing_backend(
    api: ApiServer, client: TestClient, tmp_path: Path
) -> None:
    async for remote in start_remote(api, client, tmp_path, serve=False):
        spdy = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1",
                "X-Stream-Protocol-Version": "v4.channel.k8s.io"}  # fmt: skip
        r = await client.get(EXEC, headers=spdy)
        body = await r.json()
        assert r.status == 500 and "reason" not in body
        assert body["message"] == (
            f"error dialing backend: dial tcp 127.0.0.1:{remote.port}: connect: connection refused"
        )
        r = await client.get(f"{PODS}/web/log")
        assert (await r.json())["message"] == (
            f'Get "https://127.0.0.1:{remote.port}/containerLogs/default/web/app": '
            f"dial tcp 127.0.0.1:{remote.port}: connect: connection refused"
        )


async def test_a_nodes_certificate_of_its_own_is_refused(
    api: ApiServer, client: TestClient, tmp_path: Path
) -> None:
    async for remote in start_remote(api, client, tmp_path, signed=False):
        r = await client.get(f"{PODS}/web/log")
        assert (await r.json())["message"] == (
            f'Get "https://127.0.0.1:{remote.port}/containerLogs/default/web/app": '
            "tls: failed to verify certificate: x509: certificate signed by unknown authority"
        )
        assert remote.reviewer.asked == []
