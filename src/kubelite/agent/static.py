"""Static pods: the agent's control plane when there is no API server (``kubelite run``).

Pods come from manifest files that the caller has already parsed, defaulted and validated;
ConfigMaps and Secrets from the same files are served to env and volumes, and the caller's
Services (if any) to the service variables. Status and events
are handed to observer callbacks (the live view) instead of an API. Deleting a pod works as
the API server does it: set deletionTimestamp and the grace period, let the agent stop it, then
the agent's ``finish_deletion`` removes it.

The caller says when the manifests' pods are all added (``mark_synced``): from then on the
agent treats the runtime's pods that were not added — left by a ``kubelite run`` that crashed,
under other uids — as orphans and removes them (``agent.housekeeping``).
"""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from kubelite.agent.envvars import ConfigError
from kubelite.agent.eventtext import Event
from kubelite.agent.sources import Pod, PodUpdate, ServiceAccountToken, UpdateKind, synced
from kubelite.clock import Clock, rfc3339

# Called with the pod as its status now is; the observer must not change it (it shares the
# spec and metadata with the stored pod, and the next status replaces, not edits, this one).
StatusObserver = Callable[[Pod], None]
EventObserver = Callable[[Pod, Event], None]
ServiceLister = Callable[[str], list[dict[str, Any]]]


class StaticPods:
    def __init__(
        self,
        *,
        clock: Clock,
        node_name: str,
        on_status: StatusObserver | None = None,
        on_event: EventObserver | None = None,
        services: ServiceLister | None = None,
    ) -> None:
        self._clock = clock
        self._services = services
        self._node = node_name
        self._pods: dict[str, Pod] = {}
        self._configmaps: dict[tuple[str, str], dict[str, Any]] = {}
        self._secrets: dict[tuple[str, str], dict[str, Any]] = {}
        self._queue: asyncio.Queue[PodUpdate] = asyncio.Queue()
        self._on_status = on_status
        self._on_event = on_event
        self.removed = asyncio.Event()  # set whenever the last pod is gone
        self._synced = False

    # ------------------------------------------------------------------ feeding it

    def add_object(self, obj: dict[str, Any]) -> None:
        kind = obj.get("kind")
        meta = obj.setdefault("metadata", {})
        key = (meta.setdefault("namespace", "default"), meta.get("name", ""))
        if kind == "ConfigMap":
            self._configmaps[key] = obj
        elif kind == "Secret":
            self._secrets[key] = obj
        elif kind == "Pod":
            self.add_pod(obj)
        else:
            raise ValueError(f"kubelite run handles Pod, ConfigMap and Secret, not {kind}")

    def add_pod(self, pod: Pod) -> Pod:
        pod = copy.deepcopy(pod)
        meta = pod.setdefault("metadata", {})
        meta.setdefault("namespace", "default")
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", rfc3339(self._clock.now()))
        pod.setdefault("spec", {}).setdefault("nodeName", self._node)
        pod.setdefault("status", {}).setdefault("phase", "Pending")
        self._pods[meta["uid"]] = pod
        self.removed.clear()
        self._queue.put_nowait(PodUpdate(UpdateKind.SET, copy.deepcopy(pod)))
        return pod

    def mark_synced(self) -> None:
        """Every pod of the initial manifests has been added: send SYNCED (once) after them.
        Pods added later are ordinary changes."""
        if not self._synced:
            self._synced = True
            self._queue.put_nowait(synced())

    def delete_pod(self, uid: str, grace: int | None = None) -> None:
        """What ``kubectl delete`` does on the API server: mark, don't remove (TERM-1)."""
        pod = self._pods.get(uid)
        if pod is None:
            return
        meta = pod["metadata"]
        tgps = pod["spec"].get("terminationGracePeriodSeconds", 30)
        new_grace = tgps if grace is None else grace
        if "deletionTimestamp" in meta:
            new_grace = min(new_grace, meta.get("deletionGracePeriodSeconds", new_grace))
        meta.setdefault("deletionTimestamp", rfc3339(self._clock.now()))
        meta["deletionGracePeriodSeconds"] = new_grace
        self._queue.put_nowait(PodUpdate(UpdateKind.SET, copy.deepcopy(pod)))

    def force_delete(self, uid: str) -> None:
        """``kubectl delete --grace-period=0 --force``: the object is gone at once (REMOVED);
        the agent still stops the containers, with the minimum grace (TERM-1)."""
        pod = self._pods.pop(uid, None)
        if pod is None:
            return
        pod["metadata"].setdefault("deletionTimestamp", rfc3339(self._clock.now()))
        pod["metadata"]["deletionGracePeriodSeconds"] = 0
        self._queue.put_nowait(PodUpdate(UpdateKind.REMOVED, copy.deepcopy(pod)))
        if not self._pods:
            self.removed.set()

    def delete_all(self, grace: int | None = None) -> None:
        for uid in list(self._pods):
            self.delete_pod(uid, grace)

    def pods(self) -> list[Pod]:
        return [copy.deepcopy(p) for p in self._pods.values()]

    # ------------------------------------------------------------------ NodeClient

    async def updates(self) -> AsyncIterator[PodUpdate]:
        while True:
            yield await self._queue.get()

    async def get_configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._configmaps.get((namespace, name))

    async def services(self, namespace: str) -> list[dict[str, Any]]:
        return self._services(namespace) if self._services is not None else []

    async def get_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self._secrets.get((namespace, name))

    async def request_token(
        self,
        namespace: str,
        service_account: str,
        *,
        audiences: tuple[str, ...],
        expiration_seconds: int,
        pod_name: str,
        pod_uid: str,
    ) -> ServiceAccountToken:
        """Static pods never get tokens: there is no API server to issue them."""
        raise ConfigError(
            f'failed to fetch token: no API server to request a token of service account "'
            f'{namespace}/{service_account}" from (static pod)'
        )

    async def write_status(self, pod: Pod, status: dict[str, Any]) -> None:
        stored = self._pods.get(pod["metadata"]["uid"])
        if stored is None:
            return
        stored["status"] = copy.deepcopy(status)
        if self._on_status:
            # observers only read (StatusObserver): spec and metadata are not copied again
            self._on_status({**stored, "status": stored["status"]})

    async def finish_deletion(self, pod: Pod) -> None:
        uid = pod["metadata"]["uid"]
        stored = self._pods.pop(uid, None)
        if stored is not None:
            self._queue.put_nowait(PodUpdate(UpdateKind.REMOVED, stored))
        if not self._pods:
            self.removed.set()

    async def emit(self, pod: Pod, event: Event) -> None:
        if self._on_event:
            self._on_event(pod, event)
