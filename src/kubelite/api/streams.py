"""What the node side must provide for ``pods/log`` and ``pods/exec``.

The API server knows pods only as objects; reading a container's log or running a command in
it is the node agent's business. It plugs in through these two Protocols (``app.py`` passes
implementations to ``ApiServer``); with none configured the endpoints answer a Status error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubelite.errors import KubeliteError


class StreamUnavailable(KubeliteError):
    """The log or exec target cannot be served now; ``message`` is shown to the user as a
    400, in the kubelet's words (e.g. ``container "app" in pod "web" is waiting to start:
    ContainerCreating``)."""


@dataclass(frozen=True, slots=True)
class LogOptions:
    container: str
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    since_time: float | None = None  # epoch seconds
    limit_bytes: int | None = None


class LogSource(Protocol):
    def stream(self, pod: dict[str, Any], opts: LogOptions) -> AsyncIterator[bytes]:
        """The container's log as bytes, already filtered by ``opts`` (tail, since,
        timestamps prefix ``<RFC3339Nano> ``). With ``follow`` it ends when the container
        exits. Raises ``StreamUnavailable`` before yielding anything if it cannot serve."""
        ...


@dataclass(frozen=True, slots=True)
class ExecRequest:
    pod: dict[str, Any]
    container: str
    command: list[str]
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


@dataclass(slots=True)
class ExecIO:
    """The exec session's streams as the API layer exposes them to the backend."""

    stdin: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)  # None = EOF
    resize: asyncio.Queue[tuple[int, int]] = field(default_factory=asyncio.Queue)  # (w, h)
    output: asyncio.Queue[tuple[int, bytes]] = field(default_factory=asyncio.Queue)  # (1|2, b)

    async def write_stdout(self, data: bytes) -> None:
        await self.output.put((1, data))

    async def write_stderr(self, data: bytes) -> None:
        await self.output.put((2, data))


class ExecBackend(Protocol):
    async def run(self, request: ExecRequest, io: ExecIO) -> int:
        """Run the command in the container, pumping ``io``; return its exit code.
        Raises ``StreamUnavailable`` if the container cannot run commands now."""
        ...
