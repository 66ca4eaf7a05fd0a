"""Every manifest in ``examples/cluster/`` (Services and DNS: for ``kubelite up`` and
kubectl), applied with the real kubectl to a real node, does what its comment says."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.cluster.conftest import Cluster

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "cluster"
TESTED = {"wait-for-database.yaml", "ambassador-to-service.yaml"}
TESTED |= {"migration-job.yaml", "cronjob.yaml"}  # in test_jobs.py
TESTED |= {"deployment-with-migration.yaml"}  # in test_workloads.py
TESTED |= {"statefulset-database.yaml"}  # in test_storage.py


def test_every_cluster_example_has_a_test_here() -> None:
    assert {p.name for p in EXAMPLES.glob("*.yaml")} == TESTED


def test_the_app_waits_for_the_database_behind_its_service(cluster: Cluster) -> None:
    text = (EXAMPLES / "wait-for-database.yaml").read_text()
    docs = text.split("\n---\n")
    app = next(d for d in docs if "name: app\n" in d)
    cluster.apply(app)  # the app first: nothing answers on postgres-svc yet
    cluster.wait("pod/app", "jsonpath={.status.initContainerStatuses[0].state.running}")
    time.sleep(4)
    assert cluster.get("pod", "app")["status"]["phase"] == "Pending"
    assert "waiting for postgres-svc" in cluster.logs("app", container="wait-for-db")
    cluster.apply(text)
    cluster.wait("pod/app", "condition=Ready", timeout=120)
    assert cluster.logs("app", container="wait-for-db").splitlines()[-1] == "postgres-svc is up"
    ip = cluster.get("svc", "postgres-svc")["spec"]["clusterIP"]
    assert cluster.logs("app", container="app").strip() == (f"app started, database at {ip}:5432")
    cluster.kubectl("delete", "-f", str(EXAMPLES / "wait-for-database.yaml"), "--wait=false")


def test_deleting_the_app_while_its_init_container_waits_for_the_database_is_quick(
    cluster: Cluster,
) -> None:
    """The waiting init container traps SIGTERM (a shell as PID 1 ignores it otherwise and
    the deletion waits the whole grace period, 30 s): `kubectl delete` returns in seconds."""
    text = (EXAMPLES / "wait-for-database.yaml").read_text()
    app = next(d for d in text.split("\n---\n") if "name: app\n" in d)
    cluster.apply(app.replace("name: app\n", "name: app-deleted-early\n", 1))
    cluster.wait(
        "pod/app-deleted-early", "jsonpath={.status.initContainerStatuses[0].state.running}"
    )
    time.sleep(2)  # the loop is in its sleep
    started = time.monotonic()
    cluster.kubectl("delete", "pod", "app-deleted-early", "--timeout=60s")
    took = time.monotonic() - started
    assert took < 8, f"kubectl delete took {took:.1f} s"


def test_the_ambassador_forwards_the_apps_localhost_to_the_backend_service(
    cluster: Cluster,
) -> None:
    path = EXAMPLES / "ambassador-to-service.yaml"
    cluster.kubectl("apply", "-f", str(path))
    cluster.wait("pod/app-with-ambassador", "condition=Ready", timeout=120)
    deadline = time.monotonic() + 30
    want = "hello from the backend Service, via the ambassador"
    while time.monotonic() < deadline:
        if want in cluster.logs("app-with-ambassador", container="app"):
            break
        time.sleep(1)
    assert want in cluster.logs("app-with-ambassador", container="app")
    cluster.kubectl("delete", "-f", str(path), "--wait=false")
