"""A kill -9 of kubelite leaks nothing of the pod network: the pods keep their addresses and
Services work again once it is back; a sandbox that died while kubelite was down has its
address, veth and cached CNI result swept at start-up; and when every pod is gone, no address
lease, veth, cache file or rule is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.network.layout import NetworkLayout
from kubelite.settings import Settings
from tests.e2e.cluster.conftest import Cluster, start_cluster, tear_down

pytestmark = pytest.mark.e2e

PODS = """
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{port: 7000}]
---
apiVersion: v1
kind: Pod
metadata: {name: echo, labels: {app: echo}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox:1.36, command: [sh, -c, 'trap "exit 0" TERM; nc -lk -p 7000 -e echo hi & wait']}
---
apiVersion: v1
kind: Pod
metadata: {name: doomed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox:1.36, command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']}
"""  # noqa: E501


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, registry_config_file: Path) -> Iterator[Cluster]:
    c = start_cluster(tmp_path_factory.mktemp("recovery"), registry_config_file)
    try:
        yield c
    finally:
        problems = tear_down(c)
        if problems:
            pytest.fail("\n".join(problems))


def leases(c: Cluster) -> set[str]:
    d = c.data_dir / "network" / "ipam" / "kubelite"
    return {p.name for p in d.iterdir() if p.name[0].isdigit()} if d.is_dir() else set()


def cached(c: Cluster) -> set[str]:
    d = c.data_dir / "network" / "cache"
    return {p.name for p in d.iterdir()} if d.is_dir() else set()


def veths(c: Cluster) -> set[str]:
    """The veths on this node's bridge (other kubelites on the machine have their own)."""
    bridge = NetworkLayout.from_settings(Settings(data_dir=c.data_dir)).bridge
    out = subprocess.run(
        ["ip", "-o", "link", "show", "master", bridge], capture_output=True, text=True
    )
    return {line.split(": ")[1].split("@")[0] for line in out.stdout.splitlines() if ": " in line}


def crash_sandbox(c: Cluster, pod_uid: str) -> None:
    """While kubelite is down, a pod's sandbox dies as in a crash or reboot: its processes
    are killed and its namespaces unmounted, so the kernel frees its network namespace and
    veth; nothing runs a CNI DEL, so its address lease and cached result stay behind."""
    ps = subprocess.run(
        [sys.executable, "-m", "kubelite", "runtime", "--data-dir", str(c.data_dir),
         *c.ranges.flags(), "ps", "--pod-uid", pod_uid],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.split()  # fmt: skip
    sandbox = ps[1]  # "sandbox <id13> ..."
    root = c.data_dir / "runc"
    for cid in subprocess.run(
        ["runc", "--root", str(root), "list", "-q"], capture_output=True, text=True
    ).stdout.split():
        if any(cid.startswith(short) for short in ps if len(short) == 13):
            subprocess.run(["runc", "--root", str(root), "kill", cid, "KILL"], capture_output=True)
    (d,) = (c.data_dir / "runtime" / "sandboxes").glob(sandbox + "*")
    time.sleep(0.5)
    for kind in ("net", "ipc", "uts"):
        subprocess.run(["umount", "-l", str(d / "ns" / kind)], capture_output=True)


def restart(c: Cluster) -> Cluster:
    return start_cluster(c.data_dir, c.registry_config, c.ranges)


def test_kill_9_then_restart_keeps_pods_and_sweeps_a_sandbox_that_died_meanwhile(
    node: Cluster,
) -> None:
    c = node
    c.apply(PODS)
    c.wait("pod/echo", "condition=Ready")
    c.wait("pod/doomed", "condition=Ready")
    ips = {p: c.get("pod", p)["status"]["podIP"] for p in ("echo", "doomed")}
    assert leases(c) == set(ips.values())
    before_veths = veths(c)
    doomed_uid = c.get("pod", "doomed")["metadata"]["uid"]

    os.kill(c.proc.pid, signal.SIGKILL)
    c.proc.wait(10)
    crash_sandbox(c, doomed_uid)
    assert ips["doomed"] in leases(c) and len(cached(c)) == 2  # nobody ran a CNI DEL

    c2 = restart(c)
    node.proc, node.port, node.kubeconfig = c2.proc, c2.port, c2.kubeconfig
    assert ips["echo"] in leases(c)
    # the agent recreates doomed's sandbox (INIT-9): whatever address it gets, the old
    # attachment is not kept twice
    c.wait("pod/doomed", "condition=Ready", timeout=120)
    now = c.get("pod", "doomed")["status"]["podIP"]
    assert leases(c) == {ips["echo"], now}
    assert len(cached(c)) == 2
    assert c.get("pod", "echo")["status"]["podIP"] == ips["echo"]
    out = c.exec("doomed", "sh", "-c", "nc -w 2 echo 7000 </dev/null").stdout
    assert out.strip() == "hi"
    assert len(veths(c)) == 2  # echo's and doomed's new one: the dead sandbox's went
    assert len(veths(c) - before_veths) == 1


def test_when_every_pod_is_gone_nothing_of_the_network_is_left(node: Cluster) -> None:
    c = node
    c.kubectl("delete", "pod", "--all", "--wait=true", timeout=120)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (leases(c) or cached(c)):
        time.sleep(0.2)
    assert leases(c) == set() and cached(c) == set()
    table = json.loads(
        subprocess.run(["nft", "-j", "list", "tables"], capture_output=True, text=True).stdout
    )
    names = {t["table"]["name"] for t in table["nftables"] if "table" in t}
    assert any(n.startswith("kubelite-") for n in names)  # the proxy's, while kubelite runs
