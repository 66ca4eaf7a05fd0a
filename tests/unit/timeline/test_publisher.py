"""Publishing lifecycle records: at most one write per pod per second, at once when the pod
has finished, an earlier run's facts merged in, the object deleted when the pod is gone, a
failed write tried again."""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.agent import lifecyclepublish
from kubelite.agent.lifecycle import LifecycleBook
from kubelite.agent.lifecyclepublish import LifecycleApiError, LifecyclePublisher
from kubelite.clock import ManualClock
from kubelite.model.pod import ProbeType
from kubelite.timeline import record as rec

T0 = 1_700_000_000.0


class FakeApi:
    """PodLifecycles in a dict; every call noted with the virtual time it came at."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[tuple[float, str, str]] = []
        self.fail_writes = 0

    async def read_lifecycle(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.calls.append((self.clock.now() - T0, "read", name))
        found = self.objects.get((namespace, name))
        return copy.deepcopy(found) if found else None

    async def write_lifecycle(self, obj: dict[str, Any], *, create: bool) -> None:
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        self.calls.append((self.clock.now() - T0, "create" if create else "replace", key[1]))
        if self.fail_writes:
            self.fail_writes -= 1
            raise LifecycleApiError(503, "unavailable")
        if create and key in self.objects:
            raise LifecycleApiError(409, "exists")
        if not create and key not in self.objects:
            raise LifecycleApiError(404, "gone")
        self.objects[key] = copy.deepcopy(obj)

    async def delete_lifecycle(self, namespace: str, name: str, pod_uid: str) -> None:
        self.calls.append((self.clock.now() - T0, "delete", name))
        found = self.objects.get((namespace, name))
        if found and found.get("podUID") == pod_uid:
            del self.objects[(namespace, name)]

    def writes(self) -> list[tuple[float, str]]:
        return [(round(t, 2), what) for t, what, _ in self.calls if what != "read"]


def pod(name: str = "web", uid: str = "u-1") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "default", "uid": uid,
                     "creationTimestamp": "2023-11-14T22:13:20Z"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "x"}]},
    }  # fmt: skip


class Setup:
    def __init__(self) -> None:
        self.clock = ManualClock(T0)
        self.book = LifecycleBook(clock=self.clock, node_name="node-1")
        self.api = FakeApi(self.clock)
        self.publisher = LifecyclePublisher(book=self.book, api=self.api, clock=self.clock)

    async def settle(self) -> None:
        for _ in range(20):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Let the writer run, then move time in 0.1 s steps, letting it run after each."""
        await self.settle()
        for _ in range(round(seconds * 10)):
            await self.clock.advance(0.1)
            await self.settle()


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    s = Setup()
    try:
        yield s
    finally:
        await s.publisher.close()


async def test_the_first_change_is_written_at_once_with_the_pod_as_owner(setup: Setup) -> None:
    setup.book.recorder(pod())
    await setup.advance(0.1)
    assert setup.api.writes() == [(0.0, "create")]
    obj = setup.api.objects[("default", "web")]
    assert obj["apiVersion"] == "kubelite.dev/v1alpha1" and obj["kind"] == "PodLifecycle"
    assert obj["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": "web", "uid": "u-1"}
    ]
    assert obj["podUID"] == "u-1" and obj["nodeName"] == "node-1"
    assert [f["type"] for f in obj["facts"]] == [rec.POD_CREATED]


async def test_changes_are_batched_to_one_write_per_second(setup: Setup) -> None:
    record = setup.book.recorder(pod())
    await setup.advance(0.1)
    for _ in range(30):  # a change every 0.1 s for 3 s
        record.probe_result("app", ProbeType.READINESS, 0, "failure", f"try {_}")
        await setup.advance(0.1)
    await setup.advance(2)
    times = [t for t, _ in setup.api.writes()]
    assert len(times) <= 5
    assert all(b - a >= 0.99 for a, b in itertools.pairwise(times))
    facts = setup.api.objects[("default", "web")]["facts"]
    assert len([f for f in facts if f["type"] == rec.PROBE]) == 30  # the last write has them all


async def test_a_finished_pod_is_written_at_once(setup: Setup) -> None:
    record = setup.book.recorder(pod())
    await setup.advance(0.1)
    record.sandbox_creating(0)
    await setup.advance(0.2)
    record.finished()
    await setup.advance(0.05)
    assert [w for _, w in setup.api.writes()] == ["create", "replace"]
    facts = setup.api.objects[("default", "web")]["facts"]
    assert facts[-1]["type"] == rec.POD_FINISHED


async def test_an_earlier_runs_record_of_the_same_pod_is_merged(setup: Setup) -> None:
    older = {"at": 1_699_999_000_000_000, "type": rec.SANDBOX_READY, "attempt": 0}
    setup.api.objects[("default", "web")] = {
        "metadata": {"name": "web", "namespace": "default"},
        "podUID": "u-1",
        "facts": [older, {"at": 1_700_000_000_000_000, "type": rec.POD_CREATED}],
    }
    setup.book.recorder(pod())
    await setup.advance(0.1)
    facts = setup.api.objects[("default", "web")]["facts"]
    assert facts == [older, {"at": 1_700_000_000_000_000, "type": rec.POD_CREATED}]
    assert [w for _, w in setup.api.writes()] == ["create", "replace"]  # the create was refused


async def test_the_record_of_another_pod_of_that_name_is_replaced_not_merged(
    setup: Setup,
) -> None:
    setup.api.objects[("default", "web")] = {
        "metadata": {"name": "web", "namespace": "default"},
        "podUID": "old",
        "facts": [{"at": 1, "type": rec.POD_FINISHED}],
    }
    setup.book.recorder(pod())
    await setup.advance(0.1)
    obj = setup.api.objects[("default", "web")]
    assert obj["podUID"] == "u-1" and [f["type"] for f in obj["facts"]] == [rec.POD_CREATED]


async def test_the_object_is_deleted_when_the_pod_is_gone(setup: Setup) -> None:
    setup.book.recorder(pod())
    await setup.advance(0.1)
    setup.publisher.removed("u-1")
    await setup.advance(0.1)
    assert setup.api.objects == {}
    assert setup.book.get("u-1") is None
    assert setup.api.writes()[-1] == (0.1, "delete")


async def test_a_pod_never_recorded_costs_no_request_when_it_goes(setup: Setup) -> None:
    setup.publisher.removed("someone-else")
    await setup.advance(0.1)
    assert setup.api.calls == []


async def test_a_failed_write_is_tried_again(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecyclepublish, "RETRY", 2.0)
    setup.api.fail_writes = 1
    setup.book.recorder(pod())
    await setup.advance(3)
    (first, what), (second, again) = setup.api.writes()
    assert (first, what, again) == (0.0, "create", "create")
    assert 2.0 <= second <= 2.1  # the retry, on the next 0.1 s step
    assert ("default", "web") in setup.api.objects


async def test_close_writes_what_is_due_and_leaves_no_task(setup: Setup) -> None:
    record = setup.book.recorder(pod())
    await setup.advance(0.1)
    record.sandbox_creating(0)  # due in a second
    await setup.publisher.close()
    facts = setup.api.objects[("default", "web")]["facts"]
    assert facts[-1]["type"] == rec.SANDBOX_CREATING


async def test_a_repeated_probe_result_waits_for_the_later_interval(setup: Setup) -> None:
    record = setup.book.recorder(pod())
    await setup.advance(0.1)
    record.probe_result("app", ProbeType.READINESS, 0, "success", "")  # new: a transition
    await setup.advance(1.5)
    assert len(setup.api.writes()) == 2
    for _ in range(10):  # the same result, once a second: folded
        record.probe_result("app", ProbeType.READINESS, 0, "success", "")
        await setup.advance(1)
    assert len(setup.api.writes()) == 2  # nothing new enough to write yet
    await setup.advance(lifecyclepublish.LATER_INTERVAL)
    assert len(setup.api.writes()) == 3
    (probe,) = [f for f in setup.api.objects[("default", "web")]["facts"] if f["type"] == "Probe"]
    assert probe["count"] == 11
