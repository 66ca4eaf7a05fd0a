"""CrashLoopBackOff and image-pull back-off (BO-1..BO-9)."""

import pytest

from kubelite.agent.backoff import (
    BackoffEntry,
    BackoffPolicy,
    BackoffState,
    check,
    crash_key,
    pull_failed,
    pull_in_backoff,
    pull_key,
)
from kubelite.agent.labels import spec_hash
from tests.unit.agent.builders import pod

K = "p_ns_uid_app_h"


def test_bo1_the_key_names_pod_namespace_uid_container_and_hash() -> None:
    spec = pod([{"name": "app", "image": "busybox"}])
    key = crash_key(spec, spec.containers[0], "abc")
    assert key == "p_ns_uid-1_app_abc"


def test_bo1_a_new_image_gives_a_new_key() -> None:
    old = pod([{"name": "app", "image": "busybox:1"}])
    new = pod([{"name": "app", "image": "busybox:2"}])
    a = crash_key(old, old.containers[0], spec_hash(old.containers[0]))
    b = crash_key(new, new.containers[0], spec_hash(new.containers[0]))
    assert a != b


def test_bo2_bo4_the_first_crash_restarts_at_once_and_creates_a_10s_record() -> None:
    out = check(BackoffState(), K, finished_at=100.0, now=101.0)
    assert not out.in_backoff
    assert out.state.get(K) == BackoffEntry(delay=10.0, last_update=101.0)


@pytest.mark.parametrize(
    ("case", "now", "in_backoff"),
    [
        ("one second after the exit is inside a 10 s delay", 111.0, True),
        ("9.9 s after the exit is still inside", 119.9, True),
        ("exactly 10 s after the exit is free", 120.0, False),
    ],
)
def test_bo2_a_restart_waits_until_the_delay_has_passed_since_finished_at(
    case: str, now: float, in_backoff: bool
) -> None:
    state = BackoffState().with_entry(K, BackoffEntry(delay=10.0, last_update=101.0))
    out = check(state, K, finished_at=110.0, now=now)
    assert out.in_backoff is in_backoff, case
    if in_backoff:
        assert out.state is state and out.delay == 10.0


def test_bo4_delays_double_to_a_300s_cap() -> None:
    """BO-4: 0, 10, 20, 40, 80, 160, 300, 300 s after each exit."""
    state, now, waits = BackoffState(), 0.0, []
    for _ in range(8):
        finished = now + 1.0  # the instance runs 1 s
        t = finished
        while (out := check(state, K, finished, t)).in_backoff:
            t += 1.0
        waits.append(t - finished)
        state, now = out.state, t
    assert waits == [0, 10, 20, 40, 80, 160, 300, 300]


def test_bo2_bo3_an_instance_that_ran_over_600s_restarts_at_once_with_a_fresh_delay() -> None:
    state = BackoffState().with_entry(K, BackoffEntry(delay=300.0, last_update=1000.0))
    out = check(state, K, finished_at=1601.0, now=1602.0)
    assert not out.in_backoff
    assert out.delay == 10.0


def test_bo2a_a_probe_restart_checks_an_older_exit_and_still_doubles_the_delay() -> None:
    """BO-2a: the older instance finished before the record's lastUpdate: no reset."""
    state = BackoffState().with_entry(K, BackoffEntry(delay=10.0, last_update=500.0))
    out = check(state, K, finished_at=400.0, now=900.0)
    assert not out.in_backoff
    assert out.state.get(K) == BackoffEntry(delay=20.0, last_update=900.0)


def test_bo8_a_policy_can_lower_initial_and_max() -> None:
    fast = BackoffPolicy(initial=1.0, max=60.0)
    out = check(BackoffState(), K, 0.0, 0.0, fast)
    assert out.delay == 1.0


def test_bo9_an_image_pull_failure_starts_a_10s_pull_backoff() -> None:
    key = pull_key("uid", "busybox")
    assert key == "uid_busybox"
    state = pull_failed(BackoffState(), key, now=50.0)
    assert pull_in_backoff(state, key, now=55.0)
    assert not pull_in_backoff(state, key, now=60.0)
    state = pull_failed(state, key, now=60.0)
    assert state.get(key) == BackoffEntry(delay=20.0, last_update=60.0)


def test_bo9_no_record_means_no_pull_backoff() -> None:
    assert not pull_in_backoff(BackoffState(), "uid_x", now=0.0)
