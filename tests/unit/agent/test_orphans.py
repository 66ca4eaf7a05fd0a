"""Which pods housekeeping treats as orphans, and what of each it removes (agent.orphans).

Every case lists the node's facts (sandboxes, containers, checkpoint files, log folders), the
uids with a live worker, and the cleanups expected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from kubelite.agent import labels
from kubelite.agent.orphans import OrphanCleanup, log_dir_uid, orphans
from kubelite.runtime.interface import ContainerState, ContainerStatus, SandboxStatus

T0 = 1_700_000_000.0


def sb(sid: str, uid: str, *, ready: bool = True) -> SandboxStatus:
    return SandboxStatus(
        id=sid, pod_uid=uid, pod_name="p", namespace="ns", attempt=0, ready=ready,
        created_at=T0, ip=None, netns_path="",
        labels={labels.POD_UID: uid},
    )  # fmt: skip


def ctr(
    cid: str, sid: str, state: ContainerState = ContainerState.RUNNING, *, uid: str | None = None
) -> ContainerStatus:
    return ContainerStatus(
        id=cid, sandbox_id=sid, name="app", attempt=0, state=state, image="busybox",
        image_id="sha256:x", created_at=T0,
        labels={labels.POD_UID: uid} if uid is not None else {},
    )  # fmt: skip


@dataclass(frozen=True)
class Case:
    name: str
    expected: tuple[OrphanCleanup, ...]
    sandboxes: Sequence[SandboxStatus] = ()
    containers: Sequence[ContainerStatus] = ()
    live: frozenset[str] = frozenset()
    checkpoints: Sequence[str] = ()
    log_dirs: Sequence[str] = field(default_factory=tuple)


EXITED = ContainerState.EXITED
CREATED = ContainerState.CREATED
UNKNOWN = ContainerState.UNKNOWN

CASES = [
    Case("an empty node has no orphans", ()),
    Case(
        "a pod with a worker is never touched, whatever it leaves",
        (),
        sandboxes=[sb("s1", "u1"), sb("s0", "u1", ready=False)],
        containers=[ctr("c1", "s1"), ctr("c0", "s0", EXITED), ctr("c9", "gone", uid="u1")],
        live=frozenset({"u1"}),
        checkpoints=["u1"],
        log_dirs=["ns_p_u1"],
    ),
    Case(
        "a running pod nobody delivered is stopped and removed with all it left",
        (
            OrphanCleanup(
                "u2", stop=("c2",), sandboxes=("s2",), checkpoint=True, log_dirs=("ns_old_u2",)
            ),
        ),
        sandboxes=[sb("s2", "u2")],
        containers=[ctr("c2", "s2")],
        checkpoints=["u2"],
        log_dirs=["ns_old_u2"],
    ),
    Case(
        "only the containers not yet exited are stopped; every sandbox of the pod goes",
        (OrphanCleanup("u2", stop=("c-created", "c-unknown"), sandboxes=("s2", "s2-old")),),
        sandboxes=[sb("s2", "u2"), sb("s2-old", "u2", ready=False)],
        containers=[
            ctr("c-dead", "s2", EXITED),
            ctr("c-created", "s2", CREATED),
            ctr("c-unknown", "s2", UNKNOWN),
            ctr("c-older", "s2-old", EXITED),
        ],
    ),
    Case(
        "an orphan beside a live pod: only the orphan is cleaned",
        (OrphanCleanup("old", stop=("c-old",), sandboxes=("s-old",)),),
        sandboxes=[sb("s-live", "live"), sb("s-old", "old")],
        containers=[ctr("c-live", "s-live"), ctr("c-old", "s-old")],
        live=frozenset({"live"}),
    ),
    Case(
        "a container whose sandbox record is gone is found by its pod-uid label",
        (OrphanCleanup("u3", stop=("c3",), containers=("c3", "c3-dead")),),
        containers=[ctr("c3", "gone", uid="u3"), ctr("c3-dead", "gone", EXITED, uid="u3")],
    ),
    Case(
        "a container without a pod-uid label and no sandbox is not the agent's",
        (),
        containers=[ctr("stranger", "gone")],
    ),
    Case(
        "a checkpoint with no worker and no sandbox goes on its own",
        (OrphanCleanup("u4", checkpoint=True),),
        checkpoints=["u4", "u1"],
        live=frozenset({"u1"}),
    ),
    Case(
        "a checkpoint of a live uid with a slash is kept under its file spelling",
        (),
        checkpoints=["a_b"],
        live=frozenset({"a/b"}),
    ),
    Case(
        "log folders of pods that are gone go; odd names and live pods' folders stay",
        (OrphanCleanup("u5", log_dirs=("ns_a_u5", "ns_b_u5")),),
        log_dirs=["ns_b_u5", "ns_a_u5", "not-a-pod-folder", "ns__u6", "ns_p_u1", "ns_my_pod_u1"],
        live=frozenset({"u1"}),
    ),
    Case(
        "orphans come in uid order",
        (OrphanCleanup("a", sandboxes=("s-a",)), OrphanCleanup("b", sandboxes=("s-b",))),
        sandboxes=[sb("s-b", "b", ready=False), sb("s-a", "a", ready=False)],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_orphans(case: Case) -> None:
    got = orphans(
        sandboxes=case.sandboxes,
        containers=case.containers,
        live=case.live,
        checkpoints=case.checkpoints,
        log_dirs=case.log_dirs,
    )
    assert got == case.expected


@pytest.mark.parametrize(
    ("name", "uid"),
    [
        ("default_web_0b7c1e2a-uid", "0b7c1e2a-uid"),
        ("ns_pod_uid_with_underscores", "uid_with_underscores"),
        ("ns_pod", None),
        ("_pod_uid", None),
        ("ns_pod_", None),
    ],
)
def test_the_uid_of_a_log_folder_is_what_follows_namespace_and_name(
    name: str, uid: str | None
) -> None:
    assert log_dir_uid(name) == uid
