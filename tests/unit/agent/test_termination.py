"""Grace periods and stop ordering (TERM-1, TERM-2, SC-11, HK-4)."""

import pytest

from kubelite.agent.actions import KillPod, KillReason
from kubelite.agent.backoff import BackoffState
from kubelite.agent.planning import plan_pod
from kubelite.agent.probestate import ProbeResults
from kubelite.agent.termination import (
    deletion_grace,
    kill_grace,
    runs_pre_stop,
    stop_container,
    stop_timeout,
    wait_budget,
    wait_for,
)
from tests.unit.agent.builders import T0, c, exited, observed, pod, probe, running, sidecar

SLEEP3 = {"preStop": {"exec": {"command": ["sleep", "3"]}}}
TL4 = pod(
    [c("app", lifecycle={"preStop": {"sleep": {"seconds": 5}}})],
    [sidecar("s1", lifecycle=SLEEP3), sidecar("s2")],
    deleted=T0,
)


def test_sc11_sidecars_wait_for_the_apps_and_the_next_sidecar() -> None:
    assert wait_for(TL4, ["s1", "s2", "app"]) == {"app": (), "s2": ("app",), "s1": ("app", "s2")}


def test_sc11_containers_that_are_not_running_hold_nobody_up() -> None:
    assert wait_for(TL4, ["s1"]) == {"s1": ()}
    assert wait_for(TL4, ["s1", "app"]) == {"s1": ("app",), "app": ()}


def test_term2_without_sidecars_nobody_waits() -> None:
    spec = pod([c("a"), c("b")], [c("init")])
    assert wait_for(spec, ["a", "b", "init"]) == {"a": (), "b": (), "init": ()}


@pytest.mark.parametrize(
    ("case", "grace", "pre_stop", "waited", "timeout"),
    [
        ("TL-4: app after a 5 s preStop gets 25", 30, 5.2, 0, 25),
        ("TL-4: s2 after waiting 25 s gets 5", 30, 0, 25.0, 5),
        ("TL-4: s1 after a 3 s preStop and a 23 s wait gets 4", 30, 3.0, 23.0, 4),
        ("TL-4 variant: the waits ran out, 2 s minimum", 30, 0, 30.0, 2),
        ("TERM-2 step 4: a 1 s eviction grace still gives 2 s", 1, 0.5, 0, 2),
    ],
)
def test_term2_sc11_stop_timeout_is_grace_minus_whole_seconds_spent(
    case: str, grace: int, pre_stop: float, waited: float, timeout: int
) -> None:
    assert stop_timeout(grace, pre_stop, waited) == timeout, case


def test_term2_the_wait_is_bounded_by_what_preStop_left() -> None:
    assert wait_budget(30, 3.7) == 27
    assert wait_budget(2, 5.0) == 0


def test_hk4_prestop_runs_only_with_a_positive_grace() -> None:
    spec = pod([c("app", lifecycle=SLEEP3)], tgps=0)
    ctr = running(spec, "app")
    stop = stop_container(spec, spec.containers[0], ctr, KillReason.STOP, "Stopping container app")
    assert stop.pre_stop and not runs_pre_stop(stop)
    assert runs_pre_stop(
        stop_container(spec, spec.containers[0], ctr, KillReason.STOP, "x", grace=1)
    )


@pytest.mark.parametrize(
    ("case", "reason", "deletion", "expected"),
    [
        ("TERM-1: a liveness kill uses the probe's own grace", KillReason.LIVENESS, None, 7),
        ("TERM-1: a startup kill without probe grace uses TGPS", KillReason.STARTUP, None, 45),
        ("TERM-1: an image change uses TGPS", KillReason.CHANGED, None, 45),
        ("TERM-1: the deletion grace wins over the probe's", KillReason.LIVENESS, 3, 3),
    ],
)
def test_term1_pr7_kill_grace(
    case: str, reason: KillReason, deletion: int | None, expected: int
) -> None:
    spec = pod(
        [c("app", livenessProbe=probe(terminationGracePeriodSeconds=7), startupProbe=probe())],
        tgps=45,
        deleted=T0 if deletion is not None else None,
        deletion_grace=deletion,
    )
    assert kill_grace(spec, spec.containers[0], reason) == expected, case


def test_term1_deletion_grace_defaults_to_tgps_and_takes_the_smallest_seen() -> None:
    spec = pod([c("app")], tgps=30)
    assert deletion_grace(spec) == 30
    assert deletion_grace(spec, previous=10) == 10
    assert deletion_grace(pod([c("app")], deleted=T0, deletion_grace=0)) == 1


def test_sc11_a_deleted_pods_kill_lists_every_running_container_with_its_waits() -> None:
    obs = observed(running(TL4, "s1"), exited(TL4, "s2", 0), running(TL4, "app"))
    plan = plan_pod(TL4, obs, ProbeResults(), BackoffState(), T0, phase="Failed")
    (kill,) = plan.actions
    assert isinstance(kill, KillPod)
    assert [(s.name, s.wait_for, s.grace_seconds, s.pre_stop) for s in kill.stops] == [
        ("s1", ("app",), 30, True),
        ("app", (), 30, True),
    ]
