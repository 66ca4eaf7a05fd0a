"""Starting a created runc container without running ``runc start``.

``runc create`` leaves the container's init blocked in ``open(exec.fifo, O_WRONLY)`` in the
container's runc state folder; it writes one byte once a reader has opened the FIFO and then
executes the user's process. ``runc start`` is nothing more than that reader: it opens the
FIFO, reads the byte, and removes the FIFO, which is how ``runc state`` tells a running
container from a created one. Doing the same here saves a Go process per container start
(about 5 ms of the ~30 ms a start costs; bench/pods.py).

Whatever this handshake cannot settle (no FIFO: not created by runc, or already started; the
init gone without writing) is left to the real ``runc start``, so its error is runc's own.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

EXEC_FIFO = "exec.fifo"
# As runc: while waiting for the byte, look every 100 ms whether the init is still there.
ALIVE_CHECK_SECONDS = 0.1


def fifo_path(runc_root: Path, container_id: str) -> Path:
    return runc_root / container_id / EXEC_FIFO


def _alive(pid: int) -> bool:
    """The process exists and is neither a zombie nor dead (``/proc/<pid>/stat``)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read()
    except OSError:
        return False
    state = text.rsplit(b")", 1)[-1].split()[:1]
    return state not in ([b"Z"], [b"X"], [])


async def release(fifo: Path, pid: int) -> bool:
    """Let the created container whose init is ``pid`` run: True once its init has been
    released and the FIFO removed; False when the handshake could not be made and
    ``runc start`` must decide (nothing has been changed then)."""
    try:
        fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
        data = await _read_byte(fd, pid)
    finally:
        os.close(fd)
    if not data:
        return False
    os.unlink(fifo)
    return True


async def _read_byte(fd: int, pid: int) -> bytes:
    """What the init writes once our read end is open; b"" if it is gone without writing."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, readable)
    try:
        while True:
            done, _ = await asyncio.wait({ready}, timeout=ALIVE_CHECK_SECONDS)
            if done or not _alive(pid):
                break
    finally:
        loop.remove_reader(fd)
        if not ready.done():
            ready.cancel()
    try:
        return os.read(fd, 16)
    except BlockingIOError:  # the init died before it opened its end
        return b""
