"""The real kubectl against ``kubelite up --no-agent``: ``kubectl create token`` gives a JWT
the server accepts as the service account (and refuses when tampered with), pods get the
ServiceAccount admission plugin's volume and mounts, and new namespaces get
``kube-root-ca.crt``."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.config import incluster_config

from tests.e2e.api.conftest import Server

pytestmark = pytest.mark.e2e

POD = """apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  initContainers: [{name: setup, image: busybox:1.36}]
  containers: [{name: app, image: busybox:1.36}]
"""


def ok(server: Server, *args: str, input: str | None = None) -> str:
    return server.kubectl(*args, input=input, check=True).stdout


@pytest.fixture(scope="module", autouse=True)
def default_account_may_read(server: Server) -> None:
    """RBAC applies: these tests are about what a token authenticates as, so the account it
    names may read in its namespace (``view``), as a cluster's users would grant it."""
    ok(server, "create", "rolebinding", "default-view", "--clusterrole=view",
       "--serviceaccount=default:default")  # fmt: skip


def claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))  # type: ignore[no-any-return]


def token_kubeconfig(server: Server, token: str, name: str) -> Path:
    """The server's kubeconfig with the admin's client certificate replaced by ``token`` (a
    certificate would authenticate the request whatever the token says)."""
    config = yaml.safe_load(server.kubeconfig.read_text())
    config["users"] = [{"name": "sa", "user": {"token": token}}]
    for ctx in config["contexts"]:
        ctx["context"]["user"] = "sa"
    path = server.data_dir / name
    path.write_text(yaml.safe_dump(config))
    return path


def with_config(server: Server, config: Path, *args: str) -> Any:
    return server.kubectl("--kubeconfig", str(config), *args)


def test_create_token_gives_a_jwt_the_server_accepts_and_a_tampered_one_is_401(
    server: Server,
) -> None:
    token = ok(server, "create", "token", "default").strip()
    got = claims(token)
    assert got["sub"] == "system:serviceaccount:default:default"
    assert got["aud"] == ["https://kubernetes.default.svc.cluster.local"]
    assert got["exp"] - got["iat"] == 3600
    good = with_config(server, token_kubeconfig(server, token, "sa.kubeconfig"), "get", "pods")
    assert good.returncode == 0, good.stderr
    head, body, sig = token.split(".")
    forged = claims(token) | {"sub": "system:serviceaccount:kube-system:default"}
    body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    bad = with_config(
        server, token_kubeconfig(server, f"{head}.{body}.{sig}", "bad.kubeconfig"), "get", "pods"
    )
    assert bad.returncode != 0
    assert "error: You must be logged in to the server (Unauthorized)" in bad.stderr


def test_create_token_options_and_refusals_read_as_the_api_servers(server: Server) -> None:
    token = ok(server, "create", "token", "default", "--audience=vault", "--duration=20m").strip()
    got = claims(token)
    assert got["aud"] == ["vault"] and got["exp"] - got["iat"] == 1200
    r = server.kubectl("create", "token", "ghost")
    assert r.stderr.strip() == 'error: failed to create token: serviceaccounts "ghost" not found'
    r = server.kubectl("create", "token", "default", "--duration=5m")
    assert r.stderr.strip() == (
        'error: failed to create token: TokenRequest.authentication.k8s.io "" is invalid: '
        "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than "
        "10 minutes"
    )


def test_a_token_bound_to_a_pod_names_it(server: Server) -> None:
    ok(server, "apply", "-f", "-", input=POD.replace("client", "bound"))
    uid = ok(server, "get", "pod", "bound", "-o", "jsonpath={.metadata.uid}")
    token = ok(
        server, "create", "token", "default", "--bound-object-kind=Pod",
        "--bound-object-name=bound", f"--bound-object-uid={uid}",
    ).strip()  # fmt: skip
    assert claims(token)["kubernetes.io"]["pod"] == {"name": "bound", "uid": uid}
    config = token_kubeconfig(server, token, "bound.kubeconfig")
    assert with_config(server, config, "get", "pods").returncode == 0
    ok(server, "delete", "pod", "bound", "--wait=false")
    deadline = time.monotonic() + 15  # the server remembers a good token for 10 s
    while with_config(server, config, "get", "pods").returncode == 0:
        assert time.monotonic() < deadline, "the deleted pod's token still works"
        time.sleep(0.5)


def test_a_pod_shows_the_injected_volume_and_mounts(server: Server) -> None:
    ok(server, "apply", "-f", "-", input=POD)
    pod = yaml.safe_load(ok(server, "get", "pod", "client", "-o", "yaml"))
    spec = pod["spec"]
    (volume,) = spec["volumes"]
    name = volume["name"]
    assert name.startswith("kube-api-access-") and len(name) == len("kube-api-access-") + 5
    assert volume["projected"] == {
        "defaultMode": 420,
        "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt",
                           "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
        ],
    }  # fmt: skip
    mount = {"name": name, "readOnly": True,
             "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}  # fmt: skip
    assert spec["initContainers"][0]["volumeMounts"] == [mount]
    assert spec["containers"][0]["volumeMounts"] == [mount]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("default", "default")


def test_a_pod_of_a_missing_account_is_forbidden(server: Server) -> None:
    r = server.kubectl(
        "run", "lost", "--image=busybox:1.36", "--overrides",
        '{"spec": {"serviceAccountName": "ghost"}}',
    )  # fmt: skip
    assert r.returncode != 0
    assert (
        'Error from server (Forbidden): pods "lost" is forbidden: error looking up service '
        'account default/ghost: serviceaccount "ghost" not found'
    ) in r.stderr


def test_the_python_clients_in_cluster_loader_reaches_the_server_with_a_token(
    server: Server,
) -> None:
    """What ``config.load_incluster_config()`` does in a pod, with the files it reads written
    here: the token, the cluster CA, and the kubernetes Service address in the environment."""
    token = ok(server, "create", "token", "default").strip()
    (server.data_dir / "sa-token").write_text(token)
    loader = incluster_config.InClusterConfigLoader(
        token_filename=str(server.data_dir / "sa-token"),
        cert_filename=str(server.data_dir / "pki" / "ca.crt"),
        environ={"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                 "KUBERNETES_SERVICE_PORT": str(server.port)},
    )  # fmt: skip
    configuration = client.Configuration()
    loader.load_and_set(configuration)
    with client.ApiClient(configuration) as api:
        pods = client.CoreV1Api(api).list_namespaced_pod("default")
    assert pods.kind == "PodList"


def test_a_new_namespace_gets_the_root_ca_configmap(server: Server) -> None:
    ok(server, "create", "namespace", "ca-check")
    ca = (server.data_dir / "pki" / "ca.crt").read_text()
    deadline = time.monotonic() + 15
    while True:
        r = server.kubectl("get", "cm", "kube-root-ca.crt", "-n", "ca-check", "-o", "json")
        if r.returncode == 0:
            break
        assert time.monotonic() < deadline, r.stderr
        time.sleep(0.2)
    cm = json.loads(r.stdout)
    assert cm["data"] == {"ca.crt": ca}
    assert "kubernetes.io/description" in cm["metadata"]["annotations"]
