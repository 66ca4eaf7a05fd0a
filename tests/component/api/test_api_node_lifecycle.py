"""The node lifecycle controller against an in-process API on virtual time (issue 11, item 8):
a node whose Lease is not renewed for 40 s gets its conditions marked Unknown, and they come
back when the Lease is renewed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp.test_utils import TestClient, TestServer

from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.client.rest import ApiClient, Credentials
from kubelite.clock import ManualClock, rfc3339, rfc3339_micro
from kubelite.controllers.nodelifecycle import NodeLifecycleController
from kubelite.registry.bootstrap import bootstrap
from kubelite.store.memory import MemoryStore

T = TypeVar("T")
LEASE = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
MERGE = {"Content-Type": "application/merge-patch+json"}


async def until(probe: Callable[[], Awaitable[T | None]], seconds: float = 5.0) -> T:
    async with asyncio.timeout(seconds):
        while True:
            got = await probe()
            if got:
                return got
            await asyncio.sleep(0.02)


def node_body(now: float) -> dict[str, Any]:
    def cond(kind: str, status: str, reason: str) -> dict[str, Any]:
        return {"type": kind, "status": status, "reason": reason, "message": "ok",
                "lastHeartbeatTime": rfc3339(now), "lastTransitionTime": rfc3339(now)}  # fmt: skip

    conditions = [cond("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                  cond("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                  cond("PIDPressure", "False", "KubeletHasSufficientPID"),
                  cond("Ready", "True", "KubeletReady")]  # fmt: skip
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
            "status": {"conditions": conditions}}  # fmt: skip


async def test_a_silent_node_turns_unknown_after_the_grace_period_and_back_on_renewal(
    tmp_path: Path,
) -> None:
    server = ApiServer(store=MemoryStore(), require_auth=False)
    await bootstrap(server.registry)
    clock = ManualClock()
    pki = ensure_pki(tmp_path / "pki")
    async with TestServer(server.app) as http, TestClient(http) as client:
        created = await client.post("/api/v1/nodes", json=node_body(clock.now()))
        assert created.status == 201
        spec = {"holderIdentity": "n1", "renewTime": rfc3339_micro(clock.now())}
        lease = {"metadata": {"name": "n1"}, "spec": spec}
        assert (await client.post(LEASE, json=lease)).status == 201
        rest = ApiClient(Credentials(str(http.make_url("")), pki.ca_cert, "unused"))
        controller = NodeLifecycleController(rest, clock=clock)
        task = asyncio.create_task(controller.run())

        async def ready() -> dict[str, Any] | None:
            node = await (await client.get("/api/v1/nodes/n1")).json()
            return next(c for c in node["status"]["conditions"] if c["type"] == "Ready")

        try:
            await until(lambda: _seen(controller))
            await clock.advance(30)
            await asyncio.sleep(0.2)
            assert (await ready() or {})["status"] == "True"  # within the grace period
            await clock.advance(15)
            unknown = await until(lambda: _with_status(ready, "Unknown"))
            assert (unknown["reason"], unknown["message"]) == (
                "NodeStatusUnknown",
                "Kubelet stopped posting node status.",
            )
            node = await (await client.get("/api/v1/nodes/n1")).json()
            assert {c["type"]: c["status"] for c in node["status"]["conditions"]} == {
                "MemoryPressure": "Unknown",
                "DiskPressure": "Unknown",
                "PIDPressure": "Unknown",
                "Ready": "Unknown",
            }
            renewed = {"spec": {"renewTime": rfc3339_micro(clock.now())}}
            assert (await client.patch(f"{LEASE}/n1", json=renewed, headers=MERGE)).status == 200
            back = await until(lambda: _with_status(ready, "True"))
            assert back["reason"] == "KubeletReady"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await rest.close()


async def _seen(controller: NodeLifecycleController) -> bool:
    return (
        controller.nodes.synced.is_set()
        and controller.leases.get("kube-node-lease", "n1") is not None
    )


async def _with_status(
    probe: Callable[[], Awaitable[dict[str, Any] | None]], status: str
) -> dict[str, Any] | None:
    got = await probe()
    return got if got and got["status"] == status else None
