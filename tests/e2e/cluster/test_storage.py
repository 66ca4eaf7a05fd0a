"""Storage and StatefulSets on a real node with the real kubectl: the default local-path class,
a claim provisioned for its first consumer whose data outlives the pod and goes with the claim
under Delete, a static volume kept under Retain, and the StatefulSet database example (stable
names that resolve, claims kept across a pod's deletion, rollout status, kubectl's columns)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.e2e.cluster.conftest import Cluster

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "cluster" / "statefulset-database.yaml"

CLAIM = """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: notes}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 16Mi}}
"""

WRITER = """
apiVersion: v1
kind: Pod
metadata: {name: %(name)s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, 'echo "%(text)s" >> /notes/log; trap "exit 0" TERM; sleep 3600 & wait']
    volumeMounts: [{name: notes, mountPath: /notes}]
  volumes:
  - name: notes
    persistentVolumeClaim: {claimName: notes}
"""


def columns(line: str) -> list[str]:
    return [c.strip() for c in line.split("  ") if c.strip()]


def until(probe: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if probe():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError("condition not met")


def test_the_default_storage_class_is_local_path(cluster: Cluster) -> None:
    lines = cluster.kubectl("get", "sc").stdout.splitlines()
    assert columns(lines[0]) == [
        "NAME",
        "PROVISIONER",
        "RECLAIMPOLICY",
        "VOLUMEBINDINGMODE",
        "ALLOWVOLUMEEXPANSION",
        "AGE",
    ]
    assert columns(lines[1])[:5] == [
        "local-path (default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        "false",
    ]


def test_a_claims_data_outlives_its_pod_and_goes_with_the_claim(cluster: Cluster) -> None:
    cluster.apply(CLAIM)
    time.sleep(1)
    pvc = cluster.kubectl("get", "pvc", "notes").stdout.splitlines()
    assert columns(pvc[0]) == [
        "NAME",
        "STATUS",
        "VOLUME",
        "CAPACITY",
        "ACCESS MODES",
        "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS",
        "AGE",
    ]
    assert columns(pvc[1])[:4] == ["notes", "Pending", "local-path", "<unset>"]
    described = cluster.kubectl("describe", "pvc", "notes").stdout
    assert "waiting for first consumer to be created before binding" in described

    cluster.apply(WRITER % {"name": "writer-1", "text": "first"})
    cluster.wait("pod/writer-1", "condition=Ready", timeout=120)
    claim = cluster.get("pvc", "notes")
    volume = claim["spec"]["volumeName"]
    assert claim["status"]["phase"] == "Bound" and volume == f"pvc-{claim['metadata']['uid']}"
    row = columns(cluster.kubectl("get", "pvc", "notes").stdout.splitlines()[1])
    assert row[:6] == ["notes", "Bound", volume, "16Mi", "RWO", "local-path"]
    pv_lines = cluster.kubectl("get", "pv", volume).stdout.splitlines()
    assert columns(pv_lines[0]) == [
        "NAME",
        "CAPACITY",
        "ACCESS MODES",
        "RECLAIM POLICY",
        "STATUS",
        "CLAIM",
        "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS",
        "REASON",
        "AGE",
    ]
    assert columns(pv_lines[1])[:7] == [
        volume,
        "16Mi",
        "RWO",
        "Delete",
        "Bound",
        "default/notes",
        "local-path",
    ]
    folder = cluster.data_dir / "storage" / f"{volume}_default_notes"
    assert (folder / "log").read_text() == "first\n"

    cluster.kubectl("delete", "pod", "writer-1", "--timeout=60s")
    cluster.apply(WRITER % {"name": "writer-2", "text": "second"})
    cluster.wait("pod/writer-2", "condition=Ready", timeout=120)
    assert cluster.exec("writer-2", "cat", "/notes/log").stdout == "first\nsecond\n"

    cluster.kubectl("delete", "pvc", "notes", "--wait=false")
    time.sleep(1)
    assert cluster.get("pvc", "notes")["metadata"].get("deletionTimestamp")  # still in use
    assert "Terminating" in cluster.kubectl("get", "pvc", "notes").stdout
    cluster.kubectl("delete", "pod", "writer-2", "--timeout=60s")
    until(lambda: cluster.kubectl("get", "pv", volume, check=False).returncode != 0)
    assert cluster.kubectl("get", "pvc", "notes", check=False).returncode != 0
    assert not folder.exists()


def test_a_static_volume_under_retain_is_released_and_kept(
    cluster: Cluster, tmp_path: Path
) -> None:
    folder = tmp_path / "kept"
    folder.mkdir()
    folder.chmod(0o777)
    cluster.apply(f"""
apiVersion: v1
kind: PersistentVolume
metadata: {{name: kept}}
spec:
  capacity: {{storage: 32Mi}}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  hostPath: {{path: {folder}}}
""")
    until(lambda: cluster.get("pv", "kept")["status"]["phase"] == "Available")
    cluster.apply(
        CLAIM.replace("name: notes", "name: manual-claim").replace(
            "accessModes", "storageClassName: manual\n  accessModes"
        )
    )
    until(lambda: cluster.get("pvc", "manual-claim")["status"]["phase"] == "Bound")
    assert cluster.get("pvc", "manual-claim")["spec"]["volumeName"] == "kept"
    cluster.apply(
        WRITER.replace("claimName: notes", "claimName: manual-claim")
        % {"name": "static-writer", "text": "kept"}
    )
    cluster.wait("pod/static-writer", "condition=Ready", timeout=120)
    cluster.kubectl("delete", "pod", "static-writer", "--timeout=60s")
    cluster.kubectl("delete", "pvc", "manual-claim", "--timeout=60s")
    until(lambda: cluster.get("pv", "kept")["status"]["phase"] == "Released")
    assert (folder / "log").read_text() == "kept\n"
    row = columns(cluster.kubectl("get", "pv", "kept").stdout.splitlines()[1])
    assert row[:6] == ["kept", "32Mi", "RWO", "Retain", "Released", "default/manual-claim"]
    cluster.kubectl("delete", "pv", "kept", "--timeout=60s")


def test_the_statefulset_database_keeps_names_and_data(cluster: Cluster) -> None:
    cluster.kubectl("apply", "-f", str(EXAMPLE))
    status = cluster.kubectl(
        "rollout", "status", "statefulset/db", "--timeout=180s", timeout=200
    ).stdout
    assert "partitioned roll out complete: 2 new pods have been updated..." in status
    lines = cluster.kubectl("get", "sts", "db").stdout.splitlines()
    assert columns(lines[0]) == ["NAME", "READY", "AGE"]
    assert columns(lines[1])[:2] == ["db", "2/2"]
    claims = cluster.kubectl("get", "pvc", "-o", "json").stdout
    names = sorted(c["metadata"]["name"] for c in json.loads(claims)["items"])
    assert {"data-db-0", "data-db-1"} <= set(names)

    peer = cluster.exec("db-0", "wget", "-qO-", "http://db-1.db:8080/boots").stdout
    assert peer.strip() == "1"
    fqdn = cluster.exec("db-1", "nslookup", "db-0.db.default.svc.cluster.local").stdout
    assert cluster.get("pod", "db-0")["status"]["podIP"] in fqdn
    assert cluster.exec("db-0", "stat", "-c", "%g", "/var/lib/db/boots").stdout.strip() == "2000"

    uid = cluster.get("pod", "db-0")["metadata"]["uid"]
    cluster.kubectl("delete", "pod", "db-0", "--timeout=60s")
    until(lambda: cluster.get("pod", "db-0")["metadata"]["uid"] != uid, 60)
    cluster.wait("pod/db-0", "condition=Ready", timeout=120)
    assert cluster.exec("db-0", "cat", "/var/lib/db/boots").stdout.strip() == "2"
    assert cluster.exec("db-1", "wget", "-qO-", "http://db-0.db:8080/boots").stdout.strip() == "2"

    both = cluster.kubectl("get", "pv,pvc,sc,sts").stdout
    for kind in (
        "persistentvolume/",
        "persistentvolumeclaim/",
        "storageclass.storage.k8s.io/",
        "statefulset.apps/db",
    ):
        assert kind in both
    cluster.kubectl("delete", "-f", str(EXAMPLE), "--wait=false")


ROLLER = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: roller}
spec:
  serviceName: roller
  replicas: 2
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: roller}}
  template:
    metadata: {labels: {app: roller}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox:1.36
        command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
"""


def test_a_statefulset_scales_rolls_out_and_rolls_back_with_kubectl(cluster: Cluster) -> None:
    cluster.apply(ROLLER)
    cluster.kubectl("rollout", "status", "statefulset/roller", "--timeout=120s", timeout=150)
    cluster.kubectl("scale", "statefulset/roller", "--replicas=3")
    cluster.kubectl("rollout", "status", "statefulset/roller", "--timeout=120s", timeout=150)
    assert columns(cluster.kubectl("get", "sts", "roller").stdout.splitlines()[1])[1] == "3/3"

    cluster.kubectl("set", "image", "statefulset/roller", "c=busybox:latest")
    out = cluster.kubectl(
        "rollout", "status", "statefulset/roller", "--timeout=180s", timeout=200
    ).stdout
    assert "partitioned roll out complete: 3 new pods have been updated..." in out
    images = {cluster.get("pod", f"roller-{i}")["spec"]["containers"][0]["image"] for i in range(3)}
    assert images == {"busybox:latest"}
    history = cluster.kubectl("rollout", "history", "statefulset/roller").stdout
    assert columns(history.splitlines()[1]) == ["REVISION", "CHANGE-CAUSE"]
    assert [columns(line)[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]

    cluster.kubectl("rollout", "undo", "statefulset/roller")
    cluster.kubectl("rollout", "status", "statefulset/roller", "--timeout=180s", timeout=200)
    until(
        lambda: (
            {cluster.get("pod", f"roller-{i}")["spec"]["containers"][0]["image"] for i in range(3)}
            == {"busybox:1.36"}
        ),
        120,
    )
    revisions = cluster.kubectl(
        "get", "controllerrevisions", "-l", "app=roller", "-o", "json"
    ).stdout
    numbers = sorted(r["revision"] for r in json.loads(revisions)["items"])
    assert numbers == [2, 3]  # the first template came back as revision 3
    cluster.kubectl("delete", "statefulset", "roller", "--timeout=120s", timeout=150)
    until(lambda: "roller-" not in cluster.kubectl("get", "pods").stdout, 90)


def test_claims_of_a_statefulset_go_with_it_under_when_deleted_delete(cluster: Cluster) -> None:
    manifest = (
        ROLLER.replace("name: roller", "name: shortlived")
        .replace("app: roller", "app: shortlived")
        .replace("serviceName: roller", "serviceName: shortlived")
    )
    manifest = (
        manifest.replace("  replicas: 2\n", "  replicas: 1\n")
        + """
        volumeMounts: [{name: scratch, mountPath: /scratch}]
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Retain}
  volumeClaimTemplates:
  - metadata: {name: scratch}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 8Mi}}
"""
    )
    cluster.apply(manifest)
    cluster.kubectl("rollout", "status", "statefulset/shortlived", "--timeout=120s", timeout=150)
    claim = cluster.get("pvc", "scratch-shortlived-0")
    owners = claim["metadata"]["ownerReferences"]
    assert [(o["kind"], o["name"]) for o in owners] == [("StatefulSet", "shortlived")]
    volume = claim["spec"]["volumeName"]
    cluster.kubectl("delete", "statefulset", "shortlived", "--timeout=120s", timeout=150)
    until(
        lambda: cluster.kubectl("get", "pvc", "scratch-shortlived-0", check=False).returncode != 0,
        90,
    )
    until(lambda: cluster.kubectl("get", "pv", volume, check=False).returncode != 0, 60)
    assert not list((cluster.data_dir / "storage").glob(f"{volume}_*"))


REFRESHED = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: blue}
---
apiVersion: v1
kind: Pod
metadata: {name: refreshed, labels: {tier: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
    volumeMounts:
    - {name: cfg, mountPath: /etc/app}
    - {name: cfg, mountPath: /etc/mode, subPath: mode}
    - {name: info, mountPath: /etc/info}
  volumes:
  - name: cfg
    configMap: {name: settings}
  - name: info
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
"""


def test_volume_files_follow_the_configmap_and_the_labels_while_the_pod_runs(
    cluster: Cluster,
) -> None:
    """VOL-9: a label change syncs the pod and writes its volumes again at once (an edited
    ConfigMap alone arrives on the next periodic sync, a minute or so later); a subPath mount
    keeps what it was given."""
    cluster.apply(REFRESHED)
    cluster.wait("pod/refreshed", "condition=Ready")

    def cat(path: str) -> str:
        return cluster.exec("refreshed", "cat", path).stdout

    assert (cat("/etc/app/mode"), cat("/etc/info/labels")) == ("blue", 'tier="web"')
    cluster.kubectl("patch", "configmap", "settings", "-p", '{"data":{"mode":"green"}}')
    cluster.kubectl("label", "pod", "refreshed", "track=canary")
    until(lambda: cat("/etc/info/labels") == 'tier="web"\ntrack="canary"', 30)
    assert cat("/etc/app/mode") == "green"
    assert cat("/etc/mode") == "blue"  # the subPath mount
    restarts = cluster.get("pod", "refreshed")["status"]["containerStatuses"][0]["restartCount"]
    assert restarts == 0
    cluster.kubectl("delete", "pod", "refreshed", "--wait=true")
    cluster.kubectl("delete", "configmap", "settings")
