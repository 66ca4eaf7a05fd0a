"""The NodeRestriction admission plugin: what a node (a user ``system:node:<name>`` in
``system:nodes``) may write, beyond what the node authorizer (``api.nodeauthz``) lets through.

* its own Node only (created without ``node-restriction.kubernetes.io/`` labels or other
  ``kubernetes.io``/``k8s.io`` labels than the kubelet's own, updated without changing its
  taints or such labels);
* pods: only mirror pods bound to itself may be created; only pods bound to itself deleted
  (or evicted) or have their status updated (not their labels through it); nothing else;
* its own Lease in ``kube-node-lease``.

The kinds' hooks call ``check_create``/``check_update``/``check_delete`` with the object(s);
the requester is the current request's (``requestinfo``): writes by anyone else, or by
kubelite itself, pass untouched. Refusals are the plugin's ``Forbidden`` texts, e.g.
``nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"``.
"""

from __future__ import annotations

from typing import Any

from kubelite.model.objects import Obj
from kubelite.registry.errors import Forbidden
from kubelite.registry.requestinfo import RequestUser, current_user

NODES_GROUP = "system:nodes"
NODE_PREFIX = "system:node:"
LEASE_NAMESPACE = "kube-node-lease"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
RESTRICTED_LABEL_DOMAIN = "node-restriction.kubernetes.io"
# k8s.io/kubelet's IsKubeletLabel: the labels a kubelet may set on its own Node.
KUBELET_LABELS = frozenset({
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
    "kubernetes.io/os",
    "kubernetes.io/arch",
})  # fmt: skip
KUBELET_LABEL_DOMAINS = ("kubelet.kubernetes.io", "node.kubernetes.io")


def node_name_of(user: RequestUser | None) -> str | None:
    """The node a user is (NodeIdentity), "" for a node user without a name, None for others."""
    if user is None or NODES_GROUP not in user.groups:
        return None
    if not user.name.startswith(NODE_PREFIX):
        return None
    return user.name[len(NODE_PREFIX) :]


def _domain(key: str) -> str:
    head, sep, _ = key.partition("/")
    return head if sep else ""


def _in_domain(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith("." + parent)


def is_kubelet_label(key: str) -> bool:
    if key in KUBELET_LABELS:
        return True
    return any(_in_domain(_domain(key), d) for d in KUBELET_LABEL_DOMAINS)


def forbidden_labels(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """The changed label keys a node may not set: in the node-restriction domain, or another
    ``kubernetes.io``/``k8s.io`` label that is not the kubelet's. Sorted, as Go's sets."""
    changed = {k for k in {*new, *old} if new.get(k) != old.get(k) or (k in new) != (k in old)}
    bad = set()
    for key in changed:
        domain = _domain(key)
        if _in_domain(domain, RESTRICTED_LABEL_DOMAIN):
            bad.add(key)
        kubernetes = _in_domain(domain, "kubernetes.io") or _in_domain(domain, "k8s.io")
        if kubernetes and not is_kubelet_label(key):
            bad.add(key)
    return sorted(bad)


def _labels(obj: Obj) -> dict[str, Any]:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels if isinstance(labels, dict) else {}


def _taints(obj: Obj) -> Any:
    return (obj.get("spec") or {}).get("taints") or []


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _refuse(resource: str, name: str, why: str) -> Forbidden:
    subject = f'{resource} "{name}"' if name else resource
    return Forbidden(resource, name, f"{subject} is forbidden: {why}")


def _node() -> str | None:
    node = node_name_of(current_user())
    if node == "":
        user = current_user()
        assert user is not None
        raise _refuse("", "", f"could not determine node from user {user.name!r}")
    return node


# -- nodes ------------------------------------------------------------------------------------


def _node_name_matches(node: str, requested: str) -> None:
    if requested != node:
        why = f'node "{node}" is not allowed to modify node "{requested}"'
        raise _refuse("nodes", requested, why)


def check_node_create(obj: Obj) -> None:
    node = _node()
    if node is None:
        return
    _node_name_matches(node, _name(obj))
    if (obj.get("spec") or {}).get("configSource") is not None:
        why = f'node "{node}" is not allowed to create pods with a non-nil configSource'
        raise _refuse("nodes", node, why)
    bad = forbidden_labels(_labels(obj), {})
    if bad:
        why = f'node "{node}" is not allowed to set the following labels: {", ".join(bad)}'
        raise _refuse("nodes", node, why)


def check_node_update(new: Obj, old: Obj) -> None:
    node = _node()
    if node is None:
        return
    _node_name_matches(node, _name(old))
    source = (new.get("spec") or {}).get("configSource")
    if source is not None and source != (old.get("spec") or {}).get("configSource"):
        why = f'node "{node}" is not allowed to update configSource to a new non-nil configSource'
        raise _refuse("nodes", node, why)
    if _taints(new) != _taints(old):
        raise _refuse("nodes", node, f'node "{node}" is not allowed to modify taints')
    bad = forbidden_labels(_labels(new), _labels(old))
    if bad:
        raise _refuse("nodes", node, f"is not allowed to modify labels: {', '.join(bad)}")


def check_node_delete(obj: Obj) -> None:
    node = _node()
    if node is not None:
        _node_name_matches(node, _name(obj))


# -- pods -------------------------------------------------------------------------------------


def _pod_node(obj: Obj) -> str:
    return str((obj.get("spec") or {}).get("nodeName") or "")


def check_pod_create(obj: Obj) -> None:
    """Only mirror pods, bound to the node, owned by it alone, referencing nothing else."""
    node = _node()
    if node is None:
        return
    name = _name(obj)
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    if MIRROR_ANNOTATION not in annotations:
        why = (
            f'pod does not have "{MIRROR_ANNOTATION}" annotation, node "{node}" can only '
            "create mirror pods"
        )
        raise _refuse("pods", name, why)
    if _pod_node(obj) != node:
        why = f'node "{node}" can only create pods with spec.nodeName set to itself'
        raise _refuse("pods", name, why)
    owners = (obj.get("metadata") or {}).get("ownerReferences") or []
    if len(owners) != 1:
        single = "a single owner reference" if owners else "an owner reference"
        why = f'node "{node}" can only create pods with {single} set to itself'
        raise _refuse("pods", name, why)
    owner = owners[0] if isinstance(owners[0], dict) else {}
    if (owner.get("apiVersion"), owner.get("kind"), owner.get("name")) != ("v1", "Node", node):
        why = f'node "{node}" can only create pods with an owner reference set to itself'
        raise _refuse("pods", name, why)
    if owner.get("controller") is not True:
        why = f'node "{node}" can only create pods with a controller owner reference set to itself'
        raise _refuse("pods", name, why)
    if owner.get("blockOwnerDeletion") is True:
        why = f'node "{node}" must not set blockOwnerDeletion on an owner reference'
        raise _refuse("pods", name, why)
    spec = obj.get("spec") or {}
    if spec.get("serviceAccountName"):
        why = f'node "{node}" can not create pods that reference a service account'
        raise _refuse("pods", name, why)
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict) and "persistentVolumeClaim" in volume:
            why = f'node "{node}" can not create pods that reference persistentvolumeclaims'
            raise _refuse("pods", name, why)


def check_pod_update(new: Obj, old: Obj, subresource: str) -> None:
    node = _node()
    if node is None:
        return
    name = _name(old)
    if subresource == "status":
        if _pod_node(old) != node:
            why = (
                f'node "{node}" can only update pod status for pods with spec.nodeName set '
                "to itself"
            )
            raise _refuse("pods", name, why)
        if _labels(new) != _labels(old):
            raise _refuse("pods", name, f'node "{node}" cannot update labels through pod status')
        return
    if subresource:
        why = (
            f"unexpected pod subresource \"{subresource}\", only 'status' and 'eviction' "
            "are allowed"
        )
        raise _refuse("pods", name, why)
    why = f'unexpected operation "UPDATE", node "{node}" can only create and delete mirror pods'
    raise _refuse("pods", name, why)


def check_pod_delete(obj: Obj) -> None:
    """A delete, or an eviction (which deletes): only pods bound to the node."""
    node = _node()
    if node is not None and _pod_node(obj) != node:
        why = f'node "{node}" can only delete pods with spec.nodeName set to itself'
        raise _refuse("pods", _name(obj), why)


# -- leases -----------------------------------------------------------------------------------

LEASES_RESOURCE = "leases.coordination.k8s.io"


def check_lease(obj: Obj) -> None:
    """Create, update or delete: the node's own Lease in kube-node-lease."""
    node = _node()
    if node is None:
        return
    md = obj.get("metadata") or {}
    name = _name(obj)
    if md.get("namespace") != LEASE_NAMESPACE:
        why = f'can only access leases in the "{LEASE_NAMESPACE}" system namespace'
        raise _refuse(LEASES_RESOURCE, name, why)
    if name != node:
        why = "can only access node lease with the same name as the requesting node"
        raise _refuse(LEASES_RESOURCE, name, why)
