"""Which dead instances and old sandboxes a sync removes (containergc: INIT-12, the container
GC, INIT-9, SYNC-4 (b)), and that removing them leaves the status as it was (CS-1, CS-3, APP-4,
SYNC-7, BO-2a)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kubelite.agent import containergc
from kubelite.agent.actions import DeadContainer, PodPlan, PruneContainers, RemoveSandboxes
from kubelite.agent.backoff import BackoffEntry, BackoffState, crash_key
from kubelite.agent.labels import spec_hash
from kubelite.agent.observed import ObservedPod
from kubelite.agent.planning import plan_pod
from kubelite.agent.podstatus import StatusFacts, pod_status
from kubelite.agent.probestate import ProbeResults
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import ContainerState, ContainerStatus, SandboxStatus
from tests.unit.agent.builders import (
    T0,
    c,
    describe,
    exited,
    observed,
    pod,
    running,
    sandbox,
    sidecar,
    with_state,
)

NOW = T0 + 100
APP = pod([c("app")])
JOB = pod([c("web"), c("db")], restart="OnFailure")
INIT = pod([c("app")], [c("init-a")])
SIDECAR = pod([c("app")], [sidecar("logs")])
PENDING = pod([c("app")], [c("init-a"), c("init-b")], restart="OnFailure")


def dead(
    spec: PodSpec, name: str, n: int, code: int = 1, *, sandbox_id: str = "sb0"
) -> ContainerStatus:
    """Instance ``n`` of ``name``, created at T0 + 10 n and finished a second later."""
    return replace(exited(spec, name, code, attempt=n, at=T0 + 10 * n), sandbox_id=sandbox_id)


def crashed(spec: PodSpec, name: str, n: int) -> ContainerStatus:
    """Instance ``n`` of ``name``, exited 1 a second ago (so a back-off record holds it)."""
    return replace(dead(spec, name, n), finished_at=NOW - 1)


def alive(spec: PodSpec, name: str, n: int, *, sandbox_id: str = "sb0") -> ContainerStatus:
    return running(spec, name, attempt=n, at=T0 + 10 * n, sandbox_id=sandbox_id)


def in_backoff(spec: PodSpec, name: str) -> BackoffState:
    """A back-off record made just now: the next restart waits (BO-2)."""
    cspec = spec.container(name)
    assert cspec is not None
    key = crash_key(spec, cspec, spec_hash(cspec))
    return BackoffState().with_entry(key, BackoffEntry(delay=10.0, last_update=NOW - 1))


def removals(p: PodPlan) -> list[str]:
    return [line for line in describe(p) if line.startswith(("prune", "remove"))]


def plan(spec: PodSpec, obs: ObservedPod, backoff: BackoffState | None = None) -> PodPlan:
    return plan_pod(spec, obs, ProbeResults(), backoff or BackoffState(), NOW)


NEWER = (sandbox(1, at=T0 + 50, id="sb1"), sandbox(0, ready=False, at=T0, id="sb0"))

# fmt: off
CASES: list[tuple[str, PodSpec, tuple[ContainerStatus, ...], tuple[SandboxStatus, ...] | None,
                  BackoffState | None, list[str]]] = [
    (
        "the dead instance before a running one is its lastState and stays",
        APP, (alive(APP, "app", 1), dead(APP, "app", 0)), None, None, [],
    ),
    (
        "older dead instances behind a running one go, newest first",
        APP,
        (alive(APP, "app", 3), dead(APP, "app", 2), dead(APP, "app", 1), dead(APP, "app", 0)),
        None, None, ["prune app-1, app-0"],
    ),
    (
        "a crashed container restarted at once keeps only its newest dead instance",
        APP, (dead(APP, "app", 2), dead(APP, "app", 1), dead(APP, "app", 0)), None, None,
        ["prune app-1, app-0"],
    ),
    (
        "a crashed container in back-off keeps only its newest dead instance",
        APP, (crashed(APP, "app", 1), dead(APP, "app", 0)), None, in_backoff(APP, "app"),
        ["prune app-0"],
    ),
    (
        "a created instance is never removed, nor the newest dead one behind it",
        APP,
        (with_state(alive(APP, "app", 2), ContainerState.CREATED), dead(APP, "app", 1),
         dead(APP, "app", 0)),
        None, None, ["prune app-0"],
    ),
    (
        "an unknown instance counts as the newest dead one",
        APP,
        (with_state(alive(APP, "app", 2), ContainerState.UNKNOWN), dead(APP, "app", 1),
         dead(APP, "app", 0)),
        None, None, ["prune app-1, app-0"],
    ),
    (
        "a container done for good keeps the instance its lastState shows",
        JOB, (dead(JOB, "web", 1, 0), dead(JOB, "web", 0), alive(JOB, "db", 0)), None, None, [],
    ),
    (
        "a container done for good loses only the instances before its lastState",
        JOB,
        (dead(JOB, "web", 2, 0), dead(JOB, "web", 1), dead(JOB, "web", 0), alive(JOB, "db", 0)),
        None, None, ["prune web-0"],
    ),
    (
        "INIT-12: an init container keeps only its newest dead instance, even done for good",
        INIT,
        (alive(INIT, "app", 2), dead(INIT, "init-a", 1, 0), dead(INIT, "init-a", 0)),
        None, None, ["prune init-a-0"],
    ),
    (
        "INIT-12: a failing init container in back-off",
        PENDING, (crashed(PENDING, "init-a", 1), dead(PENDING, "init-a", 0)), None,
        in_backoff(PENDING, "init-a"), ["prune init-a-0"],
    ),
    (
        "a restarted sidecar keeps its newest dead instance only",
        SIDECAR,
        (alive(SIDECAR, "app", 0), alive(SIDECAR, "logs", 3), dead(SIDECAR, "logs", 2),
         dead(SIDECAR, "logs", 1)),
        None, None, ["prune logs-1"],
    ),
    (
        "an old stopped sandbox still holding a kept instance stays",
        APP, (alive(APP, "app", 6, sandbox_id="sb1"), dead(APP, "app", 1)), NEWER, None, [],
    ),
    (
        "an old stopped sandbox goes with the last instance in it",
        APP,
        (alive(APP, "app", 6, sandbox_id="sb1"), dead(APP, "app", 5, sandbox_id="sb1"),
         dead(APP, "app", 1)),
        NEWER, None, ["prune app-1", "remove sandboxes sb0"],
    ),
    (
        "an old stopped sandbox that is empty goes",
        APP, (alive(APP, "app", 6, sandbox_id="sb1"),), NEWER, None, ["remove sandboxes sb0"],
    ),
    (
        "an old sandbox that is still ready stays (SYNC-3 kills it first)",
        APP, (alive(APP, "app", 6, sandbox_id="sb1"),),
        (sandbox(1, at=T0 + 50, id="sb1"), sandbox(0, at=T0, id="sb0")), None, [],
    ),
    (
        "INIT-9: the purge of init containers when the sandbox is recreated, no app GC then",
        INIT,
        (dead(INIT, "app", 2), dead(INIT, "app", 1), dead(INIT, "init-a", 0)),
        (sandbox(0, ready=False),), None, ["prune init-a-0"],
    ),
    (
        "INIT-9: the newest sandbox stays even when stopped and empty; older ones go",
        INIT, (),
        (sandbox(1, ready=False, at=T0 + 50, id="sb1"), sandbox(0, ready=False, id="sb0")),
        None, ["remove sandboxes sb0"],
    ),
]
# fmt: on


@pytest.mark.parametrize(
    ("case", "spec", "instances", "sandboxes", "backoff", "expected"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_what_a_sync_removes(
    case: str,
    spec: PodSpec,
    instances: tuple[ContainerStatus, ...],
    sandboxes: tuple[SandboxStatus, ...] | None,
    backoff: BackoffState | None,
    expected: list[str],
) -> None:
    assert removals(plan(spec, observed(*instances, sandboxes=sandboxes), backoff)) == expected


def test_sync4_removal_comes_after_the_kills_and_before_the_starts() -> None:
    unknown = with_state(alive(APP, "app", 2), ContainerState.UNKNOWN)
    obs = observed(unknown, dead(APP, "app", 1), dead(APP, "app", 0))
    assert describe(plan(APP, obs)) == [
        'stop app: Container is in "unknown" state, try killing it before restart',
        "prune app-1, app-0",
        "start app #3",  # SYNC-7: counted on from the newest instance, which is never removed
    ]


def test_removal_deletes_each_removed_instances_log_unless_a_kept_one_shares_it() -> None:
    logs = Path("/logs/ns_p_uid-1/app")
    obs = observed(
        replace(alive(APP, "app", 2), log_path=logs / "2.log"),
        replace(dead(APP, "app", 1), log_path=logs / "1.log"),
        replace(dead(APP, "app", 0), log_path=logs / "0.log"),
        replace(dead(APP, "app", 0), id="twin", log_path=logs / "1.log"),
        replace(dead(APP, "app", 0), id="nolog"),
    )
    assert containergc.removal(obs, ("app-0", "twin", "nolog")) == (
        PruneContainers(
            (
                DeadContainer("app-0", logs / "0.log"),
                DeadContainer("twin", None),  # 1.log belongs to the kept app-1
                DeadContainer("nolog", None),
            )
        ),
    )


def test_removal_of_nothing_is_no_action() -> None:
    assert containergc.removal(observed(alive(APP, "app", 0)), ()) == ()


def test_the_init9_purge_takes_every_init_container_instance() -> None:
    obs = observed(dead(INIT, "init-a", 1), dead(INIT, "init-a", 0), dead(INIT, "app", 0))
    assert containergc.init_purge(INIT, obs) == ("init-a-1", "init-a-0")


def test_old_sandboxes_are_only_stopped_older_ones_left_empty() -> None:
    obs = observed(
        dead(APP, "app", 1, sandbox_id="sb1"),
        sandboxes=(
            sandbox(2, ready=False, at=T0 + 90, id="sb2"),
            sandbox(1, ready=False, at=T0 + 50, id="sb1"),
            sandbox(0, ready=False, at=T0, id="sb0"),
        ),
    )
    assert containergc.old_sandboxes(obs, ()) == ("sb0",)
    assert containergc.old_sandboxes(obs, ("app-1",)) == ("sb1", "sb0")
    assert containergc.removal(obs, ("app-1",))[-1] == RemoveSandboxes(("sb1", "sb0"))


# ---------------------------------------------------------------- the status does not move


def _status(spec: PodSpec, obs: ObservedPod, p: PodPlan) -> list[dict[str, object]]:
    facts = StatusFacts(start_failures=dict(p.start_failures))
    st = pod_status(spec, obs, ProbeResults(), facts, NOW)
    return list(st.get("initContainerStatuses", [])) + list(st["containerStatuses"])


@pytest.mark.parametrize(
    ("case", "spec", "instances", "backoff"),
    [
        (
            "a running container with dead ones behind it",
            APP,
            (alive(APP, "app", 3), dead(APP, "app", 2), dead(APP, "app", 1)),
            None,
        ),
        (
            "a crash-looping container in back-off",
            APP,
            (crashed(APP, "app", 2), dead(APP, "app", 1), dead(APP, "app", 0)),
            in_backoff(APP, "app"),
        ),
        (
            "an OnFailure container that exited 0 after crashing",
            JOB,
            (dead(JOB, "web", 2, 0), dead(JOB, "web", 1), dead(JOB, "web", 0), alive(JOB, "db", 0)),
            None,
        ),
        (
            "a sidecar in back-off",
            SIDECAR,
            (alive(SIDECAR, "app", 0), crashed(SIDECAR, "logs", 2), dead(SIDECAR, "logs", 1)),
            in_backoff(SIDECAR, "logs"),
        ),
    ],
)
def test_cs1_cs3_the_status_after_the_removal_is_the_status_before_it(
    case: str,
    spec: PodSpec,
    instances: tuple[ContainerStatus, ...],
    backoff: BackoffState | None,
) -> None:
    """What the status reads (newest instance: state, restartCount; the one before it, or the
    newest under CS-3: lastState) survives, given the start failures the same plan records."""
    before = observed(*instances)
    p = plan(spec, before, backoff)
    gone = {cid for a in p.actions if isinstance(a, PruneContainers) for cid in a.container_ids}
    assert gone, case
    after = ObservedPod.of(before.sandboxes, [i for i in instances if i.id not in gone])
    assert _status(spec, after, p) == _status(spec, before, p), case
    assert plan(spec, after, backoff).backoff == p.backoff  # BO-2a: the same instance is checked
