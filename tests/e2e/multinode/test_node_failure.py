"""A machine dies (kill -9 of its agent): after the grace period its Node turns Unknown and is
tainted unreachable, its pods are evicted once their toleration runs out, and a Deployment's
pod is made again on the machine still alive. When the agent comes back, the node is Ready
and untainted again."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import pytest

from tests.e2e.multinode.conftest import MakeCluster
from tests.e2e.multinode.harness import Cluster, wait_for

pytestmark = pytest.mark.e2e

GRACE = 8  # --node-monitor-grace-period, seconds
TOLERATION = 5  # the pods' tolerationSeconds for unreachable/not-ready

DEPLOYMENT = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - {{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute,
          tolerationSeconds: {TOLERATION}}}
      - {{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute,
          tolerationSeconds: {TOLERATION}}}
      containers:
      - {{name: c, image: "busybox:1.36", command: [sleep, "3600"]}}
"""


def pods(cluster: Cluster) -> list[dict[str, Any]]:
    return list(cluster.control.get("pods", "-l", "app=web")["items"])


def running(cluster: Cluster, node: str) -> dict[str, Any] | None:
    for pod in pods(cluster):
        if (
            pod["spec"].get("nodeName") == node
            and pod["status"].get("phase") == "Running"
            and not pod["metadata"].get("deletionTimestamp")
        ):
            return pod
    return None


def ready_status(cluster: Cluster, node: str) -> str:
    obj = cluster.control.get("node", node)
    conds = {c["type"]: c for c in obj["status"].get("conditions") or []}
    return str(conds.get("Ready", {}).get("status"))


def taints(cluster: Cluster, node: str) -> set[str]:
    obj = cluster.control.get("node", node)
    return {f"{t['key']}:{t['effect']}" for t in obj["spec"].get("taints") or []}


def test_a_killed_agents_node_goes_unknown_is_tainted_and_its_pods_move(
    multinode: MakeCluster,
) -> None:
    cluster = multinode(up_extra=("--node-monitor-grace-period", f"{GRACE}s"))
    for name in ("m1", "m2"):
        cluster.join(name)
        wait_for(f"{name} Ready", partial(cluster.node_ready, name), 90)
    cluster.kubectl("apply", "-f", "-", input=DEPLOYMENT)
    first = wait_for(
        "the Deployment's pod running",
        lambda: next((p for p in pods(cluster) if p["status"].get("phase") == "Running"), None),
        120,
    )
    victim_name = first["spec"]["nodeName"]
    victim = next(a for a in cluster.agents if a.name == victim_name)
    survivor = next(a for a in cluster.agents if a.name != victim_name)

    victim.kill()

    wait_for(f"{victim_name} Unknown", lambda: ready_status(cluster, victim_name) == "Unknown",
             GRACE + 30)  # fmt: skip
    node = cluster.control.get("node", victim_name)
    ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["reason"], ready["message"]) == (
        "NodeStatusUnknown", "Kubelet stopped posting node status.",
    )  # fmt: skip
    wait_for(
        "the unreachable taints",
        lambda: {"node.kubernetes.io/unreachable:NoExecute",
                 "node.kubernetes.io/unreachable:NoSchedule"} <= taints(cluster, victim_name),
        30,
    )  # fmt: skip
    assert "NotReady" in cluster.kubectl("get", "node", victim_name).stdout

    name = first["metadata"]["name"]

    def evicted() -> dict[str, Any] | None:
        got = cluster.kubectl("get", "pod", name, "-o", "json", check=False)
        if got.returncode != 0:
            return {"gone": True}
        pod = json.loads(got.stdout)
        return pod if pod["metadata"].get("deletionTimestamp") else None

    old = wait_for("the pod evicted", evicted, TOLERATION + 30)
    if "gone" not in old:
        conds = {c["type"]: c for c in old["status"].get("conditions") or []}
        assert conds["DisruptionTarget"]["reason"] == "DeletionByTaintManager"
        assert conds["DisruptionTarget"]["message"] == (
            "Taint manager: deleting due to NoExecute taint"
        )
    events = cluster.kubectl("get", "events", "--field-selector", f"involvedObject.name={name}",
                             "-o", "json").stdout  # fmt: skip
    messages = [e["message"] for e in json.loads(events)["items"]]
    assert f"Marking for deletion Pod default/{name}" in messages

    replacement = wait_for(
        f"a new pod running on {survivor.name}", partial(running, cluster, survivor.name), 120
    )
    assert replacement["metadata"]["name"] != name

    # The machine comes back: Ready again, the taints gone.
    server, token, ca_hash = cluster.control.token_create()
    victim.start(server, token, ca_hash)
    victim.wait_serving()
    wait_for(f"{victim_name} Ready again", partial(cluster.node_ready, victim_name), 60)
    wait_for(
        "the taints gone",
        lambda: not {t for t in taints(cluster, victim_name) if "unreachable" in t},
        30,
    )
