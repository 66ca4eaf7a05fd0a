"""Fixtures for the image e2e tests: a fresh store per test, and no mount left behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.images.overlay import unmount
from kubelite.images.registries import load_registry_config
from kubelite.images.service import Images


def _mounts_under(root: Path) -> list[Path]:
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = Path(line.split(" ")[4].replace("\\040", " "))
        if point == root or root in point.parents:
            found.append(point)
    return found


@pytest.fixture
def no_mounts_left(tmp_path: Path) -> Iterator[Path]:
    """Unmount anything a test left mounted under tmp_path, even when it failed."""
    yield tmp_path
    for point in reversed(_mounts_under(tmp_path)):
        unmount(point)


@pytest.fixture
def images(no_mounts_left: Path, registry_config_file: Path) -> Images:
    return Images(
        images_dir=no_mounts_left / "images",
        registries=load_registry_config(registry_config_file),
    )
