"""Which dead container instances and old sandboxes one sync removes (SYNC-4 (b)).

The kubelet keeps what a pod leaves behind in check three ways: on every sync
``pruneInitContainersBeforeStart`` keeps only the newest dead instance of each init container
(INIT-12); when a container dies the pod container deletor removes the older dead instances of
it; and the container garbage collector (kuberuntime_gc.go; default policy MinAge 0,
MaxPerPodContainer 1) keeps one dead instance per container and removes the sandboxes that are
not the newest, not ready and hold no container. Removing a container removes its log file too.
Without this a crash-looping app container would keep a container folder, a mounted root
filesystem and a log file per restart for ever.

Here all of it is decided inside the sync, from the snapshot the rest of the plan reads, so
that everything the plan and the status read is still there afterwards:

* created and running instances are never removed;
* the newest dead (exited or unknown) instance of each container is kept: it is ``lastState``
  while a newer instance runs (APP-4, CS-1), the instance whose restartCount the next one
  counts on from (SYNC-7) and whose finish time the back-off check reads (BO-2a), and what
  ``kubectl logs --previous`` shows;
* an app container whose newest instance is dead and that this sync neither starts nor backs off
  keeps the instance before it too, because the status still reads it as ``lastState`` (CS-1)
  and no start failure will move the newest one there (CS-3): an ``OnFailure`` container that
  crashed and then exited 0 while its pod runs on. (The kubelet's deletor removes it as soon
  as the newest one dies, and ``lastState`` goes blank at the next status; kubelite keeps the
  status steady instead.)
* regular init containers and sidecars keep exactly INIT-12: only the newest dead instance.

INIT-9's purge (every init-container instance, when the sandbox is recreated) is the one removal
of a newest instance; the planner decides it and only the actions are built here.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from kubelite.agent.actions import DeadContainer, PruneContainers, RemoveSandboxes
from kubelite.agent.observed import ObservedPod
from kubelite.model.pod import ContainerKind, PodSpec
from kubelite.runtime.interface import ContainerState

DEAD = (ContainerState.EXITED, ContainerState.UNKNOWN)


def dead_instances(
    pod: PodSpec, observed: ObservedPod, restarting: Collection[str]
) -> tuple[str, ...]:
    """IDs of the dead instances to remove, spec order, newest first within a container.

    ``restarting`` names the containers this sync starts or backs off (StartContainer,
    BackedOff): for those the status no longer reads the instance before the newest."""
    doomed: list[str] = []
    for spec in pod.all_containers:
        instances = observed.instances(spec.name)
        dead = [c for c in instances if c.state in DEAD]
        keep = 1  # INIT-12 / container GC: the newest dead instance
        if (
            spec.kind is ContainerKind.APP
            and spec.name not in restarting
            and len(instances) > 1
            and instances[0].state in DEAD
            and instances[1].state in DEAD
        ):
            keep = 2  # CS-1: still this container's lastState
        doomed.extend(c.id for c in dead[keep:])
    return tuple(doomed)


def init_purge(pod: PodSpec, observed: ObservedPod) -> tuple[str, ...]:
    """INIT-9: every instance of every init container, when the sandbox is recreated."""
    names = {c.name for c in pod.init_containers}
    return tuple(c.id for c in observed.containers if c.name in names)


def old_sandboxes(observed: ObservedPod, removed: Collection[str]) -> tuple[str, ...]:
    """Sandboxes that are not the newest, not ready, and hold no container once ``removed``
    are gone. The newest is kept whatever its state: SYNC-3 and INIT-9 read it."""
    occupied = {c.sandbox_id for c in observed.containers if c.id not in removed}
    return tuple(s.id for s in observed.sandboxes[1:] if not s.ready and s.id not in occupied)


def removal(
    observed: ObservedPod, removed: Collection[str]
) -> tuple[PruneContainers | RemoveSandboxes, ...]:
    """The actions for removing ``removed`` (container IDs, in that order) with their log
    files, and the sandboxes left empty. A log path an instance being kept also names (or a
    second removed one, already listed) is left alone."""
    ids = tuple(dict.fromkeys(removed))
    if not ids and not observed.sandboxes[1:]:
        return ()
    by_id = {c.id: c for c in observed.containers}
    gone = set(ids)
    taken = {c.log_path for c in observed.containers if c.id not in gone} | {Path()}
    dead: list[DeadContainer] = []
    for cid in ids:
        found = by_id.get(cid)
        path = found.log_path if found is not None else Path()
        dead.append(DeadContainer(cid, None if path in taken else path))
        taken.add(path)
    actions: list[PruneContainers | RemoveSandboxes] = []
    if dead:
        actions.append(PruneContainers(tuple(dead)))
    sandboxes = old_sandboxes(observed, gone)
    if sandboxes:
        actions.append(RemoveSandboxes(sandboxes))
    return tuple(actions)
