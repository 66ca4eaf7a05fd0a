"""Machines join a kubelite cluster with bootstrap tokens (each machine a network namespace
with its own agent and data dir): TLS bootstrap through an auto-approved CSR, Nodes Ready with
their own addresses and Leases, the node's certificate reused across restarts; bad tokens and
CA hashes refused; what a node may do limited by the Node authorizer and NodeRestriction; a
pod bound to a joined node runs in that node's runtime."""

from __future__ import annotations

import asyncio
import json
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from kubelite.agent.tlsbootstrap import CertificateManager, CredentialFiles, Join, bootstrap
from kubelite.clock import SystemClock
from kubelite.model.bootstraptoken import parse_token
from kubelite.model.capin import ca_cert_hash
from tests.e2e.multinode.harness import Agent, Cluster, kubelite_argv, wait_for

pytestmark = pytest.mark.e2e


def call(
    cluster: Cluster, method: str, path: str, *, token: str = "", cert: Path | None = None,
    body: Any = None, ctype: str = "application/json",
) -> tuple[int, dict[str, Any]]:  # fmt: skip
    """One request to the API server as a given credential (or none)."""
    ctx = ssl.create_default_context(cafile=str(cluster.control.data_dir / "pki" / "ca.crt"))
    if cert is not None:
        ctx.load_cert_chain(cert)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(cluster.control.url + path, data=data, method=method)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def node_cert(agent: Agent) -> Path:
    return agent.data_dir / "node-pki" / "kubelet-client-current.pem"


def test_machines_join_with_a_token_and_their_nodes_are_ready_at_their_addresses(
    joined: Cluster,
) -> None:
    for agent in joined.agents:
        wait_for(f"node {agent.name} Ready", partial(joined.node_ready, agent.name), 90)
    nodes = {n["metadata"]["name"]: n for n in joined.control.get("nodes")["items"]}
    assert set(nodes) == {"m1", "m2"}
    for agent in joined.agents:
        node = nodes[agent.name]
        addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
        assert addresses["InternalIP"] == agent.machine.address
        labels = node["metadata"]["labels"]
        assert labels["kubernetes.io/hostname"] == agent.name
        assert "node-role.kubernetes.io/control-plane" not in labels
    wide = joined.kubectl("get", "nodes", "-o", "wide").stdout
    for agent in joined.agents:
        row = next(line for line in wide.splitlines() if line.startswith(agent.name + " "))
        assert " Ready " in row and agent.machine.address in row


def test_each_node_got_its_certificate_through_an_approved_csr(joined: Cluster) -> None:
    # each node also asks for its serving certificate (kubelet-serving, test_node_streams)
    csrs = [
        c
        for c in joined.control.get("csr")["items"]
        if c["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"
    ]
    assert len(csrs) == 2
    for csr in csrs:
        assert csr["spec"]["username"].startswith("system:bootstrap:")
        assert "system:bootstrappers" in csr["spec"]["groups"]
        assert csr["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"
        [approved] = [c for c in csr["status"]["conditions"] if c["type"] == "Approved"]
        assert approved["reason"] == "AutoApproved"
        assert approved["message"] == (
            "Auto approving kubelet client certificate after SubjectAccessReview."
        )
        assert csr["status"]["certificate"]
    table = joined.kubectl("get", "csr").stdout
    assert table.splitlines()[0].split() == [
        "NAME", "AGE", "SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION",
    ]  # fmt: skip
    assert (
        sum(
            "kube-apiserver-client-kubelet" in line and "Approved,Issued" in line
            for line in table.splitlines()
        )
        == 2
    )
    ca = x509.load_pem_x509_certificate((joined.control.data_dir / "pki" / "ca.crt").read_bytes())
    for agent in joined.agents:
        path = node_cert(agent)
        assert path.stat().st_mode & 0o777 == 0o600
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        assert cert.subject.rfc4514_string() == f"CN=system:node:{agent.name},O=system:nodes"
        cert.verify_directly_issued_by(ca)


def test_the_nodes_leases_are_renewed(joined: Cluster) -> None:
    def renewed(name: str) -> str:
        lease = joined.control.get("lease", name, "-n", "kube-node-lease")
        assert lease["spec"]["holderIdentity"] == name
        return str(lease["spec"]["renewTime"])

    first = {a.name: renewed(a.name) for a in joined.agents}

    def moved(name: str) -> bool:
        return renewed(name) != first[name]

    for agent in joined.agents:
        wait_for(f"{agent.name}'s lease renewed", partial(moved, agent.name), 30)


def test_a_wrong_or_expired_token_is_refused_with_401(joined: Cluster) -> None:
    status, body = call(joined, "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests",
                        token="abcdef.0123456789abcdef")  # fmt: skip
    assert (status, body["reason"], body["message"]) == (401, "Unauthorized", "Unauthorized")
    _, token, _ = joined.control.token_create()
    status, _ = call(joined, "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests",
                     token=token)  # fmt: skip
    assert status == 200  # a good token: the bootstrapper may read CSRs
    token_id, secret = token.split(".")
    expired = {
        "apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
        "metadata": {"name": f"bootstrap-token-{token_id[::-1]}", "namespace": "kube-system"},
        "stringData": {"token-id": token_id[::-1], "token-secret": secret,
                       "usage-bootstrap-authentication": "true",
                       "expiration": "2020-01-01T00:00:00Z"},
    }  # fmt: skip
    joined.kubectl("apply", "-f", "-", input=json.dumps(expired))
    status, _ = call(joined, "GET", "/apis/certificates.k8s.io/v1/certificatesigningrequests",
                     token=f"{token_id[::-1]}.{secret}")  # fmt: skip
    assert status == 401
    wait_for(
        "the token cleaner to delete the expired token",
        lambda: joined.kubectl("get", "secret", "-n", "kube-system",
                               f"bootstrap-token-{token_id[::-1]}", check=False).returncode != 0,
        30,
    )  # fmt: skip


def test_cluster_info_is_read_anonymously_and_signed_for_each_token(joined: Cluster) -> None:
    status, cm = call(joined, "GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info")
    assert status == 200
    assert f"server: {joined.control.url}" in cm["data"]["kubeconfig"]
    assert any(k.startswith("jws-kubeconfig-") for k in cm["data"])
    status, _ = call(joined, "GET", "/api/v1/namespaces/kube-public/configmaps")
    assert status == 401  # nothing else is anonymous


def test_a_wrong_ca_hash_refuses_to_join(joined: Cluster) -> None:
    agent = joined.add_agent("m3")
    server, token, _ = joined.control.token_create()
    agent.start(server, token, "sha256:" + "0" * 64)
    assert agent.process is not None
    assert agent.process.proc.wait(90) == 1
    log = agent.process.text()
    assert "cluster CA found in cluster-info configmap is invalid: none of the public keys" in log
    assert "are pinned" in log
    assert joined.kubectl("get", "node", "m3", check=False).returncode != 0
    users = [c["spec"]["username"] for c in joined.control.get("csr")["items"]]
    assert f"system:bootstrap:{token.split('.')[0]}" not in users


def test_a_node_cannot_change_another_nodes_status(joined: Cluster) -> None:
    m1 = next(a for a in joined.agents if a.name == "m1")
    patch = {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    status, body = call(joined, "PATCH", "/api/v1/nodes/m2/status", cert=node_cert(m1),
                        body=patch, ctype="application/merge-patch+json")  # fmt: skip
    assert status == 403
    assert (
        body["message"] == 'nodes "m2" is forbidden: node "m1" is not allowed to modify node "m2"'
    )


def test_a_node_reads_only_what_its_pods_use_and_sets_no_restricted_labels(
    joined: Cluster,
) -> None:
    m1 = next(a for a in joined.agents if a.name == "m1")
    joined.kubectl("create", "secret", "generic", "unrelated", "--from-literal=k=v")
    status, body = call(joined, "GET", "/api/v1/namespaces/default/secrets/unrelated",
                        cert=node_cert(m1))  # fmt: skip
    assert status == 403
    assert body["message"] == (
        'secrets "unrelated" is forbidden: User "system:node:m1" cannot get resource "secrets" '
        'in API group "" in the namespace "default": no relationship found between node '
        "'m1' and this object"
    )
    status, body = call(joined, "GET", "/api/v1/nodes/m2", cert=node_cert(m1))
    assert (
        status == 403 and "node 'm1' cannot read 'm2', only its own Node object" in body["message"]
    )
    label = {"metadata": {"labels": {"node-restriction.kubernetes.io/pool": "gpu"}}}
    status, body = call(joined, "PATCH", "/api/v1/nodes/m1", cert=node_cert(m1), body=label,
                        ctype="application/merge-patch+json")  # fmt: skip
    assert status == 403
    assert body["message"] == (
        'nodes "m1" is forbidden: is not allowed to modify labels: '
        "node-restriction.kubernetes.io/pool"
    )


POD = """
apiVersion: v1
kind: Pod
metadata: {name: pinned}
spec:
  nodeName: m2
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: "busybox:1.36", command: [sleep, "3600"]}
"""


def runtime_ps(agent: Agent) -> str:
    argv = kubelite_argv("runtime", agent.data_dir, agent.ranges, agent.registry, "ps")
    return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout


def test_a_pod_bound_to_a_joined_node_runs_in_that_nodes_runtime(joined: Cluster) -> None:
    joined.kubectl("apply", "-f", "-", input=POD)
    joined.kubectl("wait", "pod/pinned", "--for=condition=Ready", "--timeout=120s", timeout=150)
    pod = joined.control.get("pod", "pinned")
    m1, m2 = (next(a for a in joined.agents if a.name == n) for n in ("m1", "m2"))
    assert pod["status"]["hostIP"] == m2.machine.address
    assert "default/pinned" in runtime_ps(m2)
    assert "default/pinned" not in runtime_ps(m1)
    joined.kubectl("delete", "pod", "pinned", "--wait=true", timeout=120)
    assert "default/pinned" not in runtime_ps(m2)


def test_a_restarted_agent_uses_its_certificate_without_joining_again(joined: Cluster) -> None:
    m1 = next(a for a in joined.agents if a.name == "m1")
    before = len(joined.control.get("csr")["items"])
    assert m1.process is not None
    m1.process.stop()
    server, token, ca_hash = joined.control.token_create()
    m1.start(server, token, ca_hash)
    m1.wait_serving()
    assert "using the node's certificate" in m1.process.text()
    time.sleep(2)
    wait_for("m1 Ready again", lambda: joined.node_ready("m1"), 60)
    assert len(joined.control.get("csr")["items"]) == before


def test_the_ca_hash_token_create_prints_is_the_cas(joined: Cluster) -> None:
    _, _, ca_hash = joined.control.token_create()
    ca = x509.load_pem_x509_certificate((joined.control.data_dir / "pki" / "ca.crt").read_bytes())
    assert ca_hash == ca_cert_hash(ca)


def test_a_node_renews_its_certificate_asking_as_itself(joined: Cluster, tmp_path: Path) -> None:
    """The certificate manager's renewal: a CSR made with the node's own certificate is
    approved as selfnodeclient and signed; the TLS context then holds the new one."""
    server, token, ca_hash = joined.control.token_create()
    files = CredentialFiles(tmp_path / "node-pki")
    join = Join(server, parse_token(token) or pytest.fail("token"), (ca_hash,), 60)

    async def bootstrap_and_renew() -> tuple[int, int]:
        clock = SystemClock()
        tls = await bootstrap(join, files, "renewer", clock=clock)
        first = x509.load_pem_x509_certificate(files.client.read_bytes()).serial_number
        manager = CertificateManager(server=server, files=files, node_name="renewer",
                                     tls=tls, clock=clock)  # fmt: skip
        await manager.renew()
        return first, x509.load_pem_x509_certificate(files.client.read_bytes()).serial_number

    first, second = asyncio.run(bootstrap_and_renew())
    assert first != second
    renewal = [c for c in joined.control.get("csr")["items"]
               if c["spec"]["username"] == "system:node:renewer"]  # fmt: skip
    assert len(renewal) == 1
    [approved] = [c for c in renewal[0]["status"]["conditions"] if c["type"] == "Approved"]
    assert approved["message"] == (
        "Auto approving self kubelet client certificate after SubjectAccessReview."
    )
