"""Carrying out a PodPlan against the runtime (the kubelet's SyncPod after computePodActions).

The plan decided; this module only acts, in the order SYNC-4 lays down, and reports what
happened as facts for the next sync: start failures by container name (CS-3), the new sandbox,
and whether anything changed. Events are posted as each step happens (EV-*).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from kubelite.agent import eventtext, termination, volumerefresh
from kubelite.agent.actions import (
    BackedOff,
    CreateSandbox,
    KillPod,
    PodPlan,
    PruneContainers,
    RemoveSandboxes,
    StartContainer,
    StartFailure,
    StopContainer,
)
from kubelite.agent.backoff import BackoffState
from kubelite.agent.claims import Claims
from kubelite.agent.containerconfig import build_container_config
from kubelite.agent.dnsconfig import ClusterDNS, parse_resolv_conf
from kubelite.agent.envvars import ConfigError, NodeFacts, Objects
from kubelite.agent.ephemeral import EphemeralSpec, find_container, joins_target, target_missing
from kubelite.agent.eventtext import Event
from kubelite.agent.imagepulling import ensure_image
from kubelite.agent.nodepolicy import NodePolicy
from kubelite.agent.podvolumes import Tokens, failed_mount_event, fs_group, pod_volumes
from kubelite.agent.sandboxconfig import HostnameError, build_sandbox_config
from kubelite.agent.termmessage import restart_count_from_logs
from kubelite.agent.timers import deadline
from kubelite.clock import Clock
from kubelite.images.interface import ImageService
from kubelite.model.objects import JSON
from kubelite.model.pod import ContainerSpec, PodSpec
from kubelite.runtime.interface import FilesVolume, Runtime, RuntimeError_
from kubelite.runtime.logs import pod_log_dir

log = logging.getLogger(__name__)

HOST_RESOLV_CONF = Path("/etc/resolv.conf")  # the kubelet's --resolv-conf

Emit = Callable[[Event], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class HookOutcome:
    ok: bool
    message: str = ""  # the detailed handler message on failure (HK-3, HK-6, HK-7)
    events: tuple[Event, ...] = ()


class HookRunner(Protocol):
    async def run(
        self, pod: PodSpec, container: ContainerSpec, container_id: str, handler: JSON
    ) -> HookOutcome: ...


@dataclass(slots=True)
class ExecutionResult:
    # The runtime has something new to show (a container, a stop, a sandbox). A start that
    # failed before create (back-off, image, config) changes nothing: no immediate re-sync.
    changed: bool = False
    sandbox_id: str | None = None
    failures: dict[str, StartFailure] = field(default_factory=dict)
    cleared: set[str] = field(default_factory=set)  # names whose start succeeded
    sandbox_failed: bool = False  # the sandbox (or a volume of it) could not be made
    backoff: BackoffState = field(default_factory=BackoffState)


@dataclass(slots=True)
class Executor:
    runtime: Runtime
    images: ImageService
    clock: Clock
    hooks: HookRunner
    node: NodeFacts
    pod_logs_dir: Path
    emit: Emit
    objects: Callable[[], Awaitable[Objects]]
    cluster_dns: ClusterDNS = field(default_factory=ClusterDNS)
    # the serviceAccountToken sources' tokens (``podvolumes.token_requests``); None: no tokens
    tokens: Callable[[], Awaitable[Tokens]] | None = None
    # the pod's PersistentVolumeClaims, resolved (``claims.resolve_claims``); None: none
    claims: Callable[[], Awaitable[Claims]] | None = None
    host_resolv: Path = HOST_RESOLV_CONF
    policy: NodePolicy = field(default_factory=NodePolicy)

    # ------------------------------------------------------------------ the plan

    async def execute(
        self, pod: PodSpec, plan: PodPlan, sandbox_id: str | None, backoff: BackoffState
    ) -> ExecutionResult:
        result = ExecutionResult(sandbox_id=sandbox_id, backoff=backoff)
        skip_starts = False
        for action in plan.actions:
            if isinstance(action, KillPod):
                await self.kill_pod(pod, action)
                result.changed = True
            elif isinstance(action, StopContainer):
                await self.stop_all(pod, (action,))
                result.changed = True
            elif isinstance(action, PruneContainers):
                await self.prune(pod, action)
            elif isinstance(action, RemoveSandboxes):
                await self.remove_sandboxes(pod, action)
            elif isinstance(action, CreateSandbox):
                new_id = await self.create_sandbox(pod, action)
                if new_id is None:
                    # FailedCreatePodSandBox / FailedMount: nothing new in the runtime; the
                    # worker retries with a back-off
                    result.sandbox_failed = True
                    return result
                result.changed = True
                result.sandbox_id = new_id
            elif isinstance(action, BackedOff):
                await self.emit(action.event)
                result.failures[action.name] = action.failure
            elif isinstance(action, StartContainer) and not skip_starts:
                ok = await self.start(pod, action, result)
                if not ok and action.abort_on_failure:
                    skip_starts = True  # SYNC-6: a regular init container failed to start
        return result

    # ------------------------------------------------------------------ removing (SYNC-4 (b))

    async def prune(self, pod: PodSpec, action: PruneContainers) -> None:
        """Remove each dead instance, then its log file (the kubelet's removeContainer takes
        the container's log with it), only inside this pod's log folder; a missing file is
        fine. Best effort, like the kubelet's GC: an instance that could not be removed keeps
        its log and is still in the next snapshot, so it is tried again then."""
        folder = self._pod_log_dir(pod).resolve()
        for dead in action.containers:
            try:
                await self.runtime.remove_container(dead.id)
            except RuntimeError_ as err:
                log.warning("removing container %s of %s: %s", dead.id[:12], pod.full_name, err)
                continue
            if dead.log_path is None:
                continue
            path = dead.log_path.resolve()
            if path == folder or not path.is_relative_to(folder):
                continue
            try:
                path.unlink(missing_ok=True)
            except OSError as err:
                log.warning("removing log %s of %s: %s", path, pod.full_name, err)

    async def remove_sandboxes(self, pod: PodSpec, action: RemoveSandboxes) -> None:
        for sid in action.sandbox_ids:
            try:
                await self.runtime.remove_sandbox(sid)
            except RuntimeError_ as err:
                log.warning("removing sandbox %s of %s: %s", sid[:12], pod.full_name, err)

    def _pod_log_dir(self, pod: PodSpec) -> Path:
        return pod_log_dir(self.pod_logs_dir, pod.namespace, pod.name, pod.uid)

    # ------------------------------------------------------------------ sandbox

    async def create_sandbox(self, pod: PodSpec, action: CreateSandbox) -> str | None:
        for event in action.events:
            await self.emit(event)
        try:
            objects = await self.objects()
            tokens = await self.tokens() if self.tokens is not None else {}
            claims = await self.claims() if self.claims is not None else {}
            volumes = pod_volumes(pod, objects, self.node, tokens, claims)
            await self.runtime.prepare_volumes(pod.uid, volumes, fs_group=fs_group(pod.raw))
        except (ConfigError, RuntimeError_) as err:
            await self.emit(failed_mount_event(err))
            return None
        try:
            plan = build_sandbox_config(
                pod, action.attempt, node_name=self.node.node_name,
                cluster_dns=self.cluster_dns, host_dns=parse_resolv_conf(_read(self.host_resolv)),
                pids_limit=self.policy.pod_max_pids,
            )  # fmt: skip
        except HostnameError as err:
            await self.emit(eventtext.failed_create_sandbox(str(err)))
            return None
        for reason, message in plan.warnings:
            await self.emit(eventtext.dns_warning(pod, reason, message))
        try:
            return await self.runtime.run_sandbox(plan.config)
        except RuntimeError_ as err:
            await self.emit(eventtext.failed_create_sandbox(str(err)))
            return None

    async def refresh_volumes(self, pod: PodSpec) -> None:
        """VOL-9 / SA-5: write the pod's ConfigMap, Secret, downward API and projected volumes
        again from the objects (and the pod) as they are now; the runtime swaps a volume's
        files atomically, and only when they changed. A failure (a required ConfigMap
        deleted, say) leaves the files as they were and is told as FailedMount."""
        only = PodSpec.of(volumerefresh.with_refreshed_volumes_only(pod.raw))
        try:
            objects = await self.objects()
            tokens = await self.tokens() if self.tokens is not None else {}
            volumes = [v for v in pod_volumes(only, objects, self.node, tokens)
                       if isinstance(v, FilesVolume)]  # fmt: skip
            await self.runtime.prepare_volumes(pod.uid, volumes, fs_group=fs_group(pod.raw))
        except (ConfigError, RuntimeError_) as err:
            await self.emit(failed_mount_event(err))

    # ------------------------------------------------------------------ starting (SYNC-5)

    async def start(self, pod: PodSpec, action: StartContainer, result: ExecutionResult) -> bool:
        spec = find_container(pod, action.name)
        if spec is None or result.sandbox_id is None:
            return False
        emit = self.emit
        pulled = await ensure_image(
            images=self.images, container=spec, pod_uid=pod.uid, state=result.backoff,
            clock=self.clock, emit=emit,
        )  # fmt: skip
        result.backoff = pulled.backoff
        if not pulled.ok:
            assert pulled.failure is not None
            result.failures[spec.name] = pulled.failure
            return False
        attempt = action.attempt
        if attempt is None:
            attempt = self._attempt_from_logs(pod, spec)
        labels = dict(action.labels)
        pid_target = ""
        if isinstance(spec, EphemeralSpec) and spec.target:
            if not action.target_id:  # the kubelet's getTargetID, after the image
                detail = target_missing(spec)
                await emit(eventtext.failed(spec, detail))
                result.failures[spec.name] = StartFailure("CreateContainerConfigError", detail)
                return False
            if joins_target(pod):
                pid_target = action.target_id
        try:
            node = await self._node_for(pod, result.sandbox_id)
            config = build_container_config(
                pod=pod, container=spec, attempt=attempt, objects=await self.objects(),
                node=node, pod_logs_dir=self.pod_logs_dir, labels=labels, policy=self.policy,
            )  # fmt: skip
            if pid_target:
                config = replace(config, pid_target=pid_target)
            cid = await self.runtime.create_container(result.sandbox_id, config)
            result.changed = True  # only now is there something new to observe
        except (ConfigError, RuntimeError_) as err:
            reason = getattr(err, "reason", "CreateContainerError")
            await emit(eventtext.failed(spec, str(err)))
            result.failures[spec.name] = StartFailure(reason, str(err))
            return False
        await emit(eventtext.created(spec))
        try:
            await self.runtime.start_container(cid)
        except RuntimeError_ as err:
            await emit(eventtext.failed(spec, str(err)))
            result.failures[spec.name] = StartFailure(err.reason, str(err))
            return False
        await emit(eventtext.started(spec))
        result.failures.pop(spec.name, None)
        result.cleared.add(spec.name)
        if spec.post_start is not None:
            return await self._post_start(pod, spec, cid, result)
        return True

    async def _post_start(
        self, pod: PodSpec, spec: ContainerSpec, cid: str, result: ExecutionResult
    ) -> bool:
        """HK-2/HK-3: wait for postStart; on failure kill the container through the normal
        kill path (its preStop runs within the grace, as the kubelet's killContainer runs it)
        and record why."""
        assert spec.post_start is not None
        outcome = await self.hooks.run(pod, spec, cid, spec.post_start)
        for event in outcome.events:
            await self.emit(event)
        if outcome.ok:
            return True
        status = await self.runtime.container_status(cid)
        stop, failure, events = termination.post_start_failed(pod, spec, status, outcome.message)
        for event in events:
            await self.emit(event)
        await self.stop_all(pod, (stop,))
        result.failures[spec.name] = failure
        result.cleared.discard(spec.name)
        return False

    async def _node_for(self, pod: PodSpec, sandbox_id: str) -> NodeFacts:
        """The node's facts with this pod's IP, for the downward API (VOL-9)."""
        mine = await self.runtime.list_sandboxes(pod.uid)
        ip = next((s.ip for s in mine if s.id == sandbox_id), None)
        if not ip and pod.host_network:
            ip = self.node.host_ip
        return replace(self.node, pod_ip=ip or "")

    def _attempt_from_logs(self, pod: PodSpec, spec: ContainerSpec) -> int:
        """SYNC-7: no earlier instance: highest ``<n>.log`` of the container + 1, else 0."""
        folder = self._pod_log_dir(pod) / spec.name
        try:
            names = [p.name for p in folder.iterdir()]
        except FileNotFoundError:
            return 0
        return restart_count_from_logs(names)

    # ------------------------------------------------------------------ stopping (TERM-2)

    async def kill_pod(self, pod: PodSpec, action: KillPod) -> None:
        await self.stop_all(pod, action.stops)
        for sid in action.sandbox_ids:
            await self.runtime.stop_sandbox(sid)

    async def stop_all(self, pod: PodSpec, stops: tuple[StopContainer, ...]) -> None:
        """Every stop at once; each waits for its turn per SC-11 within its grace."""
        exited = {s.name: asyncio.Event() for s in stops}

        async def one(stop: StopContainer) -> None:
            try:
                await self._stop_one(pod, stop, exited)
            finally:
                exited[stop.name].set()

        await asyncio.gather(*(one(s) for s in stops))

    async def _stop_one(
        self, pod: PodSpec, stop: StopContainer, exited: dict[str, asyncio.Event]
    ) -> None:
        await self.emit(stop.event)  # TERM-2 step 1: Killing comes before the hook
        began = self.clock.monotonic()
        spec = find_container(pod, stop.name)
        if termination.runs_pre_stop(stop) and spec and spec.pre_stop:
            try:
                async with deadline(self.clock, stop.grace_seconds):
                    outcome = await self.hooks.run(pod, spec, stop.container_id, spec.pre_stop)
                for event in outcome.events:
                    await self.emit(event)
                if not outcome.ok:
                    await self.emit(eventtext.failed_pre_stop(spec))  # HK-4
            except TimeoutError:
                pass
        pre_stop = self.clock.monotonic() - began
        waited = 0.0
        waits = [exited[n].wait() for n in stop.wait_for if n in exited]
        if waits:  # SC-11 step 3, bounded by what is left of the grace
            budget = termination.wait_budget(stop.grace_seconds, pre_stop)
            t0 = self.clock.monotonic()
            try:
                async with deadline(self.clock, budget):
                    await asyncio.gather(*waits)
            except TimeoutError:
                pass
            waited = self.clock.monotonic() - t0
        timeout = termination.stop_timeout(stop.grace_seconds, pre_stop, waited)
        try:
            await self.runtime.stop_container(stop.container_id, timeout)
        except RuntimeError_ as err:
            log.warning("stopping %s of %s: %s", stop.name, pod.full_name, err)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
