"""RuntimeHooks and the sleep action (HK-5): the sleep is cut short, and the hook fails, when
the container terminates before it is over; otherwise it lasts its whole time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kubelite.agent.handlers import RuntimeHooks
from kubelite.agent.hookrunner import SLEEP_CUT_SHORT
from kubelite.clock import ManualClock
from kubelite.model.pod import PodSpec
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.interface import ContainerConfig, SandboxConfig

T0 = 1_700_000_000.0
POD = PodSpec.of(
    {
        "metadata": {"name": "web", "namespace": "default", "uid": "uid-1"},
        "spec": {"containers": [{"name": "app", "image": "img"}]},
    }
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeRuntime]:
    async with FakeRuntime(ManualClock(T0)) as rt:
        yield rt


async def _sleep_hook(fake: FakeRuntime, seconds: int, runs: float) -> tuple[bool, str, float]:
    clock = fake.clock
    assert isinstance(clock, ManualClock)
    fake.script("app", runs=runs)
    sid = await fake.run_sandbox(SandboxConfig("uid-1", "web", "default", 0, "web"))
    cid = await fake.create_container(sid, ContainerConfig(name="app", attempt=0, image="img"))
    await fake.start_container(cid)
    hooks = RuntimeHooks(runtime=fake, clock=clock)
    task = asyncio.ensure_future(
        hooks.run(POD, POD.containers[0], cid, {"sleep": {"seconds": seconds}})
    )
    while not task.done() and clock.now() < T0 + 100:
        await clock.advance(0.5)
    outcome = await task
    return outcome.ok, outcome.message, clock.now() - T0


async def test_hk5_a_sleep_is_cut_short_when_the_container_exits(fake: FakeRuntime) -> None:
    ok, message, took = await _sleep_hook(fake, seconds=30, runs=2.0)
    assert not ok and SLEEP_CUT_SHORT in message
    assert took <= 3.0


async def test_hk5_a_sleep_lasts_its_time_while_the_container_runs(fake: FakeRuntime) -> None:
    ok, _, took = await _sleep_hook(fake, seconds=5, runs=60.0)
    assert ok and 5.0 <= took <= 6.0
