"""Commands whose requests kubectl 1.32 sends with protobuf bodies (client-go's typed clients),
against a real node: ``kubectl create deployment`` (a Deployment) and ``kubectl drain`` (an
Eviction per pod). ``kubectl debug --copy-to`` and ``debug node/…`` (a Pod) are in
``test_debug``; the imperative ConfigMap/Secret/Namespace/RBAC/review bodies in their own
modules."""

from __future__ import annotations

import pytest

from tests.e2e.cluster.conftest import Cluster

pytestmark = pytest.mark.e2e

VICTIM = """
apiVersion: v1
kind: Pod
metadata: {name: victim, labels: {app: victim}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: app, image: busybox:1.36, command: [sleep, "3600"]}
"""


def test_create_deployment_sends_a_protobuf_deployment(cluster: Cluster) -> None:
    r = cluster.kubectl("create", "deployment", "d1", "--image=busybox:1.36", "--replicas=0",
                        "--", "sleep", "3600")  # fmt: skip
    assert r.stdout.strip() == "deployment.apps/d1 created"
    d = cluster.get("deployment", "d1")
    assert d["spec"]["replicas"] == 0 and d["spec"]["selector"] == {"matchLabels": {"app": "d1"}}
    (container,) = d["spec"]["template"]["spec"]["containers"]
    assert (container["image"], container["command"]) == ("busybox:1.36", ["sleep", "3600"])
    cluster.kubectl("delete", "deployment", "d1")


def test_drain_evicts_with_protobuf_evictions(cluster: Cluster) -> None:
    cluster.apply(VICTIM)
    cluster.wait("pod/victim", "condition=Ready", timeout=120)
    node = cluster.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout
    try:
        flags = ("--pod-selector=app=victim", "--ignore-daemonsets", "--force", "--grace-period=1")
        r = cluster.kubectl("drain", node, *flags, "--timeout=90s", timeout=120)
        assert "pod/victim evicted" in r.stdout + r.stderr, r.stdout + r.stderr
        gone = cluster.kubectl("get", "pod", "victim", check=False)
        assert "NotFound" in gone.stderr
    finally:
        cluster.kubectl("uncordon", node)
