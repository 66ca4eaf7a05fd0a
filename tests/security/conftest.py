"""A whole one-node kubelite for the security probes, driven by the real kubectl.

As ``tests/e2e/cluster``'s cluster, with two differences that the probes need: the data
directory sits in a folder every user may pass through (pytest's own temporary folders are
root-only, which would hide what a careless data directory shows), and ``kubelite up`` gets
the node flags under test (a small ``--pod-max-pids``, so a fork bomb is cheap to contain).
Everything is removed at the end, also when a test failed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cluster.conftest import Cluster, tear_down
from tests.e2e.netranges import unique_ranges

POD_MAX_PIDS = 128  # the node's --pod-max-pids in these tests


def start(data_dir: Path, registry_config: Path, *flags: str) -> Cluster:
    """``kubelite up`` on ``data_dir`` with ``flags``; returns once the node is Ready."""
    ranges = unique_ranges()
    kubeconfig = data_dir.parent / "kubeconfig"  # outside the data dir: the probes walk it
    log = data_dir.parent / "up.log"
    with log.open("a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kubelite", "up", "--data-dir", str(data_dir), "--port", "0",
             "--kubeconfig-out", str(kubeconfig), "--registry-config", str(registry_config),
             "--log-level", "INFO", *ranges.flags(), *flags],
            stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
    cluster = Cluster(proc, data_dir, kubeconfig, ranges, registry_config, 0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"kubelite up exited:\n{log.read_text()}")
        found = re.findall(r"listening on https://127\.0\.0\.1:(\d+)", log.read_text())
        if found and kubeconfig.exists():
            cluster.port = int(found[-1])
            r = cluster.kubectl(
                "get", "nodes", "-o",
                "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}", check=False,
            )  # fmt: skip
            if r.stdout.strip() == "True":
                return cluster
        time.sleep(0.1)
    cluster.stop()
    raise AssertionError(f"the node did not become Ready:\n{log.read_text()}")


@pytest.fixture(scope="module")
def open_parent() -> Iterator[Path]:
    """A folder any user may pass through (0755), removed at the end."""
    parent = Path(tempfile.mkdtemp(prefix="kubelite-security-"))
    os.chmod(parent, 0o755)
    try:
        yield parent
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="module")
def node(open_parent: Path, registry_config_file: Path) -> Iterator[Cluster]:
    cluster = start(open_parent / "data", registry_config_file,
                    "--pod-max-pids", str(POD_MAX_PIDS))  # fmt: skip
    try:
        yield cluster
    finally:
        problems = tear_down(cluster)
        if problems:
            pytest.fail("\n".join(problems))
