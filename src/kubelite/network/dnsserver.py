"""The cluster DNS server: answers the cluster's zones from ``ClusterRecords`` over UDP and TCP and
forwards every other name to the host's resolvers, as CoreDNS does in a kind cluster
(``kubernetes …``, ``forward . /etc/resolv.conf { max_concurrent 1000 }``, ``loadbalance``).

What happens to one message, in order (miekg/dns's accept rules, then CoreDNS's server):

1. a response, or anything shorter than a header, is dropped; an opcode other than QUERY gets
   NOTIMP (CoreDNS would also take NOTIFY); not exactly one question, or records where a query
   has none, gets FORMERR; so does a message that does not parse;
2. a class other than IN gets REFUSED; an EDNS version other than 0 gets BADVERS;
3. a name in a zone served here is answered from the records (``dnsanswer.answer``); an
   ExternalName's out-of-zone target is then resolved as any other name would be and appended;
4. any other name is forwarded, over the transport the client used, to the upstreams in random
   order, each try bounded, the whole within a deadline; when all fail the client gets SERVFAIL,
   and past ``max_concurrent`` forwards in flight, REFUSED;
5. own answers get their address records shuffled (``loadbalance``) and the client's OPT record
   echoed, and are cut to the client's UDP size (512 without EDNS) with TC set if a record had
   to go. Forwarded replies pass through as the upstream sent them, with the client's id.

The per-query path of an own answer is synchronous: parse, a few dict lookups, pack. An answer
that comes out the same every time (nothing to shuffle) is kept, packed, under the query's bytes
after its id, until the next ``update``: a repeated query is then one dict lookup. Only
forwarding runs in a task, inside the server's TaskGroup; ``stop`` ends them all.

This module is the server itself: sockets, connections, the per-message path and its tasks. The
packet-level rules of steps 1, 2 and 5 live in ``dnswire``, the upstreams of step 4 in
``dnsforward``, the records and answers of step 3 in ``dnsindex`` and ``dnsanswer``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, cast

from dnslib import QTYPE, RCODE, DNSHeader, DNSLabel, DNSQuestion, DNSRecord

from kubelite.model.service import EndpointSliceView, ServiceView
from kubelite.network.dnsanswer import answer, chase_target, complete_chase, reply
from kubelite.network.dnsforward import Forwarder, Upstream
from kubelite.network.dnsindex import DEFAULT_TTL, ClusterRecords
from kubelite.network.dnswire import (
    DNS_PORT,
    DROP,
    TCP_MAX_SIZE,
    deterministic,
    early_reply,
    finish,
    header_reply,
    screen,
    truncate,
    udp_limit,
)

log = logging.getLogger(__name__)

CACHE_LIMIT = 4096  # packed answers kept per records generation

Respond = Callable[[bytes], None]


@dataclass(frozen=True, slots=True)
class DnsConfig:
    domain: str = "cluster.local"
    reverse_cidrs: tuple[str, ...] = ()  # the Service and pod ranges
    ttl: int = DEFAULT_TTL
    upstreams: tuple[Upstream, ...] = ()
    try_timeout: float = 2.0  # one upstream, one try
    forward_deadline: float = 5.0  # all tries of one query (CoreDNS's forward)
    max_concurrent: int = 1000  # kubeadm's forward { max_concurrent 1000 }
    tcp_idle_timeout: float = 10.0
    shuffle: bool = True  # loadbalance


def _bind(address: str, port: int, kind: socket.SocketKind) -> socket.socket:
    """A socket bound to ``address`` even before that address exists (IP_FREEBIND)."""
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        sock.setsockopt(socket.SOL_IP, getattr(socket, "IP_FREEBIND", 15), 1)
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        transport = self._transport
        if transport is not None:
            self._server.serve(data, tcp=False, respond=lambda wire: transport.sendto(wire, addr))

    def error_received(self, exc: Exception) -> None:
        log.debug("dns: udp error: %s", exc)


class _TcpConnection(asyncio.Protocol):
    """One client connection: length-prefixed messages, answered in any order, closed when idle."""

    def __init__(self, server: DnsServer, idle: float) -> None:
        self._server = server
        self._idle = idle
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._server._connections.add(self)
        self._touch()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._touch()
        while len(self._buffer) >= 2:
            size = int.from_bytes(self._buffer[:2], "big")
            if len(self._buffer) < size + 2:
                break
            message = bytes(self._buffer[2 : size + 2])
            del self._buffer[: size + 2]
            self._server.serve(message, tcp=True, respond=self.send)

    def send(self, wire: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(len(wire).to_bytes(2, "big") + wire)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._server._connections.discard(self)

    def _touch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(self._idle, self.close)


class DnsServer:
    """Cluster DNS on ``address``:``port`` (UDP and TCP). ``port`` 0 takes a free port for both.

    Until the first ``update`` the records are empty and unsynced: a cluster name answers
    SERVFAIL rather than NXDOMAIN, as CoreDNS answers before its first list."""

    def __init__(
        self,
        *,
        address: str,
        port: int = DNS_PORT,
        config: DnsConfig | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._address = address
        self._port = port
        self._config = config or DnsConfig()
        self._rng = rng or random.Random()
        self._records = self._build((), (), None, synced=False)
        self._cache: dict[tuple[bool, bytes], bytes] = {}  # (tcp, query after id) -> reply after id
        self._forwarder = self._forwarder_to(())
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._connections: set[_TcpConnection] = set()
        self._runner: asyncio.Task[None] | None = None
        self._group: asyncio.TaskGroup | None = None
        self._children: set[asyncio.Task[None]] = set()
        self._stopping: asyncio.Event | None = None

    @property
    def address(self) -> str:
        return self._address

    @property
    def port(self) -> int:
        """The bound port (after ``start``)."""
        return self._port

    @property
    def records(self) -> ClusterRecords:
        return self._records

    def update(
        self,
        services: Sequence[ServiceView],
        slices: Sequence[EndpointSliceView],
        *,
        namespaces: Sequence[str] | None = None,
    ) -> None:
        """Swap in the records of these objects (one build, one assignment: queries see either
        the old records or the new, never a mix)."""
        self._records = self._build(services, slices, namespaces, synced=True)
        self._cache = {}

    def _build(
        self,
        services: Sequence[ServiceView],
        slices: Sequence[EndpointSliceView],
        namespaces: Sequence[str] | None,
        *,
        synced: bool,
    ) -> ClusterRecords:
        cfg = self._config
        return ClusterRecords.build(
            services,
            slices,
            domain=cfg.domain,
            reverse_cidrs=cfg.reverse_cidrs,
            namespaces=namespaces,
            local_ips=(self._address,),
            ttl=cfg.ttl,
            serial=int(time.time()),
            synced=synced,
        )

    async def __aenter__(self) -> DnsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("dns server already started")
        udp, tcp = self._bind_pair()
        loop = asyncio.get_running_loop()
        try:
            self._udp, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), sock=udp)
            idle = self._config.tcp_idle_timeout
            self._tcp = await loop.create_server(lambda: _TcpConnection(self, idle), sock=tcp)
        except BaseException:
            udp.close()
            tcp.close()
            raise
        me = (self._address, self._port)
        self._forwarder = self._forwarder_to(tuple(u for u in self._config.upstreams if u != me))
        started, self._stopping = asyncio.Event(), asyncio.Event()
        self._runner = asyncio.create_task(self._run(started), name=f"dns-server:{self._port}")
        await started.wait()

    def _forwarder_to(self, upstreams: tuple[Upstream, ...]) -> Forwarder:
        cfg = self._config
        return Forwarder(
            upstreams,
            rng=self._rng,
            try_timeout=cfg.try_timeout,
            deadline=cfg.forward_deadline,
            max_concurrent=cfg.max_concurrent,
        )

    def _bind_pair(self) -> tuple[socket.socket, socket.socket]:
        for _ in range(20):
            udp = _bind(self._address, self._port, socket.SOCK_DGRAM)
            port = udp.getsockname()[1]
            try:
                tcp = _bind(self._address, port, socket.SOCK_STREAM)
            except OSError:
                udp.close()
                if self._port:
                    raise
                continue
            self._port = port
            return udp, tcp
        raise OSError(f"no port free for both UDP and TCP on {self._address}")

    async def _run(self, started: asyncio.Event) -> None:
        assert self._stopping is not None
        async with asyncio.TaskGroup() as group:
            self._group = group
            started.set()
            await self._stopping.wait()
            self._group = None
            for task in self._children:
                task.cancel()

    async def stop(self) -> None:
        """Close the listeners and connections and end every forward in flight."""
        if self._runner is None:
            return
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        for connection in list(self._connections):
            connection.close()
        assert self._stopping is not None
        self._stopping.set()
        await self._runner
        if self._tcp is not None:
            await self._tcp.wait_closed()
        self._runner = None

    def serve(self, data: bytes, *, tcp: bool, respond: Respond) -> None:
        """Handle one message; ``respond`` is called with the reply now or, when it must be
        forwarded, later (or never, for a message that is dropped)."""
        key = (tcp, data[2:])
        cached = self._cache.get(key)
        if cached is not None:
            respond(data[:2] + cached)
            return
        verdict = screen(data)
        if verdict == DROP:
            return
        if verdict is not None:
            respond(header_reply(data, verdict))
            return
        try:
            request = DNSRecord.parse(data)
        except Exception:
            respond(header_reply(data, RCODE.FORMERR))
            return
        limit = TCP_MAX_SIZE if tcp else udp_limit(request)
        rng = self._rng if self._config.shuffle else None
        try:
            early = early_reply(request)
            if early is not None:
                respond(finish(request, early, limit, None))
                return
            response = answer(request, self._records)
        except Exception:
            log.exception("dns: answering %s", request.q)
            respond(finish(request, reply(request, RCODE.SERVFAIL, aa=False), limit, None))
            return
        if response is None:
            self._spawn(self._forward_one(data, request, tcp, respond, limit))
        elif chase_target(response) is not None:
            self._spawn(self._chase(request, response, tcp, respond, limit))
        else:
            wire = finish(request, response, limit, rng)
            if rng is None or deterministic(response):
                if len(self._cache) >= CACHE_LIMIT:
                    self._cache.clear()
                self._cache[key] = wire[2:]
            respond(wire)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        group = self._group
        if group is None:
            work.close()
            return
        task = group.create_task(self._guard(work))
        self._children.add(task)
        task.add_done_callback(self._children.discard)

    async def _guard(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("dns: forwarding failed")

    async def _forward_one(
        self, data: bytes, request: DNSRecord, tcp: bool, respond: Respond, limit: int
    ) -> None:
        if self._forwarder.saturated:
            respond(finish(request, reply(request, RCODE.REFUSED, aa=False), limit, None))
            return
        got = await self._forwarder.forward(data, tcp)
        if got is None:
            respond(finish(request, reply(request, RCODE.SERVFAIL, aa=False), limit, None))
        elif len(got) <= limit:
            respond(got)
        else:
            try:
                respond(truncate(DNSRecord.parse(got), limit))
            except Exception:
                respond(header_reply(data, RCODE.SERVFAIL))

    async def _chase(
        self, request: DNSRecord, response: DNSRecord, tcp: bool, respond: Respond, limit: int
    ) -> None:
        target: DNSLabel | None = chase_target(response)
        assert target is not None
        query = DNSRecord(
            DNSHeader(id=self._rng.getrandbits(16)),
            q=DNSQuestion(target, request.q.qtype),
            ar=[rr for rr in request.ar if rr.rtype == QTYPE.OPT],
        )
        resolved = answer(query, self._records)
        if resolved is None:
            got = await self._forwarder.forward(query.pack(), tcp)
            try:
                resolved = DNSRecord.parse(got) if got is not None else None
            except Exception:
                resolved = None
        rng = self._rng if self._config.shuffle else None
        respond(finish(request, complete_chase(response, resolved), limit, rng))
