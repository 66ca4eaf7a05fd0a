"""Attaching to a container's main process (``kubectl attach``, ``kubectl run -i``), through
the attach socket conmon keeps for every container.

conmon listens on ``<socket_dir>/<cuuid>/attach`` (a symlink to the container's folder), a
SOCK_SEQPACKET socket: each message it sends is one read of the container's output, its
first byte the pipe (2 stdout, 3 stderr; a TTY's output is stdout); each message it receives
goes to the container's stdin (kept open only when conmon was started with ``--stdin``). When
a client stops writing (EOF), conmon closes the container's stdin, unless it was started with
``--leave-stdin-open``. A terminal is resized through the ``winsz`` FIFO in the same folder
(``<rows> <columns>``; what ``1 <rows> <columns>`` on its ``ctl`` FIFO becomes).

The end of the client's input follows containerd: for a ``stdinOnce`` container without a
TTY the container's stdin is closed and the attach lasts until the container exits; otherwise
the client is detached and the container keeps its stdin (closed after the first attach, as
``stdinOnce`` asks, since conmon then runs without ``--leave-stdin-open``). A container
created without ``stdin`` gets no input: what the client sends is dropped, and the end of it
changes nothing (the attach lasts until the container exits or the client goes).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import socket
import sys
import termios
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path

from kubelite.runtime.interface import ContainerConfig, NotFound, RuntimeError_

STDIO_FILE = "stdio.json"  # in the container's folder: how conmon is to treat its stdio
SOCKET_NAME = "attach"
CTL_FIFO = "ctl"
WINSZ_FIFO = "winsz"  # where conmon passes a resize on to itself
RESIZE_SETTLE_POLLS = 100  # 2 ms apart
STDOUT_PIPE, STDERR_PIPE = 2, 3  # conmon's stdpipe_t: NO_PIPE, STDIN_PIPE, STDOUT_PIPE, …
INPUT_MESSAGE = 8192  # conmon reads one message of at most 32 KiB - 1 at a time
OUTPUT_MESSAGE = 32 * 1024  # conmon writes at most 8 KiB + 1
RESIZE_EVENT = 1


@dataclass(frozen=True, slots=True)
class Stdio:
    """The container's ``stdin``, ``stdinOnce`` and ``tty`` from its spec."""

    stdin: bool = False
    stdin_once: bool = False
    tty: bool = False

    @classmethod
    def of(cls, config: ContainerConfig) -> Stdio:
        return cls(stdin=config.stdin, stdin_once=config.stdin_once, tty=config.tty)

    def conmon_args(self) -> list[str]:
        """``--stdin`` keeps a pipe to the container's stdin; ``--leave-stdin-open`` keeps it
        open when an attached client goes (not for ``stdinOnce``)."""
        if not self.stdin:
            return []
        return ["--stdin"] if self.stdin_once else ["--stdin", "--leave-stdin-open"]


def save_stdio(container_dir: Path, stdio: Stdio) -> None:
    (container_dir / STDIO_FILE).write_text(json.dumps(asdict(stdio)))


def load_stdio(container_dir: Path) -> Stdio:
    """What ``save_stdio`` recorded; a container made before it existed has no stdin."""
    try:
        data = json.loads((container_dir / STDIO_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return Stdio()
    return Stdio(**{k: bool(v) for k, v in data.items() if k in Stdio.__dataclass_fields__})


def _unread(fd: int) -> int:
    """Bytes waiting in a FIFO (FIONREAD works from the writing end too)."""
    buf = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return int.from_bytes(buf, sys.byteorder)


def _connect(link: Path) -> socket.socket:
    """Connect through the folder's descriptor: the socket's full path may be longer than a
    socket address can hold (conmon binds it the same way)."""
    try:
        folder = os.open(link, os.O_PATH | os.O_DIRECTORY)
    except FileNotFoundError as exc:
        raise NotFound(f"no attach socket at {link}") from exc
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        sock.connect(f"/proc/self/fd/{folder}/{SOCKET_NAME}")
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise RuntimeError_(f"cannot attach: {exc.strerror or exc}") from exc
    finally:
        os.close(folder)
    return sock


class AttachSession:
    """One client attached to a container (the runtime's ``ExecSession`` shape): output until
    the container exits or the client detaches; ``wait`` then gives 0."""

    def __init__(self, sock: socket.socket, container_dir: Path, stdio: Stdio) -> None:
        self._sock = sock
        self._dir = container_dir
        self._stdio = stdio
        self._loop = asyncio.get_running_loop()
        self._stderr: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._ended = asyncio.Event()
        self._detached = False
        self._receiving = False  # a sock_recv is pending: only the reader may close

    async def write_stdin(self, data: bytes) -> None:
        if not self._stdio.stdin or self._detached:
            return  # nowhere to go: dropped, as containerd drops it
        view = memoryview(data)
        for start in range(0, len(view), INPUT_MESSAGE):
            await self._loop.sock_sendall(self._sock, view[start : start + INPUT_MESSAGE])

    async def close_stdin(self) -> None:
        if not self._stdio.stdin:
            return  # the client's input never mattered: the attach goes on
        if self._stdio.stdin_once and not self._stdio.tty:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)  # conmon closes the container's stdin
        else:
            await self.kill()

    async def _stdout(self) -> AsyncIterator[bytes]:
        try:
            while not self._detached and not self._ended.is_set():
                self._receiving = True
                try:
                    msg = await self._loop.sock_recv(self._sock, OUTPUT_MESSAGE + 1)
                except OSError:
                    break
                finally:
                    self._receiving = False
                if not msg:
                    break
                if msg[0] == STDERR_PIPE:
                    self._stderr.put_nowait(msg[1:])
                elif len(msg) > 1:
                    yield msg[1:]
        finally:
            self._finish()

    def stdout(self) -> AsyncIterator[bytes]:
        """Reads the socket (stderr messages are handed to ``stderr``)."""
        return self._stdout()

    async def _stderr_chunks(self) -> AsyncIterator[bytes]:
        while (chunk := await self._stderr.get()) is not None:
            yield chunk

    def stderr(self) -> AsyncIterator[bytes]:
        return self._stderr_chunks()

    async def resize(self, columns: int, rows: int) -> None:
        """Straight to conmon's ``winsz`` FIFO (what a ``ctl`` resize turns into), one size
        at a time: conmon 2.1 acts on only the first line one read finds, so a size written
        while another is unread would be lost (and through ``ctl`` two stages would race)."""
        if not self._stdio.tty:
            return
        winsz = self._dir / WINSZ_FIFO
        if winsz.exists():
            path, line = winsz, f"{rows} {columns}\n"
        else:
            path, line = self._dir / CTL_FIFO, f"{RESIZE_EVENT} {rows} {columns}\n"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # conmon holds it open to read
        except OSError:
            return  # conmon has gone with the container
        try:
            os.write(fd, line.encode())
            for _ in range(RESIZE_SETTLE_POLLS):
                if not _unread(fd):
                    break
                await asyncio.sleep(0.002)
        except OSError:
            pass
        finally:
            os.close(fd)

    async def wait(self) -> int:
        await self._ended.wait()
        return 0

    async def kill(self) -> None:
        """Detach: the container runs on."""
        self._detached = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes a waiting reader with an end
        if not self._receiving:
            self._finish()

    def _finish(self) -> None:
        if not self._ended.is_set():
            self._ended.set()
            self._stderr.put_nowait(None)
            self._sock.close()


async def attach(socket_link: Path, container_dir: Path) -> AttachSession:
    """Attach to the container whose conmon keeps ``socket_link`` (``<socket_dir>/<cuuid>``);
    raises NotFound when there is no conmon (any more)."""
    sock = _connect(socket_link)
    return AttachSession(sock, container_dir, load_stdio(container_dir))
