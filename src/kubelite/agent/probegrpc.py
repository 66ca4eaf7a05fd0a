"""The grpc probe (PR-6): one ``grpc.health.v1.Health/Check`` over plaintext HTTP/2.

Success iff the answer is SERVING; every other outcome is worded as the kubelet's grpc prober
(and grpc-go under it) words it.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Mapping

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from kubelite.agent.gotext import dial_error, go_duration, go_quote, join_host_port
from kubelite.agent.probestate import Outcome, RawResult
from kubelite.agent.probetarget import PROBE_USER_AGENT, Dial, open_tcp
from kubelite.model.protowire import WireError, encode_varint, fields

GRPC_CODES = (
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
)
SERVING_STATUS = ("UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN")
_HTTP_TO_GRPC = {400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}


class RPCError(Exception):
    def __init__(self, code: int, desc: str) -> None:
        name = GRPC_CODES[code] if 0 <= code < len(GRPC_CODES) else f"Code({code})"
        super().__init__(f"rpc error: code = {name} desc = {desc}")
        self.code, self.desc = code, desc


async def grpc_probe(
    host: str, port: int, service: str, timeout: float, dial: Dial = open_tcp
) -> RawResult:
    """PR-6 grpc: grpc.health.v1.Health/Check over plaintext HTTP/2; success iff SERVING."""
    addr, within = join_host_port(host, port), go_duration(timeout)
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        async with asyncio.timeout_at(deadline):
            reader, writer = await dial(host, port)
    except TimeoutError:
        return RawResult(
            Outcome.FAILURE,
            f"timeout: failed to connect service {go_quote(addr)} within {within}: "
            "context deadline exceeded",
        )
    except OSError as e:
        err = f"transport: Error while dialing: {dial_error(e, host, port)}"
        return RawResult(
            Outcome.FAILURE,
            f"error: failed to connect service at {go_quote(addr)}: "
            f"connection error: desc = {go_quote(err)}",
        )
    try:
        async with asyncio.timeout_at(deadline):
            status = await grpchealth_call(reader, writer, addr, service)
    except TimeoutError:
        return RawResult(Outcome.FAILURE, f"timeout: health rpc did not complete within {within}")
    except RPCError as e:
        if e.code == 12:
            return RawResult(
                Outcome.FAILURE,
                "error: this server does not implement the grpc health protocol "
                f"(grpc.health.v1.Health): {e.desc}",
            )
        if e.code == 4:
            return RawResult(
                Outcome.FAILURE, f"timeout: health rpc did not complete within {within}"
            )
        return RawResult(Outcome.FAILURE, f"error: health rpc probe failed: {e}")
    finally:
        writer.close()
    if status != 1:
        name = SERVING_STATUS[status] if 0 <= status < len(SERVING_STATUS) else str(status)
        return RawResult(Outcome.FAILURE, f"service unhealthy (responded with {go_quote(name)})")
    return RawResult(Outcome.SUCCESS)


async def grpchealth_call(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, authority: str, service: str
) -> int:
    """One unary Health/Check on a fresh HTTP/2 connection; returns the ServingStatus."""
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
    )
    conn.initiate_connection()
    sid = conn.get_next_available_stream_id()
    conn.send_headers(
        sid,
        [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/grpc.health.v1.Health/Check"),
            (":authority", authority),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
            ("user-agent", PROBE_USER_AGENT),
        ],
    )
    name = service.encode()
    request = b"\x0a" + encode_varint(len(name)) + name if service else b""
    conn.send_data(sid, b"\x00" + len(request).to_bytes(4, "big") + request, end_stream=True)
    headers: dict[str, str] = {}
    data = b""
    ended = False
    while not ended:
        writer.write(conn.data_to_send())
        await writer.drain()
        chunk = await reader.read(65536)
        if not chunk:
            raise RPCError(14, "error reading from server: EOF")
        try:
            events = conn.receive_data(chunk)
        except h2.exceptions.ProtocolError as e:
            raise RPCError(
                14, f'connection error: desc = "error reading server preface: {e}"'
            ) from e
        for ev in events:
            if isinstance(ev, h2.events.ResponseReceived | h2.events.TrailersReceived):
                headers.update((str(k), str(v)) for k, v in ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                data += ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                raise RPCError(
                    13, f"stream terminated by RST_STREAM with error code: {ev.error_code}"
                )
            elif isinstance(ev, h2.events.ConnectionTerminated):
                raise RPCError(14, f"connection closed by server: {ev.error_code}")
            elif isinstance(ev, h2.events.StreamEnded):
                ended = True
    return _health_status(headers, data)


def _health_status(headers: Mapping[str, str], data: bytes) -> int:
    http_status = int(headers.get(":status", "0"))
    if http_status != 200:
        code = _HTTP_TO_GRPC.get(http_status, 2)
        raise RPCError(code, f"unexpected HTTP status code received from server: {http_status}")
    if "grpc-status" not in headers:
        raise RPCError(13, "server closed the stream without sending trailers")
    code = int(headers["grpc-status"])
    if code != 0:
        raise RPCError(code, urllib.parse.unquote(headers.get("grpc-message", "")))
    return _decode_status(data[5:])


def _decode_status(msg: bytes) -> int:
    """HealthCheckResponse: field 1 (varint) is the status; others are skipped."""
    status = 0
    try:
        for number, value in fields(msg):
            if number == 1 and isinstance(value, int):
                status = value
    except WireError as e:
        detail = "proto: cannot parse invalid wire-format data"
        raise RPCError(13, f"grpc: failed to unmarshal the received message: {detail}") from e
    return status
