"""Every acknowledged write survives a SIGKILL of ``kubelite up``."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from kubernetes import client, config

from tests.e2e.api.conftest import start_server

pytestmark = pytest.mark.e2e


def test_acknowledged_creates_survive_sigkill(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    acknowledged: list[str] = []
    try:
        api_client = config.new_client_from_config(config_file=str(server.kubeconfig))
        core = client.CoreV1Api(api_client)
        for i in range(40):
            name = f"cm-{i}"
            core.create_namespaced_config_map(
                "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name))
            )
            acknowledged.append(name)
        api_client.close()
    finally:
        server.stop(signal.SIGKILL)
    server = start_server(tmp_path, port=server.port)
    try:
        r = server.kubectl("get", "configmaps", "-o", "name", check=True)
        present = {line.split("/", 1)[1] for line in r.stdout.split()}
        assert set(acknowledged) <= present
    finally:
        server.stop()
