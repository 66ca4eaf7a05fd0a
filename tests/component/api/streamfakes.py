"""A node side for the streaming endpoints, in memory: processes that echo their input, and
pod ports served by local asyncio servers (echo, a bulk sender, nothing)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from kubelite.api.streams import (
    AttachRequest,
    ExecRequest,
    PortDialer,
    RemoteProcess,
    StreamUnavailable,
)


class EchoProcess:
    """Writes ``ran <argv>`` on stdout and the argv on stderr at once, then what it reads on
    stdin; ends at the end of its input (or at once without stdin) with ``exit_code``."""

    def __init__(self, argv: list[str], *, stdin: bool, exit_code: int = 0) -> None:
        self.argv = argv
        self.exit_code = exit_code
        self.resized: list[tuple[int, int]] = []
        self.killed = asyncio.Event()
        self.stdin_closed = False
        self._out: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._err: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._out.put_nowait(("ran " + " ".join(argv) + "\n").encode())
        self._err.put_nowait(" ".join(argv).encode())
        self._err.put_nowait(None)
        self._wait_for_input = stdin and argv[:1] != ["true"]
        if not self._wait_for_input:
            self._out.put_nowait(None)

    async def write_stdin(self, data: bytes) -> None:
        if self._wait_for_input:
            self._out.put_nowait(data)

    async def close_stdin(self) -> None:
        self.stdin_closed = True
        if self._wait_for_input:
            self._wait_for_input = False
            self._out.put_nowait(None)

    async def _drain(self, q: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
        while (chunk := await q.get()) is not None:
            yield chunk

    def stdout(self) -> AsyncIterator[bytes]:
        return self._drain(self._out)

    def stderr(self) -> AsyncIterator[bytes]:
        return self._drain(self._err)

    async def resize(self, columns: int, rows: int) -> None:
        self.resized.append((columns, rows))

    async def wait(self) -> int:
        return self.exit_code

    async def kill(self) -> None:
        self.killed.set()
        self._out.put_nowait(None)


@dataclass
class FakeNode:
    """exec: ``EchoProcess`` exiting with the number in ``exit:<n>`` if the command has one;
    attach: an EchoProcess of ``attach``; port 80 echoes, port 81 sends ``bulk`` bytes and
    closes, port 82 has nobody listening."""

    refuse: str | None = None  # the kubelet's refusal for exec/attach, if set
    bulk: int = 4 << 20
    processes: list[EchoProcess] = field(default_factory=list)
    ports: dict[int, int] = field(default_factory=dict)
    _servers: list[asyncio.Server] = field(default_factory=list)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self._servers.append(await asyncio.start_server(self._echo, "127.0.0.1", 0))
        self._servers.append(await asyncio.start_server(self._bulk, "127.0.0.1", 0))
        self.ports = {80: _port(self._servers[0]), 81: _port(self._servers[1])}

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
            await server.wait_closed()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)

    def _track(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _echo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track()
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _bulk(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._track()
        with contextlib.suppress(ConnectionError):
            block = bytes(range(256)) * 256
            sent = 0
            while sent < self.bulk:
                piece = block[: self.bulk - sent]
                writer.write(piece)
                await writer.drain()
                sent += len(piece)
        writer.close()

    async def exec(self, request: ExecRequest) -> RemoteProcess:
        if self.refuse:
            raise StreamUnavailable(self.refuse)
        code = next((int(a[5:]) for a in request.command if a.startswith("exit:")), 0)
        process = EchoProcess(request.command, stdin=request.stdin, exit_code=code)
        self.processes.append(process)
        return process

    async def attach(self, request: AttachRequest) -> RemoteProcess:
        if self.refuse:
            raise StreamUnavailable(self.refuse)
        process = EchoProcess(["attach"], stdin=request.stdin)
        self.processes.append(process)
        return process

    async def port_forward(self, pod: dict[str, Any]) -> PortDialer:
        if self.refuse:
            raise StreamUnavailable(self.refuse)
        return _Dialer(self.ports)


def _port(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


class _Dialer:
    def __init__(self, ports: dict[int, int]) -> None:
        self._ports = ports

    async def connect(self, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        local = self._ports.get(port)
        if local is None:
            raise StreamUnavailable(f"error forwarding port {port} to pod sandbox, uid : refused")
        return await asyncio.open_connection("127.0.0.1", local)
