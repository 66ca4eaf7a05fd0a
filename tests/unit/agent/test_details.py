"""Smaller rules: terminated reasons and container IDs (CS-4, CS-7, TERM-3), postStart holds
the status (HK-2), sync timers (SYNC-1), phase never Unknown (PH-6), sidecar OOM cap (SC-13)."""

import pytest

from kubelite.agent.observed import ObservedPod
from kubelite.agent.planning import resync_interval
from kubelite.agent.podstatus import StatusFacts, pod_status
from kubelite.agent.probestate import ProbeResults
from kubelite.model.resources import oom_score_adj
from kubelite.runtime.interface import ContainerState
from tests.unit.agent.builders import (
    T0,
    c,
    exited,
    observed,
    pod,
    pod_dict,
    running,
    sidecar,
    with_state,
)


@pytest.mark.parametrize(
    ("code", "reason"),
    [(0, "Completed"), (1, "Error"), (137, "OOMKilled"), (128, "StartError"), (143, "Error")],
)
def test_cs4_term3_terminated_reasons_and_codes_come_from_the_runtime(
    code: int, reason: str
) -> None:
    spec = pod([c("app")], restart="Never")
    st = pod_status(
        spec, observed(exited(spec, "app", code, reason=reason)), ProbeResults(), StatusFacts(), T0
    )
    term = st["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (code, reason)
    assert "signal" not in term  # TERM-3: never set


def test_cs7_container_ids_carry_the_runtime_prefix() -> None:
    spec = pod([c("app")])
    st = pod_status(
        spec, observed(running(spec, "app", id="abc123")), ProbeResults(), StatusFacts(), T0
    )
    assert st["containerStatuses"][0]["containerID"] == "kubelite://abc123"


def test_hk2_a_container_is_not_reported_running_before_its_post_start_returns() -> None:
    spec = pod([c("app", lifecycle={"postStart": {"exec": {"command": ["sleep", "5"]}}})])
    obs = observed(running(spec, "app"))
    facts = StatusFacts(in_post_start=frozenset({"app"}))
    st = pod_status(spec, obs, ProbeResults(), facts, T0)
    entry = st["containerStatuses"][0]
    assert entry["state"] == {"waiting": {"reason": "ContainerCreating"}}
    assert (entry["started"], entry["ready"]) == (False, False)
    assert st["phase"] == "Pending"
    after = pod_status(spec, obs, ProbeResults(), StatusFacts(), T0 + 5)
    assert "running" in after["containerStatuses"][0]["state"]


def test_hk2_a_restart_in_post_start_keeps_showing_the_previous_state() -> None:
    spec = pod([c("app", lifecycle={"postStart": {"exec": {"command": ["x"]}}})])
    before = {
        "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]
    }
    obs = observed(exited(spec, "app", 1), running(spec, "app", attempt=1, at=T0 + 5))
    facts = StatusFacts(previous=before, in_post_start=frozenset({"app"}))
    st = pod_status(spec, obs, ProbeResults(), facts, T0 + 6)
    assert st["containerStatuses"][0]["state"] == {"waiting": {"reason": "CrashLoopBackOff"}}


@pytest.mark.parametrize(
    ("case", "failed", "jitter", "wake_by", "seconds"),
    [
        ("a clean sync waits a minute", False, 0.0, None, 60.0),
        ("with full jitter up to 90 s", False, 0.999, None, 89.97),
        ("after an error 10 s", True, 0.0, None, 10.0),
        ("… and up to 15 s", True, 0.999, None, 14.995),
        ("a back-off that ends sooner wakes the pod then (BO-6)", True, 0.5, 3.0, 3.0),
        ("one that ends later does not delay the error timer", True, 0.0, 40.0, 10.0),
        ("a deadline already past wakes it at once (PH-4)", False, 0.0, -2.0, 0.0),
    ],
)
def test_sync1_the_per_pod_timer(
    case: str, failed: bool, jitter: float, wake_by: float | None, seconds: float
) -> None:
    got = resync_interval(failed=failed, jitter=jitter, wake_by=wake_by)
    assert got == pytest.approx(seconds), case


def test_ph6_the_phase_is_never_unknown_even_for_unknown_containers() -> None:
    spec = pod([c("app")])
    obs = observed(with_state(running(spec, "app"), ContainerState.UNKNOWN))
    assert pod_status(spec, obs, ProbeResults(), StatusFacts(), T0)["phase"] == "Pending"
    assert pod_status(spec, ObservedPod(), ProbeResults(), StatusFacts(), T0)["phase"] == "Pending"


def test_sc13_a_burstable_sidecar_is_never_likelier_to_be_oom_killed_than_an_app() -> None:
    raw = pod_dict(
        [c("app", resources={"requests": {"memory": "1Gi"}})],
        [sidecar("proxy", resources={"requests": {"cpu": "100m"}})],
    )
    node = 4 * 2**30
    assert oom_score_adj(raw["spec"], "proxy", node) <= oom_score_adj(raw["spec"], "app", node)


def test_ph7_a_host_network_pod_uses_the_node_ip_once_its_sandbox_exists() -> None:
    spec = pod([c("app")], hostNetwork=True)
    facts = StatusFacts(host_ip="192.168.1.2")
    assert "podIP" not in pod_status(spec, ObservedPod(), ProbeResults(), facts, T0)
    st = pod_status(spec, observed(), ProbeResults(), facts, T0)
    assert st["podIP"] == "192.168.1.2"
