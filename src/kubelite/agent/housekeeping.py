"""The node agent's housekeeping: orphaned pods are stopped and removed, every 2 s.

The kubelet's ``HandlePodCleanups``. Once the pod source has delivered its initial state
(``UpdateKind.SYNCED``), every ``HOUSEKEEPING_SECONDS`` on the agent's clock the runtime's
sandboxes and containers, the back-off checkpoints and the pod log folders are compared with
the pods that have a worker (``orphans.orphans``, pure); each orphan is then cleaned up here:
its containers are stopped, its containers and sandboxes removed, then its volumes, its
back-off checkpoint and its log folder. A step that fails ends that pod's cleanup for this
round; what is left is found again at the next one.

Grace. An orphan has no pod object any more, so there is no deletion grace and no spec (no
``preStop``, no sidecar order) to honour. Its containers get the force-delete grace: TERM-1's
1 s, clamped up to TERM-2's 2 s minimum, i.e. SIGTERM, then SIGKILL 2 s later. That is what
upstream does (``HandlePodCleanups`` kills unknown running pods with a 1 s grace override) and
what the user asked for in the usual case: a pod deleted gracefully while the agent was down is
still in the API (deletionTimestamp set) and is stopped by its worker with its own grace; only
a force-deleted pod (``--grace-period=0 --force``) or one abandoned by a crashed
``kubelite run`` becomes an orphan, and no one is waiting for either to end gracefully. The
pod's own terminationGracePeriodSeconds (its containers' label) could be 30 s or an hour of a
stale pod still running; it is not used.

A pod that gets a worker while its cleanup runs (delivered late under the same uid) waits for
the cleanup to finish before its worker starts (``wait_idle``), so the two never act at once.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable, Collection
from pathlib import Path

from kubelite.agent.checkpoint import BackoffCheckpoints
from kubelite.agent.orphans import OrphanCleanup, orphans
from kubelite.agent.termination import MIN_DELETION_GRACE, stop_timeout
from kubelite.clock import Clock
from kubelite.runtime.interface import Runtime

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 2.0  # the kubelet's housekeeping period
ORPHAN_STOP_TIMEOUT = stop_timeout(MIN_DELETION_GRACE)  # TERM-1 1 s, TERM-2 step 4: 2 s


class Housekeeper:
    """Finds and removes orphaned pods; ``live`` returns the uids of the pods with a worker."""

    def __init__(
        self,
        *,
        runtime: Runtime,
        checkpoints: BackoffCheckpoints,
        pod_logs_dir: Path,
        clock: Clock,
        live: Callable[[], Collection[str]],
    ) -> None:
        self._runtime = runtime
        self._checkpoints = checkpoints
        self._pod_logs_dir = pod_logs_dir
        self._clock = clock
        self._live = live
        self._busy: dict[str, asyncio.Event] = {}

    async def run(self, synced: asyncio.Event) -> None:
        """Nothing until the source is synced; then a round every ``HOUSEKEEPING_SECONDS``."""
        await synced.wait()
        while True:
            await self._clock.sleep(HOUSEKEEPING_SECONDS)
            try:
                await self.round()
            except Exception as err:  # housekeeping must outlive a bad moment of the runtime
                log.warning("housekeeping failed: %s", err)

    async def round(self) -> tuple[OrphanCleanup, ...]:
        """One round: decide, then clean every orphan at once. Returns what was decided."""
        sandboxes = await self._runtime.list_sandboxes()
        containers = await self._runtime.list_containers()
        # From reading the live uids to marking the orphans busy nothing awaits: a worker
        # created after this point for one of them waits for its cleanup (``wait_idle``).
        cleanups = orphans(
            sandboxes=sandboxes,
            containers=containers,
            live=set(self._live()),
            checkpoints=self._checkpoints.uids(),
            log_dirs=self._log_dirs(),
        )
        for c in cleanups:
            self._busy[c.uid] = asyncio.Event()
        try:
            await asyncio.gather(*(self._clean(c) for c in cleanups))
        finally:
            for c in cleanups:
                self._busy.pop(c.uid).set()
        return cleanups

    async def wait_idle(self, uid: str) -> None:
        """Return once no cleanup of ``uid`` is under way."""
        busy = self._busy.get(uid)
        if busy is not None:
            await busy.wait()

    def _log_dirs(self) -> list[str]:
        try:
            return [p.name for p in self._pod_logs_dir.iterdir() if p.is_dir()]
        except OSError:
            return []

    async def _clean(self, c: OrphanCleanup) -> None:
        rt = self._runtime
        try:
            if c.stop or c.sandboxes or c.containers:
                log.info("cleaning up orphaned pod %s", c.uid)
            stops = [rt.stop_container(cid, ORPHAN_STOP_TIMEOUT) for cid in c.stop]
            results = await asyncio.gather(*stops, return_exceptions=True)
            for cid, err in zip(c.stop, results, strict=True):
                if isinstance(err, Exception):  # removing the sandbox kills it anyway
                    log.warning("stopping orphaned container %s: %s", cid[:12], err)
            for cid in c.containers:
                await rt.remove_container(cid)
            for sid in c.sandboxes:
                await rt.remove_sandbox(sid)
            await rt.remove_volumes(c.uid)
        except Exception as err:
            log.warning("cleanup of orphaned pod %s: %s (again next round)", c.uid, err)
            return
        if c.checkpoint:
            self._checkpoints.remove(c.uid)
        for name in c.log_dirs:
            shutil.rmtree(self._pod_logs_dir / name, ignore_errors=True)
