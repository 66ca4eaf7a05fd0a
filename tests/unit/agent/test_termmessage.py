"""Termination-message selection (TM-2), restart counts from logs (SYNC-7), deadline from
startTime (INIT-13), plain-dict inputs."""

import pytest

from kubelite.agent import termmessage as tm
from kubelite.agent.backoff import BackoffState
from kubelite.agent.observed import ObservedPod
from kubelite.agent.phase import deadline_at, deadline_exceeded
from kubelite.agent.planning import plan_pod
from kubelite.agent.podstatus import StatusFacts, pod_status
from kubelite.agent.probestate import ProbeResults
from tests.unit.agent.builders import T0, c, pod, pod_dict


def test_tm2_the_file_gives_its_last_4096_bytes() -> None:
    assert tm.from_file(b"a" * 5000 + b"end") == ("a" * 4093) + "end"


def test_tm2_the_log_fallback_takes_the_last_80_lines_capped_to_2048_bytes() -> None:
    lines = [f"line {i}" for i in range(100)]
    text = tm.from_logs(lines)
    assert text.splitlines()[0] == "line 20" and text.endswith("line 99\n")
    assert len(tm.from_logs(["x" * 3000]).encode()) == 2048


@pytest.mark.parametrize(
    ("case", "policy", "code", "reason", "file_text", "fallback"),
    [
        ("File policy never reads logs", "File", 1, "Error", "", False),
        (
            "fallback on a failed exit with an empty file",
            "FallbackToLogsOnError",
            1,
            "Error",
            "",
            True,
        ),
        ("no fallback on exit 0", "FallbackToLogsOnError", 0, "Completed", "", False),
        ("no fallback when the file has text", "FallbackToLogsOnError", 1, "Error", "bye", False),
        (
            "no fallback for ContainerCannotRun",
            "FallbackToLogsOnError",
            128,
            "ContainerCannotRun",
            "",
            False,
        ),
    ],
)
def test_tm2_when_logs_replace_the_file(
    case: str, policy: str, code: int, reason: str, file_text: str, fallback: bool
) -> None:
    assert tm.wants_logs(policy, code, reason, file_text) is fallback, case


def test_tm2_read_errors_have_the_kubelet_text() -> None:
    assert tm.file_error("/x", "EACCES") == "Error on reading termination log /x: EACCES"
    assert tm.log_error("gone") == "Error on reading termination message from logs: gone"


def test_sync7_restart_count_is_rebuilt_from_the_highest_log_file() -> None:
    assert tm.restart_count_from_logs(["0.log", "3.log", "2.log", "x.log"]) == 4
    assert tm.restart_count_from_logs([]) == 0


def test_init13_the_active_deadline_counts_from_start_time_including_init_time() -> None:
    spec = pod([c("app")], [c("init")], activeDeadlineSeconds=30)
    assert not deadline_exceeded(spec, T0, T0 + 29)
    assert deadline_exceeded(spec, T0, T0 + 30)
    assert not deadline_exceeded(spec, None, T0 + 30)
    assert deadline_at(spec, T0) == T0 + 30
    assert deadline_at(pod([c("app")]), T0) is None


def test_plan_pod_and_pod_status_also_take_the_pod_as_a_plain_dict() -> None:
    raw = pod_dict([c("app")])
    plan = plan_pod(raw, ObservedPod(), ProbeResults(), BackoffState(), T0)
    assert len(plan.actions) == 2
    assert pod_status(raw, ObservedPod(), ProbeResults(), StatusFacts(), T0)["phase"] == "Pending"
