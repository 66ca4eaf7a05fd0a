"""Informers shared by the controllers that run together: one watch and one cache per
resource (and namespace), however many controllers read it — as the controller manager's
shared informer factory. Every controller of ``kubelite up`` follows pods, say: with one set
the cluster's pods are held once, not once per controller.

A controller takes the informers it needs in its constructor (``get``) and, in ``run``,
enters ``running(*needed)``: a TaskGroup for its own tasks, entered once those informers
have listed. A set the controller made for itself is run there too; a ``shared`` set is run
by whoever composed the controllers (``run``), once, for all of them. Informers taken after
the set started (the garbage collector discovers its resources late) start at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from kubelite.client.informer import Informer
from kubelite.client.rest import ApiClient, Resource
from kubelite.model.survival import keep_running

log = logging.getLogger(__name__)


class InformerSet:
    def __init__(self, client: ApiClient, *, shared: bool = False) -> None:
        self._client = client
        self.shared = shared
        self._informers: dict[tuple[str, str, str | None], Informer] = {}
        self._group: asyncio.TaskGroup | None = None

    def get(self, resource: Resource, namespace: str | None = None) -> Informer:
        """The set's informer of ``resource`` (in ``namespace`` only, if given)."""
        key = (resource.group, resource.plural, namespace)
        informer = self._informers.get(key)
        if informer is None:
            informer = Informer(self._client, resource, namespace=namespace)
            self._informers[key] = informer
            if self._group is not None:
                self._start(self._group, informer)
        return informer

    def all(self) -> list[Informer]:
        return list(self._informers.values())

    async def synced(self) -> None:
        """Until every informer of the set has listed."""
        await asyncio.gather(*(i.synced.wait() for i in self.all()))

    async def run(self) -> None:
        """Run every informer, and those taken later, until cancelled."""
        async with asyncio.TaskGroup() as tg:
            self._group = tg
            try:
                for informer in self.all():
                    self._start(tg, informer)
                await asyncio.get_running_loop().create_future()  # until cancelled
            finally:
                self._group = None

    @contextlib.asynccontextmanager
    async def running(self, *needed: Informer) -> AsyncIterator[asyncio.TaskGroup]:
        """A TaskGroup for a controller's tasks, entered once ``needed`` have listed; a set
        that is not ``shared`` runs in it."""
        async with asyncio.TaskGroup() as tg:  # like the controller, it runs until cancelled
            if not self.shared:
                tg.create_task(self.run(), name="informers")
            await asyncio.gather(*(i.synced.wait() for i in needed))
            yield tg

    @staticmethod
    def _start(tg: asyncio.TaskGroup, informer: Informer) -> None:
        name = f"the {informer.resource.plural} informer"
        tg.create_task(keep_running(informer.run, name=name, log=log), name=name)
