"""Empties terminating namespaces and then removes them (the namespace controller's job).

Deleting a namespace only marks it (``Terminating``). This loop deletes what is inside
(pods through their normal graceful deletion, so a node agent can still stop containers),
waits for finalizers and grace periods to run out, and removes the namespace once it is empty.

One namespace whose contents cannot be deleted (an object that makes the delete raise) must not
stop the others: its failure is logged and it is left alone for a while (``Failures``), the
others are emptied meanwhile, and the loop itself never ends on an error.
"""

from __future__ import annotations

import asyncio
import logging

from kubelite.errors import KubeliteError
from kubelite.model.survival import Failures
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.service import Registry
from kubelite.store.interface import make_key

log = logging.getLogger(__name__)


class ObjectsNotDeleted(Exception):
    """Some objects of a namespace could not be deleted for reasons other than a race."""


class NamespaceReaper:
    def __init__(self, *, registry: Registry, interval: float = 0.25) -> None:
        self._registry = registry
        self._interval = interval
        self._failures: Failures[str] = Failures()

    async def run(self) -> None:
        while True:
            try:
                await self.reconcile()
            except KubeliteError as exc:  # a racing write; try again next round
                log.debug("namespace reaper: %s", exc)
            except Exception:
                log.exception("namespace reaper: a pass failed; trying again")
            await asyncio.sleep(self._interval)

    async def reconcile(self) -> None:
        namespaces, _ = await self._registry.list(NAMESPACES, None)
        terminating = [
            ns["metadata"]["name"] for ns in namespaces if ns["metadata"].get("deletionTimestamp")
        ]
        self._failures.forget_except(set(terminating))
        now = self._registry.clock.monotonic()
        for name in terminating:
            if self._failures.waiting(name, now):
                continue
            try:
                await self.empty(name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = self._failures.failed(name, now)
                log.error(
                    "namespace reaper: emptying namespace %s failed (%s); trying it again in "
                    "%.0f s",
                    name,
                    exc,
                    delay,
                )
            else:
                self._failures.succeeded(name)

    async def empty(self, name: str) -> None:
        """Delete the namespace's contents; remove it once nothing is left. Raises
        ``ObjectsNotDeleted`` (after trying every object) if some could not be deleted."""
        reg = self._registry
        remaining = 0
        failed: list[str] = []
        for kind in reg.kinds:
            if not kind.namespaced or kind.storage_kind is not None:
                continue
            items, _ = await reg.list(kind, name)
            remaining += len(items)
            for obj in items:
                if obj["metadata"].get("deletionTimestamp"):
                    continue
                try:
                    await reg.delete(kind, name, obj["metadata"]["name"])
                except KubeliteError as exc:
                    log.debug("namespace reaper: delete failed: %s", exc)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    failed.append(f"{kind.qualified}/{obj['metadata'].get('name')}: {exc!r}")
        if failed:
            raise ObjectsNotDeleted("; ".join(failed))
        if remaining == 0:
            try:
                await reg.store.delete(make_key(NAMESPACES.qualified, "", name))
            except KubeliteError as exc:
                log.debug("namespace reaper: %s", exc)
