"""The actions a pod plan is made of, and the plan itself.

Each action is a frozen record that carries everything the executor needs to carry it out and
to tell the user about it: the kubelet's reason, the message text and the events to post, so
nothing has to be re-derived while acting (design principles 1 and 2).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from kubelite.agent.backoff import BackoffState
from kubelite.agent.eventtext import Event
from kubelite.model.pod import ContainerKind


class KillReason(enum.Enum):
    """Why one container is stopped; chooses the grace period (TERM-1, PR-7)."""

    STOP = "stop"  # pod deletion, completion, terminal phase, sandbox recreation
    LIVENESS = "liveness"
    STARTUP = "startup"
    CHANGED = "changed"  # SYNC-8
    UNKNOWN = "unknown"  # INIT-5, APP-2
    POST_START = "post-start"  # HK-3


@dataclass(frozen=True, slots=True)
class StartFailure:
    """A failed start attempt, kept by the executor per container name (the kubelet's reason
    cache) and fed back into ``pod_status`` (CS-3). Cleared when a start succeeds."""

    reason: str  # CrashLoopBackOff, ErrImagePull, CreateContainerConfigError, PostStartHookError …
    message: str


@dataclass(frozen=True, slots=True)
class StopContainer:
    """TERM-2: post ``event`` (Killing), run preStop if ``pre_stop`` and grace > 0, then stop
    with ``termination.stop_timeout(...)``. ``wait_for`` names the containers whose exit must
    come first (SC-11); the wait is bounded by what is left of the grace period."""

    container_id: str
    name: str
    kind: ContainerKind
    reason: KillReason
    message: str
    grace_seconds: int
    pre_stop: bool
    event: Event
    wait_for: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KillPod:
    """SYNC-3 step 4 / SYNC-4 (a): stop every running container (the ``stops`` already carry
    the SC-11 ordering), then stop the sandboxes listed."""

    why: str
    stops: tuple[StopContainer, ...]
    sandbox_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeadContainer:
    """One instance to remove, and the log file to delete once it is gone (None: keep it)."""

    id: str
    log_path: Path | None = None


@dataclass(frozen=True, slots=True)
class PruneContainers:
    """SYNC-4 (b): remove these dead container instances (``containergc``: INIT-12, the
    container GC, INIT-9's purge of init containers), each with its log file (the kubelet's
    removeContainer removes the container's log)."""

    containers: tuple[DeadContainer, ...]

    @property
    def container_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.containers)


@dataclass(frozen=True, slots=True)
class RemoveSandboxes:
    """SYNC-4 (b), after PruneContainers: remove old sandboxes that are stopped, not the
    newest and have no container left (the kubelet's sandbox GC)."""

    sandbox_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CreateSandbox:
    """SYNC-4 (c) / INIT-9: create sandbox number ``attempt``; post ``events`` first."""

    attempt: int
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class StartContainer:
    """SYNC-5: ensure image, build config, create, start, run postStart — all before the next.

    ``attempt`` is the new restartCount (SYNC-7); None means no earlier instance exists and
    the executor takes the highest ``<n>.log`` in the container's log directory + 1, else 0.
    If this start fails and ``abort_on_failure`` (a regular init container, SYNC-6), the
    executor skips every later StartContainer of the plan.
    """

    name: str
    kind: ContainerKind
    image: str
    attempt: int | None
    labels: Mapping[str, str]
    abort_on_failure: bool
    # An ephemeral container's targetContainerName, and the target's running instance when
    # the plan was made ("" if it was not running: the start fails, ``ephemeral``).
    target: str = ""
    target_id: str = ""


@dataclass(frozen=True, slots=True)
class BackedOff:
    """BO-5: the container is in CrashLoopBackOff; post ``event`` and record ``failure``."""

    name: str
    kind: ContainerKind
    failure: StartFailure
    delay: float
    event: Event


Action = (
    KillPod
    | StopContainer
    | PruneContainers
    | RemoveSandboxes
    | CreateSandbox
    | StartContainer
    | BackedOff
)


@dataclass(frozen=True, slots=True)
class PodPlan:
    """The outcome of one sync's decisions, in the order SYNC-4 carries them out."""

    actions: tuple[Action, ...] = ()
    backoff: BackoffState = field(default_factory=BackoffState)  # keep this one
    initialized: bool = False  # INIT-7
    terminating: bool = False  # deleted or terminal: nothing will be started (APP-2, TERM-5)
    # Deleted/terminal and nothing left running: the pod can get its final status (TERM-4).
    finished: bool = False
    # BO-6: while something is in back-off, sync again this soon (seconds).
    resync_after: float | None = None
    start_failures: Mapping[str, StartFailure] = field(default_factory=lambda: MappingProxyType({}))

    def of_type(self, kind: type[object]) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if isinstance(a, kind))
