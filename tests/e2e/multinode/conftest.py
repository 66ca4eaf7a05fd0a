"""Fixtures for the multi-node tests (``harness``): ``multinode`` makes a ``Cluster`` factory
whose clusters are all removed when the test (or module) ends, failing it if anything was
left behind; ``joined`` is a module's cluster of two machines that joined with tokens."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.multinode.harness import Cluster

MakeCluster = Callable[..., Cluster]


def _needs() -> None:
    for tool in ("nsenter", "ip", "runc", "conmon"):
        if shutil.which(tool) is None:
            pytest.skip(f"multi-node tests need {tool}")


def _factory(base: Path, registry: Path, opened: list[Cluster]) -> MakeCluster:
    def make(*, up_extra: tuple[str, ...] = ()) -> Cluster:
        _needs()
        cluster = Cluster.open(base / f"c{len(opened)}", registry, up_extra=up_extra)
        opened.append(cluster)
        return cluster

    return make


def _close(opened: list[Cluster]) -> None:
    problems = []
    for cluster in opened:
        problems += cluster.close()
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def multinode(tmp_path: Path, registry_config_file: Path) -> Iterator[MakeCluster]:
    opened: list[Cluster] = []
    yield _factory(tmp_path, registry_config_file, opened)
    _close(opened)


@pytest.fixture(scope="module")
def joined(
    tmp_path_factory: pytest.TempPathFactory, registry_config_file: Path
) -> Iterator[Cluster]:
    """A control plane (SQLite) and two machines, ``m1`` and ``m2``, joined and Ready."""
    opened: list[Cluster] = []
    cluster = _factory(tmp_path_factory.mktemp("multinode"), registry_config_file, opened)()
    try:
        for name in ("m1", "m2"):
            cluster.join(name)
        yield cluster
    finally:
        _close(opened)
