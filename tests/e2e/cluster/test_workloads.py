"""Deployments, ReplicaSets and DaemonSets on a real node with the real kubectl (issue 13):
create, scale, set image, rollout status/history/undo/pause/resume/restart, the columns of
``kubectl get``, deletion with and without cascading, the migration example, and a kill -9
of ``kubelite up`` while a ReplicaSet scales (nothing created twice)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cluster.conftest import Cluster, start_cluster

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "cluster"
NS = "default"


def rollout_status(cluster: Cluster, what: str, timeout: int = 120) -> str:
    r = cluster.kubectl(
        "rollout", "status", what, f"--timeout={timeout}s", timeout=timeout + 30, check=False
    )
    if r.returncode != 0:
        seen = cluster.kubectl("describe", what, check=False).stdout
        raise AssertionError(f"rollout of {what} did not finish: {r.stderr}\n{seen}")
    return r.stdout


def pods(cluster: Cluster, selector: str) -> list[dict[str, Any]]:
    out = cluster.kubectl("get", "pods", "-l", selector, "-o", "json").stdout
    return list(json.loads(out)["items"])


def live(cluster: Cluster, selector: str) -> list[dict[str, Any]]:
    return [p for p in pods(cluster, selector) if not p["metadata"].get("deletionTimestamp")]


def eventually(check: Any, timeout: float = 60, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.5)


def test_create_scale_set_image_and_roll_back_a_deployment(cluster: Cluster) -> None:
    out = cluster.kubectl("create", "deployment", "web", "--image=nginx:1.25.3", "--replicas=2")
    assert out.stdout.strip() == "deployment.apps/web created"
    assert (
        rollout_status(cluster, "deployment/web")
        .strip()
        .endswith('deployment "web" successfully rolled out')
    )
    table = cluster.kubectl("get", "deploy", "web").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:4] == ["web", "2/2", "2", "2"]
    wide = cluster.kubectl("get", "deploy", "web", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1].split()[-3:] == ["nginx", "nginx:1.25.3", "app=web"]

    out = cluster.kubectl("scale", "deployment", "web", "--replicas=3")
    assert out.stdout.strip() == "deployment.apps/web scaled"
    rollout_status(cluster, "deployment/web")
    assert len(live(cluster, "app=web")) == 3

    out = cluster.kubectl("set", "image", "deployment/web", "nginx=nginx:latest")
    assert out.stdout.strip() == "deployment.apps/web image updated"
    rollout_status(cluster, "deployment/web")
    eventually(
        lambda: (
            {p["spec"]["containers"][0]["image"] for p in live(cluster, "app=web")}
            == {"nginx:latest"}
        ),
        what="the old pods to go",
    )
    history = cluster.kubectl("rollout", "history", "deployment/web").stdout.splitlines()
    assert history[0] == "deployment.apps/web "
    assert history[1].split() == ["REVISION", "CHANGE-CAUSE"]
    assert [line.split()[0] for line in history[2:] if line.strip()] == ["1", "2"]

    out = cluster.kubectl("rollout", "undo", "deployment/web")
    assert out.stdout.strip() == "deployment.apps/web rolled back"
    rollout_status(cluster, "deployment/web")
    d = cluster.get("deployment", "web")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25.3"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    history = cluster.kubectl("rollout", "history", "deployment/web").stdout.splitlines()
    assert [line.split()[0] for line in history[2:] if line.strip()] == ["2", "3"]
    sets = cluster.kubectl("get", "rs", "-l", "app=web").stdout.splitlines()
    assert sets[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert sorted(line.split()[1] for line in sets[1:]) == ["0", "3"]

    everything = cluster.kubectl("get", "all").stdout
    assert "deployment.apps/web" in everything and "replicaset.apps/web-" in everything
    described = cluster.kubectl("describe", "deployment", "web").stdout
    assert "ScalingReplicaSet" in described and "NewReplicaSetAvailable" in described


def test_pause_resume_and_restart(cluster: Cluster) -> None:
    cluster.kubectl(
        "create",
        "deployment",
        "paused",
        "--image=busybox:1.36",
        "--replicas=1",
        "--",
        "sh",
        "-c",
        'trap "exit 0" TERM; sleep 3600 & wait',
    )
    rollout_status(cluster, "deployment/paused")
    assert cluster.kubectl("rollout", "pause", "deployment/paused").stdout.strip() == (
        "deployment.apps/paused paused"
    )
    cluster.kubectl("set", "image", "deployment/paused", "busybox=busybox:latest")
    time.sleep(3)
    assert len(cluster.kubectl("get", "rs", "-l", "app=paused", "-o", "name").stdout.split()) == 1
    cond = {c["type"]: c for c in cluster.get("deployment", "paused")["status"]["conditions"]}
    assert cond["Progressing"]["reason"] == "DeploymentPaused"
    assert cluster.kubectl("rollout", "resume", "deployment/paused").stdout.strip() == (
        "deployment.apps/paused resumed"
    )
    rollout_status(cluster, "deployment/paused")
    before = {p["metadata"]["name"] for p in live(cluster, "app=paused")}
    out = cluster.kubectl("rollout", "restart", "deployment/paused")
    assert out.stdout.strip() == "deployment.apps/paused restarted"
    rollout_status(cluster, "deployment/paused")
    after = eventually(
        lambda: {p["metadata"]["name"] for p in live(cluster, "app=paused")} - before or None,
        what="a restarted pod",
    )
    assert after and not (after & before)
    cluster.kubectl("delete", "deployment", "paused", "--wait=false")


def test_deleting_a_deployment_removes_its_replicasets_and_pods(cluster: Cluster) -> None:
    cluster.kubectl(
        "create",
        "deployment",
        "gone",
        "--image=busybox:1.36",
        "--replicas=2",
        "--",
        "sh",
        "-c",
        'trap "exit 0" TERM; sleep 3600 & wait',
    )
    rollout_status(cluster, "deployment/gone")
    out = cluster.kubectl("delete", "deployment", "gone", "--timeout=90s", timeout=120)
    assert out.stdout.strip() == 'deployment.apps "gone" deleted'
    eventually(
        lambda: (
            not cluster.kubectl("get", "rs,pods", "-l", "app=gone", "-o", "name").stdout.strip()
        ),
        timeout=90,
        what="the ReplicaSet and pods to go",
    )


def test_an_orphaning_delete_keeps_the_replicaset_and_its_pods(cluster: Cluster) -> None:
    cluster.kubectl(
        "create",
        "deployment",
        "kept",
        "--image=busybox:1.36",
        "--replicas=2",
        "--",
        "sh",
        "-c",
        'trap "exit 0" TERM; sleep 3600 & wait',
    )
    rollout_status(cluster, "deployment/kept")
    cluster.kubectl("delete", "deployment", "kept", "--cascade=orphan")
    eventually(
        lambda: cluster.kubectl("get", "deployment", "kept", check=False).returncode != 0,
        what="the deployment to go",
    )
    rs = json.loads(cluster.kubectl("get", "rs", "-l", "app=kept", "-o", "json").stdout)["items"]
    assert len(rs) == 1
    eventually(
        lambda: (
            not cluster.kubectl("get", "rs", rs[0]["metadata"]["name"], "-o", "json").stdout.count(
                '"ownerReferences"'
            )
        ),
        what="the owner reference to go",
    )
    time.sleep(2)
    assert len(live(cluster, "app=kept")) == 2
    cluster.kubectl("delete", "rs", "-l", "app=kept", "--wait=false")


def test_the_migration_runs_in_each_replica_before_the_app(cluster: Cluster) -> None:
    path = EXAMPLES / "deployment-with-migration.yaml"
    cluster.kubectl("apply", "-f", str(path))
    rollout_status(cluster, "deployment/shop", timeout=180)
    for pod in live(cluster, "app=shop"):
        name = pod["metadata"]["name"]
        migrated = cluster.logs(name, container="migrate")
        assert "connected to PostgreSQL stand-in" in migrated
        assert migrated.strip().splitlines()[-1] == "Applying shop.0003_prices... OK"
        assert cluster.logs(name, container="app").strip() == "shop serving on schema 0003_prices"
    cluster.kubectl("delete", "-f", str(path), "--wait=false")


def test_a_daemonset_runs_a_pod_on_the_node(cluster: Cluster) -> None:
    manifest = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      containers:
      - name: agent
        image: busybox:1.36
        command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
"""
    cluster.apply(manifest)
    rollout_status(cluster, "daemonset/node-agent")
    table = cluster.kubectl("get", "ds", "node-agent").stdout.splitlines()
    assert table[0].split() == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "NODE",
        "SELECTOR",
        "AGE",
    ]
    assert table[1].split()[:7] == ["node-agent", "1", "1", "1", "1", "1", "<none>"]
    (pod,) = live(cluster, "app=node-agent")
    node = cluster.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout
    assert pod["spec"]["nodeName"] == node

    cluster.kubectl("set", "image", "daemonset/node-agent", "agent=busybox:latest")
    rollout_status(cluster, "daemonset/node-agent")
    eventually(
        lambda: (
            [p["spec"]["containers"][0]["image"] for p in live(cluster, "app=node-agent")]
            == ["busybox:latest"]
        ),
        what="the updated pod",
    )
    history = cluster.kubectl("rollout", "history", "daemonset/node-agent").stdout.splitlines()
    assert history[0] == "daemonset.apps/node-agent "
    assert [line.split()[0] for line in history[2:] if line.strip()] == ["1", "2"]
    out = cluster.kubectl("rollout", "undo", "daemonset/node-agent")
    assert out.stdout.strip() == "daemonset.apps/node-agent rolled back"
    rollout_status(cluster, "daemonset/node-agent")
    eventually(
        lambda: (
            [p["spec"]["containers"][0]["image"] for p in live(cluster, "app=node-agent")]
            == ["busybox:1.36"]
        ),
        what="the pod of the first template",
    )
    history = cluster.kubectl("rollout", "history", "daemonset/node-agent").stdout.splitlines()
    assert [line.split()[0] for line in history[2:] if line.strip()] == ["2", "3"]
    cluster.kubectl("delete", "ds", "node-agent", "--wait=false")


def test_a_kill_9_while_a_replicaset_scales_creates_no_duplicates(cluster: Cluster) -> None:
    """Last in the module: kubelite is killed and started again on the same data dir."""
    manifest = """
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: burst}
spec:
  replicas: 16
  selector: {matchLabels: {app: burst}}
  template:
    metadata: {labels: {app: burst}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: c
        image: busybox:1.36
        command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
"""
    cluster.apply(manifest)
    eventually(lambda: pods(cluster, "app=burst"), timeout=30, what="the first pod")
    cluster.stop(signal.SIGKILL)
    again = start_cluster(cluster.data_dir, cluster.registry_config, cluster.ranges)
    try:
        eventually(
            lambda: (
                len([p for p in pods(again, "app=burst") if p["status"].get("phase") == "Running"])
                == 16
            ),
            timeout=120,
            what="sixteen running pods",
        )
        time.sleep(5)
        names = [p["metadata"]["name"] for p in pods(again, "app=burst")]
        assert len(names) == 16, names
        rs = again.get("rs", "burst")
        assert rs["status"]["replicas"] == 16
        events = json.loads(
            again.kubectl(
                "get", "events", "--field-selector", "involvedObject.name=burst", "-o", "json"
            ).stdout
        )["items"]
        assert not [e for e in events if e["reason"] == "SuccessfulDelete"], "a pod was extra"
        again.kubectl("delete", "rs", "burst", "--timeout=60s", timeout=90)
    finally:
        again.stop()
