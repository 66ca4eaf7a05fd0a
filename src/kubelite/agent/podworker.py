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
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelite.agent import eventtext, lifecycle, termination, termmessage, volumerefresh
from kubelite.agent.actions import StartFailure
from kubelite.agent.backoff import BackoffState
from kubelite.agent.checkpoint import BackoffCheckpoints
from kubelite.agent.claims import resolve_claims
from kubelite.agent.containerstatus import started_instances
from kubelite.agent.dnsconfig import ClusterDNS
from kubelite.agent.envvars import ConfigError, NodeFacts, Objects, referenced_objects
from kubelite.agent.ephemeral import find_container
from kubelite.agent.eventtext import Event
from kubelite.agent.eviction import EVICTION_GRACE
from kubelite.agent.eviction import REASON as EVICTED
from kubelite.agent.executing import Executor, HookRunner
from kubelite.agent.lifecyclewrap import recording_hooks, recording_probe, recording_runtime
from kubelite.agent.nodepolicy import NodePolicy
from kubelite.agent.observed import ObservedPod
from kubelite.agent.phase import deadline_at
from kubelite.agent.planning import ERROR_PERIOD, plan_pod, resync_interval
from kubelite.agent.podstatus import StatusFacts, pod_status, with_api_conditions
from kubelite.agent.podvolumes import TokenKey, VolumeError, token_requests
from kubelite.agent.probing import Mechanism, PodProbes
from kubelite.agent.sources import NodeClient
from kubelite.agent.timers import wait_event
from kubelite.clock import Clock
from kubelite.images.interface import ImageService
from kubelite.model.pod import TERMINAL_PHASES, PodSpec, parse_time
from kubelite.runtime.interface import ContainerState, Runtime, RuntimeError_
from kubelite.runtime.logs import LogOptions, read_log

log = logging.getLogger(__name__)

SANDBOX_RETRY = 0.5  # the first retry of a sandbox or volume that could not be made


def needs_sync(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a newer version of a pod from the source calls for a sync (SYNC-1).

    As the kubelet's pod config does: a change of the spec, the labels or annotations, or the
    deletion marks is an update; a change of the status alone is not (it is mostly the
    agent's own write coming back through the watch, and a sync for it would post every
    BackOff twice, BO-6), unless it changes a readiness gate's condition, which the pod's
    Ready condition is made from (CO-5)."""
    if volumerefresh.metadata_changed(old, new):
        return True
    before, after = old.get("metadata") or {}, new.get("metadata") or {}
    for key in ("deletionTimestamp", "deletionGracePeriodSeconds"):
        if before.get(key) != after.get(key):
            return True
    if old.get("spec") != new.get("spec"):
        return True
    return _gate_conditions(old) != _gate_conditions(new)


def _gate_conditions(pod: dict[str, Any]) -> dict[str, Any]:
    gates = {g.get("conditionType") for g in (pod.get("spec") or {}).get("readinessGates") or ()}
    conditions = (pod.get("status") or {}).get("conditions") or ()
    return {c.get("type"): c.get("status") for c in conditions if c.get("type") in gates}


def sandbox_retry_delay(failures: int) -> float:
    """How long after the ``failures``-th failed sandbox (or volume) set-up in a row the next
    attempt is made: 0.5 s doubling, as the kubelet's volume operations back off, and never
    later than an errored sync's resync (SYNC-1). A ConfigMap that appears a second later is
    mounted a second later; a plugin that keeps failing is tried every 10 s, not in a loop."""
    return min(ERROR_PERIOD, SANDBOX_RETRY * 2.0 ** max(0, failures - 1))


def _earliest(*delays: float | None) -> float | None:
    known = [d for d in delays if d is not None]
    return min(known) if known else None


def _deadline_reached(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """PH-4: this status is the first to fail the pod for its active deadline."""
    reason = eventtext.DEADLINE_REASON
    return after.get("reason") == reason and before.get("reason") != reason


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
    cluster_dns: ClusterDNS = field(default_factory=ClusterDNS)  # none: pods use the node's
    policy: NodePolicy = field(default_factory=NodePolicy)  # the node's pids and seccomp
    # where in its range each resync timer falls, in [0, 1) (SYNC-1); tests pin it
    jitter: Callable[[], float] = random.random


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
        self._sandbox_failures = 0  # failed sandbox set-ups in a row
        self._messages: dict[str, str] = {}
        self._grace: int | None = None
        self._eviction = ""  # the message of the eviction that ended the pod (PH-5)
        self._wake = asyncio.Event()
        self._seen: dict[str, ContainerState] = {}  # container ID -> state at the last look
        self._resync = 0.0
        self._volumes_at: float | None = None  # monotonic time of the last volume write
        self._metadata_moved = False  # labels or annotations changed since then (VOL-9)
        self._syncing: asyncio.Future[float] | None = None
        self.done = asyncio.Event()
        self._record = lifecycle.recorder_for(deps.client, pod)  # the pod's lifecycle record
        self._probes = PodProbes(
            clock=deps.clock, mechanism=recording_probe(deps.probe, self._record),
            emit=self._emit, poke=self.wake,
        )  # fmt: skip
        self._executor = Executor(
            runtime=recording_runtime(deps.runtime, self._record, deps.clock),
            images=deps.images, clock=deps.clock, hooks=recording_hooks(deps.hooks, self._record),
            node=deps.node, pod_logs_dir=deps.pod_logs_dir, emit=self._emit,
            objects=self._objects, cluster_dns=deps.cluster_dns, tokens=self._volume_tokens,
            claims=lambda: resolve_claims(self.pod, deps.client), policy=deps.policy,
        )  # fmt: skip

    # ------------------------------------------------------------------ inputs

    def update(self, pod: dict[str, Any]) -> None:
        """A newer version of the pod from the source (spec change, deletion, or a status
        write, which is kept but is no reason to sync: ``needs_sync``)."""
        before, self.pod = self.pod, pod
        self._record.pod_updated(pod)
        if volumerefresh.metadata_changed(before, pod):
            self._metadata_moved = True
        if not needs_sync(before, pod):
            return
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

    def evict(self, message: str) -> None:
        """PH-5 / VOL-3: the node evicts the pod (the caller has posted the Evicted event):
        from the next sync on its phase is Failed with reason Evicted and this message, and
        its containers are stopped with the eviction's grace period."""
        if self._eviction:
            return
        self._eviction = message
        self._grace = EVICTION_GRACE if self._grace is None else min(self._grace, EVICTION_GRACE)
        self.wake()

    @property
    def evicted(self) -> bool:
        return bool(self._eviction)

    def unseen(self, states: dict[str, ContainerState]) -> bool:
        """Whether any of these containers (ID -> state, as the runtime has them now) is in a
        state this worker's last look at the runtime did not show: the relist's and the exit
        events' test, so that a change the worker has handled costs no second sync (one more
        BackOff event each, BO-6)."""
        return any(self._seen.get(cid) is not state for cid, state in states.items())

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
            return resync_interval(failed=True, jitter=self._deps.jitter())  # SYNC-1
        except Exception:
            log.exception("sync of %s failed", self._name())
            return resync_interval(failed=True, jitter=self._deps.jitter())
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
        if _deadline_reached(self._status, status):
            await self._emit(eventtext.deadline_exceeded())  # PH-4
        await self._publish(status)
        if spec.being_deleted:
            self._grace = termination.deletion_grace(spec, self._grace)  # TERM-1
            if self._eviction:
                self._grace = min(self._grace, EVICTION_GRACE)
        plan = plan_pod(
            spec, observed, probes, self._backoff, now,
            phase=status["phase"], grace_override=self._grace,
        )  # fmt: skip
        self._record.planned(plan, deleting=spec.being_deleted, evicted=bool(self._eviction))
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
        if result.sandbox_failed:
            self._sandbox_failures += 1
            return sandbox_retry_delay(self._sandbox_failures)
        self._sandbox_failures = 0
        await self._refresh_volumes(spec, plan.terminating, sandbox, result.sandbox_id)
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
        # SYNC-1 / BO-6 / BO-9: a sync with a failed or backed-off start counts as an error:
        # look again within 10-15 s (an image pull back-off has no timer of its own), and at
        # once when a back-off or the active deadline (PH-4) runs out before that.
        wake_by = _earliest(plan.resync_after, self._deadline_in(spec, status))
        failed = bool(result.failures or plan.start_failures)
        return resync_interval(failed=failed, jitter=self._deps.jitter(), wake_by=wake_by)

    def _deadline_in(self, pod: PodSpec, status: dict[str, Any]) -> float | None:
        """PH-4: seconds until ``activeDeadlineSeconds`` runs out, for a pod still running."""
        start = status.get("startTime")
        if status.get("phase") in TERMINAL_PHASES or not isinstance(start, str):
            return None
        at = deadline_at(pod, parse_time(start))
        return None if at is None else at - self._deps.clock.now()

    # ------------------------------------------------------------------ steps

    async def _refresh_volumes(
        self, spec: PodSpec, terminating: bool, before: str | None, after: str | None
    ) -> None:
        """VOL-9 / SA-5: a running pod's ConfigMap, Secret, downward API and projected volumes
        are written again a minute after the last write at the earliest, and at once when its
        labels or annotations moved (``volumerefresh``)."""
        if after is None or terminating or spec.being_deleted:
            return
        now = self._deps.clock.monotonic()
        moved = self._metadata_moved
        if after != before:  # the sandbox was made in this sync, and its volumes with it
            self._volumes_at, self._metadata_moved = now, False
            return
        if not volumerefresh.refresh_due(self._volumes_at, now, metadata_moved=moved):
            return
        self._volumes_at, self._metadata_moved = now, False
        if volumerefresh.refreshed_volumes(self.pod):  # looked at once a minute, not every sync
            await self._executor.refresh_volumes(PodSpec.of(self.pod))  # the newest labels

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
        self._seen = {c.id: c.state for c in containers}
        observed = ObservedPod.for_pod(self.uid, mine, containers)
        self._record.observed(observed)
        return observed

    def _previous(self) -> dict[str, Any]:
        return with_api_conditions(self._status, self.pod.get("status") or {})

    def _facts(self) -> StatusFacts:
        return StatusFacts(
            previous=self._previous(),
            start_failures=dict(self._failures),
            termination_messages=dict(self._messages),
            host_ip=self._deps.node.host_ip,
            reason=EVICTED if self._eviction else "",
            message=self._eviction,
        )

    async def _publish(self, status: dict[str, Any]) -> None:
        self._status = status
        self._record.status(status)
        if status != self._published:
            self._published = copy.deepcopy(status)
            await self._deps.client.write_status(self.pod, status)
        self._probes.published(started_instances(status))  # PR-5: probes go by this status

    def _read_messages(self, pod: PodSpec, observed: ObservedPod) -> None:
        """TM-2: read each exited instance's termination message once (and forget those of
        instances the container GC has removed)."""
        present = {c.id for c in observed.containers}
        self._messages = {k: v for k, v in self._messages.items() if k in present}
        for c in observed.containers:
            if c.state is not ContainerState.EXITED or c.id in self._messages:
                continue
            spec = find_container(pod, c.name)
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
                try:
                    tail = read_log(c.log_path, LogOptions(tail=termmessage.LOG_LINES))
                except OSError as err:
                    text = termmessage.log_error(err.strerror or str(err))
                else:
                    text = termmessage.from_logs(tail.decode(errors="replace").splitlines())
            self._messages[c.id] = text

    async def _finish(self, pod: PodSpec) -> None:
        """TERM-4: every container stopped: final status, remove everything, release the
        object."""
        observed = await self._observe()
        status = pod_status(
            pod, observed, self._probes.results(),
            StatusFacts(previous=self._previous(), start_failures=dict(self._failures),
                        termination_messages=dict(self._messages), terminal=True,
                        host_ip=self._deps.node.host_ip,
                        reason=EVICTED if self._eviction else "", message=self._eviction),
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
        self._record.finished()
        await self._deps.client.finish_deletion(self.pod)
        self.done.set()

    async def _objects(self) -> Objects:
        ns = self.pod["metadata"].get("namespace", "default")
        cm_names, secret_names = referenced_objects(self.pod)
        client = self._deps.client
        cms = {n: o for n in cm_names if (o := await client.get_configmap(ns, n)) is not None}
        secrets = {n: o for n in secret_names if (o := await client.get_secret(ns, n)) is not None}
        services = tuple(await client.services(ns))
        return Objects(configmaps=cms, secrets=secrets, services=services)

    async def _volume_tokens(self) -> dict[TokenKey, str]:
        """The tokens the pod's projected volumes need, from the TokenRequest API, bound to
        this pod (the client keeps them and gives them again while they are good). A token
        that cannot be had fails the volume that asked for it first."""
        meta, spec = self.pod["metadata"], self.pod.get("spec") or {}
        namespace = str(meta.get("namespace") or "default")
        account = str(spec.get("serviceAccountName") or "default")
        out: dict[TokenKey, str] = {}
        for key, volume in token_requests(self.pod).items():
            try:
                grant = await self._deps.client.request_token(
                    namespace, account,
                    audiences=(key.audience,) if key.audience else (),
                    expiration_seconds=key.expiration_seconds,
                    pod_name=str(meta.get("name") or ""), pod_uid=self.uid,
                )  # fmt: skip
            except ConfigError as err:
                raise VolumeError(volume, str(err)) from err
            out[key] = grant.token
        return out

    async def _emit(self, event: Event) -> None:
        self._record.event(event)
        await self._deps.client.emit(self.pod, event)

    def _name(self) -> str:
        meta = self.pod["metadata"]
        return f"{meta.get('namespace')}/{meta.get('name')}"
