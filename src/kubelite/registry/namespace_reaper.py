"""Empties terminating namespaces and then removes them (the namespace controller's job).

Deleting a namespace only marks it (``Terminating``). This loop deletes what is inside
(pods through their normal graceful deletion, so a node agent can still stop containers),
waits for finalizers and grace periods to run out, and removes the namespace once it is empty.
"""

from __future__ import annotations

import asyncio
import logging

from kubelite.errors import KubeliteError
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.service import Registry
from kubelite.store.interface import make_key

log = logging.getLogger(__name__)


class NamespaceReaper:
    def __init__(self, *, registry: Registry, interval: float = 0.25) -> None:
        self._registry = registry
        self._interval = interval

    async def run(self) -> None:
        while True:
            try:
                await self.reconcile()
            except KubeliteError as exc:  # a racing write; try again next round
                log.debug("namespace reaper: %s", exc)
            await asyncio.sleep(self._interval)

    async def reconcile(self) -> None:
        namespaces, _ = await self._registry.list(NAMESPACES, None)
        for ns in namespaces:
            if ns["metadata"].get("deletionTimestamp"):
                await self.empty(ns["metadata"]["name"])

    async def empty(self, name: str) -> None:
        """Delete the namespace's contents; remove it once nothing is left."""
        reg = self._registry
        remaining = 0
        for kind in reg.kinds:
            if not kind.namespaced or getattr(kind, "storage_kind", None) is not None:
                continue
            items, _ = await reg.list(kind, name)
            remaining += len(items)
            for obj in items:
                if not obj["metadata"].get("deletionTimestamp"):
                    try:
                        await reg.delete(kind, name, obj["metadata"]["name"])
                    except KubeliteError as exc:
                        log.debug("namespace reaper: delete failed: %s", exc)
        if remaining == 0:
            try:
                await reg.store.delete(make_key(NAMESPACES.qualified, "", name))
            except KubeliteError as exc:
                log.debug("namespace reaper: %s", exc)
