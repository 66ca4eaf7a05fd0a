"""A small async client of etcd's v3 JSON gateway over aiohttp: one cluster, many members.

Each request goes to the member that answered last; when that one cannot (refused, dropped,
timed out, no leader), the next member is asked. Retrying is safe for reads, and for writes
only when the member never took the request: it could not be reached, or it refused for want
of a leader (every request carries etcd's "require leader" metadata, so a member without one
refuses at once instead of queueing). A write whose answer was lost is NOT retried: it may have
been applied, and a compare-and-swap applied twice would report a conflict with itself; its
caller gets ``EtcdUnavailable``, as the API server passes etcd's timeouts on.

Watches are single streams (``POST /v3/watch`` with the create request as the whole body; the
gateway answers with one JSON message per line), read until they break; resuming from a
revision is the caller's business (``EtcdStore``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp

from kubelite.store.etcdconfig import EtcdConfig
from kubelite.store.etcdwire import (
    JSON,
    EtcdError,
    EtcdUnavailable,
    RangeResult,
    TxnResult,
    WatchReply,
    error_from,
    range_result,
    txn_result,
    watch_reply,
    watch_request,
)

log = logging.getLogger(__name__)

# etcd's gRPC metadata "hasleader=true" (clientv3.WithRequireLeader), which the gateway passes
# on from this header: a member without a leader refuses the request, or ends the watch.
REQUIRE_LEADER = {"Grpc-Metadata-hasleader": "true"}
NO_LEADER = "etcdserver: no leader"


class EtcdClient:
    def __init__(
        self, config: EtcdConfig, *, timeout: float = 5.0, retry_for: float = 10.0
    ) -> None:
        """``timeout``: one attempt at one member; ``retry_for``: how long a request that may
        be retried keeps trying the members (an election takes a second or two)."""
        if not config.endpoints:
            raise ValueError("an etcd client needs at least one endpoint")
        self.config = config
        self._endpoints = config.endpoints
        self._current = 0
        self._timeout = timeout
        self._retry_for = retry_for
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def endpoint(self) -> str:
        """The member requests go to now."""
        return self._endpoints[self._current]

    def _ssl_context(self) -> ssl.SSLContext | None:
        c = self.config
        if not c.tls:
            return None
        ctx = ssl.create_default_context(cafile=str(c.ca_file) if c.ca_file else None)
        if c.cert_file is not None and c.key_file is not None:
            ctx.load_cert_chain(str(c.cert_file), str(c.key_file))
        return ctx

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise EtcdUnavailable("the etcd client is closed")
        if self._session is None:
            ctx = self._ssl_context()
            connector = aiohttp.TCPConnector(ssl=ctx) if ctx else aiohttp.TCPConnector()
            self._session = aiohttp.ClientSession(connector=connector, headers=REQUIRE_LEADER)
        return self._session

    def _next_member(self, failed: int) -> None:
        if self._current == failed:
            self._current = (failed + 1) % len(self._endpoints)

    # -- requests ----------------------------------------------------------------------------
    async def range(self, body: JSON) -> RangeResult:
        return range_result(await self.call("/v3/kv/range", body, mutating=False))

    async def txn(self, body: JSON, *, mutating: bool) -> TxnResult:
        """A transaction; ``mutating`` if it may write (then it is retried only when no
        member took it)."""
        return txn_result(await self.call("/v3/kv/txn", body, mutating=mutating))

    async def compact(self, revision: int) -> None:
        """Compact history up to ``revision`` (compacting twice is refused harmlessly, so this
        is retried like a read)."""
        await self.call("/v3/kv/compaction", {"revision": str(revision)}, mutating=False)

    async def status(self, endpoint: str) -> dict[str, Any]:
        """``/v3/maintenance/status`` of one member (its id, the leader's, its revision)."""
        async with asyncio.timeout(self._timeout):
            async with self._http().post(endpoint + "/v3/maintenance/status", json={}) as resp:
                body: dict[str, Any] = await resp.json(content_type=None)
        if resp.status != 200 or "error" in body:
            raise error_from(body, resp.status)
        return body

    async def call(self, path: str, body: JSON, *, mutating: bool) -> dict[str, Any]:
        """POST ``body`` to ``path`` on the current member, moving on to the next as the
        class docstring says; raises the typed ``EtcdError`` of a refusal."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry_for
        attempt = 0
        while True:
            member = self._current
            url = self._endpoints[member] + path
            error: EtcdError
            taken = True  # whether the member may have acted on the request
            try:
                async with asyncio.timeout(self._timeout):
                    async with self._http().post(url, json=body) as resp:
                        answer: dict[str, Any] = await resp.json(content_type=None)
                if resp.status == 200 and "error" not in answer:
                    return answer
                error = error_from(answer, resp.status)
                if not isinstance(error, EtcdUnavailable):
                    raise error
                taken = str(answer.get("message")) != NO_LEADER
            except aiohttp.ClientConnectorError as exc:
                error, taken = EtcdUnavailable(f"cannot reach etcd at {url}: {exc}"), False
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                error = EtcdUnavailable(f"etcd at {url} did not answer: {exc!r}")
            self._next_member(member)
            if (mutating and taken) or loop.time() >= deadline:
                raise error
            attempt += 1
            if attempt % len(self._endpoints) == 0:  # every member refused: give them a moment
                await asyncio.sleep(min(0.05 * 2 ** (attempt // len(self._endpoints)), 0.5))

    # -- watch -------------------------------------------------------------------------------
    async def watch(
        self, key: bytes, end: bytes, start_revision: int
    ) -> AsyncGenerator[WatchReply, None]:
        """The replies of one watch of ``[key, end)`` from ``start_revision`` on, beginning with
        the ``created`` one, until the stream breaks (``EtcdUnavailable``) or etcd cancels it
        (the last reply has ``canceled``)."""
        member = self._current
        url = self._endpoints[member] + "/v3/watch"
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._timeout, sock_read=None)
        try:
            async with self._http().post(
                url, json=watch_request(key, end, start_revision), timeout=timeout
            ) as resp:
                if resp.status != 200:
                    raise error_from(await resp.json(content_type=None), resp.status)
                async for reply in _replies(resp):
                    yield reply
                    if reply.canceled:
                        return
            raise EtcdUnavailable(f"the watch stream from {url} ended")
        except (aiohttp.ClientError, ValueError) as exc:
            self._next_member(member)
            raise EtcdUnavailable(f"the watch stream from {url} broke: {exc!r}") from None
        except EtcdUnavailable:
            self._next_member(member)
            raise

    async def close(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


async def _replies(resp: aiohttp.ClientResponse) -> AsyncGenerator[WatchReply, None]:
    """One reply per line of the stream (lines may be longer than aiohttp's line limit)."""
    buf = bytearray()
    async for chunk in resp.content.iter_any():
        buf += chunk
        while (nl := buf.find(b"\n")) >= 0:
            line = bytes(buf[:nl])
            del buf[: nl + 1]
            if line.strip():
                message: Mapping[str, Any] = json.loads(line)
                yield watch_reply(message)
