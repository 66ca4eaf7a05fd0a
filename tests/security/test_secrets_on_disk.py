"""A Secret on the node, probed as another local user would (issue 11, item 1).

A pod takes a Secret three ways (an env value from ``secretKeyRef``, a secret volume, and its
service-account token in the projected volume); then, as ``nobody``, the whole data directory
is searched for the value: nothing may be readable. As root, every file that does hold it must
be root-only, or lie on a tmpfs (secret and projected volumes, as the kubelet keeps them).
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
import subprocess
from pathlib import Path

import pytest

from tests.e2e.cluster.conftest import Cluster

pytestmark = pytest.mark.e2e

VALUE = f"hunter2-{secrets.token_hex(8)}"
MANIFEST = f"""
apiVersion: v1
kind: Secret
metadata: {{name: db}}
stringData: {{password: {VALUE}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: app}}
spec:
  securityContext: {{runAsUser: 1000}}
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox:1.36
    command: [sleep, "3600"]
    env:
    - name: PASSWORD
      valueFrom: {{secretKeyRef: {{name: db, key: password}}}}
    volumeMounts:
    - {{name: db, mountPath: /etc/db}}
  volumes:
  - name: db
    secret: {{secretName: db}}
"""


def fs_type(path: Path) -> str:
    """The type of the file system ``path`` lies on (the longest mount point above it)."""
    target, best, kind = os.path.realpath(path), "", ""
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            point = head.split(" ")[4]
            if (target == point or target.startswith(point.rstrip("/") + "/")) and len(
                point
            ) >= len(best):
                best, kind = point, tail.split(" ", 1)[0]
    return kind


def holding(root: Path, needles: list[bytes]) -> list[Path]:
    """Every regular file below ``root`` (not crossing into container root filesystems'
    image layers) whose bytes contain one of ``needles``."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("rootfs", "layers", "blobs")]
        for name in filenames:
            path = Path(dirpath) / name
            try:
                if not stat.S_ISREG(path.lstat().st_mode):
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if any(n in data for n in needles):
                found.append(path)
    return found


@pytest.fixture(scope="module")
def running(node: Cluster) -> Cluster:
    node.apply(MANIFEST)
    node.wait("pod/app", "condition=Ready")
    return node


def test_the_pod_really_has_the_secret(running: Cluster) -> None:
    assert (
        running.exec("app", "sh", "-c", "cat /etc/db/password; echo; echo $PASSWORD").stdout
        == f"{VALUE}\n{VALUE}\n"
    )


def test_no_file_under_the_data_dir_gives_the_secret_to_another_user(running: Cluster) -> None:
    needles = [VALUE, base64.b64encode(VALUE.encode()).decode()]
    for needle in needles:
        r = subprocess.run(
            ["runuser", "-u", "nobody", "--", "grep", "-rl", "--", needle, str(running.data_dir)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert r.stdout == "", f"nobody can read {needle!r} in:\n{r.stdout}"
    assert stat.S_IMODE(running.data_dir.stat().st_mode) == 0o700


def test_every_file_holding_the_secret_is_root_only_or_in_memory(running: Cluster) -> None:
    needles = [VALUE.encode(), base64.b64encode(VALUE.encode())]
    found = holding(running.data_dir, needles)
    names = {p.name for p in found}
    # where it must be: the store, the container's spec (its env) and the secret volume
    assert "kubelite.db" in names or "kubelite.db-wal" in names, found
    assert "config.json" in names and "password" in names, found
    for path in found:
        mode = stat.S_IMODE(path.stat().st_mode)
        if fs_type(path) == "tmpfs":
            continue  # a secret volume's file keeps its defaultMode, on its tmpfs
        assert mode & 0o077 == 0, f"{path} is {mode:o} on {fs_type(path)}"


def test_the_secret_and_token_volumes_are_on_tmpfs(running: Cluster) -> None:
    uid = running.get("pod", "app")["metadata"]["uid"]
    volumes = running.data_dir / "pods" / uid / "volumes"
    names = sorted(p.name for p in volumes.iterdir())
    assert "db" in names and any(n.startswith("kube-api-access-") for n in names)
    for name in names:
        assert fs_type(volumes / name) == "tmpfs", name
    token = next(volumes.glob("kube-api-access-*/..data/token"))
    # every container runs as 1000 (the kubelet's FsUser): the token is 0600 and 1000's
    st = token.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o600, 1000)
    assert running.exec("app", "sh", "-c", "wc -c < /var/run/secrets/kubernetes.io/"
                        "serviceaccount/token").stdout.strip() != "0"  # fmt: skip
