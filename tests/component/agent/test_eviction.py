"""Local-storage eviction through a running NodeAgent on virtual time (VOL-3, PH-5), and the
node's one event about a clamped oom_score_adj (QOS-3).

The FakeRuntime reports each pod's disk use as the test sets it (``use_disk``); the agent's
eviction manager looks every 10 s."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kubelite.agent.eventtext import Event
from kubelite.agent.node import OOM_RESTRICTED, NodeAgent
from kubelite.agent.static import StaticPods
from kubelite.clock import ManualClock
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.interface import RuntimeInfo
from kubelite.settings import Settings
from tests.component.agent.harness import T0, FakeImages, Node, Stop, c, pod

Mi = 1024 * 1024
MESSAGE = 'Usage of EmptyDir volume "cache" exceeds the limit "10Mi". '


def with_cache(name: str = "p", **extra: object) -> dict[str, object]:
    app = c("app", volumeMounts=[{"name": "cache", "mountPath": "/cache"}])
    return pod(name, [app], volumes=[{"name": "cache", "emptyDir": {"sizeLimit": "10Mi"}}],
               **extra)  # fmt: skip


async def test_an_empty_dir_over_its_size_limit_evicts_the_pod_on_the_monitoring_loop(
    tmp_path: Path,
) -> None:
    async with Node.running(tmp_path) as node:
        node.runtime.script("app", on_term=None)  # ignores SIGTERM: killed when the grace ends
        uid = node.add(with_cache(tgps=30))
        await node.advance_to(3)
        assert node.row("p") == "1/1 Running 0"
        node.runtime.use_disk(uid, volumes={"cache": 50 * Mi})
        at = await node.until(lambda: node.status("p").get("phase") == "Failed", within=30)
        assert 10 <= at <= 21  # found on the next round of the 10 s loop
        status = node.status("p")
        assert (status["reason"], status["message"]) == ("Evicted", MESSAGE)
        evicted = node.posted("p", "Evicted")
        assert [(e.event.type, e.event.message) for e in evicted] == [("Warning", MESSAGE)]
        assert node.messages("p", "Killing") == ["Stopping container app"]
        # the eviction's 1 s grace, so the stop gets TERM-2's 2 s minimum, not the pod's 30 s
        assert [s.timeout for s in node.runtime.stops] == [2]
        await node.advance(60)
        assert node.runtime.created("app") == 1  # an evicted pod is never restarted
        assert len(node.posted("p", "Evicted")) == 1


async def test_a_pod_within_its_limits_stays_and_one_without_limits_is_never_measured(
    tmp_path: Path,
) -> None:
    async with Node.running(tmp_path) as node:
        uid = node.add(with_cache("limited"))
        node.add(pod("free", [c("app")], volumes=[{"name": "v", "emptyDir": {}}]))
        node.runtime.use_disk(uid, volumes={"cache": 10 * Mi})  # exactly at the limit
        await node.advance_to(45)
        assert node.row("limited") == "1/1 Running 0"
        measured = {call.args[0] for call in node.runtime.calls_of("pod_storage")}
        assert measured == {uid}


async def test_a_container_over_its_ephemeral_storage_limit_evicts_the_pod(
    tmp_path: Path,
) -> None:
    async with Node.running(tmp_path) as node:
        limited = c("app", resources={"limits": {"ephemeral-storage": "100Mi"}})
        roomy = c("side", resources={"limits": {"ephemeral-storage": "1Gi"}})
        uid = node.add(pod("p", [limited, roomy]))
        await node.advance_to(3)
        node.runtime.use_disk(uid, containers={"app": 150 * Mi, "side": 1})
        await node.until(lambda: node.status("p").get("phase") == "Failed", within=30)
        assert node.status("p")["message"] == (
            'Container app exceeded its local ephemeral storage limit "100Mi". '
        )
        stops = sorted(node.runtime.stops, key=lambda s: s.name)
        assert [(s.name, s.timeout) for s in stops] == [("app", 2), ("side", 2)]
        assert all(isinstance(s, Stop) for s in stops)


class RecordingPods(StaticPods):
    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock=clock, node_name="node-1")
        self.node_events: list[Event] = []

    async def emit_node(self, event: Event) -> None:
        self.node_events.append(event)


async def test_the_node_says_once_that_a_lower_oom_score_adj_is_not_allowed(
    tmp_path: Path,
) -> None:
    clock = ManualClock(T0)
    client = RecordingPods(clock)
    async with FakeRuntime(clock, info=RuntimeInfo(oom_score_adj_floor=0)) as runtime:
        agent = NodeAgent(
            settings=Settings(data_dir=tmp_path / "data", node_name="node-1"), runtime=runtime,
            images=FakeImages(clock), client=client, clock=clock,
        )  # fmt: skip
        task = asyncio.create_task(agent.run())
        for _ in range(50):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    (event,) = client.node_events
    assert (event.type, event.reason) == ("Warning", OOM_RESTRICTED)
    assert "below 0" in event.message and "-997" in event.message
