"""``kubelite kubeconfig`` writes a kubeconfig that kubectl can use (cert or token)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.api.conftest import KUBECTL, Server

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("token", [False, True])
def test_printed_kubeconfig_works(server: Server, token: bool) -> None:
    argv = [
        sys.executable,
        "-m",
        "kubelite",
        "kubeconfig",
        "--data-dir",
        str(server.data_dir),
        "--port",
        str(server.port),
    ]
    if token:
        argv.append("--token")
    text = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout
    path = server.data_dir / f"kc-{token}"
    path.write_text(text)
    r = subprocess.run(
        [
            KUBECTL,
            "--kubeconfig",
            str(path),
            "--cache-dir",
            str(server.data_dir / "kcache2"),
            "get",
            "ns",
            "default",
            "-o",
            "name",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.stdout.strip() == "namespace/default", r.stderr
