"""What the host lets the runtime do: the lowest oom_score_adj (pure), and runc's failures with
their cause (QOS-3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.runtime.conmon import with_causes
from kubelite.runtime.host import oom_score_adj_floor

FULL = "CapBnd:\t000001ffffffffff\n"
NO_SYS_RESOURCE = "CapBnd:\t000001fffeffffff\n"  # bit 24 missing


@pytest.mark.parametrize(
    ("status", "own", "floor"),
    [
        (FULL, "0\n", None),  # CAP_SYS_RESOURCE: any value
        (NO_SYS_RESOURCE, "0\n", 0),  # without it: no lower than our own
        (NO_SYS_RESOURCE, "-500\n", -500),
        ("Name:\tx\n", "0\n", None),  # no capability line: nothing to go by
    ],
)
def test_the_lowest_oom_score_adj_is_ours_without_cap_sys_resource(
    status: str, own: str, floor: int | None
) -> None:
    assert oom_score_adj_floor(status, own) == floor


def test_runcs_error_keeps_the_fatal_cause_its_init_logged() -> None:
    message = "runc create failed: unable to start container process: can't get final child's PID from pipe: EOF"  # noqa: E501
    log = [
        ("fatal", "nsexec[19598]: failed to update /proc/self/oom_score_adj: Permission denied"),
        ("error", message),
    ]
    assert with_causes(message, log) == (
        f"{message}: nsexec[19598]: failed to update /proc/self/oom_score_adj: Permission denied"
    )


def test_a_message_without_a_logged_cause_is_kept_as_it_is() -> None:
    assert with_causes('exec: "nope": not found', [("error", "x")]) == 'exec: "nope": not found'


def test_the_working_set_is_usage_less_the_inactive_file_cache(tmp_path: Path) -> None:
    from kubelite.runtime.cgroups import PodCgroups

    memory = tmp_path / "memory" / "c1"
    memory.mkdir(parents=True)
    (memory / "memory.usage_in_bytes").write_text("10000\n")
    (memory / "memory.stat").write_text("cache 6000\ntotal_inactive_file 4000\nrss 1\n")
    cgroups = PodCgroups.__new__(PodCgroups)
    cgroups._controller_dir = lambda controller, path: memory  # type: ignore[method-assign]
    assert cgroups.working_set("/c1") == 6000
    (memory / "memory.stat").write_text("total_inactive_file 20000\n")
    assert cgroups.working_set("/c1") == 0  # never below 0
