"""Two ``kubelite up --no-agent`` on one 3-member etcd act as one control plane, seen through
the real kubectl: one holder for each of the ``kube-controller-manager`` and ``kube-scheduler``
Leases, a ReplicaSet gets exactly its pods (no second controller making more, no event twice),
after kill -9 of the leading server the other leads within the lease duration and scales on,
a restarted server takes its own Leases back at once and a stopped one hands them over, and the
``kubernetes`` EndpointSlices list every live API server and drop a dead one.

The servers run with upstream's election durations (15 s lease, 10 s deadline, 2 s retry) and
short identity-Lease ones (``--identity-lease-renew-interval-seconds 1
--apiserver-endpoint-ttl 3s``)."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.e2e.etcd.etcdproc import ETCD, EtcdCluster
from tests.e2e.etcd.test_etcd_kubectl import KUBECTL, Up
from tests.e2e.netranges import Ranges, unique_ranges

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(ETCD is None, reason="needs etcd (scripts/install-deps.sh)"),
    pytest.mark.skipif(
        shutil.which(KUBECTL) is None, reason="needs kubectl (scripts/install-deps.sh)"
    ),
]

T = TypeVar("T")


class Server(Up):
    @property
    def identity(self) -> str:
        """Its leader-election identity: ``<hostname>_<id kept in the data dir>``."""
        server_id = (self.data_dir / "server-id").read_text().strip()
        return f"{socket.gethostname()}_{server_id}"

    def json(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)


def launch(data_dir: Path, store: str, ranges: Ranges) -> Server:
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "up.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kubelite", "up", "--data-dir", str(data_dir), "--port", "0",
             "--identity-lease-renew-interval-seconds", "1", "--apiserver-endpoint-ttl", "3s",
             "--kubeconfig-out", str(data_dir / "kubeconfig"), "--no-agent", "--no-ui",
             "--store", store, *ranges.flags()],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    seen = len(re.findall(r"listening on", log.read_text()))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.findall(r"listening on https://127\.0\.0\.1:(\d+)", log.read_text())
        if len(found) > seen and (data_dir / "kubeconfig").exists():
            return Server(proc, data_dir, int(found[-1]))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait(5)
    raise AssertionError(f"kubelite up did not start: {log.read_text()[-3000:]}")


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.2)


def holders(server: Server) -> dict[str, str]:
    leases = server.json("get", "leases", "-n", "kube-system")["items"]
    names = ("kube-controller-manager", "kube-scheduler")
    return {
        lease["metadata"]["name"]: lease["spec"].get("holderIdentity", "")
        for lease in leases
        if lease["metadata"]["name"] in names
    }


def both_held(server: Server) -> dict[str, str] | None:
    found = holders(server)
    return found if len(found) == 2 and all(found.values()) else None


def slice_endpoints(server: Server) -> set[str]:
    """address:port of every endpoint in the ``kubernetes`` Service's slices."""
    slices = server.json(
        "get", "endpointslices", "-n", "default", "-l", "kubernetes.io/service-name=kubernetes"
    )["items"]
    return {
        f"{address}:{port['port']}"
        for s in slices
        for port in s.get("ports") or []
        for e in s.get("endpoints") or []
        for address in e["addresses"]
    }


def pods(server: Server, app: str) -> list[str]:
    out = server.kubectl("get", "pods", "-l", f"app={app}", "-o", "name").stdout
    return out.split()


def created_events(server: Server, rs: str) -> int:
    """SuccessfulCreate events of the ReplicaSet, repeats counted."""
    events = server.json("get", "events", "-n", "default")["items"]
    return sum(
        int(e.get("count") or 1)
        for e in events
        if e["involvedObject"].get("name") == rs and e.get("reason") == "SuccessfulCreate"
    )


def stays(probe: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not probe():
            return False
        time.sleep(0.3)
    return True


def replicaset(name: str, replicas: int) -> str:
    return f"""apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: c
        image: registry.local/busybox:1.36
        command: ["sleep", "3600"]
"""


class Pair:
    def __init__(self, root: Path, cluster: EtcdCluster) -> None:
        self.root, self.cluster, self.ranges = root, cluster, unique_ranges()
        self.servers: list[Server] = []

    def start(self, name: str) -> Server:
        if self.servers and not (self.root / name / "pki").exists():
            shutil.copytree(self.servers[0].data_dir / "pki", self.root / name / "pki")
        server = launch(self.root / name, self.cluster.store_url, self.ranges)
        self.servers.append(server)
        return server

    def stop_all(self) -> None:
        for s in self.servers:
            s.stop()


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    """Servers on a 3-member etcd of their own, stopped by PID with it afterwards."""
    cluster = EtcdCluster(tmp_path / "etcd", size=3)
    cluster.start()
    try:
        p = Pair(tmp_path, cluster)
        try:
            yield p
        finally:
            p.stop_all()
    finally:
        cluster.stop()


def test_each_leader_lease_has_one_holder_and_the_kubernetes_slices_list_both_servers(
    pair: Pair,
) -> None:
    a, b = pair.start("a"), pair.start("b")
    held = eventually(lambda: both_held(b), "both leader Leases held")
    assert set(held.values()) <= {a.identity, b.identity}
    assert held == holders(a)  # both servers see the same holders
    table = a.kubectl("get", "leases", "-n", "kube-system").stdout
    for name, holder in held.items():
        assert re.search(rf"^{name}\s+{re.escape(holder)}\s", table, re.M), table
    events = a.json("get", "events", "-n", "kube-system")["items"]
    posted = {
        (e["involvedObject"]["name"], e["message"], e["source"]["component"])
        for e in events
        if e["reason"] == "LeaderElection"
    }
    assert posted >= {
        ("kube-controller-manager", f"{held['kube-controller-manager']} became leader",
         "kube-controller-manager"),
        ("kube-scheduler", f"{held['kube-scheduler']} became leader", "default-scheduler"),
    }  # fmt: skip
    identities = a.json(
        "get", "leases", "-n", "kube-system", "-l", "apiserver.kubernetes.io/identity"
    )["items"]
    assert len(identities) == 2
    assert all(i["metadata"]["name"].startswith("apiserver-") for i in identities)
    gateway = str(pair.ranges.pod_cidr).rsplit(".", 1)[0] + ".1"
    wanted = {f"{gateway}:{a.port}", f"{gateway}:{b.port}"}
    eventually(lambda: slice_endpoints(a) == wanted, f"the kubernetes slices list {wanted}")
    subsets = a.json("get", "endpoints", "kubernetes")["subsets"]
    assert sorted(s["ports"][0]["port"] for s in subsets) == sorted((a.port, b.port))


def test_a_replicaset_gets_exactly_its_pods_and_after_kill_9_of_the_leader_the_other_leads(
    pair: Pair,
) -> None:
    a, b = pair.start("a"), pair.start("b")
    held = eventually(lambda: both_held(a), "both leader Leases held")
    a.kubectl("apply", "-f", "-", stdin=replicaset("web", 5))
    eventually(lambda: len(pods(b, "web")) >= 5, "5 pods")
    assert stays(lambda: len(pods(a, "web")) == 5, 4), "a 6th pod appeared"
    assert created_events(a, "web") == 5
    # kill -9 the server running the controllers; the other takes the Lease over
    leader = a if held["kube-controller-manager"] == a.identity else b
    survivor = b if leader is a else a
    gateway = str(pair.ranges.pod_cidr).rsplit(".", 1)[0] + ".1"
    eventually(lambda: len(slice_endpoints(survivor)) == 2, "both servers in the slices")
    leader.stop(signal.SIGKILL)
    killed = time.monotonic()
    eventually(
        lambda: holders(survivor).get("kube-controller-manager") == survivor.identity,
        "the survivor leads the controllers",
        timeout=30,
    )
    took = time.monotonic() - killed
    assert took <= 25, f"took {took:.1f}s"
    survivor.kubectl("scale", "replicaset", "web", "--replicas=7")
    eventually(lambda: len(pods(survivor, "web")) >= 7, "7 pods")
    assert stays(lambda: len(pods(survivor, "web")) == 7, 4), "an 8th pod appeared"
    assert created_events(survivor, "web") == 7
    # the dead server's endpoint goes once its identity Lease is older than the TTL
    eventually(
        lambda: slice_endpoints(survivor) == {f"{gateway}:{survivor.port}"},
        "only the live server in the kubernetes slices",
        timeout=10,
    )
    held = eventually(lambda: both_held(survivor), "both Leases held")
    assert set(held.values()) == {survivor.identity}


def test_a_restarted_server_takes_its_leases_back_at_once_and_a_stopped_one_hands_them_over(
    pair: Pair,
) -> None:
    a = pair.start("a")
    eventually(lambda: both_held(a) == dict.fromkeys(("kube-controller-manager",
                                                      "kube-scheduler"), a.identity),
               "the lone server leads")  # fmt: skip
    a.stop(signal.SIGKILL)
    a = pair.start("a")  # the same data dir: the same identity
    started = time.monotonic()
    eventually(lambda: both_held(a), "the Leases held again")
    transitions = {
        lease["metadata"]["name"]: lease["spec"].get("leaseTransitions", 0)
        for lease in a.json("get", "leases", "-n", "kube-system")["items"]
        if lease["metadata"]["name"] in ("kube-controller-manager", "kube-scheduler")
    }
    assert transitions == {"kube-controller-manager": 0, "kube-scheduler": 0}
    assert time.monotonic() - started < 5, "waited out its own term"
    b = pair.start("b")
    eventually(lambda: len(slice_endpoints(b)) == 2, "both servers in the slices")
    a.stop(signal.SIGTERM)  # a graceful stop releases the Leases and leaves the endpoints
    stopped = time.monotonic()
    eventually(lambda: set(holders(b).values()) == {b.identity}, "b leads", timeout=10)
    assert time.monotonic() - stopped < 8
    gateway = str(pair.ranges.pod_cidr).rsplit(".", 1)[0] + ".1"
    assert slice_endpoints(b) == {f"{gateway}:{b.port}"}
