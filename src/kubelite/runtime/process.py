"""Running the host tools the runtime drives (runc, conmon, unshare, nsenter, ip, setsid).

One place that starts a short-lived tool, waits for it and turns a failure into the typed
runtime error the caller names, carrying the tool's own message. Tools are spawned with a
plain ``subprocess.Popen`` (vfork) and awaited through a pidfd and non-blocking pipes on the
event loop: asyncio's subprocess machinery costs a few milliseconds per call, which matters
when a container start is three tool runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from kubelite.runtime.interface import RuntimeError_


@dataclass(frozen=True, slots=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: bytes


async def drain_fd(loop: asyncio.AbstractEventLoop, fd: int, sink: bytearray) -> None:
    """Read ``fd`` to EOF without blocking the loop."""
    done: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if chunk:
            sink.extend(chunk)
        elif not done.done():
            done.set_result(None)

    os.set_blocking(fd, False)
    loop.add_reader(fd, readable)
    try:
        await done
    finally:
        loop.remove_reader(fd)


def spawn(
    argv: Sequence[str],
    *,
    stdout: int | IO[bytes] = subprocess.PIPE,
    stderr: int | IO[bytes] = subprocess.PIPE,
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
    cwd: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start a tool without waiting (fork+exec through vfork: well under a millisecond of
    the loop's time); await it with ``wait_process``."""
    return subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env,
        pass_fds=tuple(pass_fds), cwd=cwd,
    )  # fmt: skip


async def wait_process(proc: subprocess.Popen[bytes]) -> int:
    """Wait for a child on the event loop (pidfd), then reap it."""
    if proc.returncode is not None:
        return proc.returncode
    loop = asyncio.get_running_loop()
    try:
        pidfd = os.pidfd_open(proc.pid)
    except ProcessLookupError:
        # Already reaped: ``Popen.kill`` polls first, and reaps a child that has just exited.
        return proc.wait()
    try:
        exited: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            if not exited.done():
                exited.set_result(None)

        loop.add_reader(pidfd, readable)
        try:
            await exited
        finally:
            loop.remove_reader(pidfd)
    finally:
        os.close(pidfd)
    return proc.wait()


async def run_tool(
    *argv: str,
    error: type[RuntimeError_] = RuntimeError_,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
    cwd: str | None = None,
) -> ToolResult:
    """Run ``argv`` to completion. With ``check``, a non-zero exit raises ``error``."""
    loop = asyncio.get_running_loop()
    proc = spawn(argv, env=env, pass_fds=pass_fds, cwd=cwd)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    try:
        await asyncio.gather(
            drain_fd(loop, proc.stdout.fileno(), out),
            drain_fd(loop, proc.stderr.fileno(), err),
        )
        rc = await wait_process(proc)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
        raise
    finally:
        proc.stdout.close()
        proc.stderr.close()
    if check and rc != 0:
        text = (bytes(err) or bytes(out)).decode(errors="replace").strip()
        raise error(f"{argv[0]} {argv[1] if len(argv) > 1 else ''}: {text or f'exit {rc}'}")
    return ToolResult(rc, bytes(out), bytes(err))
