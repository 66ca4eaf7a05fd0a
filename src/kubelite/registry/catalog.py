"""Every kind the server serves, and lookup by group/version/resource or by name."""

from __future__ import annotations

from kubelite.registry.certificatesigningrequests import CERTIFICATESIGNINGREQUESTS
from kubelite.registry.configmaps import CONFIGMAPS
from kubelite.registry.controllerrevisions import CONTROLLERREVISIONS
from kubelite.registry.cronjobs import CRONJOBS
from kubelite.registry.daemonsets import DAEMONSETS
from kubelite.registry.deployments import DEPLOYMENTS
from kubelite.registry.endpoints import ENDPOINTS
from kubelite.registry.endpointslices import ENDPOINTSLICES
from kubelite.registry.events import EVENTS
from kubelite.registry.events_v1 import EVENTS_V1
from kubelite.registry.jobs import JOBS
from kubelite.registry.leases import LEASES
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.nodes import NODES
from kubelite.registry.persistentvolumeclaims import PERSISTENTVOLUMECLAIMS
from kubelite.registry.persistentvolumes import PERSISTENTVOLUMES
from kubelite.registry.podlifecycles import PODLIFECYCLES
from kubelite.registry.pods import PODS
from kubelite.registry.rbac import RBAC_KINDS
from kubelite.registry.rbac_reviews import REVIEW_KINDS
from kubelite.registry.replicasets import REPLICASETS
from kubelite.registry.replicationcontrollers import REPLICATIONCONTROLLERS
from kubelite.registry.resource import Kind
from kubelite.registry.secrets import SECRETS
from kubelite.registry.serviceaccounts import SERVICEACCOUNTS
from kubelite.registry.services import SERVICES
from kubelite.registry.statefulsets import STATEFULSETS
from kubelite.registry.storageclasses import STORAGECLASSES

ALL_KINDS: list[Kind] = [
    PODS,
    NAMESPACES,
    CONFIGMAPS,
    SECRETS,
    EVENTS,
    NODES,
    SERVICEACCOUNTS,
    LEASES,
    EVENTS_V1,
    SERVICES,
    ENDPOINTS,
    ENDPOINTSLICES,
    *RBAC_KINDS,
    *REVIEW_KINDS,
    JOBS,
    CRONJOBS,
    REPLICATIONCONTROLLERS,
    DEPLOYMENTS,
    REPLICASETS,
    DAEMONSETS,
    PERSISTENTVOLUMES,
    PERSISTENTVOLUMECLAIMS,
    STORAGECLASSES,
    STATEFULSETS,
    CONTROLLERREVISIONS,
    PODLIFECYCLES,
    CERTIFICATESIGNINGREQUESTS,
]

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def find(group: str, version: str, plural: str) -> Kind | None:
    for k in ALL_KINDS:
        if k.group == group and k.version == version and k.plural == plural:
            return k
    return None


def groups() -> dict[str, list[str]]:
    """Non-core API groups and their versions."""
    out: dict[str, list[str]] = {}
    for k in ALL_KINDS:
        if k.group and k.version not in out.setdefault(k.group, []):
            out[k.group].append(k.version)
    return out
