"""The storage controllers and the StatefulSet controller against an in-process API, with the
scheduler: a claim of the default class waits for its first consumer, gets a folder and a
volume on the pod's node, is bound, and the pod is bound after it; a released volume under
Delete loses its folder; a StatefulSet makes its pods in order with their claims, replaces them
on a template change, and nothing is made twice when the controller starts over."""

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
from kubelite.clock import rfc3339
from kubelite.controllers.localpathcontroller import LocalPathProvisioner
from kubelite.controllers.pvbindercontroller import PersistentVolumeController
from kubelite.controllers.statefulsetcontroller import StatefulSetController
from kubelite.registry.bootstrap import bootstrap
from kubelite.scheduler import Scheduler
from kubelite.store.memory import MemoryStore

T = TypeVar("T")
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
PODS = "/api/v1/namespaces/default/pods"
STS = "/apis/apps/v1/namespaces/default/statefulsets"
MERGE = {"Content-Type": "application/merge-patch+json"}


async def until(probe: Callable[[], Awaitable[T | None]], seconds: float = 10.0) -> T:
    async with asyncio.timeout(seconds):
        while True:
            got = await probe()
            if got:
                return got
            await asyncio.sleep(0.02)


@dataclass
class Cluster:
    client: TestClient
    storage: Path

    async def get(self, path: str) -> Any:
        r = await self.client.get(path)
        return await r.json() if r.status == 200 else None

    async def events(self, name: str) -> list[tuple[str, str]]:
        listing = await self.get("/api/v1/namespaces/default/events")
        return [
            (e["reason"], e["message"])
            for e in listing["items"]
            if e["involvedObject"]["name"] == name
        ]

    async def run_pod(self, name: str) -> None:
        """Stand in for the node: the pod runs and is ready."""
        now = rfc3339(0)
        ready = {"type": "Ready", "status": "True", "lastTransitionTime": now}
        status = {"status": {"phase": "Running", "conditions": [ready]}}
        r = await self.client.patch(f"{PODS}/{name}/status", json=status, headers=MERGE)
        assert r.status == 200, await r.text()


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    server = ApiServer(store=MemoryStore(), require_auth=False)
    await bootstrap(server.registry)
    pki = ensure_pki(tmp_path / "pki")
    async with TestServer(server.app) as http, TestClient(http) as client:
        node = {
            "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
        }
        assert (await client.post("/api/v1/nodes", json=node)).status == 201
        rest = ApiClient(Credentials(str(http.make_url("")), pki.ca_cert, "unused"))
        storage = tmp_path / "storage"
        tasks = [
            asyncio.create_task(PersistentVolumeController(rest, resync=0.5).run()),
            asyncio.create_task(LocalPathProvisioner(rest, storage=storage, resync=0.5).run()),
            asyncio.create_task(StatefulSetController(rest, resync=0.5).run()),
            asyncio.create_task(Scheduler(registry=server.registry, retry=0.2).run()),
        ]
        try:
            yield Cluster(client, storage)
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            await rest.close()


def claim(name: str = "data") -> dict[str, Any]:
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": spec,
    }


def pod(name: str, claim_name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [{"name": "c", "image": "busybox:1.36"}],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim_name}}],
        },
    }


async def test_a_claim_is_provisioned_on_its_first_consumers_node_and_then_the_pod_is_bound(
    cluster: Cluster,
) -> None:
    assert (await cluster.client.post(PVCS, json=claim())).status == 201
    await until(lambda: _has(cluster.events("data"), "WaitForFirstConsumer"))
    pending = await cluster.get(f"{PVCS}/data")
    assert pending["status"]["phase"] == "Pending"
    assert (await cluster.client.post(PODS, json=pod("app", "data"))).status == 201

    async def bound_pod() -> Any:
        found = await cluster.get(f"{PODS}/app")
        return found if found["spec"].get("nodeName") else None

    scheduled = await until(bound_pod)
    assert scheduled["spec"]["nodeName"] == "node-1"
    bound = await cluster.get(f"{PVCS}/data")
    uid = bound["metadata"]["uid"]
    assert bound["status"] == {
        "phase": "Bound",
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": "64Mi"},
    }
    assert bound["spec"]["volumeName"] == f"pvc-{uid}"
    ann = bound["metadata"]["annotations"]
    assert ann["volume.kubernetes.io/selected-node"] == "node-1"
    assert ann["pv.kubernetes.io/bind-completed"] == "yes"
    volume = await cluster.get(f"/api/v1/persistentvolumes/pvc-{uid}")
    assert volume["status"]["phase"] == "Bound"
    folder = cluster.storage / f"pvc-{uid}_default_data"
    assert volume["spec"]["hostPath"]["path"] == str(folder) and folder.is_dir()
    reasons = [r for r, _ in await cluster.events("data")]
    for expected in (
        "WaitForFirstConsumer",
        "ExternalProvisioning",
        "Provisioning",
        "ProvisioningSucceeded",
    ):
        assert expected in reasons


async def test_a_deleted_claim_waits_for_its_pod_then_its_volume_and_folder_go(
    cluster: Cluster,
) -> None:
    await cluster.client.post(PVCS, json=claim())
    await cluster.client.post(PODS, json=pod("app", "data"))
    bound = await until(lambda: _phase(cluster, f"{PVCS}/data", "Bound"))
    folder = cluster.storage / f"pvc-{bound['metadata']['uid']}_default_data"
    (folder / "keep.txt").write_text("data")
    await cluster.run_pod("app")
    assert (await cluster.client.delete(f"{PVCS}/data")).status == 200
    await asyncio.sleep(0.5)
    held = await cluster.get(f"{PVCS}/data")
    assert held is not None and held["metadata"]["deletionTimestamp"]  # pvc-protection
    assert (await cluster.client.delete(f"{PODS}/app?gracePeriodSeconds=0")).status == 200
    await until(lambda: _gone(cluster, f"{PVCS}/data"))
    await until(lambda: _gone(cluster, f"/api/v1/persistentvolumes/{bound['spec']['volumeName']}"))
    assert not folder.exists()


def statefulset(image: str = "busybox:1.36", replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db",
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {
                    "containers": [
                        {
                            "name": "db",
                            "image": image,
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        }
                    ]
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "8Mi"}},
                    },
                }
            ],
        },
    }


async def test_a_statefulset_makes_its_pods_in_order_with_their_claims_and_rolls_them(
    cluster: Cluster,
) -> None:
    assert (await cluster.client.post(STS, json=statefulset())).status == 201
    first = await until(lambda: cluster.get(f"{PODS}/db-0"))
    assert (first["spec"]["hostname"], first["spec"]["subdomain"]) == ("db-0", "db")
    await asyncio.sleep(0.3)
    assert await cluster.get(f"{PODS}/db-1") is None  # OrderedReady: db-0 is not ready yet
    await until(lambda: _phase(cluster, f"{PVCS}/data-db-0", "Bound"))
    await cluster.run_pod("db-0")
    await until(lambda: cluster.get(f"{PODS}/db-1"))
    await until(lambda: _phase(cluster, f"{PVCS}/data-db-1", "Bound"))
    await cluster.run_pod("db-1")

    async def ready_set() -> Any:
        found = await cluster.get(f"{STS}/db")
        return found if found["status"].get("readyReplicas") == 2 else None

    status = (await until(ready_set))["status"]
    assert status["currentRevision"] == status["updateRevision"]
    revisions = await cluster.get("/apis/apps/v1/namespaces/default/controllerrevisions")
    assert [r["metadata"]["name"] for r in revisions["items"]] == [status["currentRevision"]]
    events = await cluster.events("db")
    assert ("SuccessfulCreate", "create Pod db-0 in StatefulSet db successful") in events
    assert (
        "SuccessfulCreate",
        "create Claim data-db-1 Pod db-1 in StatefulSet db success",
    ) in events

    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "db", "image": "busybox:1.37"}]}}}
    }
    r = await cluster.client.patch(
        f"{STS}/db", json=patch, headers={"Content-Type": "application/strategic-merge-patch+json"}
    )
    assert r.status == 200, await r.text()
    await until(lambda: _deleting_or_gone(cluster, f"{PODS}/db-1"))
    assert await cluster.get(f"{PODS}/db-0") is not None  # the highest ordinal goes first


async def _has(events: Awaitable[list[tuple[str, str]]], reason: str) -> bool:
    return any(r == reason for r, _ in await events)


async def _phase(cluster: Cluster, path: str, phase: str) -> Any:
    found = await cluster.get(path)
    return found if found and found.get("status", {}).get("phase") == phase else None


async def _gone(cluster: Cluster, path: str) -> bool:
    return await cluster.get(path) is None


async def _deleting_or_gone(cluster: Cluster, path: str) -> bool:
    found = await cluster.get(path)
    return found is None or bool(found["metadata"].get("deletionTimestamp"))


async def test_a_statefulset_controller_started_over_makes_nothing_twice(
    cluster: Cluster, tmp_path: Path
) -> None:
    assert (await cluster.client.post(STS, json=statefulset(replicas=1))).status == 201
    await until(lambda: cluster.get(f"{PODS}/db-0"))
    await until(lambda: _phase(cluster, f"{PVCS}/data-db-0", "Bound"))
    # a second controller, as after a kill -9 of the first: it sees what was made and
    # makes it again only where it is missing
    pki = ensure_pki(tmp_path / "pki2")
    rest = ApiClient(Credentials(str(cluster.client.make_url("")), pki.ca_cert, "unused"))
    second = asyncio.create_task(StatefulSetController(rest, resync=0.2).run())
    try:
        await asyncio.sleep(1.0)
    finally:
        second.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await second
        await rest.close()
    pods = await cluster.get(PODS)
    assert [p["metadata"]["name"] for p in pods["items"]] == ["db-0"]
    claims = await cluster.get(PVCS)
    assert [c["metadata"]["name"] for c in claims["items"]] == ["data-db-0"]
    revisions = await cluster.get("/apis/apps/v1/namespaces/default/controllerrevisions")
    assert len(revisions["items"]) == 1
    created = [m for r, m in await cluster.events("db") if r == "SuccessfulCreate"]
    assert created.count("create Pod db-0 in StatefulSet db successful") == 1
