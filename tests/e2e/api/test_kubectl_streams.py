"""kubectl logs and exec through the real kubectl, against an in-process server whose node
side is a fake (the real node agent plugs in the same protocols)."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.api.streams import ExecIO, ExecRequest, LogOptions
from kubelite.commands.kubeconfig import render
from kubelite.store.memory import MemoryStore
from tests.e2e.api.conftest import KUBECTL

pytestmark = pytest.mark.e2e


class Logs:
    async def stream(self, pod: dict[str, Any], opts: LogOptions) -> AsyncIterator[bytes]:
        prefix = "2025-01-01T00:00:00.000000000Z " if opts.timestamps else ""
        for i in range(3):
            yield f"{prefix}{opts.container} line {i}\n".encode()


class Exec:
    async def run(self, request: ExecRequest, io: ExecIO) -> int:
        data = b""
        if request.stdin:
            while (chunk := await io.stdin.get()) is not None:
                data += chunk
        await io.write_stdout(b"ran " + " ".join(request.command).encode() + b"\n" + data)
        return 0 if request.command[0] == "true" else 3


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("streams")
    pki = ensure_pki(tmp / "pki")
    loop = asyncio.new_event_loop()
    server = ApiServer(
        store=MemoryStore(),
        port=0,
        ssl_context=pki.server_ssl_context(),
        token=pki.token(),
        logs=Logs(),
        exec_backend=Exec(),
    )
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    path = tmp / "kc"
    path.write_text(render(pki, host="127.0.0.1", port=server.port))
    yield path
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def kubectl(kc: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kc), "--cache-dir", str(kc.parent / "cache"), *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_logs_and_exec(kubeconfig: Path) -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: s}\nspec:\n  containers:\n"
        "  - {name: app, image: busybox:1.36}\n  - {name: side, image: busybox:1.36}\n"
    )
    assert kubectl(kubeconfig, "apply", "-f", "-", input=pod).returncode == 0
    r = kubectl(kubeconfig, "logs", "s", "-c", "side", "--timestamps", "--tail=2")
    assert r.stdout.splitlines()[0] == "2025-01-01T00:00:00.000000000Z side line 0"
    r = kubectl(kubeconfig, "exec", "s", "-c", "app", "--", "true")
    assert (r.returncode, r.stdout) == (0, "ran true\n")
    r = kubectl(kubeconfig, "exec", "-i", "s", "-c", "app", "--", "cat", input="abc")
    assert r.stdout == "ran cat\nabc"
    assert r.returncode == 3 and "command terminated with exit code 3" in r.stderr
