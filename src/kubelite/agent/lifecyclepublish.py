"""Publishing each pod's lifecycle record to the API as a ``PodLifecycle`` (kubelite.dev/
v1alpha1, named as its pod, owned by it), batched: at most one write per pod per second, and
at once when the pod has finished (or reached a terminal phase), so the record of a deleted pod
is complete before the pod object goes. A change that only counts one more equal probe result
waits up to 30 s (or for the next transition): a healthy pod costs a write per half minute,
not one per probe period.

The first write of a record creates the object; if there is one already, a record of the
same pod left by an earlier run of the agent is merged in (facts from before the restart are
kept) and the object replaced. When the pod is gone from the source, its record is deleted
(garbage collection would remove it too, through its ownerReference).

All writes happen on one task, started at the first change and ended by ``close``; a write
that fails is tried again a few seconds later. Nothing here waits on the pod workers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from kubelite.agent.lifecycle import LATER, NOW, LifecycleBook
from kubelite.agent.timers import wait_event
from kubelite.clock import Clock
from kubelite.model.objects import Obj

log = logging.getLogger(__name__)

INTERVAL = 1.0  # seconds between two writes of one record
LATER_INTERVAL = 30.0  # ... when only a repeated probe result was counted
RETRY = 5.0  # seconds before a failed write is tried again
CLOSE_TIMEOUT = 2.0  # seconds ``close`` spends on the writes still due


class LifecycleApiError(Exception):
    """A read or write of a PodLifecycle failed; ``status`` is the HTTP status (0: none)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status


class LifecycleApi(Protocol):
    """The PodLifecycle resource, as the node's API client reaches it."""

    async def read_lifecycle(self, namespace: str, name: str) -> Obj | None:
        """The object, or None if there is none; raises ``LifecycleApiError``."""
        ...

    async def write_lifecycle(self, obj: Obj, *, create: bool) -> None:
        """Create the object, or replace it; raises ``LifecycleApiError`` (404 when a
        replaced one is gone, 409 when a created one exists)."""
        ...

    async def delete_lifecycle(self, namespace: str, name: str, pod_uid: str) -> None:
        """Delete it if it is still the record of ``pod_uid``; a missing one is fine."""
        ...


@dataclass(slots=True)
class _State:
    due: float | None = None  # monotonic time of the next write; None: nothing to write
    written: int = -1  # the record version last written
    last: float = float("-inf")  # monotonic time of the last write
    exists: bool = False  # whether the API has the object (as far as this writer knows)


class LifecyclePublisher:
    def __init__(
        self, *, book: LifecycleBook, api: LifecycleApi, clock: Clock, interval: float = INTERVAL
    ) -> None:
        self._book = book
        self._api = api
        self._clock = clock
        self._interval = interval
        self._states: dict[str, _State] = {}
        self._removals: dict[str, tuple[str, str]] = {}  # uid -> (namespace, name)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        book.listen(self.changed)

    # ------------------------------------------------------------------ inputs

    def changed(self, uid: str, urgency: str) -> None:
        """A record changed: write it at once (NOW), within the interval (SOON), or within
        ``LATER_INTERVAL`` (LATER: only a probe result was counted)."""
        if uid in self._removals:
            return
        state = self._states.setdefault(uid, _State())
        now = self._clock.monotonic()
        wait = {NOW: 0.0, LATER: LATER_INTERVAL}.get(urgency, self._interval)
        due = max(now, state.last + wait) if wait else now
        state.due = due if state.due is None else min(state.due, due)
        self._kick()

    def removed(self, uid: str) -> None:
        """The pod is gone: forget its record and delete its object (if it was written)."""
        record = self._book.forget(uid)
        state = self._states.pop(uid, None)
        if record is not None and state is not None and state.exists:
            self._removals[uid] = (record.namespace, record.name)
            self._kick()

    def _kick(self) -> None:
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="lifecycle-publisher"
            )

    async def close(self) -> None:
        """Stop the writer after a last, short attempt at what is due."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._flush(everything=True)
        except TimeoutError:
            log.info("lifecycle records not all written at shutdown")

    # ------------------------------------------------------------------ the writer

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            wait = await self._flush(everything=False)
            if self._wake.is_set():
                continue  # changed while writing: look again
            if wait is None:
                return  # nothing left: a later change starts a new writer
            await wait_event(self._clock, self._wake, wait)

    async def _flush(self, *, everything: bool) -> float | None:
        """Do what is due (``everything``: all that is pending); returns the seconds until the
        next write is due, None if none is pending."""
        for uid, (namespace, name) in list(self._removals.items()):
            del self._removals[uid]
            try:
                await self._api.delete_lifecycle(namespace, name, uid)
            except LifecycleApiError as err:
                log.info("lifecycle record of %s/%s not deleted: %s", namespace, name, err)
        nearest: float | None = None
        for uid, state in list(self._states.items()):
            if state.due is None:
                continue
            now = self._clock.monotonic()
            if state.due > now and not everything:
                nearest = state.due - now if nearest is None else min(nearest, state.due - now)
                continue
            state.due = None
            if not await self._write(uid, state):
                state.due = self._clock.monotonic() + RETRY
                nearest = RETRY if nearest is None else min(nearest, RETRY)
        return nearest

    async def _write(self, uid: str, state: _State) -> bool:
        record = self._book.get(uid)
        if record is None or uid not in self._states:
            return True  # gone meanwhile
        try:
            if record.version == state.written:
                return True
            version = record.version
            try:
                await self._api.write_lifecycle(record.object(), create=not state.exists)
            except LifecycleApiError as err:
                if err.status == 409:  # there is one already: an earlier run's, perhaps
                    found = await self._api.read_lifecycle(record.namespace, record.name)
                    if found is not None and found.get("podUID") == uid:
                        record.merge(list(found.get("facts") or ()))
                    version = record.version
                elif err.status != 404:
                    raise
                await self._api.write_lifecycle(record.object(), create=err.status == 404)
            state.exists, state.written, state.last = True, version, self._clock.monotonic()
            return True
        except LifecycleApiError as err:
            log.info(
                "lifecycle record of %s/%s not written: %s", record.namespace, record.name, err
            )
            return False
