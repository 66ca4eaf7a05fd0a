"""pods/log and pods/exec through the LogSource / ExecBackend protocols, with fakes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from kubelite.api.server import ApiServer
from kubelite.api.streams import ExecIO, ExecRequest, LogOptions, StreamUnavailable
from tests.component.api.conftest import pod

PODS = "/api/v1/namespaces/default/pods"


class FakeLogs:
    def __init__(self) -> None:
        self.calls: list[LogOptions] = []

    async def stream(self, pod: dict[str, Any], opts: LogOptions) -> AsyncIterator[bytes]:
        self.calls.append(opts)
        if opts.previous:
            raise StreamUnavailable(
                f'previous terminated container "{opts.container}" in pod '
                f'"{pod["metadata"]["name"]}" not found'
            )
        for line in (b"one\n", b"two\n", b"three\n"):
            yield line


class FakeExec:
    async def run(self, request: ExecRequest, io: ExecIO) -> int:
        data = b""
        while (chunk := await io.stdin.get()) is not None:
            data += chunk
        await io.write_stdout(b"got:" + data)
        await io.write_stderr(b"cmd:" + " ".join(request.command).encode())
        return 3


async def test_logs_with_options(client: TestClient, api: ApiServer) -> None:
    logs = FakeLogs()
    api.set_backends(logs=logs)
    await client.post(PODS, json=pod())
    r = await client.get(
        f"{PODS}/web/log",
        params={"container": "app", "tailLines": "2", "timestamps": "true", "limitBytes": "6"},
    )
    assert r.status == 200 and await r.text() == "one\ntw"
    assert logs.calls[0].tail_lines == 2 and logs.calls[0].timestamps
    r = await client.get(f"{PODS}/web/log", params={"previous": "true"})
    body = await r.json()
    assert (r.status, body["message"]) == (
        400,
        'previous terminated container "app" in pod "web" not found',
    )
    r = await client.get(f"{PODS}/web/log", params={"container": "nope"})
    assert r.status == 400
    r = await client.get(f"{PODS}/gone/log")
    assert (await r.json())["message"] == 'pods "gone" not found in namespace "default"'


async def test_exec_over_websocket_v5(client: TestClient, api: ApiServer) -> None:
    api.set_backends(exec_backend=FakeExec())
    await client.post(PODS, json=pod())
    url = f"{PODS}/web/exec?command=cat&command=-&container=app&stdin=true&stdout=true&stderr=true"
    async with client.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws:
        assert ws.protocol == "v5.channel.k8s.io"
        await ws.send_bytes(b"\x00hello")
        await ws.send_bytes(b"\xff\x00")
        got: dict[int, bytes] = {}
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.BINARY:
                break
            got[msg.data[0]] = got.get(msg.data[0], b"") + msg.data[1:]
    assert got[1] == b"got:hello" and got[2] == b"cmd:cat -"
    status = json.loads(got[3])
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]


async def test_exec_without_websocket_is_a_status_error(client: TestClient) -> None:
    await client.post(PODS, json=pod())
    r = await client.post(f"{PODS}/web/exec?command=ls")
    assert r.status == 400 and (await r.json())["kind"] == "Status"
