"""A real ``kubelite up`` in a subprocess, and the real kubectl pointed at it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

KUBECTL = os.environ.get("KUBELITE_TEST_KUBECTL", "kubectl")


@dataclass
class Server:
    proc: subprocess.Popen[str]
    data_dir: Path
    kubeconfig: Path
    port: int

    def kubectl(
        self, *args: str, input: str | None = None, timeout: float = 30, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        argv = [
            KUBECTL,
            "--kubeconfig",
            str(self.kubeconfig),
            "--cache-dir",
            str(self.data_dir / "kcache"),
            *args,
        ]
        r = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {r.stderr}")
        return r

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_server(data_dir: Path, port: int = 0) -> Server:
    kubeconfig = data_dir / "kubeconfig"
    kubeconfig.unlink(missing_ok=True)
    log = data_dir / "up.log"
    with log.open("a") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubelite",
                "up",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
                "--kubeconfig-out",
                str(kubeconfig),
                "--no-agent",  # the API surface alone: pods stay Pending, as these tests expect
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = re.findall(r"listening on https://127\.0\.0\.1:(\d+)", log.read_text())
        if found and kubeconfig.exists():
            return Server(proc, data_dir, kubeconfig, int(found[-1]))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait(5)
    raise AssertionError("kubelite up did not start")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("kubelite"))
    yield s
    s.stop()
