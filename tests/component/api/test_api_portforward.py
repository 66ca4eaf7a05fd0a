"""port-forward as kubectl speaks it (SPDY/3.1 over the WebSocket tunnel or a plain upgrade)
and as the Python client does (v4 channels), with pod ports served locally: many connections
on one session, large transfers, the pod closing, a port nobody listens on, PINGs, bad
input."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from kubelite.api import spdy
from kubelite.api.server import ApiServer
from tests.component.api.conftest import pod
from tests.component.api.spdyclient import SpdyPeer, upgrade
from tests.component.api.streamfakes import FakeNode

PODS = "/api/v1/namespaces/default/pods"
PF = f"{PODS}/web/portforward"


@pytest.fixture
async def node(client: TestClient, api: ApiServer) -> AsyncIterator[FakeNode]:
    fake = FakeNode()
    await fake.start()
    api.set_backends(exec_backend=fake)
    r = await client.post(PODS, json=pod(nodeName="node-1"))
    assert r.status == 201
    yield fake
    await fake.stop()


async def open_pair(peer: SpdyPeer, port: int, request_id: int) -> tuple[int, int]:
    """As client-go does for each local connection: the error stream, then the data one."""
    headers = {"port": str(port), "requestid": str(request_id)}
    error = await peer.open({"streamtype": "error", **headers})
    data = await peer.open({"streamtype": "data", **headers})
    await peer.data(error, b"", fin=True)  # client-go half-closes the error stream at once
    await peer.until(lambda: peer.streams[error].replied and peer.streams[data].replied)
    return error, data


async def exercise(peer: SpdyPeer, bulk: int) -> None:
    """Two connections at once on one session (echo and bulk), a PING, a closed port."""
    e1, d1 = await open_pair(peer, 80, 0)
    e2, d2 = await open_pair(peer, 81, 1)
    await peer.data(d1, b"ping-pong", fin=True)
    await peer.send(spdy.Ping(5))
    await peer.until(lambda: peer.streams[d1].fin and peer.streams[d2].fin and 5 in peer.pings)
    assert bytes(peer.streams[d1].data) == b"ping-pong"
    expected = hashlib.sha256((bytes(range(256)) * 256 * (bulk // 65536 + 1))[:bulk]).digest()
    assert len(peer.streams[d2].data) == bulk
    assert hashlib.sha256(peer.streams[d2].data).digest() == expected
    await peer.until(lambda: peer.streams[e1].fin and peer.streams[e2].fin)
    assert peer.streams[e1].data == peer.streams[e2].data == b""  # no error on either
    e3, _d3 = await open_pair(peer, 82, 2)
    await peer.until(lambda: peer.streams[e3].fin)
    assert bytes(peer.streams[e3].data).startswith(b"error forwarding port 82 to pod")


async def test_kubectls_websocket_tunnel_carries_a_spdy_session(client: TestClient, node) -> None:
    async with client.ws_connect(PF, protocols=("SPDY/3.1+portforward.k8s.io",)) as ws:
        assert ws.protocol == "SPDY/3.1+portforward.k8s.io"

        async def read() -> bytes:
            msg = await ws.receive()
            return bytes(msg.data) if msg.type is aiohttp.WSMsgType.BINARY else b""

        async def write(data: bytes) -> None:
            for i in range(0, len(data), 3):  # the tunnel splits writes anywhere
                await ws.send_bytes(data[i : i + 3])

        await exercise(SpdyPeer(read, write), node.bulk)


async def test_a_plain_spdy_upgrade_carries_the_same_session(client: TestClient, node) -> None:
    up = await upgrade(client.server.host, client.server.port, PF,
                       protocols=["portforward.k8s.io"])  # fmt: skip
    try:
        assert up.status == 101 and up.headers["upgrade"] == "SPDY/3.1"
        assert up.headers["x-stream-protocol-version"] == "portforward.k8s.io"
        assert up.peer is not None
        await exercise(up.peer, node.bulk)
    finally:
        await up.aclose()


async def test_a_stream_with_a_bad_port_is_reset(client: TestClient, node) -> None:
    up = await upgrade(client.server.host, client.server.port, PF,
                       protocols=["portforward.k8s.io"])  # fmt: skip
    try:
        assert up.peer is not None
        bad = await up.peer.open({"streamtype": "data", "port": "70000", "requestid": "0"})
        none = await up.peer.open({"streamtype": "data", "requestid": "1"})
        kind = await up.peer.open({"streamtype": "other", "port": "80", "requestid": "2"})
        for sid in (bad, none, kind):
            await up.peer.until(lambda sid=sid: up.peer.streams[sid].reset is not None)
        _e, d = await open_pair(up.peer, 80, 3)  # the session serves on
        await up.peer.data(d, b"still here", fin=True)
        await up.peer.until(lambda: up.peer.streams[d].fin)
        assert bytes(up.peer.streams[d].data) == b"still here"
    finally:
        await up.aclose()


async def test_a_second_data_stream_for_a_request_is_an_error_on_its_error_stream(
    client: TestClient, node
) -> None:
    up = await upgrade(client.server.host, client.server.port, PF,
                       protocols=["portforward.k8s.io"])  # fmt: skip
    try:
        peer = up.peer
        assert peer is not None
        headers = {"port": "80", "requestid": "7"}
        error = await peer.open({"streamtype": "error", **headers})
        await peer.open({"streamtype": "error", **headers})
        await peer.until(lambda: b"error stream already assigned" in peer.streams[error].data)
        assert bytes(peer.streams[error].data) == (
            b"error processing stream for request 7: error stream already assigned"
        )
    finally:
        await up.aclose()


async def test_garbage_instead_of_spdy_gets_goaway_and_the_server_serves_on(
    client: TestClient, node
) -> None:
    up = await upgrade(client.server.host, client.server.port, PF,
                       protocols=["portforward.k8s.io"])  # fmt: skip
    try:
        assert up.writer is not None and up.peer is not None
        up.writer.write(b"\x80\x07\x00\x01" + b"\x00" * 12)  # SPDY version 7
        await up.peer.until_closed()
        assert up.peer.goaway == spdy.GoAway(0, spdy.GoAwayStatus.PROTOCOL_ERROR)
    finally:
        await up.aclose()
    await test_a_plain_spdy_upgrade_carries_the_same_session(client, node)


async def test_a_client_that_vanishes_mid_transfer_leaves_nothing_behind(
    client: TestClient, node
) -> None:
    node.bulk = 64 << 20
    up = await upgrade(client.server.host, client.server.port, PF,
                       protocols=["portforward.k8s.io"])  # fmt: skip
    assert up.peer is not None
    _, data = await open_pair(up.peer, 81, 0)
    await up.peer.until(lambda: len(up.peer.streams[data].data) > 100_000)
    await up.aclose()  # gone, with the pod still sending
    await asyncio.sleep(0.2)
    node.bulk = 1000
    up = await upgrade(client.server.host, client.server.port, PF,
                       protocols=["portforward.k8s.io"])  # fmt: skip
    try:
        assert up.peer is not None
        _, data = await open_pair(up.peer, 81, 0)
        await up.peer.until(lambda: up.peer.streams[data].fin)
        assert len(up.peer.streams[data].data) == 1000
    finally:
        await up.aclose()


async def test_the_python_clients_v4_channels(client: TestClient, node) -> None:
    url = f"{PF}?ports=80&ports=81,82"
    async with client.ws_connect(url, protocols=("v5.channel.k8s.io", "v4.channel.k8s.io")) as ws:
        assert ws.protocol == "v4.channel.k8s.io"  # v5 is for exec and attach only
        firsts: dict[int, bytes] = {}
        got: dict[int, bytes] = {}
        await ws.send_bytes(b"\x00hello")
        async for msg in ws:
            channel, payload = msg.data[0], msg.data[1:]
            if channel not in firsts:
                firsts[channel] = payload
            else:
                got[channel] = got.get(channel, b"") + payload
            if channel == 0 and got.get(0) == b"hello":
                await ws.close()  # as the client does once its sockets are closed
    assert firsts == {0: b"\x50\x00", 1: b"\x50\x00", 2: b"\x51\x00", 3: b"\x51\x00",
                      4: b"\x52\x00", 5: b"\x52\x00"}  # fmt: skip
    assert got[0] == b"hello"
    assert got[5].startswith(b"error forwarding port 82")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", 'query parameter "port" is required'),
        ("?ports=70000", 'unable to parse "70000" as a port: strconv.ParseUint: parsing '
                         '"70000": value out of range'),
        ("?ports=0", 'port "0" must be > 0'),
        ("?ports=http", 'unable to parse "http" as a port: strconv.ParseUint: parsing "http": '
                        "invalid syntax"),
    ],
)  # fmt: skip
async def test_ports_out_of_range_are_the_kubelets_400(
    client: TestClient, node, query: str, message: str
) -> None:
    async with aiohttp.ClientSession() as session:
        r = await session.get(
            client.make_url(PF + query),
            headers={"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                     "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                     "Sec-WebSocket-Protocol": "v4.channel.k8s.io"},
        )  # fmt: skip
        assert (r.status, await r.text()) == (400, message)


async def test_port_forward_needs_an_upgrade_and_a_pod_on_the_node(
    client: TestClient, node
) -> None:
    r = await client.post(PF)
    assert (r.status, (await r.json())["message"]) == (400, "Upgrade request required")
    node.refuse = 'pod not found ("web_default")'
    up = await upgrade(client.server.host, client.server.port, PF,
                       protocols=["portforward.k8s.io"])  # fmt: skip
    assert (up.status, up.body) == (500, b'pod not found ("web_default")')
    r = await client.get(f"{PODS}/nope/portforward", headers={"Upgrade": "websocket"})
    assert (r.status, (await r.json())["message"]) == (404, 'pods "nope" not found')


async def test_a_pair_that_never_completes_times_out_and_holds_nothing(
    client: TestClient, node, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubelite.api import portforward

    monkeypatch.setattr(portforward, "STREAM_CREATION_TIMEOUT", 0.2)
    up = await upgrade(client.server.host, client.server.port, PF,
                       protocols=["portforward.k8s.io"])  # fmt: skip
    try:
        peer = up.peer
        assert peer is not None
        error = await peer.open({"streamtype": "error", "port": "80", "requestid": "9"})
        await peer.until(lambda: peer.streams[error].reset is not None)
        assert bytes(peer.streams[error].data).endswith(
            b", request=9) timed out waiting for streams"
        )
        _, data = await open_pair(peer, 80, 10)  # the session serves on
        await peer.data(data, b"after", fin=True)
        await peer.until(lambda: peer.streams[data].fin)
        assert bytes(peer.streams[data].data) == b"after"
    finally:
        await up.aclose()
