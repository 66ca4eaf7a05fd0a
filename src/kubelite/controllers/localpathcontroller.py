"""The local-path provisioner's loop: claims handed to ``rancher.io/local-path`` get a folder
under ``<data-dir>/storage`` and a PersistentVolume for it (``localpath.provision``); released
volumes of this provisioner under ``Delete`` lose their folder and then their object
(``localpath.reclaim``). It runs next to the node, as k3s runs its provisioner, so it makes and
removes the folders itself where k3s starts helper pods.

Events are the provisioner library's: ``Provisioning`` then ``ProvisioningSucceeded`` or
``ProvisioningFailed`` on the claim, ``VolumeFailedDelete`` on a volume whose folder could not
be removed. Every claim and volume is looked at again every 15 s.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from pathlib import Path

from kubelite.client.rest import (
    PERSISTENT_VOLUME_CLAIMS,
    PERSISTENT_VOLUMES,
    STORAGE_CLASSES,
    ApiClient,
    ApiError,
    Obj,
    Resource,
)
from kubelite.clock import Clock, SystemClock
from kubelite.controllers import localpath
from kubelite.controllers.eventrecorder import EventRecorder
from kubelite.controllers.informerset import InformerSet
from kubelite.controllers.workqueue import WorkQueue
from kubelite.model import storage as st

log = logging.getLogger(__name__)

NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
COMPONENT = f"{localpath.PROVISIONER}_kubelite"
RESYNC_SECONDS = 15.0
CLAIM, VOLUME = "claim", "volume"
Key = tuple[str, str, str]


def make_folder(path: Path) -> None:
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    path.mkdir(mode=localpath.FOLDER_MODE, exist_ok=True)
    os.chmod(path, localpath.FOLDER_MODE)  # mkdir's mode is cut by the umask


class LocalPathProvisioner:
    def __init__(
        self,
        client: ApiClient,
        *,
        storage: Path,
        clock: Clock | None = None,
        resync: float = RESYNC_SECONDS,
        informers: InformerSet | None = None,
    ) -> None:
        self._client = client
        self._informers = informers or InformerSet(client)
        self._storage = storage
        self._clock = clock or SystemClock()
        self._resync = resync
        self.claims = self._informers.get(PERSISTENT_VOLUME_CLAIMS)
        self.volumes = self._informers.get(PERSISTENT_VOLUMES)
        self.classes = self._informers.get(STORAGE_CLASSES)
        self.nodes = self._informers.get(NODES)
        self.queue: WorkQueue[Key] = WorkQueue(clock=self._clock)
        self.events = EventRecorder(client, COMPONENT, clock=self._clock)
        self.claims.add_handler(
            lambda _, o: self.queue.add((CLAIM, st.namespace_of(o), st.name_of(o)))
        )
        self.volumes.add_handler(lambda _, o: self.queue.add((VOLUME, "", st.name_of(o))))

    async def run(self) -> None:
        async with self._informers.running(
            self.claims, self.volumes, self.classes, self.nodes
        ) as tg:
            tg.create_task(self._resync_every(), name="local-path resync")
            await self.queue.run(self.reconcile, name="local-path provisioner")

    async def _resync_every(self) -> None:
        while True:
            for pvc in self.claims.items():
                self.queue.add((CLAIM, st.namespace_of(pvc), st.name_of(pvc)))
            for pv in self.volumes.items():
                self.queue.add((VOLUME, "", st.name_of(pv)))
            await self._clock.sleep(self._resync)

    async def reconcile(self, key: Key) -> None:
        kind, ns, name = key
        if kind == CLAIM:
            claim = self.claims.get(ns, name)
            if claim is not None and localpath.wants_provisioning(claim, self.classes.items()):
                await self._provision(claim)
        else:
            volume = self.volumes.get("", name)
            if volume is not None:
                await self._reclaim(volume)

    async def _provision(self, claim: Obj) -> None:
        if self.volumes.get("", localpath.volume_name(claim)) is not None:
            return  # made before (the binder has not caught up yet)
        await self._event(
            claim,
            "Normal",
            "Provisioning",
            "External provisioner is provisioning volume for claim "
            f'"{st.namespace_of(claim)}/{st.name_of(claim)}"',
        )
        decision = localpath.provision(
            claim, self.classes.items(), self.nodes.items(), self._storage
        )
        if isinstance(decision, localpath.Refuse):
            await self._event(claim, "Warning", "ProvisioningFailed", decision.message)
            return
        await asyncio.to_thread(make_folder, Path(decision.folder))
        try:
            made = await self._client.create(PERSISTENT_VOLUMES, None, decision.volume)
        except ApiError as err:
            if not err.conflict:
                raise
        else:
            self.volumes.assume(made)
        await self._event(
            claim,
            "Normal",
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {localpath.volume_name(claim)}",
        )

    async def _reclaim(self, volume: Obj) -> None:
        decision = localpath.reclaim(volume, self._storage)
        if decision is None:
            return
        if decision.folder is not None:
            try:
                await asyncio.to_thread(_remove, Path(decision.folder))
            except OSError as err:
                about = {
                    "kind": "PersistentVolume",
                    "apiVersion": "v1",
                    "metadata": volume.get("metadata") or {},
                }
                await self.events.event(about, "Warning", "VolumeFailedDelete", str(err))
                raise
        await self._client.delete(PERSISTENT_VOLUMES, None, decision.volume)

    async def _event(self, claim: Obj, type_: str, reason: str, message: str) -> None:
        about = {
            "kind": "PersistentVolumeClaim",
            "apiVersion": "v1",
            "metadata": claim.get("metadata") or {},
        }
        await self.events.event(about, type_, reason, message)


def _remove(folder: Path) -> None:
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)
    elif folder.exists() or folder.is_symlink():
        folder.unlink()
