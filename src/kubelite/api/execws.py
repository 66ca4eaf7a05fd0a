"""``pods/<name>/exec`` over WebSocket, subprotocol ``v5.channel.k8s.io`` (kubectl 1.32's
only offer; the Python client also offers v4, which frames the same way for our purposes).

Binary messages, first byte = channel: 0 stdin, 1 stdout, 2 stderr, 3 status (server to
client), 4 resize (``{"Width":W,"Height":H}``), 255 close (``[255, stream]`` half-closes stdin).
The session ends with a Status on channel 3 and a close frame. A SPDY upgrade (kubectl's
fallback) or a plain request gets a 400 Status, which kubectl prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSMsgType, web

from kubelite.api import params
from kubelite.api.context import ApiContext
from kubelite.api.errors import bad_request
from kubelite.api.logs import container_names, default_container
from kubelite.api.paths import Target
from kubelite.api.streams import ExecIO, ExecRequest, StreamUnavailable

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


def _status(code: int) -> bytes:
    if code == 0:
        body: dict[str, Any] = {"metadata": {}, "status": "Success"}
    else:
        body = {
            "metadata": {},
            "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
            f"[...], exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
        }
    return bytes([STATUS]) + json.dumps(body).encode()


def _failure(message: str) -> bytes:
    body = {"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError"}
    return bytes([STATUS]) + json.dumps(body).encode()


async def serve(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    pod = await ctx.registry.get(t.kind, t.namespace, t.name)
    q = request.query
    command = q.getall("command", [])
    if not command:
        raise bad_request("you must specify at least 1 command")
    container = q.get("container") or default_container(pod)
    if container not in container_names(pod):
        raise bad_request(f"container {container} is not valid for pod {t.name}")
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise bad_request(
            "exec requires a WebSocket upgrade (v5.channel.k8s.io); SPDY is not supported"
        )
    if ctx.exec is None:
        raise bad_request(
            f'container "{container}" in pod "{t.name}" is not available: '
            "no node agent is serving exec"
        )
    req = ExecRequest(
        pod,
        container,
        list(command),
        params.flag(q, "stdin"),
        params.flag(q, "stdout"),
        params.flag(q, "stderr"),
        params.flag(q, "tty"),
    )
    ws = web.WebSocketResponse(protocols=PROTOCOLS, heartbeat=None, max_msg_size=0)
    await ws.prepare(request)
    io = ExecIO()
    reader = asyncio.create_task(_pump_in(ws, io, req.stdin), name="exec-stdin")
    writer = asyncio.create_task(_pump_out(ws, io), name="exec-stdout")
    try:
        try:
            code = await ctx.exec.run(req, io)
            final = _status(code)
        except StreamUnavailable as exc:
            final = _failure(str(exc))
        await io.output.put((-1, b""))
        await writer
        with contextlib.suppress(ConnectionResetError):
            await ws.send_bytes(final)
    finally:
        for task in (reader, writer):
            task.cancel()
        for task in (reader, writer):
            with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
                await task
        await ws.close()
    return ws


async def _pump_in(ws: web.WebSocketResponse, io: ExecIO, stdin: bool) -> None:
    async for msg in ws:
        if msg.type != WSMsgType.BINARY or not msg.data:
            continue
        channel, data = msg.data[0], msg.data[1:]
        if channel == STDIN and stdin:
            await io.stdin.put(bytes(data))
        elif channel == RESIZE:
            with contextlib.suppress(ValueError, TypeError):
                size = json.loads(data)
                await io.resize.put((int(size.get("Width", 0)), int(size.get("Height", 0))))
        elif channel == CLOSE and data[:1] == bytes([STDIN]):
            await io.stdin.put(None)
    await io.stdin.put(None)


async def _pump_out(ws: web.WebSocketResponse, io: ExecIO) -> None:
    while True:
        channel, data = await io.output.get()
        if channel < 0:
            return
        with contextlib.suppress(ConnectionResetError):
            await ws.send_bytes(bytes([channel]) + data)
