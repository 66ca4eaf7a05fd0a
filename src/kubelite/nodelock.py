"""One owner per data directory: the process that runs its pods holds an exclusive lock.

Two processes running pods on one data directory (``kubelite run`` beside ``kubelite up``, or
two agents) would each take the other's pods for orphans and remove them, and would both
collect each other's half-made containers. The owner takes ``<data_dir>/node.lock`` with
flock(2); the kernel drops it when the process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from kubelite.errors import KubeliteError


class NodeBusy(KubeliteError):
    """Another process already runs the pods of this data directory."""


class NodeLock:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    @classmethod
    def acquire(cls, data_dir: Path) -> NodeLock:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / "node.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise NodeBusy(
                f"another kubelite (pid {holder}) runs the pods of {data_dir}; stop it, or "
                "give this one its own --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = -1
