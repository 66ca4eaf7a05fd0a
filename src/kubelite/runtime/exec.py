"""Running extra processes in a container (``kubectl exec``, exec probes and hooks).

``runc exec`` runs in the foreground as our child, so its exit status is the process's exit
status. With a TTY, runc allocates the container's terminal itself (over its internal console
socket) and relays it to its own stdio, which here is the slave side of a pseudo-terminal we
own: we read and write the master, and a resize is a TIOCSWINSZ on the master followed by a
SIGWINCH that makes runc copy the new size into the container.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import termios
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from kubelite.runtime.interface import ExecResult
from kubelite.runtime.process import drain_fd, spawn, wait_process
from kubelite.runtime.runc_cli import Runc


def _kill_from_pid_file(pid_file: Path) -> None:
    try:
        os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        pass


def _new_pid_file(work_dir: Path) -> Path:
    work_dir.mkdir(parents=True, exist_ok=True)
    return work_dir / f"exec-{os.urandom(6).hex()}.pid"


async def exec_sync(
    runc: Runc, container_id: str, argv: Sequence[str], work_dir: Path, timeout: float | None
) -> ExecResult:
    """Run to completion; on timeout the process is SIGKILLed and ``timed_out`` is set."""
    pid_file = _new_pid_file(work_dir)
    proc = spawn(runc.argv("exec", "--pid-file", str(pid_file), container_id, *argv))
    assert proc.stdout is not None and proc.stderr is not None
    loop = asyncio.get_running_loop()
    out, err = bytearray(), bytearray()
    reading = asyncio.gather(
        drain_fd(loop, proc.stdout.fileno(), out), drain_fd(loop, proc.stderr.fileno(), err)
    )
    timed_out = False
    try:
        try:
            await asyncio.wait_for(asyncio.shield(reading), timeout)
        except TimeoutError:
            timed_out = True
            _kill_from_pid_file(pid_file)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            # children of the killed process may still hold the pipes: stop reading soon
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(reading), 1.0)
        rc = await wait_process(proc)
    finally:
        if not reading.done():
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        pid_file.unlink(missing_ok=True)
    if timed_out:
        return ExecResult(exit_code=-1, stdout=bytes(out), stderr=bytes(err), timed_out=True)
    return ExecResult(exit_code=rc, stdout=bytes(out), stderr=bytes(err))


class PipeExecSession:
    """An exec without a TTY: three pipes."""

    def __init__(self, proc: asyncio.subprocess.Process, pid_file: Path) -> None:
        self._proc = proc
        self._pid_file = pid_file

    async def write_stdin(self, data: bytes) -> None:
        if self._proc.stdin is None:
            return
        self._proc.stdin.write(data)
        await self._proc.stdin.drain()

    async def close_stdin(self) -> None:
        if self._proc.stdin is not None and not self._proc.stdin.is_closing():
            self._proc.stdin.close()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                await self._proc.stdin.wait_closed()

    async def _read(self, stream: asyncio.StreamReader | None) -> AsyncIterator[bytes]:
        if stream is None:
            return
        while chunk := await stream.read(65536):
            yield chunk

    def stdout(self) -> AsyncIterator[bytes]:
        return self._read(self._proc.stdout)

    def stderr(self) -> AsyncIterator[bytes]:
        return self._read(self._proc.stderr)

    async def resize(self, columns: int, rows: int) -> None:
        return None

    async def wait(self) -> int:
        rc = await self._proc.wait()
        self._pid_file.unlink(missing_ok=True)
        return rc

    async def kill(self) -> None:
        _kill_from_pid_file(self._pid_file)


class TtyExecSession:
    """An exec with a TTY: stdout carries the merged terminal output; stderr is empty."""

    def __init__(self, proc: asyncio.subprocess.Process, master: int, pid_file: Path) -> None:
        self._proc = proc
        self._master = master
        self._pid_file = pid_file
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        os.set_blocking(master, False)
        self._loop.add_reader(master, self._on_readable)
        self._open = True
        self._seen_output = False

    def _nudge(self) -> None:
        if self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, signal.SIGWINCH)

    def _on_readable(self) -> None:
        try:
            data = os.read(self._master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: every slave holder has gone
            data = b""
        if data:
            if not self._seen_output:
                # runc copies our terminal size only once its signal handler runs, which can
                # be after an early resize: repeat the nudge once it is surely listening.
                self._seen_output = True
                self._nudge()
            self._queue.put_nowait(data)
        else:
            self._loop.remove_reader(self._master)
            self._queue.put_nowait(None)

    async def write_stdin(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._master, view)
                view = view[n:]
            except BlockingIOError:
                await asyncio.sleep(0.005)

    async def close_stdin(self) -> None:
        await self.write_stdin(b"\x04")  # end-of-file at the start of a terminal line

    async def _stdout(self) -> AsyncIterator[bytes]:
        while (chunk := await self._queue.get()) is not None:
            yield chunk
        self._queue.put_nowait(None)

    def stdout(self) -> AsyncIterator[bytes]:
        return self._stdout()

    async def _empty(self) -> AsyncIterator[bytes]:
        return
        yield b""

    def stderr(self) -> AsyncIterator[bytes]:
        return self._empty()

    async def resize(self, columns: int, rows: int) -> None:
        fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._nudge()

    async def wait(self) -> int:
        rc = await self._proc.wait()
        self._pid_file.unlink(missing_ok=True)
        if self._open:
            self._open = False
            self._loop.remove_reader(self._master)
            # keep what is still buffered readable for stdout() consumers
            with contextlib.suppress(OSError):
                while data := os.read(self._master, 65536):
                    self._queue.put_nowait(data)
            self._queue.put_nowait(None)
            os.close(self._master)
        return rc

    async def kill(self) -> None:
        _kill_from_pid_file(self._pid_file)


async def exec_stream(
    runc: Runc, container_id: str, argv: Sequence[str], work_dir: Path, *, tty: bool, stdin: bool
) -> PipeExecSession | TtyExecSession:
    pid_file = _new_pid_file(work_dir)
    if not tty:
        proc = await asyncio.create_subprocess_exec(
            *runc.argv("exec", "--pid-file", str(pid_file), container_id, *argv),
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return PipeExecSession(proc, pid_file)
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        proc = await asyncio.create_subprocess_exec(
            *runc.argv("exec", "-t", "--pid-file", str(pid_file), container_id, *argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    return TtyExecSession(proc, master, pid_file)
