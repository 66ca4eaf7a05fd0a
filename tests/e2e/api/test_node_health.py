"""Node health from the agent's Lease, end to end (issue 11, item 8): with the API server and
the node agent as separate processes, a ``kill -9`` of the agent turns the Node's ``Ready``
``Unknown`` (``NodeStatusUnknown``, "Kubelet stopped posting node status.") once 40 s pass
without a renewal, and a new agent brings it back."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cluster.conftest import Cluster, tear_down
from tests.e2e.netranges import Ranges, unique_ranges

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def start_up(data_dir: Path, ranges: Ranges, registry_config: Path) -> Cluster:
    data_dir.mkdir(parents=True, exist_ok=True)
    kubeconfig, log = data_dir / "kubeconfig", data_dir / "up.log"
    with log.open("a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kubelite", "up", "--no-agent", "--data-dir", str(data_dir),
             "--port", "0", "--kubeconfig-out", str(kubeconfig), *ranges.flags()],
            stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
    for _ in range(300):
        found = re.findall(r"listening on https://127\.0\.0\.1:(\d+)", log.read_text())
        if found and kubeconfig.exists():
            return Cluster(proc, data_dir, kubeconfig, ranges, registry_config, int(found[-1]))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"kubelite up did not start:\n{log.read_text()}")


def start_agent(cluster: Cluster) -> subprocess.Popen[str]:
    with (cluster.data_dir / "agent.log").open("a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "kubelite", "agent", "--data-dir", str(cluster.data_dir),
             "--registry-config", str(cluster.registry_config),
             "--server", f"https://127.0.0.1:{cluster.port}", *cluster.ranges.flags()],
            stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip


def ready(cluster: Cluster) -> dict[str, Any] | None:
    r = cluster.kubectl("get", "nodes", "-o", "json", check=False)
    if r.returncode != 0:
        return None
    for node in json.loads(r.stdout)["items"]:
        for c in node["status"].get("conditions") or []:
            if c["type"] == "Ready":
                return dict(c)
    return None


def wait_ready(cluster: Cluster, status: str, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = ready(cluster)
        if got is not None and got["status"] == status:
            return got
        time.sleep(1)
    raise AssertionError(f"Ready did not become {status} in {seconds} s: {ready(cluster)}")


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_the_node_turns_unknown_when_its_agent_dies_and_back_when_one_returns(
    tmp_path: Path, registry_config_file: Path
) -> None:
    cluster = start_up(tmp_path / "data", unique_ranges(), registry_config_file)
    agent = start_agent(cluster)
    try:
        wait_ready(cluster, "True", 90)
        stop(agent, signal.SIGKILL)
        killed = time.monotonic()
        unknown = wait_ready(cluster, "Unknown", 90)
        waited = time.monotonic() - killed
        assert (unknown["reason"], unknown["message"]) == (
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
        )
        assert 25 <= waited <= 70, waited  # 40 s after the last renewal (every 10 s)
        agent = start_agent(cluster)
        back = wait_ready(cluster, "True", 90)
        assert back["reason"] == "KubeletReady"
    finally:
        stop(agent)
        problems = tear_down(cluster)
        if problems:
            pytest.fail("\n".join(problems))
