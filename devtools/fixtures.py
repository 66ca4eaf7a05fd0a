"""pytest fixtures for a local registry holding the stand-in images.

Registered in tests/conftest.py with ``pytest_plugins = ["devtools.fixtures"]``.

* ``local_registry`` (session): "127.0.0.1:PORT" of a registry that holds
  ``library/busybox:1.36``/``:latest`` and ``library/nginx:1.25.3``/``:latest``; stopped at
  the end of the session.
* ``local_registry_server`` (session): the same registry as a ``LocalRegistry`` (its
  ``log`` file records every request, for tests that count blob fetches).
* ``registry_config_file`` (session): a k3s-format registries.yaml that mirrors docker.io to
  that registry over plain HTTP, so ``busybox:1.36`` pulls from it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools import registry, standins


@pytest.fixture(scope="session")
def local_registry_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[registry.LocalRegistry]:
    for tool in ("docker-registry", "skopeo"):
        if shutil.which(tool) is None:
            pytest.skip(f"the local registry needs {tool}")
    directory = tmp_path_factory.mktemp("registry")
    reg = registry.start(directory)
    try:
        standins.push(reg.address, workdir=directory)
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="session")
def local_registry(local_registry_server: registry.LocalRegistry) -> str:
    return local_registry_server.address


def registries_yaml(address: str) -> str:
    """registries.yaml text mirroring docker.io to ``address`` over plain HTTP."""
    return f'mirrors:\n  docker.io:\n    endpoint:\n      - "http://{address}"\n'


@pytest.fixture(scope="session")
def registry_config_file(local_registry: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("registry-config") / "registries.yaml"
    path.write_text(registries_yaml(local_registry))
    return path
