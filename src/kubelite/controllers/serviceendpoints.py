"""The Endpoints and EndpointSlice controllers, as one loop over Services: for each Service
with a selector, keep its Endpoints and its EndpointSlices equal to what its pods say
(``endpoints.desired_endpoints``, ``endpointslices.desired_changes``).

It is an API client like any controller manager: four informers (Services, Pods, Endpoints,
EndpointSlices) and a work queue of Service keys. A pod's change queues every Service of its
namespace; a change to an Endpoints or a managed slice queues its Service, so hand edits are
repaired. A deleted Service's Endpoints and managed slices are deleted.
"""

from __future__ import annotations

import logging

from kubelite.client.rest import (
    ENDPOINT_SLICES,
    ENDPOINTS,
    PODS,
    SERVICES,
    ApiClient,
    ApiError,
    Obj,
)
from kubelite.controllers import endpoints as ep
from kubelite.controllers import endpointslices as eps
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model.service import MANAGED_BY_LABEL, SERVICE_NAME_LABEL, ServiceView

log = logging.getLogger(__name__)

Key = tuple[str, str]


class ServiceEndpointsController:
    def __init__(self, client: ApiClient, *, informers: InformerSet | None = None) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self.services = self._informers.get(SERVICES)
        self.pods = self._informers.get(PODS)
        self.endpoints = self._informers.get(ENDPOINTS)
        self.slices = self._informers.get(ENDPOINT_SLICES)
        self.queue: WorkQueue[Key] = WorkQueue()
        self.services.add_handler(self._on_service)
        self.pods.add_handler(self._on_pod)
        self.endpoints.add_handler(self._on_endpoints)
        self.slices.add_handler(self._on_slice)

    # ------------------------------------------------------------------ events -> keys

    def _on_service(self, kind: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        self.queue.add((str(meta.get("namespace") or ""), str(meta.get("name") or "")))

    def _on_pod(self, kind: str, obj: Obj) -> None:
        ns = (obj.get("metadata") or {}).get("namespace")
        for svc in self.services.items():
            meta = svc["metadata"]
            if meta.get("namespace") == ns and (svc.get("spec") or {}).get("selector"):
                self.queue.add((str(ns), str(meta["name"])))

    def _on_endpoints(self, kind: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        if self.services.get(ns, name) is not None or kind == "DELETED":
            self.queue.add((ns, name))

    def _on_slice(self, kind: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        if labels.get(MANAGED_BY_LABEL) == eps.CONTROLLER and labels.get(SERVICE_NAME_LABEL):
            self.queue.add((str(meta.get("namespace") or ""), str(labels[SERVICE_NAME_LABEL])))

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        async with self._informers.running(self.services, self.pods, self.endpoints, self.slices):
            for svc in self.services.items():
                self._on_service("ADDED", svc)
            await self.queue.run(self.reconcile, name="endpoint controllers")

    async def reconcile(self, key: Key) -> None:
        ns, name = key
        svc = self.services.get(ns, name)
        pods = [p for p in self.pods.items() if p["metadata"].get("namespace") == ns]
        slices = [s for s in self.slices.items() if s["metadata"].get("namespace") == ns]
        if svc is None:
            await self._forget(ns, name, slices)
            return
        view = ServiceView.of(svc)
        if view.selector is None:
            return  # someone else's endpoints (or none)
        await self._sync_endpoints(view, pods)
        await self._sync_slices(view, pods, slices)

    async def _forget(self, ns: str, name: str, slices: list[Obj]) -> None:
        if self.endpoints.get(ns, name) is not None:
            await self._client.delete(ENDPOINTS, ns, name)
            self.endpoints.assume_deleted(ns, name)
        for s in slices:
            if eps.owned_by_us(s, name):
                await self._client.delete(ENDPOINT_SLICES, ns, s["metadata"]["name"])
                self.slices.assume_deleted(ns, s["metadata"]["name"])

    async def _sync_endpoints(self, view: ServiceView, pods: list[Obj]) -> None:
        desired = ep.desired_endpoints(view, pods)
        if desired is None:
            return
        existing = self.endpoints.get(view.namespace, view.name)
        if existing is None:
            try:
                made = await self._client.create(ENDPOINTS, view.namespace, desired)
            except ApiError as err:
                if err.status != 409:
                    raise
                made = await self._client.get(ENDPOINTS, view.namespace, view.name)
                self.endpoints.assume(made)
                raise  # try again with what is there now
            self.endpoints.assume(made)
        elif ep.needs_update(existing, desired):
            meta = {**existing["metadata"], "labels": desired["metadata"].get("labels", {})}
            body = {**existing, "metadata": meta, "subsets": desired["subsets"]}
            self.endpoints.assume(await self._client.replace(ENDPOINTS, body))

    async def _sync_slices(self, view: ServiceView, pods: list[Obj], slices: list[Obj]) -> None:
        changes = eps.desired_changes(view, pods, slices)
        for name in changes.delete:
            await self._client.delete(ENDPOINT_SLICES, view.namespace, name)
            self.slices.assume_deleted(view.namespace, name)
        for body in changes.update:
            self.slices.assume(await self._client.replace(ENDPOINT_SLICES, body))
        for body in changes.create:
            self.slices.assume(await self._client.create(ENDPOINT_SLICES, view.namespace, body))
