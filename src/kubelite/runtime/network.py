"""The seam where a pod network attaches to a sandbox's network namespace.

The runtime brings ``lo`` up itself (containers of a pod talk over ``localhost``, VOL-7); a
``PodNetwork`` then wires the namespace to the node and returns the pod IP. The real one is
CNI (``kubelite.network.cni``), handed in by whoever builds the runtime; ``LoopbackNetwork``
gives no IP, for runtimes that run pods without a node network (tests, image tools).
"""

from __future__ import annotations

import fcntl
import socket
import struct
from dataclasses import dataclass
from typing import Protocol

from kubelite.runtime.interface import SandboxConfig, SandboxError
from kubelite.runtime.netdial import socket_in_netns

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
_IFREQ = struct.Struct("16sH22x")  # struct ifreq: the name, then ifr_flags in the union


def link_up(netns_path: str, name: str) -> None:
    """``ip link set NAME up`` inside the namespace, by two ioctls on a socket made there
    (a process of ``ip`` under ``nsenter`` cost ~10 ms of every sandbox start)."""
    with socket_in_netns(netns_path, socket.AF_INET, socket.SOCK_DGRAM) as sock:
        req = _IFREQ.pack(name.encode(), 0)
        flags = _IFREQ.unpack(fcntl.ioctl(sock, SIOCGIFFLAGS, req))[1]
        if not flags & IFF_UP:
            fcntl.ioctl(sock, SIOCSIFFLAGS, _IFREQ.pack(name.encode(), flags | IFF_UP))


def loopback_up(netns_path: str) -> None:
    try:
        link_up(netns_path, "lo")
    except OSError as e:
        raise SandboxError(f"failed to bring up lo in {netns_path}: {e}") from e


@dataclass(frozen=True, slots=True)
class Attachment:
    ip: str | None  # the pod IP, None while only loopback exists


class PodNetwork(Protocol):
    async def attach(self, sandbox_id: str, netns_path: str, config: SandboxConfig) -> Attachment:
        """Wire the namespace up; called once per sandbox, after ``lo`` is up and before any
        container. Raises ``SandboxError`` with nothing left half-made."""
        ...

    async def detach(self, sandbox_id: str, netns_path: str) -> None:
        """Undo ``attach``; must tolerate a namespace that has already gone, and a sandbox
        that was never attached (idempotent)."""
        ...


class LoopbackNetwork:
    """No node network: the pod has loopback only and no IP."""

    async def attach(self, sandbox_id: str, netns_path: str, config: SandboxConfig) -> Attachment:
        return Attachment(ip=None)

    async def detach(self, sandbox_id: str, netns_path: str) -> None:
        return None
