"""Sockets that live in a pod's network namespace, for probes, httpGet hooks and port-forward.

A socket belongs to the network namespace of the thread that created it, for its whole life.
So a short-lived thread joins the pod's namespace with setns(2), creates the socket and exits;
the asyncio loop then uses that socket as any other. This reaches ``127.0.0.1`` inside the pod
(and, once pods have IPs, the pod IP) without a process in the container and without the
host's network namespace ever changing.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import threading

CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def socket_in_netns(
    netns_path: str, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM
) -> socket.socket:
    """A new non-blocking socket (TCP unless ``kind`` says otherwise) in the network
    namespace bound at ``netns_path``."""
    result: list[socket.socket | BaseException] = []

    def make() -> None:
        try:
            with open(netns_path, "rb") as ns:
                _setns(ns.fileno())
            sock = socket.socket(family, kind)
            sock.setblocking(False)
            result.append(sock)
        except BaseException as err:  # handed to the caller's thread
            result.append(err)

    # A fresh thread that ends right after: the namespace switch never leaks into a pool.
    t = threading.Thread(target=make, name="netns-socket", daemon=True)
    t.start()
    t.join()
    out = result[0]
    if isinstance(out, BaseException):
        raise out
    return out


async def open_connection(
    netns_path: str | None, host: str, port: int, *, limit: int = 2**16
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``asyncio.open_connection`` from inside a pod's network namespace (or the host's,
    when ``netns_path`` is None). Raises OSError as a normal connect does. ``limit`` is the
    reader's buffer (bigger for bulk copies such as port-forward)."""
    if not netns_path:
        return await asyncio.open_connection(host, port, limit=limit)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = await asyncio.to_thread(socket_in_netns, netns_path, family)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock, limit=limit)


class LocalhostUnreachable(OSError):
    """Neither 127.0.0.1 nor ::1 took the connection; each attempt's error in Go's words
    (``dial tcp4 127.0.0.1:80: connect: connection refused``), as containerd reports them."""

    def __init__(self, port: int, ipv4: str, ipv6: str) -> None:
        super().__init__(f"IPv4: {ipv4} IPv6 {ipv6}")
        self.port, self.ipv4, self.ipv6 = port, ipv4, ipv6


def _go_dial_error(network: str, address: str, err: OSError) -> str:
    reason = os.strerror(err.errno) if err.errno else (err.strerror or str(err))
    return f"dial {network} {address}: connect: {reason[:1].lower()}{reason[1:]}"


async def dial_localhost(
    netns_path: str | None, port: int, *, limit: int = 2**16
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``localhost:port`` inside the namespace, IPv4 first then IPv6, as containerd's
    port-forward dials. Raises LocalhostUnreachable."""
    try:
        return await open_connection(netns_path, "127.0.0.1", port, limit=limit)
    except OSError as err:
        ipv4 = _go_dial_error("tcp4", f"127.0.0.1:{port}", err)
    try:
        return await open_connection(netns_path, "::1", port, limit=limit)
    except OSError as err:
        ipv6 = _go_dial_error("tcp6", f"[::1]:{port}", err)
    raise LocalhostUnreachable(port, ipv4, ipv6)
