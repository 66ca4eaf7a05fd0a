"""An in-process API server on the in-memory store, reached through aiohttp's test client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from kubelite.api.server import ApiServer
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.namespace_reaper import NamespaceReaper
from kubelite.store.memory import MemoryStore


@pytest.fixture
async def api() -> AsyncIterator[ApiServer]:
    server = ApiServer(store=MemoryStore(), require_auth=False)
    await bootstrap(server.registry)
    yield server


@pytest.fixture
async def client(api: ApiServer) -> AsyncIterator[TestClient]:
    reaper = asyncio.create_task(NamespaceReaper(registry=api.registry, interval=0.02).run())
    async with TestClient(TestServer(api.app)) as c:
        yield c
    reaper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reaper


def pod(name: str = "web", **spec: object) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}], **spec},
    }
