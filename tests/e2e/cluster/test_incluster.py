"""In-cluster clients reach the API from a pod, as on a cluster: the service-account files
are mounted where clients look for them, ``kubectl`` inside a pod needs no configuration,
and the official Python client's in-cluster loader connects through the ``kubernetes``
Service with the pod's token, verifying the server against the mounted CA."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.e2e.cluster.conftest import Cluster

pytestmark = pytest.mark.e2e

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def kubectl_binary() -> str:
    found = shutil.which(os.environ.get("KUBELITE_TEST_KUBECTL", "kubectl"))
    assert found is not None
    return os.path.realpath(found)


@pytest.fixture(scope="module")
def client_pod(cluster: Cluster) -> Cluster:
    # RBAC applies to pods as on a cluster: the default account may read, through ``view``
    cluster.kubectl(
        "create", "rolebinding", "default-view", "--clusterrole=view",
        "--serviceaccount=default:default",
    )  # fmt: skip
    cluster.apply(
        textwrap.dedent(
            f"""
            apiVersion: v1
            kind: Pod
            metadata: {{name: client}}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: c
                image: busybox:1.36
                command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
                volumeMounts: [{{name: kubectl, mountPath: /usr/local/bin/kubectl}}]
              volumes:
              - name: kubectl
                hostPath: {{path: {kubectl_binary()}, type: File}}
            """
        )
    )
    cluster.wait("pod/client", "condition=Ready")
    return cluster


def test_the_service_account_files_are_mounted_where_clients_look(client_pod: Cluster) -> None:
    c = client_pod
    assert c.exec("client", "cat", f"{SA_DIR}/namespace").stdout == "default"
    token = c.exec("client", "cat", f"{SA_DIR}/token").stdout
    assert token.count(".") == 2  # a JWT
    ca = c.exec("client", "cat", f"{SA_DIR}/ca.crt").stdout
    assert ca == c.get("cm", "kube-root-ca.crt")["data"]["ca.crt"]
    mounts = c.get("pod", "client")["spec"]["containers"][0]["volumeMounts"]
    assert any(m["mountPath"] == SA_DIR and m["readOnly"] for m in mounts)


def test_kubectl_inside_a_pod_needs_no_configuration(client_pod: Cluster) -> None:
    out = client_pod.exec("client", "kubectl", "get", "pods", "-o", "name").stdout
    assert "pod/client" in out.split()
    who = client_pod.exec(
        "client", "kubectl", "get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP}"
    ).stdout
    assert who == client_pod.get("svc", "kubernetes")["spec"]["clusterIP"]


def test_the_python_clients_in_cluster_loader_works_from_the_pods_network(
    client_pod: Cluster, tmp_path: Path
) -> None:
    """Run on the node, in the pod's network namespace, with the pod's environment and its
    mounted files: what ``config.load_incluster_config()`` reads inside the pod."""
    c = client_pod
    env = dict(
        line.split("=", 1)
        for line in c.exec("client", "env").stdout.splitlines()
        if line.startswith("KUBERNETES_SERVICE_")
    )
    root = _container_root(c)
    script = textwrap.dedent(
        f"""
        from kubernetes import client, config
        from kubernetes.config.incluster_config import InClusterConfigLoader
        InClusterConfigLoader(
            token_filename="{root}{SA_DIR}/token", cert_filename="{root}{SA_DIR}/ca.crt"
        ).load_and_set()
        pods = client.CoreV1Api().list_namespaced_pod("default")
        print(sorted(p.metadata.name for p in pods.items))
        """
    )
    netns = f"/proc/{_container_pid(c)}/ns/net"
    r = subprocess.run(
        ["nsenter", f"--net={netns}", sys.executable, "-c", script],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "'client'" in r.stdout


def _container_pid(c: Cluster) -> int:
    """The host pid of the client pod's container, from the runtime's own listing."""
    uid = c.get("pod", "client")["metadata"]["uid"]
    ps = c.kubelite("runtime", "ps", "--pod-uid", uid).stdout.split()
    shorts = [w for w in ps if len(w) == 13 and all(ch in "0123456789abcdef" for ch in w)]
    listing = subprocess.run(
        ["runc", "--root", str(c.data_dir / "runc"), "list", "-f", "json"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for entry in json.loads(listing) or []:
        if entry["status"] == "running" and any(entry["id"].startswith(s) for s in shorts[1:]):
            return int(entry["pid"])
    raise AssertionError(f"no running container of the client pod in {ps}")


def _container_root(c: Cluster) -> str:
    return f"/proc/{_container_pid(c)}/root"
