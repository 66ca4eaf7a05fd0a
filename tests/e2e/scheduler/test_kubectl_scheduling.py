"""The scheduler through the real kubectl, against ``kubelite up --no-agent`` (no node of its
own): three Nodes created with ``kubectl create`` (capacity, labels, a taint, Ready), pods
applied with kubectl. ``kubectl get pods -o wide`` shows where they went; ``kubectl describe
pod`` shows upstream's FailedScheduling event for a pod that fits nowhere, and the Scheduled
event once a node that fits is added."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.api.conftest import Server, start_server

pytestmark = pytest.mark.e2e

NODE = """apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels: {{kubernetes.io/hostname: {name}, topology.kubernetes.io/zone: {zone}}}
spec:
  taints: {taints}
status:
  capacity: {{cpu: "{cpu}", memory: 4Gi, pods: "110"}}
  allocatable: {{cpu: "{cpu}", memory: 4Gi, pods: "110"}}
  conditions:
  - {{type: Ready, status: "True", reason: KubeletReady, message: ready}}
"""

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {app}}}
spec:
{extra}  containers:
  - name: c
    image: busybox:1.36
    resources: {{requests: {{cpu: "{cpu}"}}}}
"""

CONTROL_PLANE = "[{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]"


def node(name: str, zone: str, cpu: str = "2", taints: str = "[]") -> str:
    return NODE.format(name=name, zone=zone, cpu=cpu, taints=taints)


def pod(name: str, cpu: str = "100m", app: str = "", extra: str = "") -> str:
    return POD.format(name=name, app=app or name, cpu=cpu, extra=extra)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start_server(tmp_path_factory.mktemp("kubelite-sched"))
    try:
        nodes = [node("cp", "a", taints=CONTROL_PLANE), node("w1", "a"), node("w2", "b")]
        r = s.kubectl("create", "-f", "-", input="---\n".join(nodes))
        assert r.returncode == 0, r.stderr
        yield s
    finally:
        s.stop()


def wait_for(s: Server, name: str, check: Any, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        got = json.loads(s.kubectl("get", "pod", name, "-o", "json", check=True).stdout)
        if check(got):
            return dict(got)
        assert time.monotonic() < deadline, got
        time.sleep(0.2)


def test_pods_spread_and_land_where_their_selectors_say(server: Server) -> None:
    anti = """  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
"""
    manifests = [pod(f"web-{i}", app="web", extra=anti) for i in range(2)]
    manifests.append(pod("zoned", extra="  nodeSelector: {topology.kubernetes.io/zone: b}\n"))
    r = server.kubectl("apply", "-f", "-", input="---\n".join(manifests))
    assert r.returncode == 0, r.stderr
    for name in ("web-0", "web-1", "zoned"):
        wait_for(server, name, lambda p: p["spec"].get("nodeName"))
    wide = server.kubectl("get", "pods", "-o", "wide", "--no-headers", check=True).stdout
    nodes = {line.split()[0]: line.split()[6] for line in wide.splitlines()}
    assert sorted([nodes["web-0"], nodes["web-1"]]) == ["w1", "w2"]  # never the control plane
    assert nodes["zoned"] == "w2"


def test_describe_shows_failed_scheduling_then_scheduled_once_a_node_fits(server: Server) -> None:
    r = server.kubectl("apply", "-f", "-", input=pod("hog", cpu="3"))
    assert r.returncode == 0, r.stderr
    text = (
        "0/3 nodes are available: 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes "
        "are available: 3 Preemption is not helpful for scheduling."
    )
    got = wait_for(
        server, "hog", lambda p: any(c.get("message") for c in p["status"].get("conditions", []))
    )
    cond = next(c for c in got["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", text)
    described = server.kubectl("describe", "pod", "hog", check=True).stdout
    assert "FailedScheduling" in described and "default-scheduler" in described
    assert " ".join(text.split()) in " ".join(described.split())
    r = server.kubectl("create", "-f", "-", input=node("big", "b", cpu="8"))
    assert r.returncode == 0, r.stderr
    wait_for(server, "hog", lambda p: p["spec"].get("nodeName") == "big")
    described = server.kubectl("describe", "pod", "hog", check=True).stdout
    assert "Successfully assigned default/hog to big" in described
