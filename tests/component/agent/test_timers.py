"""When a pod's worker wakes with nothing else to wake it: the resync timer, stretched by the
kubelet's jitter (SYNC-1, BO-6), and the active deadline (PH-4). On virtual time."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.component.agent.harness import Node, c, pod


async def test_ph4_the_active_deadline_fails_the_pod_when_it_runs_out(tmp_path: Path) -> None:
    """Not at the next periodic sync (60 s later): the worker wakes at the deadline, posts
    DeadlineExceeded once (a Normal event, as the kubelet's), fails the pod and stops it."""
    async with Node.running(tmp_path) as node:
        node.add(pod("job", [c("app")], activeDeadlineSeconds=30))
        await node.advance_to(29.5)
        assert node.status("job")["phase"] == "Running"
        assert "DeadlineExceeded" not in node.reasons("job")
        await node.advance_to(30.5)
        status = node.status("job")
        assert (status["phase"], status["reason"], status["message"]) == (
            "Failed",
            "DeadlineExceeded",
            "Pod was active on the node longer than the specified deadline",
        )
        (deadline,) = node.posted("job", "DeadlineExceeded")
        assert (round(deadline.t), deadline.event.type, deadline.event.field_path) == (
            30,
            "Normal",
            "",
        )
        assert node.messages("job", "Killing") == ["Stopping container app"]
        await node.advance_to(300)
        assert len(node.posted("job", "DeadlineExceeded")) == 1
        assert node.state("job", "app")[0] == "terminated"


@pytest.mark.parametrize(("jitter", "period"), [(0.0, 10), (0.999, 15)])
async def test_sync1_bo6_back_off_syncs_come_every_10_to_15_s_and_restarts_stay_on_time(
    tmp_path: Path, jitter: float, period: int
) -> None:
    """A pod in back-off is synced again 10-15 s after each sync (one BackOff event each),
    where in that range set by the jitter; the restart itself still comes when the back-off
    runs out."""
    async with Node.running(tmp_path, jitter=jitter) as node:
        node.runtime.script("app", runs=1.0, exit_code=1)
        node.add(pod("loop", [c("app")]))
        await node.advance_to(400)
        starts = [round(t) for t in node.event_times("loop", "Started")]
        assert starts == [0, 1, 12, 33, 74, 155, 316]
        during = [t for t in node.event_times("loop", "BackOff") if 156 <= t < 316]
        assert {round(b - a) for a, b in itertools.pairwise(during)} == {period}
        assert len(during) == 160 // period + (160 % period > 0)
