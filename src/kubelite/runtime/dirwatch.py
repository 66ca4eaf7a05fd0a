"""Being told, through inotify(7), that a file appeared in a folder.

conmon reports a container's exit by writing ``<exit_dir>/<id>``. Polling that folder every
50 ms made every exit up to 50 ms late, and with it every init container's successor (INIT-1)
and every restart. An inotify watch wakes the runtime's event stream as the file lands; the
caller still lists the folder itself, so a missed or merged notification costs nothing but the
caller's fallback poll.

    watch = DirWatch.open(path)        # None where inotify is unavailable
    watch.on_change(callback)          # called on the running loop after each write
    watch.close()
"""

from __future__ import annotations

import asyncio
import ctypes
import os
from collections.abc import Callable
from pathlib import Path

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
_MASK = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE

_libc = ctypes.CDLL(None, use_errno=True)


class DirWatch:
    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def open(cls, path: Path) -> DirWatch | None:
        """A watch on ``path``, or None when the kernel refuses one (out of watches)."""
        fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            return None
        if _libc.inotify_add_watch(fd, os.fsencode(str(path)), _MASK) < 0:
            os.close(fd)
            return None
        return cls(fd)

    def _drain(self) -> None:
        """Read every queued notification (their content does not matter)."""
        while True:
            try:
                if not os.read(self._fd, 65536):
                    return
            except OSError:  # BlockingIOError included: the queue is empty
                return

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the running loop whenever something is written into the
        folder (notifications that arrive together give one call)."""
        loop = asyncio.get_running_loop()

        def readable() -> None:
            self._drain()
            callback()

        loop.add_reader(self._fd, readable)
        self._loop = loop

    def close(self) -> None:
        if self._fd < 0:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._fd = -1
