"""``plan_pod``: one sync's decisions for one pod, as data (SYNC-2..SYNC-6, INIT-9, TERM-5).

This is the kubelet's computePodActions plus the ordering of SyncPod, with every input passed
in: the pod spec, the runtime snapshot, committed probe results, the back-off table and the
time. It does no I/O. The executor carries the actions out in order and keeps
``plan.backoff`` for the next sync.

Order of a plan (SYNC-4): KillPod, or else StopContainer for each container to kill;
PruneContainers and RemoveSandboxes (``containergc``); CreateSandbox; StartContainer for
ephemeral containers never started (``ephemeralplan``); StartContainer/BackedOff for init
containers (spec order); then for app containers (spec order).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kubelite.agent import containergc, eventtext, labels
from kubelite.agent.actions import (
    Action,
    BackedOff,
    CreateSandbox,
    KillPod,
    PodPlan,
    StartContainer,
    StartFailure,
    StopContainer,
)
from kubelite.agent.appplan import compute_app_actions
from kubelite.agent.backoff import BackoffState, check, crash_key
from kubelite.agent.ephemeral import container_order, find_container
from kubelite.agent.ephemeralplan import ephemeral_starts
from kubelite.agent.gotext import go_duration
from kubelite.agent.initplan import compute_init_actions
from kubelite.agent.observed import ObservedPod
from kubelite.agent.predicates import exited_zero, sandbox_needed
from kubelite.agent.probestate import ProbeResults
from kubelite.agent.termination import deletion_grace, kill_pod_stops
from kubelite.model.pod import (
    TERMINAL_PHASES,
    ContainerKind,
    ContainerSpec,
    PodSpec,
    RestartPolicy,
)
from kubelite.runtime.interface import ContainerState, ContainerStatus

_ALIVE = (ContainerState.RUNNING, ContainerState.UNKNOWN)


def _running_pairs(
    pod: PodSpec, observed: ObservedPod
) -> tuple[tuple[ContainerSpec, ContainerStatus], ...]:
    """Every running (or unknown) instance that the spec still names: init list first, then
    app containers, then ephemeral ones."""
    pairs = []
    for status in observed.containers:
        spec = find_container(pod, status.name)
        if spec is not None and status.state in _ALIVE:
            pairs.append((spec, status))
    order = container_order(pod)
    return tuple(sorted(pairs, key=lambda p: order[p[0].name]))


def _kill_pod(
    pod: PodSpec,
    observed: ObservedPod,
    why: str,
    grace: int | None,
    reasons: tuple[StopContainer, ...] = (),
) -> KillPod:
    """Every running container, in SC-11 order. A container that was being killed for a
    reason of its own (a probe failure: APP-3, SC-5) keeps that reason's Killing message and
    grace period when the whole pod goes with it."""
    pairs = _running_pairs(pod, observed)
    sandboxes = {s.id for s in observed.sandboxes if s.ready}
    sandboxes |= {status.sandbox_id for _, status in pairs}
    ordered = tuple(s.id for s in observed.sandboxes if s.id in sandboxes)
    own = {k.container_id: k for k in reasons}
    stops = tuple(
        replace(
            stop, reason=k.reason, message=k.message, event=k.event,
            grace_seconds=k.grace_seconds if grace is None else stop.grace_seconds,
        ) if (k := own.get(stop.container_id)) is not None else stop
        for stop in kill_pod_stops(pod, pairs, grace)
    )  # fmt: skip
    return KillPod(why=why, stops=stops, sandbox_ids=ordered)


@dataclass(slots=True)
class _Draft:
    """The decisions of SYNC-3 before back-off checks turn starts into actions."""

    kill_pod: str | None = None  # why
    kills: list[StopContainer] = field(default_factory=list)
    collect: bool = False  # SYNC-4 (b): INIT-12 and the container GC (containergc)
    purge: tuple[str, ...] = ()  # INIT-9: init-container instances to remove instead
    sandbox: CreateSandbox | None = None
    init_starts: tuple[int, ...] = ()
    app_starts: tuple[int, ...] = ()
    initialized: bool = False


def _new_sandbox(pod: PodSpec, observed: ObservedPod) -> _Draft:
    """INIT-9: a new sandbox is needed; decide whether to make one and what then runs."""
    newest = observed.newest_sandbox
    attempt = newest.attempt + 1 if newest is not None else 0
    if pod.restart_policy is RestartPolicy.NEVER and attempt != 0 and observed.containers:
        return _Draft(kill_pod="sandbox lost and restartPolicy is Never")
    on_failure = pod.restart_policy is RestartPolicy.ON_FAILURE
    to_start = tuple(
        i for i, c in enumerate(pod.containers) if not (on_failure and exited_zero(observed, c))
    )
    exists = (ContainerState.CREATED, ContainerState.RUNNING, ContainerState.EXITED)
    any_app = any(
        (s := observed.newest(c.name)) is not None and s.state in exists for c in pod.containers
    )
    if not to_start and any_app:
        return _Draft(kill_pod="sandbox lost and every app container is done")
    events = (eventtext.sandbox_changed(),) if newest is not None else ()
    return _Draft(
        kill_pod="sandbox changed",
        purge=containergc.init_purge(pod, observed),
        sandbox=CreateSandbox(attempt=attempt, events=events),
        init_starts=(0,) if pod.init_containers else (),
        app_starts=() if pod.init_containers else to_start,
    )


def _draft(pod: PodSpec, observed: ObservedPod, probes: ProbeResults, require_ip: bool) -> _Draft:
    """SYNC-3 steps 1-4."""
    if sandbox_needed(observed, require_ip=require_ip):
        return _new_sandbox(pod, observed)
    init = compute_init_actions(pod, observed, probes)
    if init.failed:
        return _Draft(kill_pod="init container failed", collect=True, initialized=init.initialized)
    if not init.initialized:
        return _Draft(kills=list(init.to_kill), collect=True, init_starts=init.to_start)
    apps = compute_app_actions(pod, observed, probes)
    if apps.keep_count == 0 and not apps.to_start:
        # SYNC-3 step 4 / SC-10: nothing app-side to keep or start; sidecars are not restarted
        return _Draft(
            kill_pod="no app container to run",
            kills=list(apps.to_kill),
            collect=True,
            initialized=True,
        )
    return _Draft(
        kills=list(init.to_kill) + list(apps.to_kill),
        collect=True,
        init_starts=init.to_start,
        app_starts=apps.to_start,
        initialized=True,
    )


@dataclass(slots=True)
class _Starts:
    """Turns chosen indexes into StartContainer/BackedOff actions, checking back-off (BO-2)."""

    pod: PodSpec
    observed: ObservedPod
    backoff: BackoffState
    now: float
    actions: list[Action] = field(default_factory=list)
    failures: dict[str, StartFailure] = field(default_factory=dict)
    resync: float | None = None
    aborted: bool = False

    def add(self, spec: ContainerSpec) -> None:
        """SYNC-6: a regular init container in back-off drops the rest of the sync."""
        if self.aborted:
            return
        exited = self.observed.newest_exited(spec.name)
        if exited is not None:
            key = crash_key(self.pod, spec, labels.spec_hash(spec))
            finished = exited.finished_at if exited.finished_at is not None else exited.created_at
            outcome = check(self.backoff, key, finished, self.now)
            self.backoff = outcome.state
            if outcome.in_backoff:
                self._backed_off(spec, outcome.delay, finished)
                self.aborted = spec.kind is ContainerKind.INIT
                return
        newest = self.observed.newest(spec.name)
        self.actions.append(
            StartContainer(
                name=spec.name,
                kind=spec.kind,
                image=spec.image,
                attempt=newest.attempt + 1 if newest is not None else None,  # SYNC-7
                labels=labels.container_labels(self.pod, spec),
                abort_on_failure=spec.kind is ContainerKind.INIT,
            )
        )

    def _backed_off(self, spec: ContainerSpec, delay: float, finished: float) -> None:
        message = backoff_message(self.pod, spec, delay)
        failure = StartFailure(reason="CrashLoopBackOff", message=message)
        self.failures[spec.name] = failure
        event = eventtext.crash_backoff(spec, self.pod)
        self.actions.append(BackedOff(spec.name, spec.kind, failure, delay, event))
        remaining = max(finished + delay - self.now, 0.0)
        self.resync = remaining if self.resync is None else min(self.resync, remaining)


SYNC_PERIOD = 60.0  # SYNC-1: the per-pod timer after a clean sync …
ERROR_PERIOD = 10.0  # … and after a sync that ended in an error (back-off counts, BO-6)
JITTER = 0.5  # periods stretch by up to half


def resync_interval(*, failed: bool, jitter: float, wake_by: float | None = None) -> float:
    """SYNC-1 / BO-6: how long until the pod syncs again with no other trigger: 60-90 s after a
    clean sync, 10-15 s after one that failed or held a start back, ``jitter`` in [0, 1)
    choosing where in the range (the kubelet's ``wait.Jitter``, so pods started together do
    not sync together). ``wake_by``, when sooner, is a moment the pod must be looked at: a
    back-off that runs out (``PodPlan.resync_after``) or the active deadline (PH-4)."""
    period = (ERROR_PERIOD if failed else SYNC_PERIOD) * (1.0 + JITTER * jitter)
    return period if wake_by is None else min(period, max(wake_by, 0.0))


def backoff_message(pod: PodSpec, spec: ContainerSpec, delay: float) -> str:
    """BO-5: ``back-off 10s restarting failed container=<c> pod=<pod>_<ns>(<uid>)``."""
    return (
        f"back-off {go_duration(delay)} restarting failed container={spec.name} pod={pod.full_name}"
    )


def _terminate(
    pod: PodSpec, observed: ObservedPod, backoff: BackoffState, grace: int | None, why: str
) -> PodPlan:
    """APP-2 / TERM-1 / TERM-5: deleted or terminal: stop everything, start nothing."""
    if grace is None and pod.being_deleted:
        grace = deletion_grace(pod)
    kill = _kill_pod(pod, observed, why, grace)
    actions: tuple[Action, ...] = (kill,) if kill.stops or kill.sandbox_ids else ()
    return PodPlan(
        actions=actions,
        backoff=backoff,
        initialized=True,
        terminating=True,
        finished=not kill.stops and not kill.sandbox_ids,
    )


def _removal(
    pod: PodSpec, observed: ObservedPod, draft: _Draft, starts: list[Action]
) -> tuple[Action, ...]:
    """SYNC-4 (b): INIT-12 and the container GC (``containergc``), which needs to know what
    this sync starts or backs off; or, when the sandbox is recreated, INIT-9's purge. Nothing
    when the pod is killed for good (INIT-9's other two cases)."""
    if draft.collect:
        restarting = {a.name for a in starts if isinstance(a, StartContainer | BackedOff)}
        return containergc.removal(observed, containergc.dead_instances(pod, observed, restarting))
    if draft.sandbox is not None:  # INIT-9: the purge only, and old sandboxes left empty
        return containergc.removal(observed, draft.purge)
    return ()


def plan_pod(
    pod: PodSpec | Mapping[str, Any],
    observed: ObservedPod,
    probes: ProbeResults,
    backoff: BackoffState,
    now: float,
    *,
    phase: str = "Pending",
    grace_override: int | None = None,
    require_ip: bool = False,
) -> PodPlan:
    """One sync's decisions. ``phase`` is the phase ``pod_status`` just computed (SYNC-2);
    ``grace_override`` is the deletion grace seen so far or an eviction's (TERM-1)."""
    pod = pod if isinstance(pod, PodSpec) else PodSpec.of(pod)
    if pod.being_deleted:
        return _terminate(pod, observed, backoff, grace_override, "pod deleted")
    if phase in TERMINAL_PHASES:
        return _terminate(pod, observed, backoff, grace_override, f"pod {phase}")  # TERM-5
    draft = _draft(pod, observed, probes, require_ip)
    actions: list[Action] = []
    if draft.kill_pod is not None:
        kill = _kill_pod(pod, observed, draft.kill_pod, grace_override, tuple(draft.kills))
        if kill.stops or kill.sandbox_ids:
            actions.append(kill)
    else:
        actions.extend(draft.kills)  # SYNC-4 (a)
    starts = _Starts(pod, observed, backoff, now)
    for i in draft.init_starts:
        starts.add(pod.init_containers[i])  # SYNC-4 (d)
    for i in draft.app_starts:
        starts.add(pod.containers[i])  # SYNC-4 (e)
    actions.extend(_removal(pod, observed, draft, starts.actions))  # SYNC-4 (b)
    if draft.sandbox is not None:
        actions.append(draft.sandbox)  # SYNC-4 (c)
    elif draft.kill_pod is None:
        actions.extend(ephemeral_starts(pod, observed))  # before init and app containers
    return PodPlan(
        actions=tuple(actions) + tuple(starts.actions),
        backoff=starts.backoff,
        initialized=draft.initialized,
        resync_after=starts.resync,
        start_failures=starts.failures,
    )
