"""The leader election loop on virtual time, against an in-memory Lease API: one of several
candidates runs the work, a leader cut off from the API cancels its work within the renew
deadline and another takes over after the lease duration, a stopping leader hands the Lease
over at once, and a restarted candidate with the same identity leads again at once."""

from __future__ import annotations

import asyncio
import copy
import random
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from kubelite.client.rest import ApiError, Obj, Resource
from kubelite.clock import ManualClock
from kubelite.controllers.leaderelection import LeaderElector
from kubelite.model.objects import JSON


class FakeLeases:
    """Leases by name with resourceVersions, shared by every candidate (the API server)."""

    def __init__(self) -> None:
        self.objects: dict[str, Obj] = {}
        self.version = 0
        self.events: list[tuple[str, str, str]] = []  # (lease, reason, message)

    def client(self) -> FakeClient:
        return FakeClient(self)


class FakeClient:
    def __init__(self, api: FakeLeases) -> None:
        self.api = api
        self.cut_off = False  # every request fails, as when the API is out of reach

    def _check(self) -> None:
        if self.cut_off:
            raise ApiError(0, "ConnectionError", "connection refused")

    async def get(self, res: Resource, namespace: str | None, name: str) -> Obj:
        self._check()
        if name not in self.api.objects:
            raise ApiError(404, "NotFound", f'leases "{name}" not found')
        return copy.deepcopy(self.api.objects[name])

    async def create(self, res: Resource, namespace: str | None, obj: Obj) -> Obj:
        self._check()
        name = obj["metadata"]["name"]
        if name in self.api.objects:
            raise ApiError(409, "AlreadyExists", "exists")
        return self._store(obj)

    async def replace(self, res: Resource, obj: Obj, *, sub: str = "") -> Obj:
        self._check()
        name = obj["metadata"]["name"]
        stored = self.api.objects[name]["metadata"]["resourceVersion"]
        if obj["metadata"].get("resourceVersion") != stored:
            raise ApiError(409, "Conflict", "the object has been modified")
        return self._store(obj)

    def _store(self, obj: Obj) -> Obj:
        self.api.version += 1
        stored = copy.deepcopy(obj)
        stored["metadata"]["resourceVersion"] = str(self.api.version)
        self.api.objects[stored["metadata"]["name"]] = stored
        return copy.deepcopy(stored)

    async def event(self, obj: JSON, type_: str, reason: str, message: str) -> None:
        self.api.events.append((obj["metadata"]["name"], reason, message))


class Work:
    """Counts how many candidates run the work at once."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.started: list[str] = []

    def of(self, who: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def work() -> None:
            self.running.add(who)
            self.started.append(who)
            try:
                await asyncio.Event().wait()
            finally:
                self.running.discard(who)

        return work


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def api() -> FakeLeases:
    return FakeLeases()


class Candidates:
    def __init__(self, api: FakeLeases, clock: ManualClock) -> None:
        self.api, self.clock, self.work = api, clock, Work()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.clients: dict[str, FakeClient] = {}
        self.electors: dict[str, LeaderElector] = {}

    def start(self, who: str, seed: int = 0) -> LeaderElector:
        client = self.api.client()
        elector = LeaderElector(
            client, namespace="kube-system", name="kube-scheduler", identity=who,
            clock=self.clock, events=client, rng=random.Random(seed),
        )  # fmt: skip
        self.clients[who], self.electors[who] = client, elector
        self.tasks[who] = asyncio.create_task(elector.run(self.work.of(who)), name=who)
        return elector

    async def stop(self, who: str) -> None:
        task = self.tasks.pop(who)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def stop_all(self) -> None:
        for who in list(self.tasks):
            await self.stop(who)


@pytest.fixture
async def candidates(api: FakeLeases, clock: ManualClock) -> AsyncIterator[Candidates]:
    c = Candidates(api, clock)
    try:
        yield c
    finally:
        await c.stop_all()


async def settle(clock: ManualClock, seconds: float) -> None:
    for _ in range(int(seconds * 10)):
        await clock.advance(0.1)


def holder(api: FakeLeases) -> str:
    return str(api.objects["kube-scheduler"]["spec"].get("holderIdentity") or "")


async def test_of_two_candidates_one_leads_and_runs_the_work(
    candidates: Candidates, api: FakeLeases, clock: ManualClock
) -> None:
    a = candidates.start("a_1")
    b = candidates.start("b_2", seed=1)
    await settle(clock, 30)
    assert candidates.work.running == {"a_1"}
    assert (a.leading, b.leading) == (True, False)
    assert holder(api) == "a_1" and b.holder == "a_1"
    spec = api.objects["kube-scheduler"]["spec"]
    assert spec["leaseDurationSeconds"] == 15 and spec["leaseTransitions"] == 0
    assert api.events == [("kube-scheduler", "LeaderElection", "a_1 became leader")]


async def test_a_leader_cut_off_stops_within_the_deadline_and_another_takes_over_after_the_term(
    candidates: Candidates, api: FakeLeases, clock: ManualClock
) -> None:
    candidates.start("a_1")
    await settle(clock, 1)
    candidates.start("b_2", seed=1)
    await settle(clock, 5)
    candidates.clients["a_1"].cut_off = True
    last_renewal = clock.monotonic()
    while "a_1" in candidates.work.running:
        await clock.advance(0.1)
    assert clock.monotonic() - last_renewal <= 10.5  # the renew deadline (from the last success)
    while "b_2" not in candidates.work.running:
        await clock.advance(0.1)
        assert candidates.work.running <= {"b_2"}, "never two at once"
    taken = clock.monotonic() - last_renewal
    assert 15 <= taken <= 15 + 2 * 2.2 + 1  # the term seen unchanged, then a jittered retry
    assert holder(api) == "b_2"
    assert api.objects["kube-scheduler"]["spec"]["leaseTransitions"] == 1
    assert not candidates.electors["a_1"].leading
    # back in reach, the old leader follows the new one
    candidates.clients["a_1"].cut_off = False
    await settle(clock, 10)
    assert candidates.work.running == {"b_2"} and candidates.electors["a_1"].holder == "b_2"


async def test_a_leader_that_finds_another_holder_cancels_its_work_at_once(
    candidates: Candidates, api: FakeLeases, clock: ManualClock
) -> None:
    candidates.start("a_1")
    await settle(clock, 1)
    lease = api.objects["kube-scheduler"]
    lease["spec"]["holderIdentity"] = "intruder"
    lease["metadata"]["resourceVersion"] = "999"
    await settle(clock, 2.5)
    assert candidates.work.running == set()
    reasons = [m for _, _, m in api.events]
    assert reasons == ["a_1 became leader", "a_1 stopped leading"]


async def test_a_stopping_leader_releases_the_lease_and_the_other_leads_at_its_next_look(
    candidates: Candidates, api: FakeLeases, clock: ManualClock
) -> None:
    candidates.start("a_1")
    await settle(clock, 1)
    candidates.start("b_2", seed=1)
    await settle(clock, 3)
    await candidates.stop("a_1")
    assert candidates.work.running == set()
    assert holder(api) == "" and api.objects["kube-scheduler"]["spec"]["leaseDurationSeconds"] == 1
    await settle(clock, 2 * 2.2 + 0.2)
    assert candidates.work.running == {"b_2"}


async def test_a_restarted_candidate_with_the_same_identity_leads_again_at_once(
    candidates: Candidates, api: FakeLeases, clock: ManualClock
) -> None:
    candidates.start("a_1")
    await settle(clock, 3)
    acquired = api.objects["kube-scheduler"]["spec"]["acquireTime"]
    task = candidates.tasks.pop("a_1")  # killed: no release
    candidates.clients["a_1"].cut_off = True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert holder(api) == "a_1"
    candidates.start("a_1")
    await settle(clock, 0.2)
    assert candidates.work.running == {"a_1"}
    spec = api.objects["kube-scheduler"]["spec"]
    assert spec["acquireTime"] == acquired and spec["leaseTransitions"] == 0


def test_durations_client_go_would_refuse_are_refused() -> None:
    from kubelite.controllers.leaderdecisions import ElectionTiming

    with pytest.raises(ValueError, match="leaseDuration must be greater than renewDeadline"):
        LeaderElector(
            FakeLeases().client(), namespace="kube-system", name="x", identity="a",
            clock=ManualClock(), timing=ElectionTiming(5, 10, 2),
        )  # fmt: skip
