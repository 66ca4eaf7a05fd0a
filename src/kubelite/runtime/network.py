"""The seam where a pod network attaches to a sandbox's network namespace.

Today every pod gets loopback only: containers of a pod talk over ``localhost`` (VOL-7) and
nothing leaves the node. A CNI plugin later implements the same two calls, returns the pod IP
and undoes its work on detach; the sandbox code does not change.
"""

from __future__ import annotations

import fcntl
import socket
import struct
from dataclasses import dataclass
from typing import Protocol

from kubelite.runtime.interface import SandboxError
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


@dataclass(frozen=True, slots=True)
class Attachment:
    ip: str | None  # the pod IP, None while only loopback exists


class PodNetwork(Protocol):
    async def attach(self, sandbox_id: str, netns_path: str) -> Attachment:
        """Wire the namespace up; called once per sandbox, before any container."""
        ...

    async def detach(self, sandbox_id: str, netns_path: str) -> None:
        """Undo ``attach``; must tolerate a namespace that has already gone."""
        ...


class LoopbackNetwork:
    """Brings ``lo`` up inside the namespace and gives no pod IP."""

    async def attach(self, sandbox_id: str, netns_path: str) -> Attachment:
        try:
            link_up(netns_path, "lo")
        except OSError as e:
            raise SandboxError(f"failed to bring up lo in {netns_path}: {e}") from e
        return Attachment(ip=None)

    async def detach(self, sandbox_id: str, netns_path: str) -> None:
        return None
