"""Keeping garbage collection away from pulls, within a process and across processes.

A pull writes blobs before any name reaches them, so a collection running meanwhile would
see them as garbage. Writers (pulls, loads) share the guard; a collection takes it
exclusively. Inside one process that is an asyncio lock plus a count of writers; across
processes (``kubelite image prune`` next to a running node) it is an ``flock`` on one file
in the store: shared for writers, exclusive for the collector.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path


class CollectionGuard:
    def __init__(self, lock_file: Path) -> None:
        self.lock_file = lock_file
        self._collector = asyncio.Lock()
        self._writers = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def _flock(self, operation: int) -> int:
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            try:
                fcntl.flock(fd, operation | fcntl.LOCK_NB)
            except BlockingIOError:
                await asyncio.to_thread(fcntl.flock, fd, operation)
        except BaseException:
            os.close(fd)
            raise
        return fd

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """Held by a pull or load for as long as it writes into the store."""
        async with self._collector:
            self._writers += 1
            self._idle.clear()
        try:
            fd = await self._flock(fcntl.LOCK_SH)
            try:
                yield
            finally:
                os.close(fd)
        finally:
            self._writers -= 1
            if self._writers == 0:
                self._idle.set()

    @contextlib.asynccontextmanager
    async def collecting(self) -> AsyncIterator[None]:
        """Exclusive: waits for writers here and in other processes, keeps new ones out."""
        async with self._collector:
            await self._idle.wait()
            fd = await self._flock(fcntl.LOCK_EX)
            try:
                yield
            finally:
                os.close(fd)
