"""Forwarding for the cluster DNS server: every name outside the zones served here goes to the
host's resolvers, as CoreDNS's ``forward . /etc/resolv.conf { max_concurrent 1000 }`` sends it.
It exists apart from the server because it is the one part that talks to other machines' DNS:
the upstreams come from a resolv.conf, are tried in random order over the transport the client
used, each try bounded and the whole within a deadline, and a reply counts only when it carries
the id and question that were sent.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import random
import socket
from pathlib import Path

from kubelite.network.dnswire import DNS_PORT, HEADER, TCP_MAX_SIZE

log = logging.getLogger(__name__)

Upstream = tuple[str, int]


def upstreams_from_resolv_conf(path: str | os.PathLike[str]) -> list[Upstream]:
    """The ``nameserver`` entries of a resolv.conf, each on port 53; [] if it cannot be read."""
    try:
        text = Path(path).read_text()
    except OSError:
        return []
    found: list[Upstream] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            try:
                ipaddress.ip_address(fields[1].split("%", 1)[0])
            except ValueError:
                continue
            found.append((fields[1], DNS_PORT))
    return found


def _question_end(data: bytes) -> int:
    """Where the (uncompressed) question of a query ends; 0 if it cannot be found."""
    offset = HEADER.size
    while offset < len(data):
        size = data[offset]
        if size == 0:
            return offset + 5
        if size & 0xC0:
            return 0
        offset += size + 1
    return 0


def _answers(response: bytes, query: bytes) -> bool:
    """Whether an upstream's message is the reply to ``query``: same id, qr, same question."""
    if len(response) < HEADER.size or response[:2] != query[:2] or not response[2] & 0x80:
        return False
    end = _question_end(query)
    return end == 0 or response[HEADER.size : end].lower() == query[HEADER.size : end].lower()


async def _exchange_udp(wire: bytes, upstream: Upstream) -> bytes:
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in upstream[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:  # a fresh port for every query
        sock.setblocking(False)
        sock.connect(upstream)
        await loop.sock_sendall(sock, wire)
        while True:
            got = await loop.sock_recv(sock, TCP_MAX_SIZE)
            if _answers(got, wire):
                return got


async def _exchange_tcp(wire: bytes, upstream: Upstream) -> bytes:
    reader, writer = await asyncio.open_connection(*upstream)
    try:
        writer.write(len(wire).to_bytes(2, "big") + wire)
        await writer.drain()
        while True:
            size = int.from_bytes(await reader.readexactly(2), "big")
            got = await reader.readexactly(size)
            if _answers(got, wire):
                return got
    finally:
        writer.close()


class Forwarder:
    """Sends queries to ``upstreams`` and counts the forwards in flight (for ``max_concurrent``).
    ``rng`` orders the upstreams and draws the ids sent upstream."""

    def __init__(
        self,
        upstreams: tuple[Upstream, ...],
        *,
        rng: random.Random,
        try_timeout: float,
        deadline: float,
        max_concurrent: int,
    ) -> None:
        self._upstreams = upstreams
        self._rng = rng
        self._try_timeout = try_timeout
        self._deadline = deadline
        self._max_concurrent = max_concurrent
        self._in_flight = 0

    @property
    def saturated(self) -> bool:
        """Whether ``max_concurrent`` forwards are already in flight (a new one is REFUSED)."""
        return self._in_flight >= self._max_concurrent

    async def forward(self, data: bytes, tcp: bool) -> bytes | None:
        """The upstreams' reply to ``data``, carrying its id; None when every try failed."""
        if not self._upstreams:
            return None
        self._in_flight += 1
        try:
            return await self._try_upstreams(data, tcp)
        finally:
            self._in_flight -= 1

    async def _try_upstreams(self, data: bytes, tcp: bool) -> bytes | None:
        order = list(self._upstreams)
        self._rng.shuffle(order)
        wire = self._rng.getrandbits(16).to_bytes(2, "big") + data[2:]
        exchange = _exchange_tcp if tcp else _exchange_udp
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._deadline
        while True:
            timed_out = False
            for upstream in order:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                try:
                    async with asyncio.timeout(min(self._try_timeout, remaining)):
                        got = await exchange(wire, upstream)
                    return data[:2] + got[2:]
                except TimeoutError:
                    timed_out = True
                except (OSError, EOFError) as err:
                    log.debug("dns: upstream %s:%d: %s", *upstream, err)
            if not timed_out:  # every upstream refused at once: no point in waiting
                return None
