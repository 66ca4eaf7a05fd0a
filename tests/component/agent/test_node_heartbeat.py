"""The node's status over time, as ``kubectl describe node`` shows it: the Lease renewed every
10 s, the conditions' heartbeat moved by a status report every 5 min, their transition kept,
also across a re-registration."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import BaseTestServer, TestServer

from kubelite.agent.apiclient import ApiNodeClient, Endpoint
from kubelite.agent.envvars import NodeFacts
from kubelite.agent.noderecord import HostInfo, node_object
from kubelite.api.pki import ensure_pki
from kubelite.clock import ManualClock, rfc3339

T0 = 1_700_000_000.0
FACTS = NodeFacts(node_name="node-1", host_ip="10.0.0.1", cpu="1", memory="1Gi")


class FakeApi:
    """Nodes and Leases in memory; every status patch is recorded."""

    def __init__(self) -> None:
        self.node: dict[str, Any] | None = None
        self.status_patches: list[dict[str, Any]] = []
        self.lease_renewals = 0
        self.seen = asyncio.Condition()  # notified after every request
        self.app = web.Application(middlewares=[self.notify])
        self.app.router.add_get("/api/v1/nodes/{name}", self.get_node)
        self.app.router.add_post("/api/v1/nodes", self.create_node)
        self.app.router.add_patch("/api/v1/nodes/{name}/status", self.patch_status)
        lease = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
        self.app.router.add_patch(lease, self.renew)

    @web.middleware
    async def notify(self, request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)  # type: ignore[no-any-return]
        finally:
            async with self.seen:
                self.seen.notify_all()

    async def wait_for(self, check: Callable[[], bool]) -> None:
        async with asyncio.timeout(10), self.seen:
            await self.seen.wait_for(check)

    async def get_node(self, request: web.Request) -> web.Response:
        if self.node is None:
            return web.json_response({"kind": "Status", "code": 404}, status=404)
        return web.json_response(self.node)

    async def create_node(self, request: web.Request) -> web.Response:
        self.node = await request.json()
        return web.json_response(self.node, status=201)

    async def patch_status(self, request: web.Request) -> web.Response:
        patch = await request.json()
        self.status_patches.append(patch)
        assert self.node is not None
        self.node["status"].update(copy.deepcopy(patch["status"]))
        return web.json_response(self.node)

    async def renew(self, request: web.Request) -> web.Response:
        self.lease_renewals += 1
        return web.json_response({})

    def times(self, kind: str) -> set[str]:
        assert self.node is not None
        return {c[kind] for c in self.node["status"]["conditions"]}


class SleepWatchingClock(ManualClock):
    """A ManualClock that says when someone went to sleep on it: with real HTTP in between,
    time may only move once the heartbeat waits for it."""

    def __init__(self, start: float) -> None:
        super().__init__(start)
        self.asleep = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.asleep.set()  # the sleeper is queued before anyone else runs
        await super().sleep(seconds)

    async def advance_when_asleep(self, seconds: float) -> None:
        async with asyncio.timeout(10):
            await self.asleep.wait()
        self.asleep.clear()
        await self.advance(seconds)


def client_for(server: BaseTestServer, tmp_path: Path, clock: ManualClock) -> ApiNodeClient:
    pki = ensure_pki(tmp_path / "pki")
    endpoint = Endpoint(str(server.make_url("")), pki.ca_cert, "token")
    return ApiNodeClient(endpoint=endpoint, node=FACTS, clock=clock)


async def test_the_heartbeat_moves_every_report_and_the_transition_stays(tmp_path: Path) -> None:
    api, clock = FakeApi(), SleepWatchingClock(T0)
    async with TestServer(api.app) as server:
        client = client_for(server, tmp_path, clock)
        await client.register_node(node_object(FACTS, clock.now(), HostInfo()))
        beat = asyncio.create_task(client.heartbeat())
        try:
            for _ in range(61):  # 10 min and 10 s, one lease period at a time
                await clock.advance_when_asleep(10.0)
            await api.wait_for(lambda: api.lease_renewals == 62)
            assert len(api.status_patches) == 2
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            await client.close()
    assert api.times("lastHeartbeatTime") == {rfc3339(T0 + 600)}  # reports at 300 s, 600 s
    assert api.times("lastTransitionTime") == {rfc3339(T0)}


async def test_a_restarted_agent_keeps_the_transition_times_of_the_node(tmp_path: Path) -> None:
    api, clock = FakeApi(), ManualClock(T0)
    async with TestServer(api.app) as server:
        first = client_for(server, tmp_path, clock)
        await first.register_node(node_object(FACTS, clock.now(), HostInfo()))
        await first.close()
        await clock.advance(3600.0)
        second = client_for(server, tmp_path, clock)
        await second.register_node(node_object(FACTS, clock.now(), HostInfo(boot_id="new")))
        await second.close()
    assert api.times("lastHeartbeatTime") == {rfc3339(T0 + 3600)}
    assert api.times("lastTransitionTime") == {rfc3339(T0)}
    assert api.node is not None and api.node["status"]["nodeInfo"]["bootID"] == "new"


async def test_conditions_marked_unknown_by_the_controller_are_reported_again_at_once(
    tmp_path: Path,
) -> None:
    """The node lifecycle controller turned Ready Unknown while the agent was away: the next
    10 s status check sees the API's copy differ and reports, not 5 minutes later."""
    api, clock = FakeApi(), SleepWatchingClock(T0)
    async with TestServer(api.app) as server:
        client = client_for(server, tmp_path, clock)
        await client.register_node(node_object(FACTS, clock.now(), HostInfo()))
        assert api.node is not None
        for cond in api.node["status"]["conditions"]:
            cond.update(status="Unknown", reason="NodeStatusUnknown")
        beat = asyncio.create_task(client.heartbeat())
        try:
            await api.wait_for(lambda: len(api.status_patches) == 1)
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            await client.close()
    ready = next(c for c in api.node["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    assert clock.now() == T0  # at once: no 5 minute wait
