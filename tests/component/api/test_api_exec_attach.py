"""exec and attach over every protocol clients speak (WebSocket v5/v4/base64, SPDY v4/v2),
with a node side in memory: stdin and its end, exit codes in the Status on the error channel,
the kubelet's refusals, TTY resize, and clients that go away."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from kubelite.api.server import ApiServer
from tests.component.api.conftest import pod
from tests.component.api.spdyclient import upgrade
from tests.component.api.streamfakes import FakeNode

PODS = "/api/v1/namespaces/default/pods"
EXEC = f"{PODS}/web/exec?container=app&command=cat&command=exit:3&stdout=true&stderr=true"


@pytest.fixture
async def node(client: TestClient, api: ApiServer) -> AsyncIterator[FakeNode]:
    fake = FakeNode()
    api.set_backends(exec_backend=fake)
    r = await client.post(PODS, json=pod(nodeName="node-1"))
    assert r.status == 201
    yield fake


async def ws_session(
    client: TestClient, url: str, protocol: str, send: list[bytes | str] = ()
) -> tuple[str | None, dict[int, bytes]]:
    got: dict[int, bytes] = {}
    async with client.ws_connect(url, protocols=(protocol,)) as ws:
        for message in send:
            if isinstance(message, str):
                await ws.send_str(message)
            else:
                await ws.send_bytes(message)
        async for msg in ws:
            if msg.type is aiohttp.WSMsgType.BINARY:
                got[msg.data[0]] = got.get(msg.data[0], b"") + msg.data[1:]
            elif msg.type is aiohttp.WSMsgType.TEXT:  # base64 channels
                channel = ord(msg.data[0]) - ord("0")
                got[channel] = got.get(channel, b"") + base64.b64decode(msg.data[1:])
        return ws.protocol, got


async def test_kubectl_v5_exec_with_stdin_and_its_close_signal(client: TestClient, node) -> None:
    protocol, got = await ws_session(
        client, EXEC + "&stdin=true", "v5.channel.k8s.io", [b"\x00abc\n", b"\xff\x00"]
    )
    assert protocol == "v5.channel.k8s.io"
    assert got[1] == b"ran cat exit:3\nabc\n" and got[2] == b"cat exit:3"
    status = json.loads(got[3])
    assert status == {
        "metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
        "message": "command terminated with non-zero exit code: command terminated with exit "
                   "code 3",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }  # fmt: skip


async def test_python_clients_text_stdin_reaches_the_process_over_v4(
    client: TestClient, node
) -> None:
    """The official client's write_stdin("…") sends a text frame; the kubelet's reader takes
    it (the Python client's exec with stdin used to lose its input)."""
    url = EXEC.replace("exit:3", "exit:0") + "&stdin=true"
    async with client.ws_connect(url, protocols=("v4.channel.k8s.io",)) as ws:
        await ws.send_str("\x00hello from python\n")
        first = await ws.receive_bytes()
        assert first == b"\x01"  # the kubelet's hello: an empty message on stdout
        out = b""
        while b"hello from python" not in out:
            msg = await ws.receive_bytes()
            if msg[0] == 1:
                out += msg[1:]
        await ws.close()
    await asyncio.wait_for(node.processes[0].killed.wait(), 5)  # it left before the end


async def test_v4_reports_the_exit_code_in_the_kubelets_words(client: TestClient, node) -> None:
    _, got = await ws_session(client, EXEC, "v4.channel.k8s.io")
    assert json.loads(got[3])["message"] == (
        "command terminated with non-zero exit code: error executing command [cat exit:3], "
        "exit code 3"
    )


async def test_base64_channels_carry_text(client: TestClient, node) -> None:
    protocol, got = await ws_session(client, EXEC, "v4.base64.channel.k8s.io")
    assert protocol == "v4.base64.channel.k8s.io"
    assert got[1] == b"ran cat exit:3\n" and json.loads(got[3])["reason"] == "NonZeroExitCode"


async def test_v1_channels_send_only_a_failures_message(client: TestClient, node) -> None:
    _, failed = await ws_session(client, EXEC, "channel.k8s.io")
    assert failed[3].startswith(b"command terminated with non-zero exit code")
    _, ok = await ws_session(client, EXEC.replace("exit:3", "exit:0"), "channel.k8s.io")
    assert 3 not in ok


async def test_resize_messages_reach_a_tty_process(client: TestClient, node) -> None:
    url = f"{PODS}/web/exec?container=app&command=sh&stdin=true&stdout=true&tty=true"
    await ws_session(
        client, url, "v5.channel.k8s.io",
        [b'\x04{"Width":80,"Height":24}\n', b'\x04{"Width":100,"Height":30}', b"\xff\x00"],
    )  # fmt: skip
    assert node.processes[0].resized == [(80, 24), (100, 30)]


async def test_a_malformed_close_signal_ends_the_session_and_the_server_serves_on(
    client: TestClient, node
) -> None:
    url = EXEC + "&stdin=true"
    async with client.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
        await ws.send_bytes(b"\xff\x00\x01")  # CLOSE takes exactly one channel byte
        await ws.send_bytes(b"\x09nobody reads channel 9")
        async for _ in ws:
            pass
    assert node.processes[0].killed.is_set()
    _, got = await ws_session(client, EXEC, "v5.channel.k8s.io")
    assert json.loads(got[3])["reason"] == "NonZeroExitCode"


@pytest.mark.parametrize(
    ("protocol", "status_is_json"),
    [("v4.channel.k8s.io", True), ("v2.channel.k8s.io", False)],
)
async def test_spdy_exec_streams_and_status(
    client: TestClient, node, protocol: str, status_is_json: bool
) -> None:
    up = await upgrade(client.server.host, client.server.port, EXEC + "&stdin=true",
                       protocols=["v5.channel.k8s.io", protocol])  # fmt: skip
    try:
        assert up.status == 101 and up.headers["x-stream-protocol-version"] == protocol
        peer = up.peer
        assert peer is not None
        error = await peer.open({"streamtype": "error"})
        stdin = await peer.open({"streamtype": "stdin"})
        stdout = await peer.open({"streamtype": "stdout"})
        stderr = await peer.open({"streamtype": "stderr"})
        await peer.data(stdin, b"typed", fin=True)
        await peer.until_closed()
        assert bytes(peer.streams[stdout].data) == b"ran cat exit:3\ntyped"
        assert bytes(peer.streams[stderr].data) == b"cat exit:3"
        status = bytes(peer.streams[error].data)
        if status_is_json:
            assert json.loads(status)["details"]["causes"][0]["message"] == "3"
        else:
            assert status.startswith(b"command terminated with non-zero exit code")
    finally:
        await up.aclose()


async def test_spdy_without_a_common_protocol_is_the_kubelets_403(client: TestClient, node) -> None:
    up = await upgrade(client.server.host, client.server.port, EXEC,
                       protocols=["v9.channel.k8s.io"])  # fmt: skip
    assert up.status == 403
    assert up.body.startswith(b"unable to upgrade: unable to negotiate protocol")


async def test_exec_without_an_upgrade_is_400(client: TestClient, node) -> None:
    r = await client.post(EXEC)
    body = await r.json()
    assert (r.status, body["message"]) == (400, "Upgrade request required")


async def test_exec_asking_for_no_stream_is_the_kubelets_400(client: TestClient, node) -> None:
    url = f"{PODS}/web/exec?container=app&command=ls"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await session.ws_connect(client.make_url(url), protocols=("v4.channel.k8s.io",))
    assert err.value.status == 400


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("container=nope&command=ls&stdout=true", "container nope is not valid for pod web"),
        ("command=ls&stdout=true&container=", "container  is not valid for pod web"),
    ],
)
async def test_an_unknown_container_is_the_api_servers_400(
    client: TestClient, node, query: str, message: str
) -> None:
    r = await client.get(f"{PODS}/web/exec?{query}", headers={"Upgrade": "websocket"})
    if "container=&" in query or query.endswith("container="):
        assert r.status == 400  # an empty name is the only container: then no upgrade
        return
    assert (r.status, (await r.json())["message"]) == (400, message)


async def test_a_node_refusal_before_the_upgrade_is_plain_text_500(
    client: TestClient, node
) -> None:
    node.refuse = 'container not found ("app")'
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await session.ws_connect(client.make_url(EXEC), protocols=("v4.channel.k8s.io",))
    assert err.value.status == 500
    up = await upgrade(client.server.host, client.server.port, EXEC,
                       protocols=["v4.channel.k8s.io"])  # fmt: skip
    assert (up.status, up.body) == (500, b'container not found ("app")')


async def test_a_node_refusal_after_a_v5_upgrade_is_an_internal_error_status(
    client: TestClient, node
) -> None:
    node.refuse = 'container not found ("app")'
    _, got = await ws_session(client, EXEC, "v5.channel.k8s.io")
    status = json.loads(got[3])
    assert (status["reason"], status["code"]) == ("InternalError", 500)
    assert status["message"] == (
        'Internal error occurred: unable to upgrade connection: container not found ("app")'
    )


async def test_a_pod_without_a_node_cannot_exec(client: TestClient, api: ApiServer) -> None:
    api.set_backends(exec_backend=FakeNode())
    await client.post(PODS, json=pod("pending"))
    r = await client.get(f"{PODS}/pending/exec?command=ls&stdout=true")
    body = await r.json()
    assert (r.status, body["message"]) == (400, "pod pending does not have a host assigned")


async def test_a_client_that_disappears_mid_stream_kills_the_process(
    client: TestClient, node
) -> None:
    async with client.ws_connect(EXEC + "&stdin=true", protocols=("v5.channel.k8s.io",)) as ws:
        await ws.send_bytes(b"\x00partial")
        await ws.receive_bytes()
    await asyncio.wait_for(node.processes[0].killed.wait(), 5)
    _, got = await ws_session(client, EXEC, "v5.channel.k8s.io")  # and the server serves on
    assert got[1] == b"ran cat exit:3\n"


async def test_attach_with_stdin_ends_in_success(client: TestClient, node) -> None:
    url = f"{PODS}/web/attach?container=app&stdin=true&stdout=true&stderr=true"
    _, got = await ws_session(client, url, "v5.channel.k8s.io", [b"\x00line\n", b"\xff\x00"])
    assert got[1] == b"ran attach\nline\n"
    assert json.loads(got[3]) == {"metadata": {}, "status": "Success"}


async def test_attach_over_spdy(client: TestClient, node) -> None:
    url = f"{PODS}/web/attach?container=app&stdout=true"
    up = await upgrade(client.server.host, client.server.port, url,
                       protocols=["v4.channel.k8s.io"])  # fmt: skip
    try:
        assert up.peer is not None
        error = await up.peer.open({"streamtype": "error"})
        stdout = await up.peer.open({"streamtype": "stdout"})
        await up.peer.until_closed()
        assert bytes(up.peer.streams[stdout].data) == b"ran attach\n"
        assert json.loads(bytes(up.peer.streams[error].data))["status"] == "Success"
    finally:
        await up.aclose()


async def test_attach_refused_by_the_node(client: TestClient, node) -> None:
    node.refuse = "container app not found in pod web_default"
    url = f"{PODS}/web/attach?container=app&stdout=true"
    _, got = await ws_session(client, url, "v5.channel.k8s.io")
    assert json.loads(got[3])["message"] == (
        "Internal error occurred: unable to upgrade connection: container app not found in pod "
        "web_default"
    )
