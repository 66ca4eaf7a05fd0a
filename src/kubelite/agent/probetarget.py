"""Where a probe (or a network lifecycle hook) goes, and what every probe mechanism shares.

A ``ProbeTarget`` names the container and the address to reach; network probes open their
sockets through its ``Dial``, so the caller decides where a connection starts (from the node,
or inside the pod's network namespace). The mechanisms themselves live one per protocol:
``probeexec``, ``probetcp``, ``probehttp``, ``probegrpc``; ``probers.run_probe`` picks one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Dial = Callable[[str, int], Awaitable[Streams]]

PROBE_USER_AGENT = "kube-probe/1.32"  # PR-6: kube-probe/<major>.<minor>
MAX_OUTPUT = 10 * 1024  # PR-6: exec output and HTTP body are read up to 10 KiB


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


class MachineryError(Exception):
    """The probe could not even be attempted (unknown port name, bad request): PR-5."""


def resolve_port(port: Any, named: Mapping[str, int]) -> int:
    """A port is a number, a numeric string or the name of a container port."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    if isinstance(port, str) and port in named:
        return named[port]
    raise MachineryError(f"unable to find port {port!r} among the container's ports")
