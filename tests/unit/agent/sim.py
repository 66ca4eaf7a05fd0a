"""A tiny in-memory node for replaying the §13 timelines through the pure core.

It plays the executor's part in the simplest way: every action takes effect at once, a stop
makes the container exit with the code the test chose (143 by default), and the test moves
time and container exits by hand. Only the decision core under test is real.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from kubelite.agent import eventtext
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
from kubelite.agent.eventtext import Event
from kubelite.agent.observed import ObservedPod
from kubelite.agent.planning import plan_pod
from kubelite.agent.podstatus import StatusFacts, pod_status
from kubelite.agent.probestate import ProbeResults, Result
from kubelite.model.pod import PodSpec, ProbeType
from kubelite.model.podprint import pod_row
from kubelite.runtime.interface import ContainerState, ContainerStatus, SandboxStatus


@dataclass
class Sim:
    spec: PodSpec
    sandboxes: list[SandboxStatus] = field(default_factory=list)
    containers: list[ContainerStatus] = field(default_factory=list)
    backoff: BackoffState = field(default_factory=BackoffState)
    failures: dict[str, StartFailure] = field(default_factory=dict)
    probes: dict[tuple[str, ProbeType], Result] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    stop_codes: dict[str, int] = field(default_factory=dict)
    start_errors: dict[str, StartFailure] = field(default_factory=dict)  # name -> failure to inject
    terminal: bool = False

    # ------------------------------------------------------------------ observing

    def observed(self) -> ObservedPod:
        return ObservedPod.of(self.sandboxes, self.containers)

    def status(self, now: float) -> dict[str, Any]:
        facts = StatusFacts(
            previous=self.previous, start_failures=self.failures, terminal=self.terminal
        )
        self.previous = pod_status(
            self.spec, self.observed(), ProbeResults.of(self.probes), facts, now
        )
        return self.previous

    def container(self, name: str) -> dict[str, Any]:
        st = self.previous
        for entry in st.get("initContainerStatuses", []) + st.get("containerStatuses", []):
            if entry["name"] == name:
                return dict(entry)
        raise KeyError(name)

    def state(self, name: str) -> tuple[str, str]:
        """("waiting"|"running"|"terminated", reason) of a container, as kubectl reads it."""
        ((kind, body),) = self.container(name)["state"].items()
        return kind, str(body.get("reason", ""))

    def condition(self, type_: str) -> tuple[str, str]:
        c = next(c for c in self.previous["conditions"] if c["type"] == type_)
        return c["status"], c.get("reason", "")

    def kubectl(self, now: float) -> str:
        """``READY STATUS RESTARTS`` as ``kubectl get pods`` prints them (model.podprint, KC-*)."""
        row = pod_row({**self.spec.raw, "status": self.previous}, now)
        return f"{row.ready} {row.status} {row.restarts}"

    def newest(self, name: str) -> ContainerStatus:
        found = self.observed().newest(name)
        assert found is not None
        return found

    # ------------------------------------------------------------------ acting

    def sync(self, now: float) -> PodPlan:
        """SYNC-2 then SYNC-3/4: status first, plan with its phase, carry the plan out."""
        phase = self.status(now)["phase"]
        plan = plan_pod(
            self.spec, self.observed(), ProbeResults.of(self.probes), self.backoff, now, phase=phase
        )
        self.backoff = plan.backoff
        self.apply(plan, now)
        if plan.finished:
            self.terminal = True
        self.status(now)
        return plan

    def apply(self, plan: PodPlan, now: float) -> None:
        aborted = False
        for action in plan.actions:
            if isinstance(action, KillPod):
                for stop in action.stops:
                    self._stop(stop, now)
                self.sandboxes = [
                    replace(s, ready=False) if s.id in action.sandbox_ids else s
                    for s in self.sandboxes
                ]
            elif isinstance(action, StopContainer):
                self._stop(action, now)
            elif isinstance(action, PruneContainers):
                self.containers = [c for c in self.containers if c.id not in action.container_ids]
            elif isinstance(action, RemoveSandboxes):
                self.sandboxes = [s for s in self.sandboxes if s.id not in action.sandbox_ids]
            elif isinstance(action, CreateSandbox):
                self.events.extend(action.events)
                self.sandboxes.append(_sandbox(action.attempt, now))
            elif isinstance(action, StartContainer) and not aborted:
                aborted = not self._start(action, now) and action.abort_on_failure
            elif isinstance(action, BackedOff):
                self.events.append(action.event)
                self.failures[action.name] = action.failure

    def _stop(self, stop: StopContainer, now: float) -> None:
        self.events.append(stop.event)
        self.exit(stop.name, self.stop_codes.get(stop.name, 143), now)

    def _start(self, action: StartContainer, now: float) -> bool:
        spec = self.spec.container(action.name)
        assert spec is not None
        if action.name in self.start_errors:
            self.failures[action.name] = self.start_errors[action.name]
            return False
        attempt = action.attempt or 0
        self.containers.append(
            ContainerStatus(
                id=f"{action.name}-{attempt}",
                sandbox_id=self.sandboxes[-1].id,
                name=action.name,
                attempt=attempt,
                state=ContainerState.RUNNING,
                image=action.image,
                image_id="sha256:img",
                created_at=now,
                started_at=now,
                labels=dict(action.labels),
            )
        )
        self.failures.pop(action.name, None)
        self.events.extend([eventtext.created(spec), eventtext.started(spec)])
        return True

    def exit(self, name: str, code: int, now: float, reason: str | None = None) -> None:
        """The newest running instance of ``name`` exits with ``code`` at ``now``."""
        for i, c in enumerate(self.containers):
            if c.name == name and c.state is ContainerState.RUNNING:
                why = reason or ("Completed" if code == 0 else "Error")
                self.containers[i] = replace(
                    c, state=ContainerState.EXITED, exit_code=code, finished_at=now, reason=why
                )

    def reasons(self) -> list[str]:
        return [e.reason for e in self.events]


def _sandbox(attempt: int, now: float) -> SandboxStatus:
    return SandboxStatus(
        id=f"sb{attempt}",
        pod_uid="uid-1",
        pod_name="p",
        namespace="ns",
        attempt=attempt,
        ready=True,
        created_at=now,
        ip=None,
        netns_path="",
    )
