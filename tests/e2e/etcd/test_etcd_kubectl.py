"""Two ``kubelite up --no-agent --store etcd://…`` on one 3-member etcd, driven by the real
kubectl: each serves what the other was told (gets, lists and watches), an etcd member killed
with SIGKILL loses no acknowledged write and open watches carry on, and when one API server is
killed with SIGKILL the other keeps serving."""

from __future__ import annotations

import dataclasses
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.app import UpOptions
from tests.e2e.etcd.etcdproc import ETCD, ClientTLS, EtcdCluster
from tests.e2e.netranges import Ranges, unique_ranges

KUBECTL = os.environ.get("KUBELITE_TEST_KUBECTL", "kubectl")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(ETCD is None, reason="needs etcd (scripts/install-deps.sh)"),
    pytest.mark.skipif(
        shutil.which(KUBECTL) is None, reason="needs kubectl (scripts/install-deps.sh)"
    ),
    pytest.mark.skipif(
        "etcd" not in {f.name for f in dataclasses.fields(UpOptions)},
        reason="kubelite.app does not pass --store on to the API server yet",
    ),
]


@dataclasses.dataclass
class Watch:
    proc: subprocess.Popen[str]
    lines: queue.Queue[str]
    reader: threading.Thread

    def next(self, wanted: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {wanted!r} from the watch within {timeout}s") from None
            if wanted in line:
                return line

    def end(self) -> None:
        self.proc.kill()
        self.proc.wait(5)
        self.reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@dataclasses.dataclass
class Up:
    proc: subprocess.Popen[bytes]
    data_dir: Path
    port: int

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    def kubectl(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        argv = [KUBECTL, "--kubeconfig", str(self.kubeconfig), "--cache-dir",
                str(self.data_dir / "kcache"), *args]  # fmt: skip
        r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {r.stderr}")
        return r

    def watch(self, *args: str) -> Watch:
        """``kubectl get -w`` in the background; its output lines arrive on the queue."""
        argv = [KUBECTL, "--kubeconfig", str(self.kubeconfig), "--cache-dir",
                str(self.data_dir / "kcache"), "get", "-w", *args]  # fmt: skip
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line.strip())

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        return Watch(proc, lines, reader)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_up(data_dir: Path, store: str, ranges: Ranges, *extra: str) -> Up:
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "up.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kubelite", "up", "--data-dir", str(data_dir), "--port", "0",
             "--kubeconfig-out", str(data_dir / "kubeconfig"), "--no-agent", "--store", store,
             *ranges.flags(), *extra],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.findall(r"listening on https://127\.0\.0\.1:(\d+)", log.read_text())
        if found and (data_dir / "kubeconfig").exists():
            return Up(proc, data_dir, int(found[-1]))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait(5)
    raise AssertionError(f"kubelite up did not start: {log.read_text()[-3000:]}")


@pytest.fixture
def etcd3(tmp_path: Path) -> Iterator[EtcdCluster]:
    cluster = EtcdCluster(tmp_path / "etcd", size=3)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def two(tmp_path: Path, etcd3: EtcdCluster) -> Iterator[tuple[Up, Up]]:
    """Two API servers on one etcd; the second gets a copy of the first one's PKI."""
    ranges = unique_ranges()
    a = start_up(tmp_path / "a", etcd3.store_url, ranges)
    b: Up | None = None
    try:
        shutil.copytree(a.data_dir / "pki", tmp_path / "b" / "pki")
        b = start_up(tmp_path / "b", etcd3.store_url, ranges)
        yield a, b
    finally:
        a.stop()
        if b is not None:
            b.stop()


def configmap(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def test_each_server_serves_the_others_writes_and_watches(two: tuple[Up, Up]) -> None:
    a, b = two
    watch = b.watch("configmaps", "-o", "name")
    try:
        time.sleep(1)
        a.kubectl("create", "configmap", "from-a", "--from-literal=k=v")
        watch.next("configmap/from-a")
        b.kubectl("create", "configmap", "from-b", "--from-literal=k=v")
        got = a.kubectl("get", "configmaps", "-o", "name").stdout.split()
        assert {"configmap/from-a", "configmap/from-b"} <= set(got)
        a.kubectl("label", "configmap", "from-b", "seen=yes")
        assert (
            b.kubectl("get", "configmap", "from-b", "-o", "jsonpath={.metadata.labels.seen}").stdout
            == "yes"
        )
    finally:
        watch.end()


def test_a_killed_etcd_member_loses_no_acknowledged_write_and_watches_carry_on(
    two: tuple[Up, Up], etcd3: EtcdCluster
) -> None:
    a, b = two
    watch = b.watch("configmaps", "-o", "name")
    acked: list[str] = []
    tried = 0

    def write(count: int, within: float = 40) -> None:
        """Until ``count`` more writes through either server are acknowledged."""
        nonlocal tried
        deadline, target = time.monotonic() + within, len(acked) + count
        while len(acked) < target:
            assert time.monotonic() < deadline, "writes did not resume"
            name = f"cm-{tried}"
            r = (a, b)[tried % 2].kubectl("apply", "-f", "-", stdin=configmap(name), check=False)
            tried += 1
            if r.returncode == 0:
                acked.append(name)

    try:
        time.sleep(1)
        write(4)
        etcd3.kill(0)  # the member both servers talk to first
        write(6)
        etcd3.restart(0)
        leader = etcd3.leader()
        assert leader is not None
        etcd3.kill(leader)
        write(6)
        for name in acked:  # the watch opened before the losses still hears every write
            watch.next(f"configmap/{name}", timeout=20)
        for server in (a, b):
            names = set(server.kubectl("get", "configmaps", "-o", "name").stdout.split())
            assert {f"configmap/{n}" for n in acked} <= names
    finally:
        watch.end()


def test_when_one_api_server_dies_the_other_keeps_serving(two: tuple[Up, Up]) -> None:
    from kubernetes import client, config, watch

    a, b = two
    on_a = config.new_client_from_config(config_file=str(a.kubeconfig))
    on_b = config.new_client_from_config(config_file=str(b.kubeconfig))
    try:
        rv = client.CoreV1Api(on_a).list_namespaced_config_map("default").metadata.resource_version
        for i in range(3):
            a.kubectl("create", "configmap", f"made-on-a-{i}", "--from-literal=k=v")
        a.stop(signal.SIGKILL)
        # a client of the dead server resumes its watch on the other from where it was
        events = watch.Watch().stream(
            client.CoreV1Api(on_b).list_namespaced_config_map,
            "default",
            resource_version=rv,
            timeout_seconds=5,
        )
        seen = [(e["type"], e["object"].metadata.name) for e in events]
        assert [s for s in seen if s[1].startswith("made-on-a")] == [
            ("ADDED", f"made-on-a-{i}") for i in range(3)
        ]
    finally:
        on_a.close()
        on_b.close()
    b.kubectl("get", "configmap", "made-on-a-0")
    b.kubectl("create", "configmap", "made-on-b", "--from-literal=k=v")
    b.kubectl("delete", "configmap", "made-on-a-0")
    names = b.kubectl("get", "configmaps", "-o", "name").stdout.split()
    assert "configmap/made-on-b" in names and "configmap/made-on-a-0" not in names


def test_kubelite_reaches_etcd_with_client_certificates(tmp_path: Path) -> None:
    tls = ClientTLS.make(tmp_path / "etcd-pki")
    cluster = EtcdCluster(tmp_path / "etcd", size=1, tls=tls)
    cluster.start()
    try:
        up = start_up(tmp_path / "up", cluster.store_url, unique_ranges(), *cluster.tls_flags())
        try:
            up.kubectl("create", "configmap", "over-tls", "--from-literal=k=v")
            assert up.kubectl("get", "configmap", "over-tls", "-o", "name").stdout.strip() == (
                "configmap/over-tls"
            )
        finally:
            up.stop()
    finally:
        cluster.stop()
