"""The eviction manager's loop: every ``MONITOR_SECONDS`` measure the disk use of each pod that
has a local-storage limit, decide with ``eviction.evictions`` (pure), and evict: the Warning
``Evicted`` event first, then the pod's worker turns the pod Failed/Evicted and stops it
(VOL-3, PH-5). Runs on the injected clock, so a test drives it on virtual time."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from kubelite.agent import eventtext
from kubelite.agent.eventtext import Event
from kubelite.agent.eviction import MONITOR_SECONDS, Usage, active, evictions
from kubelite.clock import Clock
from kubelite.runtime.interface import Runtime, RuntimeError_

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any], Event], Awaitable[None]]


class Evictable(Protocol):
    """What the loop needs of a pod worker."""

    pod: dict[str, Any]

    @property
    def evicted(self) -> bool: ...

    def evict(self, message: str) -> None: ...


class EvictionManager:
    def __init__(
        self,
        *,
        runtime: Runtime,
        clock: Clock,
        workers: Callable[[], Mapping[str, Evictable]],
        emit: Emit,
    ) -> None:
        self._runtime = runtime
        self._clock = clock
        self._workers = workers
        self._emit = emit

    async def run(self) -> None:
        while True:
            await self._clock.sleep(MONITOR_SECONDS)
            try:
                await self.check()
            except Exception:  # one bad round must not end the node's eviction manager
                log.exception("eviction check failed")

    async def check(self) -> list[str]:
        """One round; returns the uids of the pods it evicted."""
        workers = {uid: w for uid, w in self._workers().items() if not w.evicted}
        measured: list[tuple[Mapping[str, Any], Usage]] = []
        for pod in active([w.pod for w in workers.values()]):
            uid = str(pod["metadata"]["uid"])
            try:
                storage = await self._runtime.pod_storage(uid)
            except (RuntimeError_, OSError) as err:
                log.warning("disk usage of pod %s not measured: %s", uid, err)
                continue
            measured.append((pod, Usage(storage.volumes, storage.containers)))
        done = []
        for eviction in evictions(measured):
            worker = workers.get(eviction.pod_uid)
            if worker is None:
                continue
            await self._emit(worker.pod, eventtext.evicted(eviction.message))
            worker.evict(eviction.message)
            done.append(eviction.pod_uid)
        return done
