"""The httpGet probe (PR-6), and the HTTP client the httpGet lifecycle hook shares (HK-6).

A GET without keep-alive or certificate checks, redirects followed to the same host only, the
body read up to 10 KiB; transport failures are ``GoError`` worded as Go's ``net/http`` words
them (``Get "<url>": <err>``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.agent.gotext import dial_error, go_quote, join_host_port
from kubelite.agent.probestate import Outcome, RawResult
from kubelite.agent.probetarget import (
    MAX_OUTPUT,
    PROBE_USER_AGENT,
    Dial,
    ProbeTarget,
    resolve_port,
)

MAX_REDIRECTS = 10
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class GoError(Exception):
    """A transport failure worded like Go's error text. ``plain_http`` marks an HTTPS request
    that got a plain HTTP answer (the lifecycle hook's fallback case, HK-6)."""

    def __init__(self, text: str, *, plain_http: bool = False) -> None:
        super().__init__(text)
        self.plain_http = plain_http


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


def canonical_header(name: str) -> str:
    """Go's canonical MIME header key: ``x-foo-bar`` → ``X-Foo-Bar``."""
    return "-".join(p[:1].upper() + p[1:].lower() for p in name.split("-"))


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
