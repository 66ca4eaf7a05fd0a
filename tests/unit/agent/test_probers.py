"""Probe mechanisms (PR-6) against real servers on 127.0.0.1, started and closed by each test."""

from __future__ import annotations

import asyncio
import datetime
import json
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import pytest
from aiohttp import web

from kubelite.agent.probeexec import exec_probe
from kubelite.agent.probegrpc import grpc_probe
from kubelite.agent.probers import run_probe
from kubelite.agent.probestate import Outcome, RawResult
from kubelite.agent.probetarget import ProbeTarget, Streams
from kubelite.agent.probetcp import tcp_probe
from kubelite.clock import ManualClock
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.interface import ContainerConfig, SandboxConfig

LOCAL = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind((LOCAL, 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------- HTTP test server


@pytest.fixture
async def http_server() -> AsyncIterator[int]:
    release = asyncio.Event()

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="fine")

    async def fail(_: web.Request) -> web.Response:
        return web.Response(status=500, text="secret body")

    async def echo(req: web.Request) -> web.Response:
        raw = [[k.decode(), v.decode()] for k, v in req.raw_headers]
        return web.json_response({"headers": raw, "host": req.host})

    async def redirect(req: web.Request) -> web.Response:
        raise web.HTTPFound(req.query["to"])

    async def loop(req: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def big(_: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=307, headers={"Location": "http://localhost:1/x"})
        resp.enable_chunked_encoding()
        await resp.prepare(_)
        await resp.write(b"a" * 20_000)
        await resp.write_eof()
        return resp

    async def slow(_: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="late")

    app = web.Application()
    app.add_routes(
        [
            web.get("/ok", ok),
            web.get("/fail", fail),
            web.get("/echo", echo),
            web.get("/redirect", redirect),
            web.get("/loop", loop),
            web.get("/big", big),
            web.get("/slow", slow),
        ]
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, LOCAL, 0)
    await site.start()
    port = runner.addresses[0][1]
    yield port
    release.set()
    await runner.cleanup()


def http(port: int, path: str, **extra: Any) -> dict[str, Any]:
    return {"httpGet": {"port": port, "path": path, **extra}}


async def probe(handler: dict[str, Any], target: ProbeTarget, timeout: float = 2) -> RawResult:
    async with FakeRuntime(ManualClock()) as rt:
        return await run_probe(handler, target, runtime=rt, timeout=timeout)


HOST = ProbeTarget(container_id="c", host=LOCAL)


async def test_http_2xx_is_success_with_the_body_as_output(http_server: int) -> None:
    assert await probe(http(http_server, "/ok"), HOST) == RawResult(Outcome.SUCCESS, "fine")


async def test_http_500_fails_with_the_status_code_and_never_the_body(http_server: int) -> None:
    r = await probe(http(http_server, "/fail"), HOST)
    assert r == RawResult(Outcome.FAILURE, "HTTP probe failed with statuscode: 500")


async def test_http_default_headers_and_host(http_server: int) -> None:
    r = await probe(http(http_server, "/echo"), HOST)
    headers = dict(tuple(h) for h in json.loads(r.output)["headers"])
    assert headers["User-Agent"] == "kube-probe/1.32"
    assert headers["Accept"] == "*/*"
    assert headers["Connection"] == "close"
    assert headers["Host"] == f"{LOCAL}:{http_server}"


async def test_http_custom_headers_override_defaults_and_empty_accept_removes_it(
    http_server: int,
) -> None:
    custom = [
        {"name": "user-agent", "value": "mine"},
        {"name": "Accept", "value": ""},
        {"name": "x-trace-id", "value": "42"},
        {"name": "Host", "value": "example.test"},
    ]
    r = await probe(http(http_server, "/echo", httpHeaders=custom), HOST)
    body = json.loads(r.output)
    headers = dict(tuple(h) for h in body["headers"])
    assert headers["User-Agent"] == "mine"
    assert "Accept" not in headers
    assert headers["X-Trace-Id"] == "42"
    assert body["host"] == "example.test"


async def test_http_port_may_be_a_container_port_name(http_server: int) -> None:
    target = ProbeTarget(container_id="c", host=LOCAL, ports={"web": http_server})
    assert (await probe(http("web", "/ok"), target)).outcome is Outcome.SUCCESS  # type: ignore[arg-type]


async def test_an_unknown_port_name_is_a_machinery_error() -> None:
    r = await probe(http("nope", "/ok"), HOST)  # type: ignore[arg-type]
    assert r.outcome is Outcome.UNKNOWN and r.error is not None


async def test_http_redirects_to_the_same_host_are_followed(http_server: int) -> None:
    handler = {"httpGet": {"port": http_server, "path": "/redirect?to=/ok"}}
    r = await probe(handler, HOST)
    assert r == RawResult(Outcome.SUCCESS, "fine")


async def test_a_redirect_to_another_host_warns_with_the_body(http_server: int) -> None:
    to = f"http://localhost:{http_server}/ok"
    r = await probe({"httpGet": {"port": http_server, "path": f"/redirect?to={to}"}}, HOST)
    assert r.outcome is Outcome.WARNING
    assert r.output.startswith("Probe terminated redirects, Response body: ")


async def test_the_body_read_is_capped_at_10_kib(http_server: int) -> None:
    r = await probe(http(http_server, "/big"), HOST)
    prefix = "Probe terminated redirects, Response body: "
    assert r.outcome is Outcome.WARNING and r.output == prefix + "a" * 10240


async def test_more_than_ten_redirects_fail(http_server: int) -> None:
    r = await probe(http(http_server, "/loop"), HOST)
    url = f"http://{LOCAL}:{http_server}/loop"
    assert r == RawResult(Outcome.FAILURE, f'Get "{url}": stopped after 10 redirects')


async def test_a_refused_http_connection_is_worded_like_go() -> None:
    port = free_port()
    r = await probe(http(port, "/x"), HOST)
    url = f"http://{LOCAL}:{port}/x"
    expected = f'Get "{url}": dial tcp {LOCAL}:{port}: connect: connection refused'
    assert r == RawResult(Outcome.FAILURE, expected)


async def test_a_slow_http_answer_times_out(http_server: int) -> None:
    r = await probe(http(http_server, "/slow"), HOST, timeout=0.2)
    url = f"http://{LOCAL}:{http_server}/slow"
    assert r.outcome is Outcome.FAILURE
    assert r.output == (
        f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
    )


async def test_the_dial_callable_decides_where_the_probe_connects(http_server: int) -> None:
    dialled: list[tuple[str, int]] = []

    async def into_pod(host: str, port: int) -> Streams:
        dialled.append((host, port))
        return await asyncio.open_connection(LOCAL, port)

    target = ProbeTarget(container_id="c", host="10.244.0.9", dial=into_pod)
    r = await probe(http(http_server, "/echo"), target)
    assert dialled == [("10.244.0.9", http_server)]
    assert json.loads(r.output)["host"] == f"10.244.0.9:{http_server}"


# ------------------------------------------------------------------------- HTTPS


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "probe-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    yield d / "cert.pem", d / "key.pem"


async def test_https_probes_do_not_verify_the_certificate(tls_files: tuple[Path, Path]) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*tls_files)

    async def ok(_: web.Request) -> web.Response:
        return web.Response(text="secure")

    app = web.Application()
    app.add_routes([web.get("/", ok)])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, LOCAL, 0, ssl_context=ctx).start()
    try:
        port = runner.addresses[0][1]
        r = await probe({"httpGet": {"port": port, "scheme": "HTTPS"}}, HOST)
        assert r == RawResult(Outcome.SUCCESS, "secure")
    finally:
        await runner.cleanup()


# ------------------------------------------------------------------------- tcpSocket


async def test_tcp_succeeds_when_the_connection_opens() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), LOCAL, 0)
    port = server.sockets[0].getsockname()[1]
    try:
        r = await probe({"tcpSocket": {"port": port}}, HOST)
        assert r == RawResult(Outcome.SUCCESS)
    finally:
        server.close()
        await server.wait_closed()


async def test_tcp_refused_is_worded_like_go() -> None:
    port = free_port()
    r = await tcp_probe(LOCAL, port, 1)
    assert r == RawResult(Outcome.FAILURE, f"dial tcp {LOCAL}:{port}: connect: connection refused")


async def test_tcp_dial_timeout() -> None:
    async def never(host: str, port: int) -> Streams:
        await asyncio.sleep(10)
        raise AssertionError

    r = await tcp_probe("10.0.0.1", 81, 0.05, never)
    assert r == RawResult(Outcome.FAILURE, "dial tcp 10.0.0.1:81: i/o timeout")


# ------------------------------------------------------------------------- exec


@pytest.fixture
async def fake_container() -> AsyncIterator[tuple[FakeRuntime, ManualClock, str]]:
    clock = ManualClock()
    async with FakeRuntime(clock) as rt:
        sid = await rt.run_sandbox(SandboxConfig("u", "web", "default", 0, "web"))
        cid = await rt.create_container(sid, ContainerConfig(name="app", attempt=0, image="i"))
        await rt.start_container(cid)
        yield rt, clock, cid


async def test_exec_exit_zero_succeeds(fake_container: tuple[FakeRuntime, Any, str]) -> None:
    rt, _, cid = fake_container
    rt.script_exec(["cat", "/ready"], stdout=b"ok\n")
    assert await exec_probe(rt, cid, ["cat", "/ready"], 1) == RawResult(Outcome.SUCCESS, "ok\n")


async def test_exec_failure_output_joins_stdout_and_stderr_capped_at_10_kib(
    fake_container: tuple[FakeRuntime, Any, str],
) -> None:
    rt, _, cid = fake_container
    rt.script_exec(["check"], exit_code=1, stdout=b"x" * 10_000, stderr=b"y" * 1000)
    r = await exec_probe(rt, cid, ["check"], 1)
    assert r == RawResult(Outcome.FAILURE, "x" * 10_000 + "y" * 240)


async def test_exec_timeout_fails(fake_container: tuple[FakeRuntime, ManualClock, str]) -> None:
    rt, clock, cid = fake_container
    rt.script_exec(["sleep", "9"], takes=9)
    run = asyncio.create_task(exec_probe(rt, cid, ["sleep", "9"], 1))
    await asyncio.sleep(0)
    await clock.advance(1)
    assert await run == RawResult(Outcome.FAILURE, 'command "sleep 9" timed out')


async def test_exec_expands_literal_env(fake_container: tuple[FakeRuntime, Any, str]) -> None:
    rt, _, cid = fake_container
    target = ProbeTarget(container_id=cid, host=LOCAL, env={"FILE": "/ready"})
    r = await run_probe({"exec": {"command": ["cat", "$(FILE)"]}}, target, runtime=rt, timeout=1)
    assert r.outcome is Outcome.SUCCESS
    assert rt.calls_of("exec_sync")[-1].args == (cid, ("cat", "/ready"))


async def test_exec_in_a_stopped_container_is_a_machinery_error(
    fake_container: tuple[FakeRuntime, Any, str],
) -> None:
    rt, _, cid = fake_container
    await rt.stop_container(cid, 1)
    r = await exec_probe(rt, cid, ["true"], 1)
    assert r.outcome is Outcome.UNKNOWN and r.error


# ------------------------------------------------------------------------- grpc


class HealthServer:
    """grpc.health.v1 over h2: ``statuses`` maps service names to ServingStatus numbers."""

    def __init__(self, statuses: dict[str, int], *, implemented: bool = True) -> None:
        self.statuses, self.implemented = statuses, implemented
        self.seen: list[dict[str, str]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        headers: dict[str, str] = {}
        body = b""
        try:
            while data := await reader.read(65536):
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        headers = {str(k): str(v) for k, v in ev.headers}
                        self.seen.append(headers)
                    elif isinstance(ev, h2.events.DataReceived):
                        body += ev.data
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        self.answer(conn, ev.stream_id, headers, body[5:])
                writer.write(conn.data_to_send())
                await writer.drain()
        finally:
            writer.close()

    def answer(self, conn: Any, sid: int, headers: dict[str, str], msg: bytes) -> None:
        service = msg[2:].decode() if msg else ""
        grpc = [(":status", "200"), ("content-type", "application/grpc")]
        if not self.implemented or headers[":path"] != "/grpc.health.v1.Health/Check":
            trailer = [
                ("grpc-status", "12"),
                ("grpc-message", "unknown service grpc.health.v1.Health"),
            ]
            conn.send_headers(sid, grpc + trailer, end_stream=True)
        elif service not in self.statuses:
            trailer = [("grpc-status", "5"), ("grpc-message", "unknown service")]
            conn.send_headers(sid, [*grpc, *trailer], end_stream=True)
        else:
            conn.send_headers(sid, grpc)
            reply = bytes([0x08, self.statuses[service]])
            conn.send_data(sid, b"\x00" + len(reply).to_bytes(4, "big") + reply)
            conn.send_headers(sid, [("grpc-status", "0")], end_stream=True)


_HANDLERS: set[asyncio.Task[Any]] = set()


async def serve(handler: Any) -> tuple[asyncio.Server, int]:
    """A raw TCP server whose connection handlers are awaited by ``close``."""

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        _HANDLERS.add(task)
        try:
            await handler(reader, writer)
        finally:
            writer.close()
            _HANDLERS.discard(task)

    server = await asyncio.start_server(tracked, LOCAL, 0)
    return server, server.sockets[0].getsockname()[1]


async def close(server: asyncio.Server) -> None:
    server.close()
    for task in list(_HANDLERS):
        task.cancel()
    await asyncio.gather(*_HANDLERS, return_exceptions=True)
    await server.wait_closed()


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("", RawResult(Outcome.SUCCESS)),
        ("db", RawResult(Outcome.FAILURE, 'service unhealthy (responded with "NOT_SERVING")')),
        (
            "nope",
            RawResult(
                Outcome.FAILURE,
                "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service",
            ),
        ),
    ],
)
async def test_grpc_health_check(service: str, expected: RawResult) -> None:
    health = HealthServer({"": 1, "db": 2})
    server, port = await serve(health.handle)
    try:
        r = await probe({"grpc": {"port": port, "service": service}}, HOST)
        assert r == expected
        assert health.seen[0][":path"] == "/grpc.health.v1.Health/Check"
    finally:
        await close(server)


async def test_grpc_server_without_the_health_service() -> None:
    server, port = await serve(HealthServer({}, implemented=False).handle)
    try:
        r = await grpc_probe(LOCAL, port, "", 2)
        assert r == RawResult(
            Outcome.FAILURE,
            "error: this server does not implement the grpc health protocol "
            "(grpc.health.v1.Health): unknown service grpc.health.v1.Health",
        )
    finally:
        await close(server)


async def test_grpc_refused_connection() -> None:
    port = free_port()
    r = await grpc_probe(LOCAL, port, "", 1)
    assert r.output == (
        f'error: failed to connect service at "{LOCAL}:{port}": connection error: desc = '
        f'"transport: Error while dialing: dial tcp {LOCAL}:{port}: connect: connection refused"'
    )


async def test_grpc_rpc_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server, port = await serve(silent)
    try:
        r = await grpc_probe(LOCAL, port, "", 0.2)
        assert r == RawResult(Outcome.FAILURE, "timeout: health rpc did not complete within 200ms")
    finally:
        await close(server)


async def test_grpc_against_a_plain_http_server_fails(http_server: int) -> None:
    r = await grpc_probe(LOCAL, http_server, "", 2)
    assert r.outcome is Outcome.FAILURE
    assert r.output.startswith("error: health rpc probe failed: rpc error: code = ")


async def test_grpc_named_ports_are_a_machinery_error() -> None:
    r = await probe({"grpc": {"port": "grpc"}}, HOST)
    assert r.outcome is Outcome.UNKNOWN and r.error
