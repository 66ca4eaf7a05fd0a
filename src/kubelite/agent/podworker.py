"""One pod's worker: observe, work out the status, plan, act — again on every change.

This is the kubelet's per-pod goroutine. Each sync takes a snapshot of the pod's sandboxes and
containers (BO-2a), computes the API status first (SYNC-2) and publishes it if it changed, then
asks the pure planner what to do and has the executor do it. It wakes on runtime events for
its containers, probe results that changed, spec updates, and a timer (SYNC-1; BO-6 while in
back-off). A deleted pod's worker ends once every container has stopped and the final status
is written (TERM-4).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelite.agent import termination, termmessage
from kubelite.agent.actions import StartFailure
from kubelite.agent.backoff import BackoffState
from kubelite.agent.checkpoint import BackoffCheckpoints
from kubelite.agent.envvars import NodeFacts, Objects, referenced_objects
from kubelite.agent.eventtext import Event
from kubelite.agent.executing import Executor, HookRunner
from kubelite.agent.observed import ObservedPod
from kubelite.agent.planning import plan_pod
from kubelite.agent.podstatus import StatusFacts, pod_status
from kubelite.agent.probing import Mechanism, PodProbes
from kubelite.agent.sources import NodeClient
from kubelite.agent.timers import wait_event
from kubelite.clock import Clock
from kubelite.images.interface import ImageService
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import ContainerState, Runtime, RuntimeError_
from kubelite.runtime.logs import LogOptions, read_log

log = logging.getLogger(__name__)

IDLE_RESYNC = 60.0  # SYNC-1: the periodic sync of a quiet pod
ERROR_RESYNC = 10.0  # SYNC-1: after a sync that ended in an error


@dataclass(frozen=True, slots=True)
class WorkerDeps:
    """What every pod worker shares: the node's capabilities, handed in once."""

    runtime: Runtime
    images: ImageService
    client: NodeClient
    clock: Clock
    hooks: HookRunner
    probe: Mechanism
    node: NodeFacts
    pod_logs_dir: Path
    checkpoints: BackoffCheckpoints | None = None  # None: back-off lives in memory only


class PodWorker:
    def __init__(self, deps: WorkerDeps, pod: dict[str, Any]) -> None:
        self._deps = deps
        self.pod = pod
        self.uid: str = pod["metadata"]["uid"]
        self._status: dict[str, Any] = copy.deepcopy(pod.get("status") or {})
        self._published: dict[str, Any] | None = None
        # SYNC-3 / BO-1: a worker of a restarted agent goes on from the pod's saved back-off.
        checkpoints = deps.checkpoints
        self._backoff = checkpoints.load(self.uid) if checkpoints else BackoffState()
        self._saved_backoff = self._backoff
        self._failures: dict[str, StartFailure] = {}
        self._messages: dict[str, str] = {}
        self._grace: int | None = None
        self._wake = asyncio.Event()
        self._resync = 0.0
        self._syncing: asyncio.Future[float] | None = None
        self.done = asyncio.Event()
        self._probes = PodProbes(
            clock=deps.clock, mechanism=deps.probe, emit=self._emit, poke=self.wake
        )
        self._executor = Executor(
            runtime=deps.runtime, images=deps.images, clock=deps.clock, hooks=deps.hooks,
            node=deps.node, pod_logs_dir=deps.pod_logs_dir, emit=self._emit,
            objects=self._objects,
        )  # fmt: skip

    # ------------------------------------------------------------------ inputs

    def update(self, pod: dict[str, Any]) -> None:
        """A newer version of the pod from the source (spec change, deletion)."""
        self.pod = pod
        self.wake()
        if self._syncing is not None and self._grace_shortened(pod):
            # TERM-1: a shorter grace (a second delete, a force delete) also applies to the
            # stops under way: drop them; the next sync stops again with the new grace.
            self._syncing.cancel()

    def _grace_shortened(self, pod: dict[str, Any]) -> bool:
        grace = self._grace
        return grace is not None and termination.deletion_grace(PodSpec.of(pod), grace) < grace

    def wake(self) -> None:
        self._wake.set()

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        try:
            while not self.done.is_set():
                await wait_event(self._deps.clock, self._wake, self._resync)  # SYNC-1
                self._wake.clear()
                self._resync = await self._sync_once()
        finally:
            await self._probes.close()

    async def _sync_once(self) -> float:
        """One sync as its own task, so that ``update`` can cut it short; an error in one
        pod's sync must not end the worker (nor, through the agent's TaskGroup, the node)."""
        self._syncing = asyncio.ensure_future(self.sync())
        try:
            return await self._syncing
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the worker itself is being cancelled
            return 0.0  # cut short by ``update``: sync again at once
        except (RuntimeError_, OSError) as err:
            log.warning("sync of %s failed: %s", self._name(), err)
            return ERROR_RESYNC  # SYNC-1
        except Exception:
            log.exception("sync of %s failed", self._name())
            return ERROR_RESYNC
        finally:
            self._syncing = None

    async def sync(self) -> float:
        """One sync; returns how long until the next one at the latest."""
        spec = PodSpec.of(self.pod)
        observed = await self._observe()
        self._read_messages(spec, observed)
        probes = self._probes.results()
        now = self._deps.clock.now()
        status = pod_status(spec, observed, probes, self._facts(), now)
        await self._publish(status)
        if spec.being_deleted:
            self._grace = termination.deletion_grace(spec, self._grace)  # TERM-1
        plan = plan_pod(
            spec, observed, probes, self._backoff, now,
            phase=status["phase"], grace_override=self._grace,
        )  # fmt: skip
        failed_before = dict(self._failures)
        if plan.terminating:
            self._probes.hold_all()  # TERM-5
        self._failures.update(plan.start_failures)
        sandbox = next((s.id for s in observed.sandboxes if s.ready), None)
        result = await self._executor.execute(spec, plan, sandbox, plan.backoff)
        self._backoff = result.backoff
        self._checkpoint()
        for name in result.cleared:
            self._failures.pop(name, None)
        self._failures.update(result.failures)
        if result.changed:
            observed = await self._observe()
        self._probes.update(spec, observed)
        if plan.finished and spec.being_deleted:
            await self._finish(spec)
            return 0.0
        if result.changed:
            return 0.0  # publish what the actions did at once (the PLEG would, ~1 s later)
        if self._failures != failed_before:
            # CS-3 / BO-5: a start that failed or was held back without touching the runtime
            # (back-off, image pull back-off) shows its waiting reason now, not at whatever
            # wakes the worker next.
            status = pod_status(spec, observed, self._probes.results(), self._facts(), now)
            await self._publish(status)
        resync = plan.resync_after if plan.resync_after is not None else IDLE_RESYNC
        if result.failures or plan.start_failures:
            # SYNC-1 / BO-6 / BO-9: a sync with a failed or backed-off start counts as an error:
            # look again within 10 s (an image pull back-off has no timer of its own).
            resync = min(resync, ERROR_RESYNC)
        return resync

    # ------------------------------------------------------------------ steps

    def _checkpoint(self) -> None:
        """Write the back-off table when it changed (read back by ``__init__``)."""
        if self._deps.checkpoints is not None and self._backoff != self._saved_backoff:
            self._deps.checkpoints.save(self.uid, self._backoff)
            self._saved_backoff = self._backoff

    async def _observe(self) -> ObservedPod:
        """This pod's sandboxes, and the containers of those sandboxes only: asking the runtime
        for every container on the node on each sync made a burst of pods cost O(pods²)."""
        rt = self._deps.runtime
        mine = ObservedPod.for_pod(self.uid, await rt.list_sandboxes(self.uid), ()).sandboxes
        containers = [c for s in mine for c in await rt.list_containers(s.id)]
        return ObservedPod.for_pod(self.uid, mine, containers)

    def _facts(self) -> StatusFacts:
        return StatusFacts(
            previous=self._status,
            start_failures=dict(self._failures),
            termination_messages=dict(self._messages),
            host_ip=self._deps.node.host_ip,
        )

    async def _publish(self, status: dict[str, Any]) -> None:
        self._status = status
        if status != self._published:
            self._published = copy.deepcopy(status)
            await self._deps.client.write_status(self.pod, status)

    def _read_messages(self, pod: PodSpec, observed: ObservedPod) -> None:
        """TM-2: read each exited instance's termination message once (and forget those of
        instances the container GC has removed)."""
        present = {c.id for c in observed.containers}
        self._messages = {k: v for k, v in self._messages.items() if k in present}
        for c in observed.containers:
            if c.state is not ContainerState.EXITED or c.id in self._messages:
                continue
            spec = pod.container(c.name)
            policy = str((spec.raw if spec else {}).get("terminationMessagePolicy") or "File")
            text = ""
            if c.termination_message_file is not None:
                try:
                    text = termmessage.from_file(c.termination_message_file.read_bytes())
                except FileNotFoundError:
                    text = ""
                except OSError as err:
                    path = str(c.termination_message_file)
                    text = termmessage.file_error(path, err.strerror or str(err))
            if termmessage.wants_logs(policy, c.exit_code or 0, c.reason, text):
                lines = read_log(c.log_path, LogOptions(tail=termmessage.LOG_LINES)).decode(
                    errors="replace"
                )
                text = termmessage.from_logs(lines.splitlines())
            self._messages[c.id] = text

    async def _finish(self, pod: PodSpec) -> None:
        """TERM-4: every container stopped: final status, remove everything, release the
        object."""
        observed = await self._observe()
        status = pod_status(
            pod, observed, self._probes.results(),
            StatusFacts(previous=self._status, start_failures=dict(self._failures),
                        termination_messages=dict(self._messages), terminal=True,
                        host_ip=self._deps.node.host_ip),
            self._deps.clock.now(),
        )  # fmt: skip
        await self._publish(status)
        rt = self._deps.runtime
        for sandbox in observed.sandboxes:
            await rt.remove_sandbox(sandbox.id)
        for c in observed.containers:
            await rt.remove_container(c.id)
        await rt.remove_volumes(self.uid)
        if self._deps.checkpoints is not None:
            self._deps.checkpoints.remove(self.uid)
        await self._deps.client.finish_deletion(self.pod)
        self.done.set()

    async def _objects(self) -> Objects:
        ns = self.pod["metadata"].get("namespace", "default")
        cm_names, secret_names = referenced_objects(self.pod)
        client = self._deps.client
        cms = {n: o for n in cm_names if (o := await client.get_configmap(ns, n)) is not None}
        secrets = {n: o for n in secret_names if (o := await client.get_secret(ns, n)) is not None}
        return Objects(configmaps=cms, secrets=secrets)

    async def _emit(self, event: Event) -> None:
        await self._deps.client.emit(self.pod, event)

    def _name(self) -> str:
        meta = self.pod["metadata"]
        return f"{meta.get('namespace')}/{meta.get('name')}"
