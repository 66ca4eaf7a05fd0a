"""Builders for pods and runtime records used by the agent's table-driven tests.

Times are plain floats (seconds); T0 is an arbitrary epoch so API timestamps are readable.
"""

from __future__ import annotations

from typing import Any

from kubelite.agent import labels
from kubelite.agent.actions import (
    BackedOff,
    CreateSandbox,
    KillPod,
    PodPlan,
    PruneContainers,
    RemoveSandboxes,
    StartContainer,
    StopContainer,
)
from kubelite.agent.gotext import go_duration
from kubelite.agent.observed import ObservedPod
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import ContainerState, ContainerStatus, SandboxStatus

T0 = 1_700_000_000.0
UID = "uid-1"


def c(name: str, image: str = "busybox", **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **extra}


def sidecar(name: str, image: str = "busybox", **extra: Any) -> dict[str, Any]:
    return c(name, image, restartPolicy="Always", **extra)


def probe(**extra: Any) -> dict[str, Any]:
    return {"exec": {"command": ["true"]}, **extra}


def pod_dict(
    containers: list[dict[str, Any]],
    init: list[dict[str, Any]] | None = None,
    restart: str = "Always",
    *,
    tgps: int = 30,
    deleted: float | None = None,
    deletion_grace: int | None = None,
    **spec_extra: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "p", "namespace": "ns", "uid": UID}
    if deleted is not None:
        from kubelite.clock import rfc3339

        meta["deletionTimestamp"] = rfc3339(deleted)
        meta["deletionGracePeriodSeconds"] = deletion_grace if deletion_grace is not None else tgps
    spec: dict[str, Any] = {
        "containers": containers,
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": tgps,
        **spec_extra,
    }
    if init:
        spec["initContainers"] = init
    return {"metadata": meta, "spec": spec}


def pod(*args: Any, **kwargs: Any) -> PodSpec:
    return PodSpec.of(pod_dict(*args, **kwargs))


def sandbox(
    attempt: int = 0, *, ready: bool = True, at: float = T0, id: str | None = None
) -> SandboxStatus:
    return SandboxStatus(
        id=id or f"sb{attempt}",
        pod_uid=UID,
        pod_name="p",
        namespace="ns",
        attempt=attempt,
        ready=ready,
        created_at=at,
        ip=None,
        netns_path="",
    )


def running(
    spec: PodSpec,
    name: str,
    *,
    attempt: int = 0,
    at: float = T0,
    id: str | None = None,
    sandbox_id: str = "sb0",
) -> ContainerStatus:
    cspec = spec.container(name)
    assert cspec is not None
    return ContainerStatus(
        id=id or f"{name}-{attempt}",
        sandbox_id=sandbox_id,
        name=name,
        attempt=attempt,
        state=ContainerState.RUNNING,
        image=cspec.image,
        image_id="sha256:abc",
        created_at=at,
        started_at=at,
        labels=labels.container_labels(spec, cspec),
    )


def exited(
    spec: PodSpec,
    name: str,
    code: int = 0,
    *,
    attempt: int = 0,
    at: float = T0,
    finished: float | None = None,
    reason: str | None = None,
    id: str | None = None,
) -> ContainerStatus:
    base = running(spec, name, attempt=attempt, at=at, id=id)
    return ContainerStatus(
        **{
            **{f: getattr(base, f) for f in base.__slots__},  # type: ignore[attr-defined]
            "state": ContainerState.EXITED,
            "finished_at": finished if finished is not None else at + 1,
            "exit_code": code,
            "reason": reason if reason is not None else ("Completed" if code == 0 else "Error"),
        }
    )


def with_state(status: ContainerStatus, state: ContainerState) -> ContainerStatus:
    fields = {f: getattr(status, f) for f in status.__slots__}  # type: ignore[attr-defined]
    fields["state"] = state
    if state is ContainerState.CREATED:
        fields["started_at"] = None
    return ContainerStatus(**fields)


def observed(
    *containers: ContainerStatus, sandboxes: tuple[SandboxStatus, ...] | None = None
) -> ObservedPod:
    return ObservedPod.of(sandboxes if sandboxes is not None else (sandbox(),), containers)


def describe(plan: PodPlan) -> list[str]:
    """A plan as short sentences, so expected plans read like the spec."""
    out: list[str] = []
    for a in plan.actions:
        if isinstance(a, KillPod):
            stops = ", ".join(
                f"{s.name}<{','.join(s.wait_for)}>" if s.wait_for else s.name for s in a.stops
            )
            out.append(f"kill pod: stop [{stops}] sandboxes [{', '.join(a.sandbox_ids)}]")
        elif isinstance(a, StopContainer):
            out.append(f"stop {a.name}: {a.message}")
        elif isinstance(a, PruneContainers):
            out.append(f"prune {', '.join(a.container_ids)}")
        elif isinstance(a, RemoveSandboxes):
            out.append(f"remove sandboxes {', '.join(a.sandbox_ids)}")
        elif isinstance(a, CreateSandbox):
            out.append(f"create sandbox {a.attempt}")
        elif isinstance(a, StartContainer):
            out.append(f"start {a.name} #{a.attempt}")
        elif isinstance(a, BackedOff):
            out.append(f"back-off {a.name} {go_duration(a.delay)}")
    return out
