"""The Node authorizer: a node reads what its pods use, its own Node and Lease, lists and
watches only its pods; everything else falls to the system:node rules, then to RBAC, and a
refusal carries the node authorizer's reason in the API server's 403 text."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.auth import UserInfo
from kubelite.api.authz import forbidden_message
from kubelite.api.nodeauthz import NodeAndRbacAuthorizer, NodeAuthorizer, pod_references
from kubelite.clock import ManualClock
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.persistentvolumeclaims import PERSISTENTVOLUMECLAIMS
from kubelite.registry.pods import PODS, bind
from kubelite.registry.rbac_rules import Attributes
from kubelite.registry.requestinfo import REQUEST, RequestInfo, RequestUser
from kubelite.registry.service import Registry
from kubelite.store.memory import MemoryStore

N1 = UserInfo("system:node:n1", groups=("system:nodes", "system:authenticated"))


def a(verb: str, resource: str, name: str = "", namespace: str = "", **kw: Any) -> Attributes:
    return Attributes(verb=verb, resource=resource, name=name, namespace=namespace, **kw)


async def make_pod(reg: Registry, name: str, node: str, **spec: Any) -> None:
    body = {"metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36", **spec.pop("c", {})}],
                     **spec}}  # fmt: skip
    await reg.create(PODS, "default", body)
    await bind(reg, "default", name, node)


@pytest.fixture
async def reg() -> Registry:
    r = Registry(store=MemoryStore(), clock=ManualClock(1000.0), kinds=ALL_KINDS)
    await bootstrap(r)
    volumes = [
        {"name": "s", "secret": {"secretName": "db"}},
        {"name": "d", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "p", "projected": {"sources": [{"configMap": {"name": "kube-root-ca.crt"}}]}},
    ]
    env = [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "x"}}}]
    await make_pod(r, "mine", "n1", volumes=volumes, c={"env": env})
    await make_pod(r, "theirs", "n2", volumes=[{"name": "s", "secret": {"secretName": "other"}}])
    await r.create(PERSISTENTVOLUMECLAIMS, "default", {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "pv-1",
                 "resources": {"requests": {"storage": "1Gi"}}},
    })  # fmt: skip
    return r


@pytest.mark.parametrize(
    ("case", "attrs", "allowed", "reason"),
    [
        ("a secret its pod mounts", a("get", "secrets", "db", "default"), True, ""),
        ("a secret only another node's pod mounts", a("get", "secrets", "other", "default"),
         False, "no relationship found between node 'n1' and this object"),
        ("a config map its pod reads into env", a("get", "configmaps", "settings", "default"),
         True, ""),
        ("a config map of a projected volume", a("watch", "configmaps", "kube-root-ca.crt",
         "default"), True, ""),
        ("writing a secret", a("update", "secrets", "db", "default"), False,
         "can only read resources of this type"),
        ("listing all secrets", a("list", "secrets", namespace="default"), False,
         "No Object name found"),
        ("its pod's claim", a("get", "persistentvolumeclaims", "data", "default"), True, ""),
        ("the volume bound to that claim", a("get", "persistentvolumes", "pv-1"), True, ""),
        ("another volume", a("get", "persistentvolumes", "pv-2"), False,
         "no relationship found between node 'n1' and this object"),
        ("a token for its pod's service account",
         a("create", "serviceaccounts", "default", "default", subresource="token"), True, ""),
        ("its own Node", a("get", "nodes", "n1"), True, ""),
        ("another Node", a("get", "nodes", "n2"), False,
         "node 'n1' cannot read 'n2', only its own Node object"),
        ("every Node", a("list", "nodes"), False,
         "node 'n1' cannot read all nodes, only its own Node object"),
        ("another Node's status", a("patch", "nodes", "n2", subresource="status"), True, ""),
        ("its own Lease", a("update", "leases", "n1", "kube-node-lease",
         api_group="coordination.k8s.io"), True, ""),
        ("another node's Lease", a("update", "leases", "n2", "kube-node-lease",
         api_group="coordination.k8s.io"), False,
         "can only access node lease with the same name as the requesting node"),
        ("its pod", a("get", "pods", "mine", "default"), True, ""),
        ("another node's pod", a("get", "pods", "theirs", "default"), False,
         "no relationship found between node 'n1' and this object"),
        ("all pods", a("list", "pods"), False,
         "can only list/watch pods with spec.nodeName field selector"),
        ("events", a("create", "events", namespace="default"), True, ""),
        ("services", a("watch", "services"), True, ""),
        ("deployments", a("list", "deployments", api_group="apps"), False, ""),
    ],
)  # fmt: skip
async def test_what_a_node_may_do(
    reg: Registry, case: str, attrs: Attributes, allowed: bool, reason: str
) -> None:
    decision = await NodeAuthorizer(reg).decide(N1, attrs)
    assert decision is not None
    assert (decision.allowed, decision.reason) == (allowed, reason)


async def test_a_node_watches_its_pods_by_field_selector(reg: Registry) -> None:
    authz = NodeAuthorizer(reg)
    mine = await authz.decide(N1, a("watch", "pods"), "spec.nodeName=n1")
    theirs = await authz.decide(N1, a("watch", "pods"), "spec.nodeName=n2")
    assert mine is not None and mine.allowed
    assert theirs is not None and not theirs.allowed


async def test_users_other_than_nodes_are_not_its_business(reg: Registry) -> None:
    alice = UserInfo("alice", groups=("system:authenticated",))
    assert await NodeAuthorizer(reg).decide(alice, a("get", "secrets", "db", "default")) is None


async def test_a_refusal_by_both_authorizers_reads_as_the_api_servers(reg: Registry) -> None:
    token = REQUEST.set(RequestInfo(RequestUser(N1.name, groups=N1.groups), 0.0))
    try:
        attrs = a("get", "secrets", "other", "default")
        decision = await NodeAndRbacAuthorizer(reg).decide(N1, attrs)
    finally:
        REQUEST.reset(token)
    assert not decision.allowed
    assert f"{forbidden_message(N1, attrs)}: {decision.reason}" == (
        'User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace '
        "\"default\": no relationship found between node 'n1' and this object"
    )


def test_a_pods_references() -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {
            "serviceAccountName": "robot",
            "imagePullSecrets": [{"name": "pull"}],
            "volumes": [{"name": "e", "ephemeral": {}},
                        {"name": "c", "csi": {"nodePublishSecretRef": {"name": "csi"}}}],
            "initContainers": [{"envFrom": [{"secretRef": {"name": "env"},
                                             "configMapRef": {"name": "cm"}}]}],
        },
    }  # fmt: skip
    refs = pod_references(pod)
    assert refs.secrets == {"pull", "csi", "env"}
    assert refs.config_maps == {"cm"}
    assert refs.claims == {"p-e"}
    assert refs.service_account == "robot"
