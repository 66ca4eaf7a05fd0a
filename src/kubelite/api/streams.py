"""What the node side must provide for ``pods/log``, ``exec``, ``attach`` and ``portforward``.

The API server knows pods only as objects; reading a container's log, running a command in
it, attaching to it or reaching one of its ports is the node's business (the kubelet's
streaming server). It plugs in through these Protocols (``app.py`` passes implementations to
``ApiServer``): a ``LogSource``, and an ``ExecBackend`` that serves exec, attach and
port-forward alike; with none configured the endpoints answer an error.

The API layer owns the wire protocols (WebSocket channels, SPDY) and hands the backend plain
requests; the backend hands back byte streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.errors import KubeliteError


class StreamUnavailable(KubeliteError):
    """The node cannot serve this now. ``message`` is the kubelet's, which users see: as a
    400 for logs (``container "app" in pod "web" is waiting to start: ContainerCreating``), as
    the kubelet's plain-text 500 (``container not found ("app")``) before an exec/attach
    upgrade, or on a port's error stream (``error forwarding port 80 to pod …``)."""


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


@dataclass(frozen=True, slots=True)
class AttachRequest:
    pod: dict[str, Any]
    container: str
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


class RemoteProcess(Protocol):
    """An exec'd process, or an attachment to a container's main process.

    ``stdout()``/``stderr()`` end when the session does (the process exited, or an attach
    was detached); ``wait`` then gives the exit code (0 for an attach). ``close_stdin``
    passes the client's end of input on. ``kill`` is for a client that went away: an exec's
    process is killed (as containerd does), an attach detaches."""

    async def write_stdin(self, data: bytes) -> None: ...
    async def close_stdin(self) -> None: ...
    def stdout(self) -> AsyncIterator[bytes]: ...
    def stderr(self) -> AsyncIterator[bytes]: ...
    async def resize(self, columns: int, rows: int) -> None: ...
    async def wait(self) -> int: ...
    async def kill(self) -> None: ...


class PortDialer(Protocol):
    """Connections to one pod's ports, from inside its network namespace."""

    async def connect(self, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Raises ``StreamUnavailable`` with the kubelet's message for the port's error
        stream (``error forwarding port 80 to pod …: … connection refused``)."""
        ...


class ExecBackend(Protocol):
    """The node's streaming server: exec, attach and port-forward."""

    async def exec(self, request: ExecRequest) -> RemoteProcess:
        """Start the command. Raises ``StreamUnavailable`` if the container cannot run
        commands now (``container not found ("app")``)."""
        ...

    async def attach(self, request: AttachRequest) -> RemoteProcess:
        """Attach to the container's main process; the container's own ``stdinOnce`` and
        ``tty`` decide what the end of the client's input does."""
        ...

    async def port_forward(self, pod: dict[str, Any]) -> PortDialer:
        """Raises ``StreamUnavailable`` if the pod has no sandbox here
        (``pod not found ("web_default")``)."""
        ...
