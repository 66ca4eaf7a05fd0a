"""The exec FIFO handshake that replaces ``runc start``, on FIFOs of our own: a stand-in
"init" (a thread, or nobody) plays the part of runc's init blocked on the FIFO. The tests
are synchronous (``asyncio.run``): the threads and files around the handshake block."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
from pathlib import Path

import pytest

from kubelite.runtime import execfifo


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _writer(fifo: Path, data: bytes) -> threading.Thread:
    """What runc's init does: a blocking open for writing, one write, close."""

    def run() -> None:
        fd = os.open(fifo, os.O_WRONLY)
        try:
            if data:
                os.write(fd, data)
        finally:
            os.close(fd)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = execfifo.fifo_path(tmp_path, "c1")
    path.parent.mkdir()
    os.mkfifo(path, 0o622)
    return path


def test_a_waiting_init_is_released_and_the_fifo_removed(fifo: Path) -> None:
    writer = _writer(fifo, b"0")
    assert asyncio.run(execfifo.release(fifo, os.getpid()))
    writer.join(5)
    assert not writer.is_alive()
    assert not fifo.exists()  # runc state now reports the container running


def test_an_init_that_opens_its_end_only_later_is_still_released(fifo: Path) -> None:
    timer = threading.Timer(0.15, lambda: _writer(fifo, b"0"))  # after the first alive check
    timer.start()
    try:
        assert asyncio.run(execfifo.release(fifo, os.getpid()))
    finally:
        timer.cancel()
    assert not fifo.exists()


@pytest.mark.parametrize(
    "case",
    [
        "no fifo: never created by runc, or started already",
        "the init is gone and never opened its end",
        "the init closed its end without writing",
        "the path is not a fifo",
    ],
)
def test_what_the_handshake_cannot_settle_is_left_to_runc_start(
    tmp_path: Path, fifo: Path, case: str
) -> None:
    pid = os.getpid()
    writer = None
    if case.startswith("no fifo"):
        fifo.unlink()
    elif case.startswith("the init is gone"):
        pid = _dead_pid()
    elif case.startswith("the init closed"):
        writer = _writer(fifo, b"")
    else:
        fifo.unlink()
        fifo.write_text("0")
    existed = fifo.exists()
    assert not asyncio.run(execfifo.release(fifo, pid))
    if writer is not None:
        writer.join(5)
    assert fifo.exists() == existed  # untouched: runc start decides and reports
