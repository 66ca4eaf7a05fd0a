"""Fixtures of the Runtime contract suite: one harness per implementation.

The ``real`` parameter (marked ``e2e``) runs the same contract against runc under conmon, with
busybox pulled from the local test registry into a fresh image store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kubelite.clock import ManualClock
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.interface import Runtime
from tests.contracts.harness import CONTRACT_LABEL, FakeHarness, Harness, RealHarness


@pytest.fixture
def contract_image() -> str:
    """An image in the real runtime's store with sh, sleep and echo (pulled by real_runtime)."""
    return "docker.io/library/busybox:latest"


@pytest.fixture
async def real_runtime(tmp_path: Path, registry_config_file: Path) -> AsyncIterator[Runtime]:
    """runc under conmon, with busybox pulled through the local registry into a fresh store."""
    from kubelite.images.service import Images
    from kubelite.runtime.runc import RuncRuntime
    from kubelite.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", registry_config=registry_config_file)
    images = Images.from_settings(settings)
    await images.pull("docker.io/library/busybox:latest")
    runtime = RuncRuntime(settings, images.rootfs)
    try:
        yield runtime
    finally:
        for sb in await runtime.list_sandboxes():
            await runtime.remove_sandbox(sb.id)
        for c in await runtime.list_containers():
            await runtime.remove_container(c.id)
        await runtime.close()


@pytest.fixture
async def fake_harness() -> AsyncIterator[Harness]:
    clock = ManualClock()
    async with FakeRuntime(clock) as fake:
        yield FakeHarness(fake, clock)


@pytest.fixture
async def real_harness(
    real_runtime: Runtime, contract_image: str, tmp_path: Path
) -> AsyncIterator[Harness]:
    try:
        yield RealHarness(real_runtime, contract_image, tmp_path / "logs")
    finally:
        for sb in await real_runtime.list_sandboxes():
            if sb.labels.get(CONTRACT_LABEL) == "1":
                await real_runtime.remove_sandbox(sb.id)


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.e2e)])
def harness(request: pytest.FixtureRequest) -> Harness:
    """One implementation per parameter; ``real`` needs the ``real_runtime`` hook above."""
    h: Harness = request.getfixturevalue(f"{request.param}_harness")
    return h
