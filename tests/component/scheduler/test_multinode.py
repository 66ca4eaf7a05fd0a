"""The scheduler across three nodes, against an in-process API server: Node objects created
through the API (no agents: capacity, labels, taints, Ready), pods and a Deployment created
through the API, the workload controllers running. Pods land where their selectors,
affinities, tolerations and spread constraints say; a pod that fits nowhere gets upstream's
FailedScheduling event, and is bound once a node that fits joins."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient, TestServer

from kubelite.api.pki import ensure_pki
from kubelite.api.server import ApiServer
from kubelite.client.rest import ApiClient, Credentials
from kubelite.controllers.workloads import WorkloadControllers
from kubelite.registry.bootstrap import bootstrap
from kubelite.scheduler import Scheduler
from kubelite.store.memory import MemoryStore

T = TypeVar("T")
CORE = "/api/v1/namespaces/default"
APPS = "/apis/apps/v1/namespaces/default"
ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"


def node(name: str, zone: str, cpu: str = "2", taints: list[Any] | None = None) -> Any:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {HOST: name, ZONE: zone}},
        "spec": {"taints": taints or []},
        "status": {
            "capacity": {"cpu": cpu, "memory": "4Gi", "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": "4Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


def pod(name: str, labels: dict[str, str] | None = None, cpu: str = "", **spec: Any) -> Any:
    c: dict[str, Any] = {"name": "c", "image": "busybox:1.36"}
    if cpu:
        c["resources"] = {"requests": {"cpu": cpu}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {"containers": [c], **spec},
    }


def deployment(name: str, replicas: int, **spec: Any) -> Any:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}], **spec},
            },
        },
    }


@dataclass
class Cluster:
    client: TestClient

    async def get(self, path: str) -> Any:
        resp = await self.client.get(path)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def post(self, path: str, body: Any) -> Any:
        resp = await self.client.post(path, json=body)
        assert resp.status == 201, await resp.text()
        return await resp.json()

    async def node_of(self, name: str) -> str:
        return str((await self.get(f"{CORE}/pods/{name}"))["spec"].get("nodeName") or "")

    async def placements(self, app: str) -> dict[str, str]:
        """Pod name -> node, for the pods of ``app`` (those not bound map to "")."""
        pods = (await self.get(f"{CORE}/pods?labelSelector=app%3D{app}"))["items"]
        return {p["metadata"]["name"]: p["spec"].get("nodeName") or "" for p in pods}

    async def scheduling_events(self, name: str) -> list[tuple[str, str]]:
        selector = f"involvedObject.name%3D{name}"
        events = (await self.get(f"{CORE}/events?fieldSelector={selector}"))["items"]
        return [(e["reason"], e["message"]) for e in events if e["reason"].endswith("Scheduled")
                or e["reason"] == "FailedScheduling"]  # fmt: skip


async def until(probe: Callable[[], Awaitable[T | None]], seconds: float = 15.0) -> T:
    async with asyncio.timeout(seconds):
        while True:
            got = await probe()
            if got:
                return got
            await asyncio.sleep(0.05)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    server = ApiServer(store=MemoryStore(), require_auth=False)
    await bootstrap(server.registry)
    pki = ensure_pki(tmp_path / "pki")
    async with TestServer(server.app) as http, TestClient(http) as client:
        env = Cluster(client)
        await env.post("/api/v1/nodes", node("n1", "a"))
        await env.post("/api/v1/nodes", node("n2", "a"))
        await env.post("/api/v1/nodes", node("n3", "b"))
        rest = ApiClient(Credentials(str(http.make_url("")), pki.ca_cert, "unused"))
        tasks = [
            asyncio.create_task(Scheduler(registry=server.registry, retry=0.2, seed=5).run()),
            asyncio.create_task(WorkloadControllers(rest).run()),
        ]
        try:
            yield env
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            await rest.close()


async def test_node_selector_and_required_node_affinity_pick_the_node(cluster: Cluster) -> None:
    await cluster.post(f"{CORE}/pods", pod("pinned", nodeSelector={HOST: "n2"}))
    term = {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["b"]}]}
    affinity = {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [term]}}
    }  # fmt: skip
    await cluster.post(f"{CORE}/pods", pod("zoned", affinity=affinity))
    assert await until(lambda: cluster.node_of("pinned")) == "n2"
    assert await until(lambda: cluster.node_of("zoned")) == "n3"
    assert ("Scheduled", "Successfully assigned default/zoned to n3") in (
        await cluster.scheduling_events("zoned")
    )


async def test_anti_affinity_spreads_three_replicas_over_three_nodes(cluster: Cluster) -> None:
    labels = {"app": "web"}
    term = {"labelSelector": {"matchLabels": labels}, "topologyKey": HOST}
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    await cluster.post(f"{APPS}/deployments", deployment("web", 3, affinity=anti))

    async def spread() -> dict[str, str] | None:
        got = await cluster.placements("web")
        return got if len(got) == 3 and all(got.values()) else None

    assert sorted((await until(spread)).values()) == ["n1", "n2", "n3"]
    patch = {"spec": {"replicas": 4}}
    resp = await cluster.client.patch(
        f"{APPS}/deployments/web",
        json=patch,
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert resp.status == 200

    async def fourth() -> str | None:
        pending = [n for n, node in (await cluster.placements("web")).items() if not node]
        events = await cluster.scheduling_events(pending[0]) if pending else []
        return next((m for r, m in events if r == "FailedScheduling"), None)

    assert await until(fourth) == (
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: "
        "0/3 nodes are available: 3 No preemption victims found for incoming pod."
    )


async def test_topology_spread_by_hostname_puts_two_on_each_node(cluster: Cluster) -> None:
    constraint = {
        "maxSkew": 1,
        "topologyKey": HOST,
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": "spread"}},
    }
    await cluster.post(
        f"{APPS}/deployments", deployment("spread", 6, topologySpreadConstraints=[constraint])
    )

    async def placed() -> dict[str, str] | None:
        got = await cluster.placements("spread")
        return got if len(got) == 6 and all(got.values()) else None

    nodes = sorted((await until(placed)).values())
    assert nodes == ["n1", "n1", "n2", "n2", "n3", "n3"]


async def test_a_tainted_node_takes_only_pods_that_tolerate_it(cluster: Cluster) -> None:
    gpu = node("gpu", "b", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    await cluster.post("/api/v1/nodes", gpu)
    toleration = {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
    await cluster.post(
        f"{CORE}/pods", pod("trainer", nodeSelector={HOST: "gpu"}, tolerations=[toleration])
    )
    await cluster.post(f"{CORE}/pods", pod("intruder", nodeSelector={HOST: "gpu"}))
    assert await until(lambda: cluster.node_of("trainer")) == "gpu"

    async def refused() -> str | None:
        events = await cluster.scheduling_events("intruder")
        return next((m for r, m in events if r == "FailedScheduling"), None)

    assert await until(refused) == (
        "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 3 node(s) "
        "didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: "
        "4 Preemption is not helpful for scheduling."
    )


async def test_a_pod_too_big_for_every_node_waits_until_a_node_that_fits_joins(
    cluster: Cluster,
) -> None:
    await cluster.post(f"{CORE}/pods", pod("hog", cpu="3"))

    async def refused() -> str | None:
        events = await cluster.scheduling_events("hog")
        return next((m for r, m in events if r == "FailedScheduling"), None)

    assert await until(refused) == (
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
        "3 Preemption is not helpful for scheduling."
    )
    status = (await cluster.get(f"{CORE}/pods/hog"))["status"]
    scheduled = next(c for c in status["conditions"] if c["type"] == "PodScheduled")
    assert (scheduled["status"], scheduled["reason"]) == ("False", "Unschedulable")
    await cluster.post("/api/v1/nodes", node("big", "b", cpu="8"))
    assert await until(lambda: cluster.node_of("hog")) == "big"


async def test_a_gated_pod_waits_scheduling_gated_until_its_last_gate_goes(
    cluster: Cluster,
) -> None:
    gates = [{"name": "example.com/arch"}, {"name": "example.com/quota"}]
    created = await cluster.post(f"{CORE}/pods", pod("gated", schedulingGates=gates))
    assert [(c["type"], c["status"], c["reason"]) for c in created["status"]["conditions"]] == [
        ("PodScheduled", "False", "SchedulingGated")
    ]
    merge = {"Content-Type": "application/merge-patch+json"}
    narrowed = {"spec": {"schedulingGates": [gates[1]], "nodeSelector": {HOST: "n3"}}}
    resp = await cluster.client.patch(f"{CORE}/pods/gated", json=narrowed, headers=merge)
    assert resp.status == 200, await resp.text()
    added = {"spec": {"schedulingGates": [gates[1], {"name": "x"}]}}
    resp = await cluster.client.patch(f"{CORE}/pods/gated", json=added, headers=merge)
    assert resp.status == 422
    await asyncio.sleep(0.5)
    assert await cluster.node_of("gated") == ""
    assert await cluster.scheduling_events("gated") == []  # a gated pod is not tried at all
    resp = await cluster.client.patch(
        f"{CORE}/pods/gated", json={"spec": {"schedulingGates": None}}, headers=merge
    )
    assert resp.status == 200, await resp.text()
    assert await until(lambda: cluster.node_of("gated")) == "n3"
    got = await cluster.get(f"{CORE}/pods/gated")
    scheduled = [c for c in got["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert [(c["status"], c.get("reason")) for c in scheduled] == [("True", None)]
