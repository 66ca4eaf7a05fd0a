"""Probe mechanisms (PR-6): run one exec, httpGet, tcpSocket or grpc check, report a raw result.

Each function does one attempt and returns a ``RawResult`` (Success/Failure/Unknown/Warning,
the output message and, for machinery errors, ``error``); thresholds, retries and events belong
to ``probestate``. Network probes dial through a ``Dial`` callable, so a later change can open
the socket inside the pod's network namespace; the default dials the host network. Messages
a user sees are worded as the kubelet (a Go program) words them.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import socket
import ssl
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from kubelite.agent.probestate import Outcome, RawResult
from kubelite.model.expansion import expand
from kubelite.runtime.interface import Runtime, RuntimeError_

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Dial = Callable[[str, int], Awaitable[Streams]]

PROBE_USER_AGENT = "kube-probe/1.32"  # PR-6: kube-probe/<major>.<minor>
MAX_OUTPUT = 10 * 1024  # PR-6: exec output and HTTP body are read up to 10 KiB
MAX_REDIRECTS = 10
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


async def open_tcp(host: str, port: int) -> Streams:
    """The default Dial: a plain TCP connection from the host's network namespace."""
    return await asyncio.open_connection(host, port)


@dataclass(frozen=True, slots=True)
class ProbeTarget:
    """Where a probe goes. ``host`` is the pod IP (or, until pods have one, the address the
    caller wants dialled); ``ports`` maps container-port names to numbers."""

    container_id: str
    host: str
    ports: Mapping[str, int] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)  # literal env values only (PR-6)
    dial: Dial = open_tcp


class GoError(Exception):
    """A transport failure worded like Go's error text. ``plain_http`` marks an HTTPS request
    that got a plain HTTP answer (the lifecycle hook's fallback case, HK-6)."""

    def __init__(self, text: str, *, plain_http: bool = False) -> None:
        super().__init__(text)
        self.plain_http = plain_http


class MachineryError(Exception):
    """The probe could not even be attempted (unknown port name, bad request): PR-5."""


# ---------------------------------------------------------------------------------- dispatch


async def run_probe(
    handler: Mapping[str, Any], target: ProbeTarget, *, runtime: Runtime, timeout: float
) -> RawResult:
    """Run the one handler a probe has (PR-2) with ``timeoutSeconds`` = ``timeout``."""
    try:
        if "exec" in handler:
            argv = [expand(a, target.env) for a in handler["exec"].get("command") or ()]
            return await exec_probe(runtime, target.container_id, argv, timeout)
        if "httpGet" in handler:
            return await http_probe(handler["httpGet"], target, timeout)
        if "tcpSocket" in handler:
            spec = handler["tcpSocket"]
            port = resolve_port(spec.get("port"), target.ports)
            return await tcp_probe(spec.get("host") or target.host, port, timeout, target.dial)
        if "grpc" in handler:
            spec = handler["grpc"]
            port = spec.get("port")
            if not isinstance(port, int):
                raise MachineryError(f"grpc probe port must be a number, got {port!r}")
            service = str(spec.get("service") or "")
            return await grpc_probe(target.host, port, service, timeout, target.dial)
    except MachineryError as e:
        return RawResult(Outcome.UNKNOWN, "", str(e))
    return RawResult(Outcome.UNKNOWN, "", "missing probe handler")


def resolve_port(port: Any, named: Mapping[str, int]) -> int:
    """A port is a number, a numeric string or the name of a container port."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    if isinstance(port, str) and port in named:
        return named[port]
    raise MachineryError(f"unable to find port {port!r} among the container's ports")


# ---------------------------------------------------------------------------------- exec


async def exec_probe(
    runtime: Runtime, container_id: str, argv: Sequence[str], timeout: float
) -> RawResult:
    """PR-6 exec: success iff exit 0; stdout+stderr (10 KiB) is the message; timeout fails."""
    try:
        r = await runtime.exec_sync(container_id, argv, timeout=timeout)
    except RuntimeError_ as e:
        return RawResult(Outcome.UNKNOWN, "", str(e))
    if r.timed_out:
        return RawResult(Outcome.FAILURE, f"command {go_quote(' '.join(argv))} timed out")
    output = (r.stdout + r.stderr)[:MAX_OUTPUT].decode(errors="replace")
    return RawResult(Outcome.SUCCESS if r.exit_code == 0 else Outcome.FAILURE, output)


# ---------------------------------------------------------------------------------- tcp


async def tcp_probe(host: str, port: int, timeout: float, dial: Dial = open_tcp) -> RawResult:
    """PR-6 tcpSocket: success iff the connection opens in time; it is closed at once."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await dial(host, port)
    except TimeoutError:
        return RawResult(Outcome.FAILURE, f"dial tcp {join_host_port(host, port)}: i/o timeout")
    except OSError as e:
        return RawResult(Outcome.FAILURE, dial_error(e, host, port))
    writer.close()
    return RawResult(Outcome.SUCCESS)


# ---------------------------------------------------------------------------------- http


@dataclass(frozen=True, slots=True)
class HTTPResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes  # at most MAX_OUTPUT bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def build_url(spec: Mapping[str, Any], host: str, ports: Mapping[str, int]) -> str:
    scheme = str(spec.get("scheme") or "HTTP").lower()
    port = resolve_port(spec.get("port"), ports)
    path = str(spec.get("path") or "/")
    if not path.startswith("/"):
        path = "/" + path
    return f"{scheme}://{join_host_port(spec.get('host') or host, port)}{path}"


def request_headers(spec: Mapping[str, Any], user_agent: str) -> list[tuple[str, str]]:
    """Custom headers (canonical names), plus User-Agent and Accept defaults (PR-6)."""
    headers = [
        (canonical_header(str(h.get("name", ""))), str(h.get("value", "")))
        for h in spec.get("httpHeaders") or ()
    ]
    names = {k for k, _ in headers}
    if "User-Agent" not in names:
        headers.insert(0, ("User-Agent", user_agent))
    if "Accept" not in names:
        headers.append(("Accept", "*/*"))
    # An empty User-Agent or Accept removes the header.
    return [(k, v) for k, v in headers if v or k not in ("Accept", "User-Agent")]


async def http_probe(spec: Mapping[str, Any], target: ProbeTarget, timeout: float) -> RawResult:
    """PR-6 httpGet: success iff 200 <= status < 400; a 3xx that ends the redirects warns."""
    url = build_url(spec, target.host, target.ports)
    headers = request_headers(spec, PROBE_USER_AGENT)
    try:
        async with asyncio.timeout(timeout):
            resp = await http_get(url, headers, target.dial, follow_redirects=True)
    except TimeoutError:
        msg = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        return RawResult(Outcome.FAILURE, f"Get {go_quote(url)}: {msg}")
    except GoError as e:
        return RawResult(Outcome.FAILURE, str(e))
    body = resp.body.decode(errors="replace")
    if 300 <= resp.status < 400:
        return RawResult(Outcome.WARNING, f"Probe terminated redirects, Response body: {body}")
    if 200 <= resp.status < 300:
        return RawResult(Outcome.SUCCESS, body)
    return RawResult(Outcome.FAILURE, f"HTTP probe failed with statuscode: {resp.status}")


async def http_get(
    url: str, headers: Sequence[tuple[str, str]], dial: Dial, *, follow_redirects: bool
) -> HTTPResponse:
    """GET without keep-alive or TLS verification. Redirects are followed only to the first
    URL's hostname, at most 10 times. Raises GoError worded as ``Get "<url>": <err>``."""
    first = urllib.parse.urlsplit(url)
    host_header = next((v for k, v in headers if k == "Host"), None)
    redirects = 0
    while True:
        resp = await _get_once(url, headers, dial, host_header)
        location = resp.header("Location")
        if not follow_redirects or resp.status not in REDIRECT_CODES or not location:
            return resp
        nxt = urllib.parse.urljoin(url, location)
        if redirects >= MAX_REDIRECTS:
            raise GoError(f"Get {go_quote(nxt)}: stopped after {MAX_REDIRECTS} redirects")
        if urllib.parse.urlsplit(nxt).hostname != first.hostname:
            return resp  # the caller sees the 3xx (PR-6 Warning)
        if urllib.parse.urlsplit(location).scheme:
            host_header = None  # a custom Host survives only relative redirects
        url, redirects = nxt, redirects + 1


async def _get_once(
    url: str, headers: Sequence[tuple[str, str]], dial: Dial, host_header: str | None
) -> HTTPResponse:
    u = urllib.parse.urlsplit(url)
    host, port = u.hostname or "", u.port or (443 if u.scheme == "https" else 80)
    try:
        reader, writer = await dial(host, port)
    except OSError as e:
        raise GoError(f"Get {go_quote(url)}: {dial_error(e, host, port)}") from e
    try:
        if u.scheme == "https":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            try:
                await writer.start_tls(ctx, server_hostname=None if _is_ip(host) else host)
            except ssl.SSLError as e:
                if e.reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"):
                    msg = "http: server gave HTTP response to HTTPS client"
                    raise GoError(f"Get {go_quote(url)}: {msg}", plain_http=True) from e
                raise GoError(f"Get {go_quote(url)}: remote error: tls: {e.reason}") from e
        target = (u.path or "/") + (f"?{u.query}" if u.query else "")
        lines = [f"GET {target} HTTP/1.1", f"Host: {host_header or u.netloc}"]
        lines += [f"{k}: {v}" for k, v in headers if k != "Host"]
        lines.append("Connection: close")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", errors="replace"))
        await writer.drain()
        return await _read_response(reader)
    except (ConnectionError, asyncio.IncompleteReadError, ValueError) as e:
        text = "EOF" if isinstance(e, asyncio.IncompleteReadError) else _io_error(e)
        raise GoError(f"Get {go_quote(url)}: {text}") from e
    finally:
        writer.close()


async def _read_response(reader: asyncio.StreamReader) -> HTTPResponse:
    line = await reader.readline()
    if not line:
        raise asyncio.IncompleteReadError(b"", None)
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"malformed HTTP response {line.decode('latin-1').strip()!r}")
    headers: list[tuple[str, str]] = []
    while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    resp = HTTPResponse(int(parts[1]), tuple(headers), b"")
    return HTTPResponse(resp.status, resp.headers, await _read_body(reader, resp))


async def _read_body(reader: asyncio.StreamReader, resp: HTTPResponse) -> bytes:
    if resp.status in (204, 304) or 100 <= resp.status < 200:
        return b""
    if (resp.header("Transfer-Encoding") or "").lower() == "chunked":
        body = b""
        while len(body) < MAX_OUTPUT:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            body += await reader.readexactly(size)
            await reader.readline()
        return body[:MAX_OUTPUT]
    length = resp.header("Content-Length")
    if length is not None and length.isdigit():
        return await reader.readexactly(min(int(length), MAX_OUTPUT))
    return await reader.read(MAX_OUTPUT)


# ---------------------------------------------------------------------------------- grpc

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
    request = b"\x0a" + _varint(len(service.encode())) + service.encode() if service else b""
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
    i, status = 0, 0
    while i < len(msg):
        key, i = _read_varint(msg, i)
        wire = key & 7
        if wire == 0:
            value, i = _read_varint(msg, i)
            if key >> 3 == 1:
                status = value
        elif wire == 2:
            size, i = _read_varint(msg, i)
            i += size
        else:
            i += 8 if wire == 1 else 4
    return status


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while i < len(buf):
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return value, i


# ---------------------------------------------------------------------------------- Go wording


def go_duration(seconds: float) -> str:
    """Go's time.Duration text for the common cases: ``500ms``, ``1s``, ``1.5s``, ``1m30s``."""
    if seconds == 0:
        return "0s"
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    whole = int(seconds)
    h, m, s = whole // 3600, whole // 60 % 60, seconds - whole // 60 * 60
    text = f"{s:.9f}".rstrip("0").rstrip(".") + "s"
    if h or m:
        text = f"{m}m" + text
    return f"{h}h" + text if h else text


def go_quote(text: str) -> str:
    """Go's %q for a string: double quotes, backslash escapes for controls."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(ch)])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def canonical_header(name: str) -> str:
    """Go's canonical MIME header key: ``x-foo-bar`` → ``X-Foo-Bar``."""
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.split("-"))


def dial_error(e: OSError, host: str, port: int) -> str:
    """``dial tcp <addr>: connect: <errno text>``, Go's wording for a failed connect."""
    if isinstance(e, socket.gaierror):
        return f"dial tcp: lookup {host}: no such host"
    return f"dial tcp {join_host_port(host, port)}: connect: {_errno_text(e)}"


def _errno_text(e: OSError) -> str:
    if e.errno == errno.ECONNREFUSED or isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if e.errno is not None:
        return os.strerror(e.errno).lower()
    return str(e).lower() or "connection failed"


def _io_error(e: Exception) -> str:
    if isinstance(e, ConnectionResetError):
        return "read: connection reset by peer"
    if isinstance(e, ValueError):
        return f"net/http: HTTP/1.x transport connection broken: {e}"
    return str(e)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
