"""The cluster DNS server over real sockets on 127.0.0.1, forwarding to a fake upstream that
also listens on 127.0.0.1 (no query ever leaves loopback)."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest
from dnslib import CLASS, EDNS0, QTYPE, RCODE, RR, A, DNSQuestion, DNSRecord

from kubelite.model.service import EndpointSliceView, ServiceView
from kubelite.network.dnsforward import upstreams_from_resolv_conf
from kubelite.network.dnsserver import DnsConfig, DnsServer
from kubelite.network.dnswire import header_reply, screen

LOOPBACK = "127.0.0.1"
UPSTREAM_ANSWER = "192.0.2.1"  # TEST-NET-1: only ever data in a reply


class FakeUpstream:
    """A dnslib responder on 127.0.0.1 (UDP and TCP): answers every A query with one record, or
    stays silent; remembers what it was asked and over which transport."""

    def __init__(self, *, silent: bool = False) -> None:
        self.silent = silent
        self.seen: list[tuple[str, DNSRecord]] = []
        self.asked = asyncio.Event()
        self.port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None

    def respond(self, data: bytes) -> bytes | None:
        request = DNSRecord.parse(data)
        self.asked.set()
        if self.silent:
            return None
        out = request.reply()
        if request.q.qtype == QTYPE.A:
            out.add_answer(RR(request.q.qname, QTYPE.A, ttl=300, rdata=A(UPSTREAM_ANSWER)))
        wire: bytes = out.pack()
        return wire

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        upstream = self

        class Udp(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = cast(asyncio.DatagramTransport, transport)

            def datagram_received(self, data: bytes, addr: Any) -> None:
                upstream.seen.append(("udp", DNSRecord.parse(data)))
                wire = upstream.respond(data)
                if wire is not None:
                    self.transport.sendto(wire, addr)

        class Tcp(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = cast(asyncio.Transport, transport)
                self.buffer = b""

            def data_received(self, data: bytes) -> None:
                self.buffer += data
                if len(self.buffer) >= 2 and len(self.buffer) >= 2 + int.from_bytes(
                    self.buffer[:2], "big"
                ):
                    message = self.buffer[2:]
                    upstream.seen.append(("tcp", DNSRecord.parse(message)))
                    wire = upstream.respond(message)
                    if wire is not None:
                        self.transport.write(len(wire).to_bytes(2, "big") + wire)

        for _ in range(20):  # a port free for both UDP and TCP
            self._udp, _ = await loop.create_datagram_endpoint(Udp, local_addr=(LOOPBACK, 0))
            self.port = self._udp.get_extra_info("sockname")[1]
            try:
                self._tcp = await loop.create_server(Tcp, LOOPBACK, self.port)
                return
            except OSError:
                self._udp.close()
        raise OSError("no free port for the fake upstream")

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    fake = FakeUpstream()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def config(*upstreams: FakeUpstream, **kw: Any) -> DnsConfig:
    defaults: dict[str, Any] = {
        "reverse_cidrs": ("10.96.0.0/12", "10.244.0.0/16"),
        "upstreams": tuple((LOOPBACK, u.port) for u in upstreams),
        "try_timeout": 0.2,
        "forward_deadline": 0.6,
    }
    return DnsConfig(**(defaults | kw))


@pytest.fixture
async def server(upstream: FakeUpstream) -> AsyncIterator[DnsServer]:
    async with DnsServer(address=LOOPBACK, port=0, config=config(upstream)) as srv:
        srv.update(SERVICES, SLICES)
        yield srv


def svc(name: str, **spec: Any) -> ServiceView:
    return ServiceView.of({"metadata": {"name": name, "namespace": "default"}, "spec": spec})


MANY = 60
SERVICES = [
    svc("kubernetes", clusterIP="10.96.0.1", ports=[{"name": "https", "port": 443}]),
    svc("big", clusterIP="None", ports=[{"name": "http", "port": 80}]),
    svc("ext", type="ExternalName", externalName="db.example.test"),
]
SLICES = [
    EndpointSliceView.of(
        {
            "metadata": {
                "name": "big-1",
                "namespace": "default",
                "labels": {"kubernetes.io/service-name": "big"},
            },
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": [f"10.244.1.{i}"], "conditions": {"ready": True}}
                for i in range(1, MANY + 1)
            ],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        }
    )
]


def query(name: str, qtype: str = "A", *, edns: int | None = None, version: int = 0) -> bytes:
    request = DNSRecord.question(name, qtype)
    if edns is not None:
        request.add_ar(EDNS0(udp_len=edns, version=version))
    wire: bytes = request.pack()
    return wire


async def udp(port: int, data: bytes, timeout: float = 2.0) -> bytes:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.connect((LOOPBACK, port))
        await loop.sock_sendall(sock, data)
        async with asyncio.timeout(timeout):
            return await loop.sock_recv(sock, 65535)


async def tcp(port: int, *messages: bytes) -> list[bytes]:
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    try:
        writer.write(b"".join(len(m).to_bytes(2, "big") + m for m in messages))
        await writer.drain()
        out = []
        for _ in messages:
            size = int.from_bytes(await reader.readexactly(2), "big")
            out.append(await reader.readexactly(size))
        return out
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_cluster_name_is_answered_over_udp(server: DnsServer) -> None:
    response = DNSRecord.parse(
        await udp(server.port, query("kubernetes.default.svc.cluster.local"))
    )
    assert [str(r.rdata) for r in response.rr] == ["10.96.0.1"]
    assert response.header.aa == 1


async def test_before_the_first_update_a_cluster_name_answers_servfail(
    upstream: FakeUpstream,
) -> None:
    async with DnsServer(address=LOOPBACK, port=0, config=config(upstream)) as srv:
        got = DNSRecord.parse(await udp(srv.port, query("kubernetes.default.svc.cluster.local")))
        assert got.header.rcode == RCODE.SERVFAIL
        srv.update(SERVICES, SLICES)
        got = DNSRecord.parse(await udp(srv.port, query("kubernetes.default.svc.cluster.local")))
        assert got.header.rcode == RCODE.NOERROR


async def test_an_update_swaps_the_records(server: DnsServer) -> None:
    name = "later.default.svc.cluster.local"
    assert DNSRecord.parse(await udp(server.port, query(name))).header.rcode == RCODE.NXDOMAIN
    server.update([*SERVICES, svc("later", clusterIP="10.96.0.77", ports=[{"port": 80}])], SLICES)
    response = DNSRecord.parse(await udp(server.port, query(name)))
    assert [str(r.rdata) for r in response.rr] == ["10.96.0.77"]


async def test_a_repeated_query_gets_the_same_answer_under_its_own_id(server: DnsServer) -> None:
    request = DNSRecord.question("Kubernetes.default.svc.cluster.local")
    replies = []
    for ident in (1, 2, 3):
        request.header.id = ident
        replies.append(await udp(server.port, request.pack()))
    assert [struct.unpack_from("!H", r)[0] for r in replies] == [1, 2, 3]
    assert len({r[2:] for r in replies}) == 1
    assert str(DNSRecord.parse(replies[2]).rr[0].rname) == "Kubernetes.default.svc.cluster.local."


async def test_tcp_carries_length_prefixed_messages_several_per_connection(
    server: DnsServer,
) -> None:
    first, second = await tcp(
        server.port,
        query("kubernetes.default.svc.cluster.local"),
        query("1.0.96.10.in-addr.arpa", "PTR"),
    )
    assert str(DNSRecord.parse(first).rr[0].rdata) == "10.96.0.1"
    assert str(DNSRecord.parse(second).rr[0].rdata) == "kubernetes.default.svc.cluster.local."


async def test_a_udp_answer_too_big_for_512_bytes_is_truncated_with_tc(server: DnsServer) -> None:
    wire = await udp(server.port, query("big.default.svc.cluster.local"))
    response = DNSRecord.parse(wire)
    assert len(wire) <= 512
    assert response.header.tc == 1
    assert 0 < len(response.rr) < MANY


async def test_edns_raises_the_udp_limit_and_its_opt_record_is_echoed(server: DnsServer) -> None:
    wire = await udp(server.port, query("big.default.svc.cluster.local", edns=4096))
    response = DNSRecord.parse(wire)
    assert response.header.tc == 0
    assert len(response.rr) == MANY
    opt = [r for r in response.ar if r.rtype == QTYPE.OPT]
    assert [(o.edns_len, o.edns_ver) for o in opt] == [(4096, 0)]


async def test_tcp_answers_in_full_whatever_the_size(server: DnsServer) -> None:
    (wire,) = await tcp(server.port, query("big.default.svc.cluster.local"))
    response = DNSRecord.parse(wire)
    assert (response.header.tc, len(response.rr)) == (0, MANY)


async def test_headless_answers_are_shuffled_between_queries(server: DnsServer) -> None:
    orders = set()
    for _ in range(5):
        wire = await udp(server.port, query("big.default.svc.cluster.local", edns=4096))
        orders.add(tuple(str(r.rdata) for r in DNSRecord.parse(wire).rr))
    assert len(orders) > 1
    assert {len(set(o)) for o in orders} == {MANY}


async def test_other_names_are_forwarded_with_the_client_s_id(
    server: DnsServer, upstream: FakeUpstream
) -> None:
    request = DNSRecord.question("www.example.test")
    request.header.id = 777
    response = DNSRecord.parse(await udp(server.port, request.pack()))
    assert response.header.id == 777
    assert [str(r.rdata) for r in response.rr] == [UPSTREAM_ANSWER]
    assert [(proto, str(r.q.qname)) for proto, r in upstream.seen] == [("udp", "www.example.test.")]


async def test_a_client_on_tcp_is_forwarded_over_tcp(
    server: DnsServer, upstream: FakeUpstream
) -> None:
    (wire,) = await tcp(server.port, query("www.example.test"))
    assert [str(r.rdata) for r in DNSRecord.parse(wire).rr] == [UPSTREAM_ANSWER]
    assert [proto for proto, _ in upstream.seen] == ["tcp"]


async def test_reverse_names_outside_the_cluster_ranges_are_forwarded(
    server: DnsServer, upstream: FakeUpstream
) -> None:
    await udp(server.port, query("1.2.0.192.in-addr.arpa", "PTR"))
    assert [str(r.q.qname) for _, r in upstream.seen] == ["1.2.0.192.in-addr.arpa."]


async def test_an_external_name_is_chased_through_the_upstream(server: DnsServer) -> None:
    response = DNSRecord.parse(await udp(server.port, query("ext.default.svc.cluster.local")))
    assert [(QTYPE[r.rtype], str(r.rdata)) for r in response.rr] == [
        ("CNAME", "db.example.test."),
        ("A", UPSTREAM_ANSWER),
    ]


async def test_an_upstream_that_does_not_answer_gives_servfail_within_the_deadline() -> None:
    silent = FakeUpstream(silent=True)
    await silent.start()
    try:
        async with DnsServer(address=LOOPBACK, port=0, config=config(silent)) as srv:
            started = time.monotonic()
            response = DNSRecord.parse(await udp(srv.port, query("www.example.test")))
            assert response.header.rcode == RCODE.SERVFAIL
            assert response.header.aa == 0
            assert time.monotonic() - started < 1.5
            assert len(silent.seen) >= 2  # tried again until the deadline
    finally:
        await silent.stop()


async def test_a_silent_upstream_is_passed_over_for_one_that_answers(
    upstream: FakeUpstream,
) -> None:
    silent = FakeUpstream(silent=True)
    await silent.start()
    try:
        cfg = config(silent, upstream, try_timeout=0.1, forward_deadline=1.0)
        async with DnsServer(address=LOOPBACK, port=0, config=cfg) as srv:
            for _ in range(3):
                response = DNSRecord.parse(await udp(srv.port, query("www.example.test")))
                assert [str(r.rdata) for r in response.rr] == [UPSTREAM_ANSWER]
    finally:
        await silent.stop()


async def test_without_upstreams_other_names_answer_servfail() -> None:
    async with DnsServer(address=LOOPBACK, port=0, config=DnsConfig()) as srv:
        response = DNSRecord.parse(await udp(srv.port, query("www.example.test")))
        assert response.header.rcode == RCODE.SERVFAIL


async def test_forwards_past_max_concurrent_are_refused() -> None:
    silent = FakeUpstream(silent=True)
    await silent.start()
    try:
        cfg = config(silent, max_concurrent=1, try_timeout=0.5, forward_deadline=0.5)
        async with DnsServer(address=LOOPBACK, port=0, config=cfg) as srv:
            first = asyncio.create_task(udp(srv.port, query("a.example.test")))
            await asyncio.sleep(0.1)
            second = DNSRecord.parse(await udp(srv.port, query("b.example.test")))
            assert second.header.rcode == RCODE.REFUSED
            assert DNSRecord.parse(await first).header.rcode == RCODE.SERVFAIL
    finally:
        await silent.stop()


async def test_stop_ends_forwards_in_flight() -> None:
    silent = FakeUpstream(silent=True)
    await silent.start()
    try:
        cfg = config(silent, try_timeout=30, forward_deadline=30)
        srv = DnsServer(address=LOOPBACK, port=0, config=cfg)
        await srv.start()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(query("www.example.test"), (LOOPBACK, srv.port))
            await silent.asked.wait()
        started = time.monotonic()
        await srv.stop()
        assert time.monotonic() - started < 1
    finally:
        await silent.stop()


@pytest.mark.parametrize(
    ("mutate", "rcode"),
    [
        pytest.param(lambda r: setattr(r.q, "qclass", CLASS.CH), RCODE.REFUSED, id="class_ch"),
        pytest.param(lambda r: r.add_ar(EDNS0(udp_len=1232, version=1)), 0, id="edns_v1"),
    ],
)
async def test_coredns_refuses_other_classes_and_edns_versions(
    server: DnsServer, mutate: Any, rcode: int
) -> None:
    request = DNSRecord.question("kubernetes.default.svc.cluster.local")
    mutate(request)
    response = DNSRecord.parse(await udp(server.port, request.pack()))
    assert (response.header.rcode, response.header.aa, response.rr) == (rcode, 0, [])
    if rcode == 0:  # BADVERS is 16: 0 in the header, 1 in the OPT record's extended rcode
        (opt,) = response.ar
        assert (opt.edns_rcode, opt.edns_ver) == (1, 0)


def raw(flags: int, qd: int = 1, an: int = 0, ns: int = 0, ar: int = 0) -> bytes:
    question = DNSQuestion("kubernetes.default.svc.cluster.local")
    body: bytes = DNSRecord(q=question).pack()[12:]
    return struct.pack("!HHHHHH", 99, flags, qd, an, ns, ar) + body


@pytest.mark.parametrize(
    ("message", "verdict"),
    [
        pytest.param(raw(0x0100), None, id="a_query_is_served"),
        pytest.param(raw(0x8100), -1, id="a_response_is_dropped"),
        pytest.param(b"\x00\x01", -1, id="a_message_shorter_than_a_header_is_dropped"),
        pytest.param(raw(0x2800), RCODE.NOTIMP, id="an_update_is_not_implemented"),
        pytest.param(raw(0x2000), RCODE.NOTIMP, id="a_notify_is_not_implemented"),
        pytest.param(raw(0x0100, qd=2), RCODE.FORMERR, id="two_questions_are_a_format_error"),
        pytest.param(raw(0x0100, qd=0), RCODE.FORMERR, id="no_question_is_a_format_error"),
        pytest.param(raw(0x0100, ns=2), RCODE.FORMERR, id="authority_records_are_a_format_error"),
    ],
)
def test_messages_are_screened_by_their_header(message: bytes, verdict: int | None) -> None:
    assert screen(message) == verdict


def test_a_header_reply_keeps_id_and_rd_and_the_opcode_only_for_notimp() -> None:
    notimp = DNSRecord.parse(header_reply(raw(0x2D00), RCODE.NOTIMP))
    h = notimp.header
    assert (h.id, h.qr, h.opcode, h.rd, h.aa, h.rcode, h.q) == (99, 1, 5, 1, 0, 4, 0)
    formerr = DNSRecord.parse(header_reply(raw(0x0100, qd=2), RCODE.FORMERR)).header
    assert (formerr.opcode, formerr.rcode) == (0, RCODE.FORMERR)


async def test_rejected_messages_are_answered_and_responses_are_not(server: DnsServer) -> None:
    notimp = DNSRecord.parse(await udp(server.port, raw(0x2800)))
    assert notimp.header.rcode == RCODE.NOTIMP
    garbage = struct.pack("!HHHHHH", 5, 0x0100, 1, 0, 0, 0) + b"\x3fxx"
    assert DNSRecord.parse(await udp(server.port, garbage)).header.rcode == RCODE.FORMERR
    with pytest.raises(TimeoutError):
        await udp(server.port, raw(0x8100), timeout=0.2)


async def test_the_server_binds_an_address_the_host_does_not_have_yet() -> None:
    # TEST-NET-1 is on no interface; IP_FREEBIND lets us bind it. Nothing is ever sent there.
    async with DnsServer(address="192.0.2.53", port=0) as srv:
        assert srv.port > 0


def test_upstreams_are_the_nameservers_of_a_resolv_conf(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# generated\nsearch example.test\nnameserver 127.0.0.53\n"
        "nameserver fe80::1%eth0 # link-local\nnameserver not-an-ip\noptions edns0\n"
        "  nameserver 127.0.0.2\n"
    )
    assert upstreams_from_resolv_conf(conf) == [
        ("127.0.0.53", 53),
        ("fe80::1%eth0", 53),
        ("127.0.0.2", 53),
    ]
    assert upstreams_from_resolv_conf(tmp_path / "missing") == []
