"""Go's text for the values the kubelet (a Go program) prints in messages users read.

Back-off and pull events print ``time.Duration`` values (``10s``, ``1m20s``, ``868ms``), probe
and hook failures quote strings with ``%q`` and name addresses as ``host:port``, and a failed
connection reads as Go's ``net`` package words it. One function each, pure.
"""

from __future__ import annotations

import errno
import os
import socket

_UNITS = ((3_600_000_000_000, "h"), (60_000_000_000, "m"))


def _decimal(value: int, scale: int) -> str:
    """``value / scale`` without trailing zeros (1500, 1000 → ``1.5``)."""
    whole, frac = divmod(value, scale)
    if not frac:
        return str(whole)
    digits = len(str(scale)) - 1
    return f"{whole}.{str(frac).rjust(digits, '0').rstrip('0')}"


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String``: ``0s``, ``868ms``, ``9.477s``, ``1m20s``, ``5m0s``."""
    ns = round(seconds * 1_000_000_000)
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns == 0:
        return "0s"
    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{_decimal(ns, 1_000)}µs"
    if ns < 1_000_000_000:
        return f"{sign}{_decimal(ns, 1_000_000)}ms"
    text = ""
    for unit_ns, unit in _UNITS:
        if ns >= unit_ns or text:
            count, ns = divmod(ns, unit_ns)
            text += f"{count}{unit}"
    return f"{sign}{text}{_decimal(ns, 1_000_000_000)}s"


def go_duration_ms(seconds: float) -> str:
    """A duration truncated to milliseconds first, as in the ``Pulled`` event (EV-2)."""
    return go_duration(int(seconds * 1000) / 1000)


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
    """Go's ``net.JoinHostPort``: an IPv6 address goes in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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
