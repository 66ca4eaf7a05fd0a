"""What lets nodes join (kubeadm init's bootstrap-token phase), made by ``kubelite up`` at
start and kept as wanted, as an API client:

* ``kube-public/cluster-info``: a kubeconfig naming this API server and its CA, which a
  joining node reads anonymously (``kubeadm:bootstrap-signer-clusterinfo``: a Role and
  RoleBinding letting ``system:anonymous`` get it) and checks with its token's signature;
* bindings for bootstrap tokens' group (``system:bootstrappers:kubelite:default-node-token``):
  ``system:node-bootstrapper`` (create CSRs) and ``...:nodeclient`` (their auto-approval);
  for ``system:nodes``: ``...:selfnodeclient`` (renewals auto-approved);
* what a node's agent runs besides the kubelet's part, which upstream runs as pods of their
  own with accounts of their own (kube-proxy, CoreDNS, kindnetd): ``kubelite:node-services``
  for ``system:nodes`` (watch EndpointSlices and Namespaces; Services the node may watch
  anyway; list and watch the Nodes, as kindnetd's ClusterRole lets it, for the routes to the
  other nodes' pod ranges and the proxy's node addresses: the Node authorizer leaves a node
  only its own Node) and, in kube-system, write the kube-dns endpoints this node serves.
  Nothing more: a node still writes no other Node and reads no Secret its pods do not use.

Objects are created when missing and brought back when their rules, subjects or data
differ; nothing else of theirs is touched.
"""

from __future__ import annotations

import logging
from typing import Any

from kubelite.client.rest import ApiClient, ApiError, Resource
from kubelite.model import bootstraptoken as bt
from kubelite.model import clusterinfo as ci
from kubelite.model.objects import Obj

log = logging.getLogger(__name__)

RBAC = "rbac.authorization.k8s.io"
ROLES = Resource(RBAC, "v1", "roles", "Role")
ROLE_BINDINGS = Resource(RBAC, "v1", "rolebindings", "RoleBinding")
CLUSTER_ROLES = Resource(RBAC, "v1", "clusterroles", "ClusterRole", namespaced=False)
CLUSTER_ROLE_BINDINGS = Resource(
    RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False
)
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")

CLUSTER_INFO_ROLE = "kubeadm:bootstrap-signer-clusterinfo"
APPROVER = "system:certificates.k8s.io:certificatesigningrequests:"
NODES_GROUP = "system:nodes"
NODE_SERVICES = "kubelite:node-services"


def _group(name: str) -> dict[str, str]:
    return {"apiGroup": RBAC, "kind": "Group", "name": name}


def _binding(kind: str, name: str, role_kind: str, role: str, *subjects: dict[str, str],
             namespace: str = "") -> Obj:  # fmt: skip
    md: dict[str, Any] = {"name": name}
    if namespace:
        md["namespace"] = namespace
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": md,
            "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
            "subjects": list(subjects)}  # fmt: skip


def _role(kind: str, name: str, rules: list[Obj], namespace: str = "") -> Obj:
    md: dict[str, Any] = {"name": name}
    if namespace:
        md["namespace"] = namespace
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": md, "rules": rules}


def _rule(verbs: list[str], resources: list[str], groups: list[str] | None = None,
          names: list[str] | None = None) -> Obj:  # fmt: skip
    rule: Obj = {"apiGroups": groups or [""], "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def rbac_objects() -> list[tuple[Resource, Obj]]:
    """The roles and bindings, in the order they are made."""
    token_group = _group(bt.NODE_TOKEN_GROUP)
    anonymous = {"apiGroup": RBAC, "kind": "User", "name": "system:anonymous"}
    cluster_info = _rule(["get"], ["configmaps"], names=[ci.NAME])
    reads = [_rule(["list", "watch"], ["namespaces"]),
             _rule(["list", "watch"], ["endpointslices"], ["discovery.k8s.io"]),
             _rule(["list", "watch"], ["nodes"])]  # fmt: skip
    dns_write = _rule(["create", "delete", "get", "patch", "update"], ["endpoints"])
    slices_write = _rule(["create", "delete", "get", "patch", "update"], ["endpointslices"],
                         ["discovery.k8s.io"])  # fmt: skip
    crb, cr = "ClusterRoleBinding", "ClusterRole"
    return [
        (ROLES, _role("Role", CLUSTER_INFO_ROLE, [cluster_info], ci.NAMESPACE)),
        (ROLE_BINDINGS, _binding("RoleBinding", CLUSTER_INFO_ROLE, "Role", CLUSTER_INFO_ROLE,
                                 anonymous, namespace=ci.NAMESPACE)),
        (CLUSTER_ROLE_BINDINGS, _binding(crb, "kubelite:kubelet-bootstrap", cr,
                                         "system:node-bootstrapper", token_group)),
        (CLUSTER_ROLE_BINDINGS, _binding(crb, "kubelite:node-autoapprove-bootstrap", cr,
                                         APPROVER + "nodeclient", token_group)),
        (CLUSTER_ROLE_BINDINGS, _binding(crb, "kubelite:node-autoapprove-certificate-rotation",
                                         cr, APPROVER + "selfnodeclient", _group(NODES_GROUP))),
        (CLUSTER_ROLES, _role(cr, NODE_SERVICES, reads)),
        (CLUSTER_ROLE_BINDINGS, _binding(crb, NODE_SERVICES, cr, NODE_SERVICES,
                                         _group(NODES_GROUP))),
        (ROLES, _role("Role", NODE_SERVICES, [dns_write, slices_write], "kube-system")),
        (ROLE_BINDINGS, _binding("RoleBinding", NODE_SERVICES, "Role", NODE_SERVICES,
                                 _group(NODES_GROUP), namespace="kube-system")),
    ]  # fmt: skip


FIELDS = ("rules", "roleRef", "subjects", "data")


def wanted(have: Obj, want: Obj) -> Obj | None:
    """``have`` brought in line with ``want`` (None if it already is). A ConfigMap's other
    keys stay (the bootstrap signer's signatures)."""
    goal = {f: want[f] for f in FIELDS if f in want}
    if "data" in goal:
        goal["data"] = {**(have.get("data") or {}), **goal["data"]}
    if all(have.get(f) == v for f, v in goal.items()):
        return None
    return {**have, **goal}


async def ensure(client: ApiClient, res: Resource, want: Obj) -> None:
    md = want["metadata"]
    namespace = md.get("namespace")
    try:
        have = await client.get(res, namespace, md["name"])
    except ApiError as err:
        if not err.not_found:
            raise
        await client.create(res, namespace, want)
        return
    body = wanted(have, want)
    if body is None:
        return
    if have.get("roleRef") not in (None, want.get("roleRef")):
        await client.delete(res, namespace, md["name"])  # roleRef is immutable
        await client.create(res, namespace, want)
        return
    await client.replace(res, body)


async def ensure_join_setup(client: ApiClient, *, server: str, ca_pem: bytes) -> None:
    """Make (or bring back) cluster-info for ``server`` and the roles and bindings."""
    await ensure(client, CONFIGMAPS, ci.config_map(server, ca_pem))
    for res, obj in rbac_objects():
        await ensure(client, res, obj)
