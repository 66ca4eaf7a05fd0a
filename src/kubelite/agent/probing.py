"""Probe workers of one pod: one task per (container, probe type), ticking every period.

The decisions (skip or probe, thresholds, what a result means) are ``probestate``'s, pure;
the mechanism (exec, HTTP, TCP, gRPC) is handed in. This module only keeps time and state:
it runs a tick, records the raw result, posts the events, and pokes the pod worker when a
committed result changes (SYNC-1).

Whether a container has started is read from the status the pod worker last wrote
(``published``), as the kubelet's workers read it from its status manager (PR-5): a startup
probe's success first reaches the API as ``started: true, ready: false``, and only then may
the readiness probe run (at once) and make the container ready in a second write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from kubelite.agent import probestate
from kubelite.agent.eventtext import Event
from kubelite.agent.observed import ObservedPod
from kubelite.agent.probestate import ProbeResults, ProbeWorker, RawResult, TickDecision
from kubelite.agent.timers import wait_event
from kubelite.clock import Clock
from kubelite.model.pod import ContainerSpec, PodSpec, ProbeSpec, ProbeType, RestartPolicy
from kubelite.runtime.interface import ContainerState, ContainerStatus

log = logging.getLogger(__name__)

Mechanism = Callable[[PodSpec, ContainerSpec, ProbeSpec, ContainerStatus], Awaitable[RawResult]]
Key = tuple[str, ProbeType]


class PodProbes:
    def __init__(
        self,
        *,
        clock: Clock,
        mechanism: Mechanism,
        emit: Callable[[Event], Awaitable[None]],
        poke: Callable[[], None],
    ) -> None:
        self._clock = clock
        self._mechanism = mechanism
        self._emit = emit
        self._poke = poke
        self._workers: dict[Key, ProbeWorker] = {}
        self._tasks: dict[Key, asyncio.Task[None]] = {}
        self._kicks: dict[Key, asyncio.Event] = {}
        self._pod: PodSpec | None = None
        self._observed = ObservedPod()
        self._started: frozenset[str] = frozenset()  # instance IDs the last status started

    def results(self) -> ProbeResults:
        return ProbeResults.from_workers(self._workers)

    def update(self, pod: PodSpec, observed: ObservedPod) -> None:
        """After each sync: new snapshot; workers for every probe of the spec (PR-5: made when
        the pod is added; regular init containers get none); new container IDs reset them."""
        self._pod, self._observed = pod, observed
        for spec in pod.all_containers:
            if spec.kind.value == "init":
                continue
            for ptype, probe in spec.probes.items():
                key = (spec.name, ptype)
                worker = self._workers.get(key) or probestate.new_worker(probe)
                if key not in self._kicks:
                    self._kicks[key] = asyncio.Event()  # before the first kick can be lost
                newest = observed.newest(spec.name)
                if newest is not None and newest.id != worker.container_id:
                    worker = probestate.observe_container(worker, newest.id)
                    self._kick(key)  # run the first tick of a new instance without delay
                if pod.being_deleted:
                    worker = probestate.pod_deleting(worker)
                self._workers[key] = worker
                if key not in self._tasks:
                    self._tasks[key] = asyncio.get_running_loop().create_task(
                        self._loop(key), name=f"probe-{pod.name}-{spec.name}-{ptype.value}"
                    )
        self._kick_readiness()

    def published(self, started: frozenset[str]) -> None:
        """The pod worker worked out a status reporting the instances ``started`` as started
        (``containerstatus.started_instances``). An instance that just became started has its
        liveness and readiness workers run at once (PR-5)."""
        before, self._started = self._started, started
        for key, worker in self._workers.items():
            if probestate.due_on_start(worker, before, started):
                self._kick(key)
        if self._pod is not None:
            self._kick_readiness()

    def _kick(self, key: Key) -> None:
        kick = self._kicks.get(key)
        if kick is not None:
            kick.set()

    def _kick_readiness(self) -> None:
        """PR-5: a started, running container with no readiness result is probed at once."""
        assert self._pod is not None
        for (name, ptype), worker in self._workers.items():
            if ptype is not ProbeType.READINESS or worker.container_id is None:
                continue
            status = self._observed.newest(name)
            if status is None:
                continue
            started = status.id in self._started
            running = status.state is ContainerState.RUNNING
            if probestate.needs_immediate_readiness(worker, started=started, running=running):
                self._kick((name, ptype))

    async def _loop(self, key: Key) -> None:
        while True:
            worker = self._workers[key]
            kick = self._kicks[key]
            await wait_event(self._clock, kick, worker.probe.period_seconds)
            kick.clear()
            if not await self._tick(key):
                return

    async def _tick(self, key: Key) -> bool:
        pod, worker = self._pod, self._workers[key]
        assert pod is not None
        spec = pod.container(key[0])
        status = self._observed.newest(key[0])
        if spec is None:
            return False
        started = status is not None and status.id in self._started  # PR-5: as published
        will_restart = spec.is_sidecar or pod.restart_policy is not RestartPolicy.NEVER
        decision = probestate.tick_decision(
            worker, status, started=started, will_restart=will_restart, now=self._clock.now()
        )
        if decision is TickDecision.STOP:
            return False
        if decision is TickDecision.SKIP or status is None:
            return True
        try:
            raw = await self._mechanism(pod, spec, worker.probe, status)
        except Exception as err:  # a bug in a mechanism must not end probing
            log.exception("probe %s of %s", key, pod.full_name)
            raw = RawResult(probestate.Outcome.UNKNOWN, error=str(err))
        current = self._workers[key]
        if current.container_id != worker.container_id:
            return True  # a new instance appeared while probing: this result is stale
        outcome = probestate.record(current, spec, raw)
        self._workers[key] = outcome.worker
        for event in outcome.events:
            await self._emit(event)
        if outcome.changed:
            self._poke()
        return True

    def hold_all(self) -> None:
        """TERM-5: liveness and startup stop before a terminal pod is killed."""
        for key, worker in self._workers.items():
            if key[1] is not ProbeType.READINESS:
                self._workers[key] = replace(worker, stopped=True)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
