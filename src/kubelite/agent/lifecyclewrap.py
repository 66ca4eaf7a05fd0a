"""The executor's and the prober's capabilities, wrapped so that what they do is told to the
pod's lifecycle record (``lifecycle``) at the moment it happens: a sandbox being made and
ready, the stop signal and SIGKILL, a hook's span, each probe result.

The pod worker hands these wrappers to its executor and probes instead of the bare runtime,
hook runner and probe mechanism; with no record (``NO_RECORDER``) it gets the bare ones back.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from kubelite.agent.executing import HookOutcome, HookRunner
from kubelite.agent.lifecycle import LifecycleRecorder
from kubelite.agent.probestate import RawResult
from kubelite.agent.probing import Mechanism
from kubelite.clock import Clock
from kubelite.model.objects import JSON
from kubelite.model.pod import ContainerSpec, PodSpec, ProbeSpec
from kubelite.runtime.interface import (
    ContainerConfig,
    ContainerState,
    ContainerStatus,
    Runtime,
    RuntimeError_,
    SandboxConfig,
)
from kubelite.timeline import record as rec

KILL_SIGNALS = ("SIGKILL", "KILL", "9")
SLACK = 0.05  # seconds: an exit this close to the stop timeout came from its SIGKILL


class RecordingRuntime:
    """The runtime, telling the record about sandboxes and the signals a stop sends. Every
    other method is the runtime's own."""

    def __init__(self, runtime: Runtime, record: LifecycleRecorder, clock: Clock) -> None:
        self._runtime = runtime
        self._record = record
        self._clock = clock
        self._signals: dict[str, str] = {}  # container id -> its configured stop signal

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    async def run_sandbox(self, config: SandboxConfig) -> str:
        self._record.sandbox_creating(config.attempt)
        sandbox_id = await self._runtime.run_sandbox(config)
        self._record.sandbox_ready(config.attempt)
        return sandbox_id

    async def stop_sandbox(self, sandbox_id: str) -> None:
        await self._runtime.stop_sandbox(sandbox_id)
        self._record.sandbox_stopped()

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        container_id = await self._runtime.create_container(sandbox_id, config)
        if config.stop_signal:
            self._signals[container_id] = config.stop_signal
        return container_id

    async def stop_container(self, container_id: str, timeout: float, signal: str = "") -> None:
        """TERM-2 step 5 as the runtime does it: the stop signal now (recorded), then SIGKILL
        if the container has not exited ``timeout`` seconds later (recorded at that moment
        when its exit came no earlier)."""
        before = await self._status(container_id)
        if before is None or before.state is ContainerState.EXITED:
            await self._runtime.stop_container(container_id, timeout, signal)
            return
        sig = signal or self._signals.get(container_id) or "SIGTERM"
        immediate = before.state is not ContainerState.RUNNING or sig.upper() in KILL_SIGNALS
        immediate = immediate or timeout <= 0
        sent = self._record.now()
        self._record.signal_sent(container_id, "SIGKILL" if immediate else sig, sent)
        began = self._clock.now()
        await self._runtime.stop_container(container_id, timeout, signal)
        if immediate:
            return
        after = await self._status(container_id)
        finished = after.finished_at if after is not None else None
        if finished is not None and finished >= began + timeout - SLACK:
            self._record.signal_sent(container_id, "SIGKILL", sent + round(timeout * 1e6))

    async def _status(self, container_id: str) -> ContainerStatus | None:
        try:
            return await self._runtime.container_status(container_id)
        except RuntimeError_:
            return None


def recording_runtime(runtime: Runtime, record: LifecycleRecorder, clock: Clock) -> Runtime:
    """The runtime the executor gets: recording, or the bare one when nothing records."""
    if not record.enabled:
        return runtime
    return cast(Runtime, RecordingRuntime(runtime, record, clock))


def _which(container: ContainerSpec, handler: JSON) -> str:
    if handler is container.post_start or (
        handler == container.post_start and handler != container.pre_stop
    ):
        return rec.POST_START
    return rec.PRE_STOP


class RecordingHooks:
    """The hook runner, recording each hook's span and outcome; a hook cut short (the grace
    period ran out, or the worker stopped) is recorded as such."""

    def __init__(self, hooks: HookRunner, record: LifecycleRecorder) -> None:
        self._hooks = hooks
        self._record = record

    async def run(
        self, pod: PodSpec, container: ContainerSpec, container_id: str, handler: JSON
    ) -> HookOutcome:
        hook = _which(container, handler)
        self._record.hook_started(container.name, hook)
        try:
            outcome = await self._hooks.run(pod, container, container_id, handler)
        except (asyncio.CancelledError, TimeoutError):
            self._record.hook_finished(container.name, hook, rec.HOOK_CUT_SHORT, "")
            raise
        result = rec.HOOK_SUCCEEDED if outcome.ok else rec.HOOK_FAILED
        self._record.hook_finished(container.name, hook, result, outcome.message)
        return outcome


def recording_hooks(hooks: HookRunner, record: LifecycleRecorder) -> HookRunner:
    return RecordingHooks(hooks, record) if record.enabled else hooks


def recording_probe(mechanism: Mechanism, record: LifecycleRecorder) -> Mechanism:
    """The probe mechanism, recording every result it gives (PR-6)."""
    if not record.enabled:
        return mechanism

    async def probe(
        pod: PodSpec, spec: ContainerSpec, probe: ProbeSpec, status: ContainerStatus
    ) -> RawResult:
        raw = await mechanism(pod, spec, probe, status)
        if raw.error is not None:
            result, message = rec.ERROR, raw.error
        else:
            result, message = raw.outcome.value, raw.output
        record.probe_result(spec.name, probe.type, status.attempt, result, message.strip())
        return raw

    return probe
