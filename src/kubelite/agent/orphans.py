"""Which pods on the node are orphans, and what of each to clean up (pure).

An orphan is a pod the runtime or the agent's folders still hold but the pod source does not
have: deleted (force-deleted) while the agent was down, or left by a ``kubelite run`` that
crashed, under a uid no one will deliver again. The kubelet finds them in its housekeeping
(``HandlePodCleanups``, every 2 s once its sources are ready): pods running in the runtime
that no pod worker knows are killed, and the pod directories and logs of pods that are not
desired are removed. ``agent.housekeeping`` runs this decision and carries it out.

The rules, each a guard against removing a pod that is still wanted:

* a uid with a live worker is never an orphan: not its sandboxes, containers, checkpoint nor
  log folder (a log folder whose name ends with ``_<live uid>`` is kept whatever it parses as);
* only facts name orphans: a runtime sandbox (its ``pod_uid``), a container whose sandbox record
  is gone (its pod-uid label), a back-off checkpoint file, a log folder
  ``<namespace>_<pod>_<uid>``; a container without a pod-uid label or a folder that does not
  parse is not the agent's and stays;
* the caller only asks once the source has delivered its initial state (SYNCED): before that a
  pod without a worker may simply not have been delivered yet.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from kubelite.agent import labels
from kubelite.agent.checkpoint import file_uid
from kubelite.runtime.interface import ContainerState, ContainerStatus, SandboxStatus


@dataclass(frozen=True, slots=True)
class OrphanCleanup:
    """What to remove of one orphaned pod, in this order. Every cleanup also removes the pod's
    volumes (``Runtime.remove_volumes``, idempotent): they have no listing of their own."""

    uid: str
    stop: tuple[str, ...] = ()  # containers not yet exited: stop them first, with a short grace
    containers: tuple[str, ...] = ()  # containers whose sandbox record is gone
    sandboxes: tuple[str, ...] = ()  # removed with the containers they hold
    checkpoint: bool = False  # its back-off checkpoint file (``file_uid`` spelling)
    log_dirs: tuple[str, ...] = ()  # folder names under the pod logs dir


def log_dir_uid(name: str) -> str | None:
    """The pod uid of a log folder ``<namespace>_<pod>_<uid>`` (SYNC-7); None if the name does
    not have that shape. Namespaces and pod names are DNS names, without ``_``."""
    parts = name.split("_", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return parts[2]


def orphans(
    *,
    sandboxes: Sequence[SandboxStatus],
    containers: Sequence[ContainerStatus],
    live: Collection[str],
    checkpoints: Collection[str],
    log_dirs: Collection[str],
) -> tuple[OrphanCleanup, ...]:
    """The cleanups of every orphaned pod, by uid.

    ``live``: the uids of the agent's pod workers; ``checkpoints``: the uids of the back-off
    checkpoint files as ``checkpoint.file_uid`` spells them; ``log_dirs``: the folder names
    under the pod logs dir."""
    live_files = {file_uid(u) for u in live}
    owner = {s.id: s.pod_uid for s in sandboxes}
    found: dict[str, _Found] = {}

    def of(uid: str) -> _Found:
        return found.setdefault(uid, _Found())

    for s in sandboxes:
        if s.pod_uid and s.pod_uid not in live:
            of(s.pod_uid).sandboxes.append(s.id)
    for c in containers:
        uid = owner.get(c.sandbox_id) or labels.pod_uid_of(c.labels)
        if not uid or uid in live:
            continue
        if c.state is not ContainerState.EXITED:
            of(uid).stop.append(c.id)
        if c.sandbox_id not in owner:
            of(uid).containers.append(c.id)
    for uid in checkpoints:
        if uid and uid not in live and uid not in live_files:
            of(uid).checkpoint = True
    for name in log_dirs:
        uid = log_dir_uid(name)
        if uid is None or uid in live or any(name.endswith(f"_{u}") for u in live):
            continue
        of(uid).log_dirs.append(name)
    return tuple(found[uid].cleanup(uid) for uid in sorted(found))


@dataclass(slots=True)
class _Found:
    """One orphan's remains, gathered while the facts are read."""

    stop: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)
    sandboxes: list[str] = field(default_factory=list)
    checkpoint: bool = False
    log_dirs: list[str] = field(default_factory=list)

    def cleanup(self, uid: str) -> OrphanCleanup:
        return OrphanCleanup(
            uid=uid,
            stop=tuple(self.stop),
            containers=tuple(self.containers),
            sandboxes=tuple(self.sandboxes),
            checkpoint=self.checkpoint,
            log_dirs=tuple(sorted(self.log_dirs)),
        )
