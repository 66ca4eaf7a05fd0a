"""The node side of resource metrics: /proc's words, samples kept two at a time, and a
source read from the runtime's running containers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kubelite.api.metrics import PodRef, Point, Samples
from kubelite.clock import ManualClock
from kubelite.nodemetrics import HostStats, NodeMetrics, busy_ticks, next_samples, working_set
from kubelite.runtime.interface import (
    ContainerState,
    ContainerStats,
    ContainerStatus,
    NotFound,
    SandboxStatus,
)

PROC_STAT = """cpu  100 5 50 1000 20 3 2 1 0 0
cpu0 50 2 25 500 10 1 1 0 0 0
btime 1699990000
"""
MEMINFO = """MemTotal:       1000 kB
MemFree:         200 kB
Inactive(file):  300 kB
"""


def test_busy_time_is_every_cpu_state_but_idle_and_iowait() -> None:
    assert busy_ticks(PROC_STAT) == 100 + 5 + 50 + 3 + 2 + 1


def test_the_nodes_working_set_leaves_out_free_memory_and_inactive_file_cache() -> None:
    assert working_set(MEMINFO) == (1000 - 200 - 300) * 1024


def test_host_stats_read_proc(tmp_path: Path) -> None:
    (tmp_path / "stat").write_text(PROC_STAT)
    (tmp_path / "meminfo").write_text(MEMINFO)
    reading = HostStats(tmp_path).read()
    assert reading.boot_time == 1699990000.0 and reading.memory_bytes == 500 * 1024
    assert reading.cpu_ns > 0


@pytest.mark.parametrize(
    ("case", "old", "point", "expected"),
    [
        ("a first sample has its start as the earlier one", None, Point(20.0, 10.0, 7, 1),
         Samples(Point(20.0, 10.0, 7, 1), Point(10.0, 10.0, 0, 0))),
        ("a newer sample pushes the last one back", Samples(Point(20.0, 10.0, 7, 1)),
         Point(30.0, 10.0, 9, 2), Samples(Point(30.0, 10.0, 9, 2), Point(20.0, 10.0, 7, 1))),
        ("a sample no newer changes nothing", Samples(Point(20.0, 10.0, 7, 1)),
         Point(20.0, 10.0, 9, 2), Samples(Point(20.0, 10.0, 7, 1))),
        ("a restart starts again from the new start", Samples(Point(20.0, 10.0, 7, 1)),
         Point(30.0, 25.0, 1, 2), Samples(Point(30.0, 25.0, 1, 2), Point(25.0, 25.0, 0, 0))),
        ("an unknown start leaves one sample", None, Point(20.0, 0.0, 7, 1),
         Samples(Point(20.0, 0.0, 7, 1))),
    ],
)  # fmt: skip
def test_two_samples_are_kept(
    case: str, old: Samples | None, point: Point, expected: Samples
) -> None:
    assert next_samples(old, point) == expected


@dataclass
class Containers:
    """Just what the source reads of a runtime: sandboxes, containers and their stats."""

    cpu: dict[str, int] = field(default_factory=dict)
    sandboxes: list[SandboxStatus] = field(default_factory=list)
    containers: list[ContainerStatus] = field(default_factory=list)

    async def list_sandboxes(self, pod_uid: str | None = None) -> list[SandboxStatus]:
        return self.sandboxes

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        return [c for c in self.containers if c.sandbox_id == sandbox_id]

    async def container_stats(self, container_id: str) -> ContainerStats:
        if container_id not in self.cpu:
            raise NotFound(container_id)
        return ContainerStats(
            memory_bytes=4096, cpu_usage_ns=self.cpu[container_id], working_set_bytes=4096
        )


def sandbox(sid: str, uid: str, created: float, ready: bool = True) -> SandboxStatus:
    return SandboxStatus(sid, uid, "web", "default", 0, ready, created, "10.0.0.2", "/ns")


def container(cid: str, sid: str, name: str, state: ContainerState) -> ContainerStatus:
    return ContainerStatus(
        cid, sid, name, 0, state, "busybox", "busybox@sha256:x", 100.0, started_at=100.0
    )


async def test_the_source_samples_each_pods_running_containers_in_its_newest_sandbox(
    tmp_path: Path,
) -> None:
    (tmp_path / "stat").write_text(PROC_STAT)
    (tmp_path / "meminfo").write_text(MEMINFO)
    runtime = Containers(
        cpu={"c1": 1_000},
        sandboxes=[sandbox("s-old", "u1", 50.0), sandbox("s1", "u1", 90.0),
                   sandbox("s2", "u2", 90.0, ready=False)],
        containers=[container("c1", "s1", "app", ContainerState.RUNNING),
                    container("c0", "s-old", "app", ContainerState.RUNNING),
                    container("x", "s1", "done", ContainerState.EXITED),
                    container("gone", "s1", "gone", ContainerState.RUNNING)],
    )  # fmt: skip
    clock = ManualClock(start=110.0)
    source = NodeMetrics(
        runtime=runtime, clock=clock, node_name="n1", host=HostStats(tmp_path), resolution=5
    )  # type: ignore[arg-type]
    first = await source.scrape()
    ref = PodRef("default", "web", "u1")
    assert first.node_name == "n1" and list(first.pods) == [ref]
    assert first.pods[ref]["app"] == Samples(Point(110.0, 100.0, 1_000, 4096),
                                             Point(100.0, 100.0, 0, 0))  # fmt: skip
    assert "gone" not in first.pods[ref]  # gone between the listing and the read
    runtime.cpu["c1"] = 6_000
    await clock.advance(2)
    assert await source.scrape() == first  # within the resolution: the same samples
    await clock.advance(3)
    later = await source.scrape()
    assert later.pods[ref]["app"].prev == first.pods[ref]["app"].last
    assert later.node is not None and later.node.prev == first.node.last  # type: ignore[union-attr]
