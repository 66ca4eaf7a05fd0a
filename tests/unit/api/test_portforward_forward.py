"""portforward.forward: the pod-side connection is closed however the copy ends, even when
the session cancels it a second time while the copies are still winding down."""

from __future__ import annotations

import asyncio
import contextlib

from kubelite.api.portforward import forward


async def _server() -> tuple[asyncio.Server, int]:
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.read()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


async def test_a_second_cancellation_still_closes_the_pod_connection() -> None:
    server, port = await _server()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    winding_down = asyncio.Event()

    async def receive() -> bytes:
        try:
            await asyncio.Event().wait()  # the client sends nothing
        except asyncio.CancelledError:
            winding_down.set()
            await asyncio.sleep(0.2)  # a copy that takes a moment to stop
            raise
        return b""

    async def send(data: bytes) -> None:
        return None

    async def send_eof() -> None:
        return None

    copy = asyncio.create_task(forward(reader, writer, receive, send, send_eof))
    await asyncio.sleep(0.05)
    copy.cancel()
    await winding_down.wait()
    copy.cancel()  # the session going away cancels it again
    with contextlib.suppress(asyncio.CancelledError):
        await copy
    assert writer.is_closing()
    server.close()
    await server.wait_closed()


async def test_a_finished_copy_closes_the_pod_connection() -> None:
    server, port = await _server()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent: list[bytes] = []

    async def receive() -> bytes:
        return b""  # the client is done at once: the pod sees EOF and closes

    async def send(data: bytes) -> None:
        sent.append(data)

    async def send_eof() -> None:
        sent.append(b"<eof>")

    await forward(reader, writer, receive, send, send_eof)
    assert writer.is_closing()
    assert sent == [b"<eof>"]
    server.close()
    await server.wait_closed()
