"""``kubelite ui-link`` against a running server (in process, over TLS with the data dir's
PKI): a fresh link that opens a session once, and clear failures when there is no web view or
no server."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.commands import uilink
from kubelite.settings import Settings
from kubelite.store.memory import MemoryStore


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[ApiServer, Settings]]:
    settings = Settings(data_dir=tmp_path)
    pki = ensure_pki(settings.pki_dir)
    api = ApiServer(
        store=MemoryStore(), port=0, ssl_context=pki.server_ssl_context(), token=pki.token()
    )
    await api.start()
    try:
        yield api, settings
    finally:
        await api.stop()


def args(port: int) -> argparse.Namespace:
    return argparse.Namespace(host="127.0.0.1", port=port)


async def test_ui_link_prints_a_link_that_opens_one_session(
    server: tuple[ApiServer, Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    api, settings = server
    api.ui.enable()
    assert await asyncio.to_thread(uilink.run, args(api.port), settings) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith(f"https://127.0.0.1:{api.port}/ui/login#")
    token = link.rsplit("#", 1)[1]
    async with TestClient(TestServer(api.app)) as client:
        for expected in (204, 401):
            resp = await client.post(
                "/ui/session", json={"token": token}, headers={"X-Kubelite-UI": "1"}
            )
            assert resp.status == expected


async def test_ui_link_says_when_the_web_view_is_off(
    server: tuple[ApiServer, Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    api, settings = server
    assert await asyncio.to_thread(uilink.run, args(api.port), settings) == 1
    assert "serves no web view" in capsys.readouterr().err


async def test_ui_link_says_when_no_server_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path)
    assert await asyncio.to_thread(uilink.run, args(1), settings) == 1
    assert "no kubelite up answers on https://127.0.0.1:1" in capsys.readouterr().err
