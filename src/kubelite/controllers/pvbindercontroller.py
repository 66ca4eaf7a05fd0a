"""The persistent-volume controller's loop: informers on claims, volumes, classes and pods, a
work queue of ``("claim", namespace, name)`` and ``("volume", "", name)`` keys, and the actions
``pvbinder`` (claims) and ``pvbindervolumes`` (volumes) decide, carried out in order.

What queues what: a claim queues itself and the volumes that point at it; a volume queues
itself and its claim; a class queues the pending claims that name it; a pod queues the claims
it uses (their first consumer, their protection). Every claim and volume is synced again every
15 s, as upstream resyncs, so a claim waiting for a provisioner is looked at again.

Writes that must not race another writer (a volume's claimRef, a claim's volumeName, a
finalizer's removal) are replaces carrying the resourceVersion the informer holds; status and
annotations are merge patches. Each written object is assumed into its informer at once, so the
next action of the same sync reads it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

from kubelite.client.rest import (
    PERSISTENT_VOLUME_CLAIMS,
    PERSISTENT_VOLUMES,
    PODS,
    STORAGE_CLASSES,
    ApiClient,
    Obj,
)
from kubelite.clock import Clock, SystemClock, rfc3339
from kubelite.controllers import pvbinder, pvbindervolumes
from kubelite.controllers import pvbinderactions as act
from kubelite.controllers.eventrecorder import EventRecorder
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import storage as st

log = logging.getLogger(__name__)

COMPONENT = "persistentvolume-controller"
RESYNC_SECONDS = 15.0
CLAIM, VOLUME = "claim", "volume"
Key = tuple[str, str, str]


class PersistentVolumeController:
    def __init__(
        self,
        client: ApiClient,
        *,
        clock: Clock | None = None,
        resync: float = RESYNC_SECONDS,
        informers: InformerSet | None = None,
    ) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self._clock = clock or SystemClock()
        self._resync = resync
        self.claims = self._informers.get(PERSISTENT_VOLUME_CLAIMS)
        self.volumes = self._informers.get(PERSISTENT_VOLUMES)
        self.classes = self._informers.get(STORAGE_CLASSES)
        self.pods = self._informers.get(PODS)
        self.queue: WorkQueue[Key] = WorkQueue(clock=self._clock)
        self.events = EventRecorder(client, COMPONENT, clock=self._clock)
        self.claims.add_handler(self._on_claim)
        self.volumes.add_handler(self._on_volume)
        self.classes.add_handler(self._on_class)
        self.pods.add_handler(self._on_pod)

    # ------------------------------------------------------------------ events -> keys

    def _on_claim(self, kind: str, obj: Obj) -> None:
        ns, name = st.namespace_of(obj), st.name_of(obj)
        self.queue.add((CLAIM, ns, name))
        for pv in self.volumes.items():
            ref = (pv.get("spec") or {}).get("claimRef") or {}
            if (ref.get("namespace"), ref.get("name")) == (ns, name):
                self.queue.add((VOLUME, "", st.name_of(pv)))

    def _on_volume(self, kind: str, obj: Obj) -> None:
        self.queue.add((VOLUME, "", st.name_of(obj)))
        ref = (obj.get("spec") or {}).get("claimRef")
        if isinstance(ref, dict) and ref.get("name"):
            self.queue.add((CLAIM, str(ref.get("namespace") or ""), str(ref["name"])))
        for pvc in self.claims.items():
            if (pvc.get("spec") or {}).get("volumeName") == st.name_of(obj):
                self.queue.add((CLAIM, st.namespace_of(pvc), st.name_of(pvc)))

    def _on_class(self, kind: str, obj: Obj) -> None:
        for pvc in self.claims.items():
            if st.claim_class(pvc) == st.name_of(obj) and st.phase_of(pvc) != st.BOUND:
                self.queue.add((CLAIM, st.namespace_of(pvc), st.name_of(pvc)))

    def _on_pod(self, kind: str, obj: Obj) -> None:
        for name in st.claim_names(obj):
            self.queue.add((CLAIM, st.namespace_of(obj), name))

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        async with self._informers.running(
            self.claims, self.volumes, self.classes, self.pods
        ) as tg:
            tg.create_task(self._resync_every(), name="persistent volume resync")
            await self.queue.run(self.reconcile, name=COMPONENT)

    async def _resync_every(self) -> None:
        while True:
            self.resync_all()
            await self._clock.sleep(self._resync)

    def resync_all(self) -> None:
        for pvc in self.claims.items():
            self.queue.add((CLAIM, st.namespace_of(pvc), st.name_of(pvc)))
        for pv in self.volumes.items():
            self.queue.add((VOLUME, "", st.name_of(pv)))

    async def reconcile(self, key: Key) -> None:
        kind, ns, name = key
        volumes, claims = self.volumes.items(), self.claims.items()
        if kind == CLAIM:
            claim = self.claims.get(ns, name)
            if claim is None:
                return
            actions = pvbinder.sync_claim(claim, volumes, self.classes.items(), self.pods.items())
        else:
            volume = self.volumes.get("", name)
            if volume is None:
                return
            actions = pvbindervolumes.sync_volume(volume, claims)
        await self.carry_out(actions)

    # ------------------------------------------------------------------ actions

    async def carry_out(self, actions: Iterable[act.Action]) -> None:
        for action in actions:
            match action:
                case act.Event():
                    meta = {"namespace": action.namespace, "name": action.name, "uid": action.uid}
                    about = {"kind": action.kind, "apiVersion": "v1", "metadata": meta}
                    await self.events.event(about, action.type, action.reason, action.message)
                case act.BindVolume():
                    await self._bind_volume(action)
                case act.UnbindVolume():
                    await self._unbind_volume(action.volume)
                case act.SetVolumePhase():
                    await self._volume_phase(action)
                case act.BindClaim():
                    await self._bind_claim(action)
                case act.SetClaimStatus():
                    await self._claim_status(action)
                case act.AnnotateClaim():
                    patch = {"metadata": {"annotations": dict(action.annotations)}}
                    self.claims.assume(
                        await self._client.merge_patch(
                            PERSISTENT_VOLUME_CLAIMS, action.namespace, action.name, patch
                        )
                    )
                case act.RemoveFinalizer():
                    await self._remove_finalizer(action)
                case act.DeleteHostPathVolume():
                    await asyncio.to_thread(shutil.rmtree, Path(action.path), True)
                    await self._client.delete(PERSISTENT_VOLUMES, None, action.volume)
                case act.SyncClaim():
                    self.queue.add((CLAIM, action.namespace, action.name))

    def _volume(self, name: str) -> Obj:
        pv = self.volumes.get("", name)
        if pv is None:
            raise LookupError(f"persistentvolume {name} is not in the cache")
        return copy.deepcopy(pv)

    def _claim(self, namespace: str, name: str) -> Obj:
        pvc = self.claims.get(namespace, name)
        if pvc is None:
            raise LookupError(f"persistentvolumeclaim {namespace}/{name} is not in the cache")
        return copy.deepcopy(pvc)

    async def _bind_volume(self, action: act.BindVolume) -> None:
        pv = self._volume(action.volume)
        pv["spec"]["claimRef"] = dict(action.claim_ref)
        if action.by_controller:
            pv["metadata"].setdefault("annotations", {})[st.BOUND_BY_CONTROLLER] = "yes"
        self.volumes.assume(await self._client.replace(PERSISTENT_VOLUMES, pv))

    async def _unbind_volume(self, name: str) -> None:
        pv = self._volume(name)
        pv["spec"].pop("claimRef", None)
        (pv["metadata"].get("annotations") or {}).pop(st.BOUND_BY_CONTROLLER, None)
        self.volumes.assume(await self._client.replace(PERSISTENT_VOLUMES, pv))
        await self._volume_phase(act.SetVolumePhase(name, st.AVAILABLE))

    async def _volume_phase(self, action: act.SetVolumePhase) -> None:
        status = {
            "phase": action.phase,
            "message": action.message or None,
            "lastPhaseTransitionTime": rfc3339(self._clock.now()),
        }
        patched = await self._client.merge_patch(
            PERSISTENT_VOLUMES, None, action.volume, {"status": status}, sub="status"
        )
        self.volumes.assume(patched)

    async def _bind_claim(self, action: act.BindClaim) -> None:
        pvc = self._claim(action.namespace, action.name)
        pvc["spec"]["volumeName"] = action.volume
        ann = pvc["metadata"].setdefault("annotations", {})
        ann[st.BIND_COMPLETED] = "yes"
        if action.by_controller:
            ann[st.BOUND_BY_CONTROLLER] = "yes"
        self.claims.assume(await self._client.replace(PERSISTENT_VOLUME_CLAIMS, pvc))

    async def _claim_status(self, action: act.SetClaimStatus) -> None:
        status = {
            "phase": action.phase,
            "accessModes": list(action.access_modes) or None,
            "capacity": dict(action.capacity) or None,
        }
        patched = await self._client.merge_patch(
            PERSISTENT_VOLUME_CLAIMS,
            action.namespace,
            action.name,
            {"status": status},
            sub="status",
        )
        self.claims.assume(patched)

    async def _remove_finalizer(self, action: act.RemoveFinalizer) -> None:
        if action.kind == "PersistentVolume":
            obj, resource = self._volume(action.name), PERSISTENT_VOLUMES
        else:
            obj, resource = self._claim(action.namespace, action.name), PERSISTENT_VOLUME_CLAIMS
        meta = obj["metadata"]
        meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != action.finalizer]
        await self._client.replace(resource, obj)  # the last finalizer gone, it is deleted
