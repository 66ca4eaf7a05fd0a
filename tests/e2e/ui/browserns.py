"""Chromium in a network namespace of its own, reaching the kubelite under test through a
forwarder, for two reasons:

* Chromium drops its requests (``net::ERR_NETWORK_CHANGED``) when the machine's addresses
  change, and on a node that runs pods (and beside other test kubelites) they change all the
  time: in a namespace with only its loopback, nothing ever changes for it;
* it can reach nothing at all but the one port forwarded, so the pages are shown to work with
  no network but kubelite's.

The forwarder listens on ``127.0.0.1:<port>`` inside the namespace (a socket made there,
``runtime.netdial``) and copies each connection to the same address in the host's namespace,
so URLs, the cookie's host and the Origin stay as the user would see them. The namespace is
named uniquely and removed on exit, whatever happened.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

from kubelite.runtime.netdial import socket_in_netns


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


class Forwarder:
    """Copies connections made to ``listener`` to ``127.0.0.1:port`` of this thread's namespace."""

    def __init__(self, listener: socket.socket, port: int) -> None:
        self._listener = listener
        self._port = port
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="ui-forwarder", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                inner, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                outer = socket.create_connection(("127.0.0.1", self._port), timeout=10)
                outer.settimeout(None)
            except OSError:
                inner.close()
                continue
            self._open += [inner, outer]
            for a, b in ((inner, outer), (outer, inner)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(5)
        for s in self._open:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


@contextlib.contextmanager
def browser_namespace(chromium: Path, port: int, workdir: Path) -> Iterator[Path]:
    """An executable that runs ``chromium`` in a fresh network namespace where
    ``127.0.0.1:port`` leads to the host's ``127.0.0.1:port``."""
    name = f"klui-{secrets.token_hex(4)}"
    _ip("netns", "add", name)
    forwarder = None
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        listener = socket_in_netns(f"/run/netns/{name}")
        listener.setblocking(True)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        forwarder = Forwarder(listener, port)
        wrapper = workdir / "chromium-in-netns"
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {name} {chromium} "$@"\n')
        wrapper.chmod(0o755)
        yield wrapper
    finally:
        if forwarder is not None:
            forwarder.close()
        _ip("netns", "del", name)
