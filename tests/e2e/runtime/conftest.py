"""Fixtures for the real-runtime tests: a RuncRuntime on a fresh data directory whose
finalizer removes every sandbox, container and volume it made, even when the test failed."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.runtime.runc import RuncRuntime
from kubelite.settings import Settings
from tests.e2e.runtime.busybox_rootfs import BusyboxRootfs, build_lower


@pytest.fixture(scope="session")
def busybox_lower(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("busybox") is None:
        pytest.skip("busybox (busybox-static) is not installed")
    return build_lower(tmp_path_factory.mktemp("rootfs"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


async def cleanup(settings: Settings, lower: Path) -> None:
    """Remove everything a runtime on this data directory may have left."""
    rt = RuncRuntime(settings, BusyboxRootfs(lower))
    for sandbox in await rt.list_sandboxes():
        await rt.remove_sandbox(sandbox.id)
    for container in await rt.list_containers():
        await rt.remove_container(container.id)
    if settings.pods_dir.is_dir():
        for pod in settings.pods_dir.iterdir():
            await rt.remove_volumes(pod.name)


@pytest.fixture
async def runtime(settings: Settings, busybox_lower: Path) -> AsyncIterator[RuncRuntime]:
    rt = RuncRuntime(settings, BusyboxRootfs(busybox_lower))
    try:
        yield rt
    finally:
        await rt.close()
        await asyncio.wait_for(cleanup(settings, busybox_lower), 60)
