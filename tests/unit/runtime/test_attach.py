"""Attaching through conmon's attach socket: conmon's flags per container, and the session's
behaviour against a SOCK_SEQPACKET peer that plays conmon."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from kubelite.runtime import attach
from kubelite.runtime.attach import AttachSession, Stdio


@pytest.mark.parametrize(
    ("stdio", "args"),
    [
        pytest.param(Stdio(), [], id="a container without stdin gets no stdin pipe"),
        pytest.param(
            Stdio(stdin=True), ["--stdin", "--leave-stdin-open"],
            id="stdin without stdinOnce stays open when a client goes",
        ),
        pytest.param(
            Stdio(stdin=True, stdin_once=True), ["--stdin"],
            id="stdinOnce closes stdin when the first client goes",
        ),
        pytest.param(
            Stdio(stdin=False, stdin_once=True, tty=True), [],
            id="stdinOnce without stdin means nothing",
        ),
    ],
)  # fmt: skip
def test_conmon_args_follow_the_container_spec(stdio: Stdio, args: list[str]) -> None:
    assert stdio.conmon_args() == args


def test_stdio_is_kept_beside_the_container_and_defaults_to_none(tmp_path: Path) -> None:
    assert attach.load_stdio(tmp_path) == Stdio()
    attach.save_stdio(tmp_path, Stdio(stdin=True, stdin_once=True, tty=True))
    assert attach.load_stdio(tmp_path) == Stdio(stdin=True, stdin_once=True, tty=True)


def _pair(tmp_path: Path, stdio: Stdio) -> tuple[AttachSession, socket.socket]:
    ours, conmon = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    return AttachSession(ours, tmp_path, stdio), conmon


async def _drain(session: AttachSession) -> tuple[bytes, bytes]:
    async def collect(chunks: object) -> bytes:
        out = b""
        async for c in chunks:  # type: ignore[attr-defined]
            out += c
        return out

    out, err = await asyncio.gather(collect(session.stdout()), collect(session.stderr()))
    return out, err


async def test_output_is_split_by_the_pipe_byte_until_conmon_closes(tmp_path: Path) -> None:
    session, conmon = _pair(tmp_path, Stdio())
    conmon.send(b"\x02hello ")
    conmon.send(b"\x03oops")
    conmon.send(b"\x02world")
    conmon.close()
    assert await _drain(session) == (b"hello world", b"oops")
    assert await session.wait() == 0


async def test_stdin_once_without_tty_half_closes_and_keeps_reading(tmp_path: Path) -> None:
    session, conmon = _pair(tmp_path, Stdio(stdin=True, stdin_once=True))
    await session.write_stdin(b"x" * 20000)
    await session.close_stdin()
    got = b""
    while chunk := await asyncio.to_thread(conmon.recv, 65536):
        assert len(chunk) <= attach.INPUT_MESSAGE  # conmon reads one bounded message at once
        got += chunk
    assert got == b"x" * 20000  # then EOF: conmon would close the container's stdin
    conmon.send(b"\x02bye")
    conmon.close()
    assert await _drain(session) == (b"bye", b"")


async def test_the_end_of_input_detaches_a_container_without_stdin_once(tmp_path: Path) -> None:
    session, conmon = _pair(tmp_path, Stdio(stdin=True))
    reading = asyncio.ensure_future(_drain(session))
    await asyncio.sleep(0)
    await session.close_stdin()
    assert await reading == (b"", b"")
    assert await session.wait() == 0
    conmon.close()


async def test_input_for_a_container_without_stdin_is_dropped(tmp_path: Path) -> None:
    session, conmon = _pair(tmp_path, Stdio())
    await session.write_stdin(b"lost")
    await session.close_stdin()  # changes nothing: the attach goes on
    conmon.send(b"\x02still attached")
    reading = asyncio.ensure_future(_drain(session))
    await asyncio.sleep(0.05)
    await session.kill()
    assert conmon.recv(100) == b""  # nothing came before the detach
    assert await reading == (b"still attached", b"")
    conmon.close()


async def test_a_tty_is_resized_through_the_winsz_fifo_one_size_at_a_time(
    tmp_path: Path,
) -> None:
    """conmon takes one line per read: a second size waits until the first was read."""
    os.mkfifo(tmp_path / attach.WINSZ_FIFO)
    reader = os.open(tmp_path / attach.WINSZ_FIFO, os.O_RDONLY | os.O_NONBLOCK)
    try:
        session, conmon = _pair(tmp_path, Stdio(stdin=True, tty=True))
        first = asyncio.ensure_future(session.resize(121, 41))
        await asyncio.sleep(0.01)
        assert not first.done()  # not read yet: the next size would be merged with it
        assert os.read(reader, 100) == b"41 121\n"
        await first
        await session.resize(120, 40)
        assert os.read(reader, 100) == b"40 120\n"
        await session.kill()
        conmon.close()
    finally:
        os.close(reader)


async def test_without_a_winsz_fifo_the_ctl_fifo_takes_the_size(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / attach.CTL_FIFO)
    reader = os.open(tmp_path / attach.CTL_FIFO, os.O_RDONLY | os.O_NONBLOCK)
    try:
        session, conmon = _pair(tmp_path, Stdio(stdin=True, tty=True))
        resizing = asyncio.ensure_future(session.resize(80, 24))
        await asyncio.sleep(0.01)
        assert os.read(reader, 100) == b"1 24 80\n"
        await resizing
        await session.kill()
        conmon.close()
    finally:
        os.close(reader)


async def test_a_container_without_a_tty_is_not_resized(tmp_path: Path) -> None:
    session, conmon = _pair(tmp_path, Stdio(stdin=True))
    await session.resize(80, 24)  # no FIFOs here: nothing is even opened
    await session.kill()
    conmon.close()


async def test_attaching_where_conmon_keeps_no_socket_is_not_found(tmp_path: Path) -> None:
    from kubelite.runtime.interface import NotFound

    with pytest.raises(NotFound):
        await attach.attach(tmp_path / "nope", tmp_path)
