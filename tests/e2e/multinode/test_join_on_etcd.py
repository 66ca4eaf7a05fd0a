"""The same join on a control plane whose store is etcd (``kubelite up --store etcd://…``): a
machine joins with a token, its Node turns Ready, and a pod bound to it runs there."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.e2e.etcd.etcdproc import ETCD, EtcdCluster
from tests.e2e.multinode.conftest import MakeCluster
from tests.e2e.multinode.harness import wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(ETCD is None, reason="needs etcd (scripts/install-deps.sh)"),
]

POD = """
apiVersion: v1
kind: Pod
metadata: {name: on-etcd}
spec:
  nodeName: m1
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: "busybox:1.36", command: [sleep, "3600"]}
"""


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[EtcdCluster]:
    cluster = EtcdCluster(tmp_path / "etcd", size=1)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_a_machine_joins_a_control_plane_on_etcd(multinode: MakeCluster, etcd: EtcdCluster) -> None:
    cluster = multinode(up_extra=("--store", etcd.store_url))
    cluster.join("m1")
    wait_for("m1 Ready", partial(cluster.node_ready, "m1"), 90)
    [csr] = [
        c
        for c in cluster.control.get("csr")["items"]
        if c["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"
    ]
    assert any(c["type"] == "Approved" for c in csr["status"]["conditions"])
    cluster.kubectl("apply", "-f", "-", input=POD)
    cluster.kubectl("wait", "pod/on-etcd", "--for=condition=Ready", "--timeout=120s", timeout=150)
    cluster.kubectl("delete", "pod", "on-etcd", "--wait=true", timeout=120)
