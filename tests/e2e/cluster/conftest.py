"""A whole one-node kubelite (``kubelite up``: API server, controllers, scheduler, agent, pod
network, Service proxy, cluster DNS) on real containers, driven by the real kubectl.

One cluster per test module, with its own data dir, pod and Service ranges, and no egress.
When the module ends: the kubelite is stopped (SIGTERM), every pod and the pod network are
removed with ``kubelite runtime reset``, and the machine is checked for anything left behind
(containers, mounts, processes, cgroups, bridge, nftables table, routes, CNI state).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.netranges import Ranges, unique_ranges
from tests.e2e.run import leftovers

KUBECTL = os.environ.get("KUBELITE_TEST_KUBECTL", "kubectl")


@dataclass
class Cluster:
    proc: subprocess.Popen[str]
    data_dir: Path
    kubeconfig: Path
    ranges: Ranges
    registry_config: Path
    port: int

    def kubectl(
        self, *args: str, input: str | None = None, timeout: float = 60, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [KUBECTL, "--kubeconfig", str(self.kubeconfig),
                "--cache-dir", str(self.data_dir / "kcache"), *args]  # fmt: skip
        r = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r

    def apply(self, manifest: str, namespace: str = "default") -> None:
        self.kubectl("apply", "-n", namespace, "-f", "-", input=manifest)

    def get(self, kind: str, name: str, namespace: str = "default") -> dict[str, Any]:
        out = self.kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout
        return dict(json.loads(out))

    def wait(
        self, what: str, condition: str, namespace: str = "default", timeout: int = 90
    ) -> None:
        r = self.kubectl(
            "wait", what, f"--for={condition}", "-n", namespace, f"--timeout={timeout}s",
            timeout=timeout + 30, check=False,
        )  # fmt: skip
        if r.returncode != 0:
            seen = self.kubectl("describe", what, "-n", namespace, check=False).stdout
            raise AssertionError(f"{what} never met {condition}: {r.stderr}\n{seen}")

    def exec(
        self, pod: str, *cmd: str, namespace: str = "default", container: str = "",
        check: bool = True, timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:  # fmt: skip
        c = ("-c", container) if container else ()
        return self.kubectl(
            "exec", pod, "-n", namespace, *c, "--", *cmd, check=check, timeout=timeout
        )

    def logs(self, pod: str, namespace: str = "default", container: str = "") -> str:
        c = ("-c", container) if container else ()
        return self.kubectl("logs", pod, "-n", namespace, *c).stdout

    def kubelite(
        self, command: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``kubelite COMMAND <this cluster's flags> ARGS...``"""
        argv = [sys.executable, "-m", "kubelite", command, "--data-dir", str(self.data_dir),
                "--registry-config", str(self.registry_config), *self.ranges.flags(),
                *args]  # fmt: skip
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError(f"kubelite {' '.join(args)} failed: {r.stderr}")
        return r

    def log_text(self) -> str:
        return (self.data_dir / "up.log").read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_cluster(data_dir: Path, registry_config: Path, ranges: Ranges | None = None) -> Cluster:
    ranges = ranges or unique_ranges()
    kubeconfig = data_dir / "kubeconfig"
    kubeconfig.unlink(missing_ok=True)
    log = data_dir / "up.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kubelite", "up", "--data-dir", str(data_dir), "--port", "0",
             "--kubeconfig-out", str(kubeconfig), "--registry-config", str(registry_config),
             "--log-level", "INFO", *ranges.flags()],
            stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    port = 0
    while time.monotonic() < deadline and not port:
        found = re.findall(r"listening on https://127\.0\.0\.1:(\d+)", log.read_text())
        if found and kubeconfig.exists():
            port = int(found[-1])
        elif proc.poll() is not None:
            raise AssertionError(f"kubelite up exited:\n{log.read_text()}")
        else:
            time.sleep(0.05)
    if not port:
        proc.kill()
        raise AssertionError(f"kubelite up did not start:\n{log.read_text()}")
    cluster = Cluster(proc, data_dir, kubeconfig, ranges, registry_config, port)
    for _ in range(200):
        r = cluster.kubectl(
            "get", "nodes", "-o",
            "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}", check=False,
        )  # fmt: skip
        if r.stdout.strip() == "True":
            return cluster
        time.sleep(0.1)
    cluster.stop()
    raise AssertionError(f"the node did not become Ready:\n{log.read_text()}")


def tear_down(cluster: Cluster) -> list[str]:
    """Stop it, remove every pod and the network; return what was left behind (removed)."""
    cluster.stop()
    reset = cluster.kubelite("runtime", "reset", check=False)
    problems = [] if reset.returncode == 0 else [f"runtime reset failed: {reset.stderr}"]
    found = leftovers.find(cluster.data_dir, cluster.ranges.service_cidr)
    if found:
        problems.append(f"left behind: {found.describe()}")
        leftovers.remove(cluster.data_dir, found)
    return problems


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, registry_config_file: Path
) -> Iterator[Cluster]:
    c = start_cluster(tmp_path_factory.mktemp("cluster"), registry_config_file)
    try:
        yield c
    finally:
        problems = tear_down(c)
        if problems:
            pytest.fail("\n".join(problems))
