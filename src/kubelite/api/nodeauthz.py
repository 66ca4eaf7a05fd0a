"""The Node authorizer: what a node's agent (``system:node:<name>`` in ``system:nodes``) may
read and write, decided before RBAC, as ``--authorization-mode=Node,RBAC`` does.

A node reads a secret, config map, persistent volume claim or volume, and asks a token for a
service account, only when a pod bound to it uses that object (upstream keeps a graph of these
edges; kubelite answers the same question from the node's pods, through the store's
``spec.nodeName`` index). Its Node, its pods and its Lease are decided by name and by the
pods' ``spec.nodeName`` (the AuthorizeNodeWithSelectors rules of 1.32: a node reads only its
own Node, lists and watches only pods with ``fieldSelector=spec.nodeName=<itself>``); what it
writes there is then limited by NodeRestriction (``registry.noderestriction``). Anything else
is decided by the ``system:node`` cluster role's rules (events, services, endpoints, CSRs …).

``decide`` answers allow, or no opinion with a reason; RBAC is asked next, and if it refuses
too the reasons are both reported: ``secrets "db" is forbidden: User "system:node:n1" cannot
get resource "secrets" in API group "" in the namespace "default": no relationship found
between node 'n1' and this object``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubelite.api.auth import UserInfo
from kubelite.api.authz import Authorizer
from kubelite.model.objects import Obj
from kubelite.registry.persistentvolumeclaims import PERSISTENTVOLUMECLAIMS
from kubelite.registry.pods import PODS
from kubelite.registry.rbac_defaults import cluster_roles
from kubelite.registry.rbac_policy import Decision, Identity, is_privileged
from kubelite.registry.rbac_rules import Attributes, PolicyRule, rule_allows, rules_of
from kubelite.registry.requestinfo import REQUEST
from kubelite.registry.selectors import parse_field_selector
from kubelite.registry.service import Registry, Selection
from kubelite.store.interface import NotFound

NODES_GROUP = "system:nodes"
NODE_PREFIX = "system:node:"
LEASE_NAMESPACE = "kube-node-lease"
TERMINAL = ("Succeeded", "Failed")


def node_identity(user: Identity) -> str | None:
    """The node a user is ("" for one in system:nodes without a node name), None if none."""
    if NODES_GROUP not in user.groups:
        return None
    return user.name[len(NODE_PREFIX) :] if user.name.startswith(NODE_PREFIX) else ""


def _node_rules() -> tuple[PolicyRule, ...]:
    for role in cluster_roles():
        if role["metadata"]["name"] == "system:node":
            return rules_of(role.get("rules"))
    return ()


NODE_RULES = _node_rules()


@dataclass(frozen=True, slots=True)
class PodReferences:
    """The objects a pod uses, by name, in its namespace."""

    secrets: frozenset[str]
    config_maps: frozenset[str]
    claims: frozenset[str]
    service_account: str


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value or [] if isinstance(v, dict)] if isinstance(value, list) else []


def pod_references(pod: Obj) -> PodReferences:
    """What the graph would link to a pod: secrets and config maps of its volumes (projected
    sources too), environment and image pull secrets; its claims (ephemeral volumes' claims
    are ``<pod>-<volume>``); its service account."""
    spec = pod.get("spec") or {}
    name = str((pod.get("metadata") or {}).get("name") or "")
    secrets = {str(s.get("name") or "") for s in _dicts(spec.get("imagePullSecrets"))}
    maps: set[str] = set()
    claims: set[str] = set()
    for volume in _dicts(spec.get("volumes")):
        if isinstance(volume.get("secret"), dict):
            secrets.add(str(volume["secret"].get("secretName") or ""))
        if isinstance(volume.get("configMap"), dict):
            maps.add(str(volume["configMap"].get("name") or ""))
        if isinstance(volume.get("persistentVolumeClaim"), dict):
            claims.add(str(volume["persistentVolumeClaim"].get("claimName") or ""))
        if isinstance(volume.get("ephemeral"), dict):
            claims.add(f"{name}-{volume.get('name')}")
        for source in _dicts((volume.get("projected") or {}).get("sources")):
            if isinstance(source.get("secret"), dict):
                secrets.add(str(source["secret"].get("name") or ""))
            if isinstance(source.get("configMap"), dict):
                maps.add(str(source["configMap"].get("name") or ""))
        for kind in ("csi", "cephfs", "flexVolume", "iscsi", "rbd", "scaleIO", "storageos"):
            ref = (volume.get(kind) or {}) if isinstance(volume.get(kind), dict) else {}
            for key in ("secretRef", "nodePublishSecretRef"):
                if isinstance(ref.get(key), dict):
                    secrets.add(str(ref[key].get("name") or ""))
    containers = [
        *_dicts(spec.get("initContainers")),
        *_dicts(spec.get("containers")),
        *_dicts(spec.get("ephemeralContainers")),
    ]
    for c in containers:
        for env in _dicts(c.get("env")):
            source = env.get("valueFrom") or {}
            if isinstance(source.get("secretKeyRef"), dict):
                secrets.add(str(source["secretKeyRef"].get("name") or ""))
            if isinstance(source.get("configMapKeyRef"), dict):
                maps.add(str(source["configMapKeyRef"].get("name") or ""))
        for env_from in _dicts(c.get("envFrom")):
            if isinstance(env_from.get("secretRef"), dict):
                secrets.add(str(env_from["secretRef"].get("name") or ""))
            if isinstance(env_from.get("configMapRef"), dict):
                maps.add(str(env_from["configMapRef"].get("name") or ""))
    account = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")
    return PodReferences(
        frozenset(secrets - {""}), frozenset(maps - {""}), frozenset(claims - {""}), account
    )


def related(kind: str, name: str, pods: Iterable[Obj]) -> bool:
    """Whether one of ``pods`` (the node's, in the object's namespace) uses ``name``."""
    for pod in pods:
        refs = pod_references(pod)
        if (
            (kind == "secrets" and name in refs.secrets)
            or (kind == "configmaps" and name in refs.config_maps)
            or (kind == "persistentvolumeclaims" and name in refs.claims)
            or (kind == "serviceaccounts" and name == refs.service_account)
        ):
            return True
    return False


def selects_node(field_selector: str, node: str) -> bool:
    """A ``spec.nodeName=<node>`` requirement among the selector's."""
    try:
        reqs = parse_field_selector(field_selector, PODS.field_getters())
    except Exception:  # an unreadable selector selects nothing here; the list reports it
        return False
    return any(r.field == "spec.nodeName" and not r.negate and r.value == node for r in reqs)


@dataclass(frozen=True, slots=True)
class NodeDecision:
    allowed: bool
    reason: str = ""


ALLOW = NodeDecision(True)


def no_opinion(reason: str = "") -> NodeDecision:
    return NodeDecision(False, reason)


def _unrelated(node: str) -> NodeDecision:
    return no_opinion(f"no relationship found between node '{node}' and this object")


class NodeAuthorizer:
    """The Node authorizer over the registry (for the node's pods)."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    async def decide(
        self, user: Identity, attrs: Attributes, field_selector: str = ""
    ) -> NodeDecision | None:
        """None when the user is not a node (not this authorizer's business)."""
        node = node_identity(user)
        if node is None:
            return None
        if not node:
            return no_opinion(f'unknown node for user "{user.name}"')
        if attrs.resource_request:
            decided = await self._subdivided(node, attrs, field_selector)
            if decided is not None:
                return decided
        if any(rule_allows(attrs, rule) for rule in NODE_RULES):
            return ALLOW
        return no_opinion()

    async def _subdivided(
        self, node: str, attrs: Attributes, field_selector: str
    ) -> NodeDecision | None:
        group, resource, sub, verb = attrs.api_group, attrs.resource, attrs.subresource, attrs.verb
        if group == "":
            if resource in ("secrets", "configmaps"):
                return await self._read_namespaced(node, attrs)
            if resource == "persistentvolumeclaims":
                if sub == "status":
                    if verb not in ("update", "patch"):
                        return no_opinion("can only get/update/patch this type")
                    return await self._related(node, attrs)
                return await self._get(node, attrs)
            if resource == "persistentvolumes":
                return await self._get(node, attrs)
            if resource == "serviceaccounts":
                if verb != "create" or not attrs.name:
                    return no_opinion("can only create tokens for individual service accounts")
                if sub != "token":
                    return no_opinion("can only create token subresource of serviceaccount")
                return await self._related(node, attrs)
            if resource == "nodes":
                return self._node(node, attrs)
            if resource == "pods":
                return await self._pod(node, attrs, field_selector)
        if group == "coordination.k8s.io" and resource == "leases":
            return self._lease(node, attrs)
        return None

    async def _read_namespaced(self, node: str, attrs: Attributes) -> NodeDecision:
        if attrs.verb not in ("get", "list", "watch"):
            return no_opinion("can only read resources of this type")
        if attrs.subresource:
            return no_opinion("cannot read subresource")
        if not attrs.namespace:
            return no_opinion("can only read namespaced object of this type")
        return await self._related(node, attrs)

    async def _get(self, node: str, attrs: Attributes) -> NodeDecision:
        if attrs.verb != "get":
            return no_opinion("can only get individual resources of this type")
        if attrs.subresource:
            return no_opinion("cannot get subresource")
        return await self._related(node, attrs)

    async def _node_pods(self, node: str, namespace: str | None) -> list[Obj]:
        selection = Selection(
            fields=tuple(parse_field_selector(f"spec.nodeName={node}", PODS.field_getters()))
        )
        pods, _ = await self._registry.list(PODS, namespace, selection)
        return [p for p in pods if (p.get("status") or {}).get("phase") not in TERMINAL]

    async def _related(self, node: str, attrs: Attributes) -> NodeDecision:
        if not attrs.name:
            return no_opinion("No Object name found")
        if attrs.resource == "pods":
            try:
                pod = await self._registry.get(PODS, attrs.namespace, attrs.name)
            except NotFound:
                return _unrelated(node)
            return ALLOW if (pod.get("spec") or {}).get("nodeName") == node else _unrelated(node)
        if attrs.resource == "persistentvolumes":
            return await self._volume(node, attrs.name)
        pods = await self._node_pods(node, attrs.namespace)
        return ALLOW if related(attrs.resource, attrs.name, pods) else _unrelated(node)

    async def _volume(self, node: str, name: str) -> NodeDecision:
        """A volume bound to a claim one of the node's pods uses."""
        for pod in await self._node_pods(node, None):
            namespace = str(pod["metadata"].get("namespace") or "")
            for claim_name in pod_references(pod).claims:
                try:
                    claim = await self._registry.get(PERSISTENTVOLUMECLAIMS, namespace, claim_name)
                except NotFound:
                    continue
                if (claim.get("spec") or {}).get("volumeName") == name:
                    return ALLOW
        return _unrelated(node)

    @staticmethod
    def _node(node: str, attrs: Attributes) -> NodeDecision:
        if not attrs.subresource:
            if attrs.verb in ("create", "update", "patch"):
                return ALLOW  # NodeRestriction keeps it to its own Node
            if attrs.verb in ("get", "list", "watch"):
                if attrs.name == node:
                    return ALLOW
                what = f"'{attrs.name}'" if attrs.name else "all nodes"
                return no_opinion(f"node '{node}' cannot read {what}, only its own Node object")
        elif attrs.subresource == "status" and attrs.verb in ("update", "patch"):
            return ALLOW
        return no_opinion()

    async def _pod(self, node: str, attrs: Attributes, field_selector: str) -> NodeDecision:
        sub, verb = attrs.subresource, attrs.verb
        if not sub:
            if verb == "get":
                return await self._get(node, attrs)
            if verb in ("list", "watch"):
                if selects_node(field_selector, node):
                    return ALLOW
                if attrs.name:
                    return await self._related(node, attrs)
                return no_opinion("can only list/watch pods with spec.nodeName field selector")
            if verb in ("create", "delete"):
                return ALLOW  # NodeRestriction: mirror pods, pods bound to it
        elif (sub, verb) in (("status", "update"), ("status", "patch"), ("eviction", "create")):
            return ALLOW  # NodeRestriction: pods bound to it
        return no_opinion()

    @staticmethod
    def _lease(node: str, attrs: Attributes) -> NodeDecision:
        if attrs.verb not in ("get", "create", "update", "patch", "delete"):
            return no_opinion("can only get, create, update, patch, or delete a node lease")
        if attrs.namespace != LEASE_NAMESPACE:
            why = f'can only access leases in the "{LEASE_NAMESPACE}" system namespace'
            return no_opinion(why)
        if attrs.verb != "create" and attrs.name != node:
            why = "can only access node lease with the same name as the requesting node"
            return no_opinion(why)
        return ALLOW


class NodeAndRbacAuthorizer(Authorizer):
    """``--authorization-mode=Node,RBAC``: the Node authorizer first, then RBAC; a refusal by
    both carries both reasons (one a line, as the union authorizer joins them)."""

    def __init__(self, registry: Registry, *, enabled: bool = True) -> None:
        super().__init__(registry, enabled=enabled)
        self.nodes = NodeAuthorizer(registry)

    async def decide(self, user: UserInfo, attrs: Attributes) -> Decision:
        if not self.enabled or is_privileged(user):
            return Decision(True)
        info = REQUEST.get()
        selector = info.field_selector if info is not None else ""
        node = await self.nodes.decide(user, attrs, selector)
        if node is not None and node.allowed:
            return Decision(True)
        rbac = await super().decide(user, attrs)
        if rbac.allowed:
            return rbac
        reasons = [r for r in (node.reason if node is not None else "", rbac.reason) if r]
        return Decision(False, "\n".join(reasons))
