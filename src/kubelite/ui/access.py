"""Who the web view is, what it may read, and reading as it.

A browser session acts as the user ``kubelite:ui`` (group ``system:authenticated``), not as
the cluster admin: what it may do is what RBAC grants that user, and the ClusterRole
``kubelite:ui`` bound to it grants reads only (get, list, watch of pods and their logs,
events, namespaces, nodes, pod lifecycle records, and the web view's own ``/ui/api/*``). Both
objects are created on the first login if they are missing and left alone if they exist, so
an administrator may narrow them (or delete the binding to lock the web view out).

The endpoints under ``/ui/api/`` read objects on the session's behalf; ``Reader`` asks the
same authorizer the API's middleware asks before it reads, so they show nothing the user could
not ``kubectl get``.
"""

from __future__ import annotations

from kubelite.api.auth import UserInfo
from kubelite.api.authz import Authorizer, forbidden_message
from kubelite.api.errors import ApiError
from kubelite.model.objects import Obj
from kubelite.registry.rbac import CLUSTERROLEBINDINGS, CLUSTERROLES
from kubelite.registry.rbac_rules import Attributes, go_quote
from kubelite.registry.resource import Kind
from kubelite.registry.service import Registry
from kubelite.store.interface import AlreadyExists

UI_USER = "kubelite:ui"
ROLE_NAME = "kubelite:ui"
READ = ["get", "list", "watch"]
LABELS = {"app.kubernetes.io/managed-by": "kubelite", "app.kubernetes.io/component": "web-view"}


def cluster_role() -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": ROLE_NAME, "labels": dict(LABELS)},
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["pods", "pods/log", "events", "namespaces", "nodes"],
                "verbs": list(READ),
            },
            {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": list(READ)},
            {"apiGroups": ["kubelite.dev"], "resources": ["podlifecycles"], "verbs": list(READ)},
            {"nonResourceURLs": ["/ui/api/*"], "verbs": ["get"]},
        ],
    }


def cluster_role_binding() -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": ROLE_NAME, "labels": dict(LABELS)},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": ROLE_NAME,
        },
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": UI_USER}],
    }


async def ensure_access(registry: Registry) -> None:
    """Creates the web view's ClusterRole and binding where they are missing."""
    for kind, obj in (
        (CLUSTERROLES, cluster_role()),
        (CLUSTERROLEBINDINGS, cluster_role_binding()),
    ):
        try:
            await registry.create(kind, "", obj)
        except AlreadyExists:
            pass


def get_attributes(kind: Kind, namespace: str, name: str) -> Attributes:
    return Attributes(
        verb="get",
        api_group=kind.group,
        api_version=kind.version,
        resource=kind.plural,
        name=name,
        namespace=namespace if kind.namespaced else "",
    )


def refusal(user: UserInfo, attrs: Attributes, reason: str) -> ApiError:
    """The API server's 403 for a denied get of a named object."""
    message = forbidden_message(user, attrs)
    if reason:
        message = f"{message}: {reason}"
    qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    details = {"name": attrs.name, "kind": attrs.resource}
    if attrs.api_group:
        details["group"] = attrs.api_group
    return ApiError(
        403, "Forbidden", f"{qualified} {go_quote(attrs.name)} is forbidden: {message}", details
    )


class Reader:
    """Gets objects for a user, as the API would let that user get them."""

    def __init__(self, registry: Registry, *, authorize: bool = True) -> None:
        self._registry = registry
        self._authorizer = Authorizer(registry, enabled=authorize)

    async def get(self, user: UserInfo, kind: Kind, namespace: str, name: str) -> Obj:
        """The object; a 403 ``ApiError`` if the user may not get it, the store's NotFound if
        there is none."""
        attrs = get_attributes(kind, namespace, name)
        decision = await self._authorizer.decide(user, attrs)
        if not decision.allowed:
            raise refusal(user, attrs, decision.reason)
        return await self._registry.get(kind, namespace if kind.namespaced else "", name)
