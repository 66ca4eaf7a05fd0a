"""What ``kubectl describe`` shows of the node and of a pod's containers on a real node:
the machine's identity and Go's architecture name, condition times, and each container's
imageID as containerd reports it (the registry's digest, under the name the pod asked for)."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import datetime

import pytest

from kubelite.agent.node import host_info
from tests.e2e.cluster.conftest import Cluster

pytestmark = pytest.mark.e2e

ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)


def field(text: str, name: str) -> str:
    found = re.search(rf"^\s+{re.escape(name)}:\s+(\S*)\s*$", text, re.MULTILINE)
    assert found, f"{name} not in:\n{text}"
    return found.group(1)


def registry_digest(registry: str, repository: str, tag: str) -> str:
    """What the registry says the tag is (Docker-Content-Digest): for a multi-platform image
    the index's digest, which is what containerd keeps as the repo digest."""
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}", method="HEAD",
        headers={"Accept": ACCEPT},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as resp:
        return str(resp.headers["Docker-Content-Digest"])


def test_describe_node_shows_the_machine_and_goes_architecture_name(cluster: Cluster) -> None:
    text = cluster.kubectl("describe", "node", node_name(cluster)).stdout
    host = host_info()
    assert field(text, "Architecture") == host.architecture
    assert host.architecture in {"amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64"}
    with open("/proc/sys/kernel/random/boot_id") as f:
        assert field(text, "Boot ID") == f.read().strip()
    with open("/etc/machine-id") as f:
        assert field(text, "Machine ID") == f.read().strip()
    assert field(text, "System UUID") == host.system_uuid != ""
    assert re.search(r"^Labels:.*kubernetes\.io/arch=" + host.architecture, text, re.S | re.M)


def node_name(cluster: Cluster) -> str:
    return cluster.kubectl("get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").stdout


def test_the_node_conditions_have_a_heartbeat_no_older_than_their_transition(
    cluster: Cluster,
) -> None:
    out = cluster.kubectl("get", "node", node_name(cluster), "-o", "json").stdout
    for cond in json.loads(out)["status"]["conditions"]:
        beat = datetime.fromisoformat(cond["lastHeartbeatTime"].replace("Z", "+00:00"))
        moved = datetime.fromisoformat(cond["lastTransitionTime"].replace("Z", "+00:00"))
        assert beat >= moved, cond


def test_a_containers_image_id_is_the_repo_digest_under_the_name_the_pod_asked_for(
    cluster: Cluster, local_registry: str
) -> None:
    """CS-7: busybox comes through the docker.io mirror (the local registry); its imageID is
    ``docker.io/library/busybox@<the tag's digest at the registry>`` (an index: busybox is a
    multi-platform image), not the config digest; nginx, a single manifest, likewise."""
    cluster.apply(
        """
apiVersion: v1
kind: Pod
metadata: {name: image-ids}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: bb, image: busybox:1.36, command: [sleep, "3600"]}
  - {name: web, image: nginx:1.25.3}
"""
    )
    try:
        cluster.wait("pod/image-ids", "condition=Ready", timeout=120)
        pod = cluster.get("pod", "image-ids")
        statuses = {s["name"]: s for s in pod["status"]["containerStatuses"]}
        assert statuses["bb"]["imageID"] == (
            "docker.io/library/busybox@"
            + registry_digest(local_registry, "library/busybox", "1.36")
        )
        assert statuses["web"]["imageID"] == (
            "docker.io/library/nginx@" + registry_digest(local_registry, "library/nginx", "1.25.3")
        )
    finally:
        cluster.kubectl("delete", "pod", "image-ids", "--wait=false", check=False)
