"""The runtime's view of one pod, arranged the way the decisions need it.

The kubelet works from a snapshot taken at the start of each sync (BO-2a): every sandbox and
every container instance of the pod, newest first. ``ObservedPod`` is that snapshot; the
planner and the status builder read it and nothing else from the runtime.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kubelite.agent import labels
from kubelite.runtime.interface import ContainerState, ContainerStatus, SandboxStatus


def _newest_first(c: ContainerStatus) -> tuple[float, int]:
    return (-c.created_at, -c.attempt)


@dataclass(frozen=True, slots=True)
class ObservedPod:
    """Sandboxes and container instances of one pod; both tuples are newest first."""

    sandboxes: tuple[SandboxStatus, ...] = ()
    containers: tuple[ContainerStatus, ...] = ()

    @classmethod
    def of(
        cls, sandboxes: Iterable[SandboxStatus], containers: Iterable[ContainerStatus]
    ) -> ObservedPod:
        return cls(
            sandboxes=tuple(sorted(sandboxes, key=lambda s: (-s.created_at, -s.attempt))),
            containers=tuple(sorted(containers, key=_newest_first)),
        )

    @classmethod
    def for_pod(
        cls, uid: str, sandboxes: Iterable[SandboxStatus], containers: Iterable[ContainerStatus]
    ) -> ObservedPod:
        """Keep only the records labelled with this pod's UID."""
        return cls.of(
            (s for s in sandboxes if s.pod_uid == uid or labels.pod_uid_of(s.labels) == uid),
            (c for c in containers if labels.pod_uid_of(c.labels) == uid),
        )

    @property
    def newest_sandbox(self) -> SandboxStatus | None:
        return self.sandboxes[0] if self.sandboxes else None

    def instances(self, name: str) -> tuple[ContainerStatus, ...]:
        return tuple(c for c in self.containers if c.name == name)

    def newest(self, name: str) -> ContainerStatus | None:
        """The kubelet's FindContainerStatusByName: the newest instance of that container."""
        for c in self.containers:
            if c.name == name:
                return c
        return None

    def newest_exited(self, name: str) -> ContainerStatus | None:
        """The instance the back-off check looks at (BO-2a)."""
        for c in self.containers:
            if c.name == name and c.state is ContainerState.EXITED:
                return c
        return None

    def running(self) -> tuple[ContainerStatus, ...]:
        return tuple(c for c in self.containers if c.state is ContainerState.RUNNING)
