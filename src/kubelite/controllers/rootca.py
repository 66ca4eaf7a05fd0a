"""The root CA publisher (the controller manager's root-ca-cert-publisher): every namespace has a
ConfigMap ``kube-root-ca.crt`` whose ``ca.crt`` is the cluster CA, so the ``kube-api-access-*``
volume the ServiceAccount admission plugin adds can give pods the CA to verify the API server.

An API client like any controller: two informers (Namespaces, ConfigMaps) and a work queue of
namespace names. A namespace that is added, or updated while Active, is queued; so is the
namespace of a ``kube-root-ca.crt`` that is updated or deleted, so hand edits are repaired and a
deleted one comes back. ``decide`` is the pure decision: create it, put the data and the
description annotation back (other annotations, labels and ``binaryData`` are left as they
are), or nothing. A create refused because the namespace is gone (404) or terminating (403)
is not retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kubelite.client.rest import ApiClient, ApiError, Obj, Resource
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.workqueue import WorkQueue

log = logging.getLogger(__name__)

CONFIGMAP_NAME = "kube-root-ca.crt"
CA_KEY = "ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)

NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")


@dataclass(frozen=True, slots=True)
class Create:
    body: Obj


@dataclass(frozen=True, slots=True)
class Update:
    body: Obj


Action = Create | Update | None


def desired_configmap(namespace: str, ca: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIGMAP_NAME,
            "namespace": namespace,
            "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION},
        },
        "data": {CA_KEY: ca},
    }


def decide(namespace: str, existing: Obj | None, ca: str) -> Action:
    """What the namespace's ``kube-root-ca.crt`` needs: created when missing, its ``data``
    made exactly ``{ca.crt: <CA>}`` and the description annotation set when either is off."""
    if existing is None:
        return Create(desired_configmap(namespace, ca))
    meta: dict[str, Any] = dict(existing.get("metadata") or {})
    annotations = dict(meta.get("annotations") or {})
    if existing.get("data") == {CA_KEY: ca} and annotations.get(DESCRIPTION_ANNOTATION):
        return None
    annotations[DESCRIPTION_ANNOTATION] = DESCRIPTION
    meta["annotations"] = annotations
    return Update({**existing, "metadata": meta, "data": {CA_KEY: ca}})


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _namespace(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


class RootCAPublisher:
    """Keeps ``kube-root-ca.crt`` in every namespace; ``ca`` is the CA certificate (PEM)."""

    def __init__(self, client: ApiClient, *, ca: str, informers: InformerSet | None = None) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self._ca = ca
        self.namespaces = self._informers.get(NAMESPACES)
        self.configmaps = self._informers.get(CONFIGMAPS)
        self.queue: WorkQueue[str] = WorkQueue()
        self.namespaces.add_handler(self._on_namespace)
        self.configmaps.add_handler(self._on_configmap)

    def _on_namespace(self, kind: str, obj: Obj) -> None:
        phase = (obj.get("status") or {}).get("phase")
        if kind == "ADDED" or (kind == "MODIFIED" and phase == "Active"):
            self.queue.add(_name(obj))

    def _on_configmap(self, kind: str, obj: Obj) -> None:
        if kind in ("MODIFIED", "DELETED") and _name(obj) == CONFIGMAP_NAME:
            self.queue.add(_namespace(obj))

    async def run(self) -> None:
        """Publish until cancelled."""
        async with self._informers.running(self.namespaces, self.configmaps):
            await self.queue.run(self.reconcile, name="root CA publisher")

    async def reconcile(self, namespace: str) -> None:
        action = decide(namespace, self.configmaps.get(namespace, CONFIGMAP_NAME), self._ca)
        if isinstance(action, Create):
            try:
                made = await self._client.create(CONFIGMAPS, namespace, action.body)
            except ApiError as err:
                if err.status in (403, 404):  # namespace gone or terminating: nothing to do
                    return
                raise
            self.configmaps.assume(made)
        elif isinstance(action, Update):
            self.configmaps.assume(await self._client.replace(CONFIGMAPS, action.body))
