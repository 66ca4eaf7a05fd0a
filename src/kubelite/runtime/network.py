"""The seam where a pod network attaches to a sandbox's network namespace.

Today every pod gets loopback only: containers of a pod talk over ``localhost`` (VOL-7) and
nothing leaves the node. A CNI plugin later implements the same two calls, returns the pod IP
and undoes its work on detach; the sandbox code does not change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from kubelite.runtime.interface import SandboxError
from kubelite.runtime.process import run_tool


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
        await run_tool(
            "nsenter", f"--net={netns_path}", "ip", "link", "set", "lo", "up", error=SandboxError
        )
        return Attachment(ip=None)

    async def detach(self, sandbox_id: str, netns_path: str) -> None:
        return None
