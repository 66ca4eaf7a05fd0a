"""What one pass reads besides pods and nodes, each at most once: the namespaces' labels (for
affinity terms with a namespace selector) and, for the default topology spread constraints,
the Services of a pod's namespace and the controller that owns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.errors import KubeliteError
from kubelite.model.objects import JSON
from kubelite.registry.replicasets import REPLICASETS
from kubelite.registry.replicationcontrollers import REPLICATIONCONTROLLERS
from kubelite.registry.resource import Kind
from kubelite.registry.service import Registry
from kubelite.registry.services import SERVICES
from kubelite.registry.statefulsets import STATEFULSETS
from kubelite.scheduler.podinfo import PodInfo
from kubelite.scheduler.topologyspread import default_selector

# the owners whose selectors spread a pod by default, by (apiVersion, kind)
_OWNERS: dict[tuple[str, str], Kind] = {
    ("v1", "ReplicationController"): REPLICATIONCONTROLLERS,
    ("apps/v1", "ReplicaSet"): REPLICASETS,
    ("apps/v1", "StatefulSet"): STATEFULSETS,
}


def _controller_ref(pod: JSON) -> Mapping[str, Any] | None:
    for ref in (pod.get("metadata") or {}).get("ownerReferences") or ():
        if isinstance(ref, Mapping) and ref.get("controller"):
            return ref
    return None


class PassReads:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._services: dict[str, list[JSON]] = {}
        self._owners: dict[tuple[str, str, str], JSON | None] = {}

    async def _services_of(self, namespace: str) -> list[JSON]:
        if namespace not in self._services:
            found, _ = await self._registry.list(SERVICES, namespace)
            self._services[namespace] = list(found)
        return self._services[namespace]

    async def _owner(self, kind: Kind, namespace: str, name: str) -> JSON | None:
        key = (kind.kind, namespace, name)
        if key not in self._owners:
            try:
                self._owners[key] = await self._registry.get(kind, namespace, name)
            except KubeliteError:
                self._owners[key] = None
        return self._owners[key]

    async def default_selector(self, pod: JSON, info: PodInfo) -> JSON | None:
        """The selector of the default spread constraints (None: the pod has its own)."""
        if info.spec.get("topologySpreadConstraints"):
            return None
        services = await self._services_of(info.namespace)
        controller = None
        ref = _controller_ref(pod)
        if ref is not None:
            kind = _OWNERS.get((str(ref.get("apiVersion")), str(ref.get("kind"))))
            if kind is not None:
                owner = await self._owner(kind, info.namespace, str(ref.get("name") or ""))
                if owner is not None:
                    controller = (kind.kind, owner)
        return default_selector(info, services, controller)
