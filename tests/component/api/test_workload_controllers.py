"""The workload controllers and the garbage collector against an in-process API (no node:
the tests play the kubelet's part by marking pods ready through the status subresource).

Deployments roll out and roll back through ReplicaSets with the controller's revisions and
events; ReplicaSets adopt and release pods; a new controller process (as after a kill -9)
creates nothing twice; deleting an owner removes, waits for or orphans its dependents as the
propagation policy says; a DaemonSet puts one pod on each node.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
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
from kubelite.controllers.workloads import WorkloadControllers
from kubelite.registry.bootstrap import bootstrap
from kubelite.scheduler import Scheduler
from kubelite.store.memory import MemoryStore

T = TypeVar("T")
APPS = "/apis/apps/v1/namespaces/default"
CORE = "/api/v1/namespaces/default"
MERGE = {"Content-Type": "application/merge-patch+json"}


def deployment(
    name: str = "web", replicas: int = 3, image: str = "nginx:1.25.3", **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
            **spec,
        },
    }


@dataclass
class Env:
    client: TestClient
    url: str
    ca: Path
    server: ApiServer

    async def get(self, path: str) -> Any:
        resp = await self.client.get(path)
        return await resp.json() if resp.status == 200 else None

    async def items(self, path: str) -> list[dict[str, Any]]:
        return list((await self.get(path))["items"])

    async def post(self, path: str, body: Any) -> Any:
        resp = await self.client.post(path, json=body)
        assert resp.status == 201, await resp.text()
        return await resp.json()

    async def patch(self, path: str, body: Any) -> Any:
        resp = await self.client.patch(path, data=json.dumps(body), headers=MERGE)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def delete(self, path: str, policy: str | None = None) -> Any:
        body = {"propagationPolicy": policy} if policy else {}
        resp = await self.client.delete(path, json=body)
        assert resp.status == 200, await resp.text()
        return await resp.json()

    async def ready_all(self) -> int:
        """Play the kubelet: mark every pod Running and Ready, and finish the deletion of
        pods being deleted; the number changed."""
        changed = 0
        for pod in await self.items(f"{CORE}/pods"):
            if pod["metadata"].get("deletionTimestamp"):
                path = f"{CORE}/pods/{pod['metadata']['name']}"
                await self.client.delete(path, json={"gracePeriodSeconds": 0})
                continue
            if pod["status"].get("phase") == "Running":
                continue
            pod["status"] = {
                "phase": "Running",
                "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(0)}
                ],
            }
            name = pod["metadata"]["name"]
            resp = await self.client.put(f"{CORE}/pods/{name}/status", json=pod)
            changed += resp.status == 200
        return changed


@contextlib.asynccontextmanager
async def controllers(env: Env) -> AsyncIterator[WorkloadControllers]:
    rest = ApiClient(Credentials(env.url, env.ca, "unused"))
    wc = WorkloadControllers(rest)
    task = asyncio.create_task(wc.run())
    try:
        yield wc
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await rest.close()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    server = ApiServer(store=MemoryStore(), require_auth=False)
    await bootstrap(server.registry)
    pki = ensure_pki(tmp_path / "pki")
    async with TestServer(server.app) as http, TestClient(http) as client:
        yield Env(client, str(http.make_url("")), pki.ca_cert, server)


async def until(probe: Callable[[], Awaitable[T | None]], seconds: float = 10.0) -> T:
    async with asyncio.timeout(seconds):
        while True:
            got = await probe()
            if got:
                return got
            await asyncio.sleep(0.05)


async def rollout(env: Env, name: str = "web") -> dict[str, Any]:
    """Make pods ready until the Deployment reports a complete rollout."""

    async def done() -> dict[str, Any] | None:
        await env.ready_all()
        d = await env.get(f"{APPS}/deployments/{name}")
        st, want = d.get("status") or {}, d["spec"]["replicas"]
        complete = (
            st.get("updatedReplicas", 0) == want
            and st.get("replicas", 0) == want
            and st.get("availableReplicas", 0) == want
            and st.get("observedGeneration", 0) >= d["metadata"]["generation"]
        )
        return d if complete else None

    return await until(done)


def conditions(d: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in d["status"]["conditions"]}


async def test_a_deployment_rolls_out_updates_and_rolls_back_through_replicasets(env: Env) -> None:
    async with controllers(env):
        await env.post(f"{APPS}/deployments", deployment(replicas=3))
        d = await rollout(env)
        rs1 = (await env.items(f"{APPS}/replicasets"))[0]
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
        assert rs1["metadata"]["name"].startswith("web-")
        assert conditions(d) == {
            "Available": (
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            ),
            "Progressing": (
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs1["metadata"]["name"]}" has successfully progressed.',
            ),
        }
        pods = await env.items(f"{CORE}/pods")
        assert len(pods) == 3
        assert all(
            p["metadata"]["labels"]["pod-template-hash"]
            == rs1["metadata"]["labels"]["pod-template-hash"]
            for p in pods
        )

        patch = {
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}
        }
        await env.patch(f"{APPS}/deployments/web", patch)
        d = await rollout(env)
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
        sets = {r["metadata"]["name"]: r for r in await env.items(f"{APPS}/replicasets")}
        assert sets[rs1["metadata"]["name"]]["spec"]["replicas"] == 0
        live = [
            p for p in await env.items(f"{CORE}/pods") if not p["metadata"].get("deletionTimestamp")
        ]
        assert {p["spec"]["containers"][0]["image"] for p in live} == {"nginx:1.26"}

        back = {
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.25.3"}]}}}
        }
        await env.patch(f"{APPS}/deployments/web", back)
        d = await rollout(env)
        again = await env.get(f"{APPS}/replicasets/{rs1['metadata']['name']}")
        notes = again["metadata"]["annotations"]
        assert (
            notes["deployment.kubernetes.io/revision"],
            notes["deployment.kubernetes.io/revision-history"],
        ) == ("3", "1")
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
        assert len(await env.items(f"{APPS}/replicasets")) == 2
        events = [
            (e["reason"], e["message"])
            for e in await env.items(f"{CORE}/events")
            if e["involvedObject"]["kind"] == "Deployment"
        ]
        assert (
            "ScalingReplicaSet",
            f"Scaled up replica set {rs1['metadata']['name']} from 0 to 3",
        ) in events
        assert any(m.startswith("Scaled down replica set") for _, m in events)


async def test_the_scale_subresource_resizes_a_deployment(env: Env) -> None:
    async with controllers(env):
        await env.post(f"{APPS}/deployments", deployment(replicas=1))
        await rollout(env)
        resp = await env.client.patch(
            f"{APPS}/deployments/web/scale",
            data=json.dumps({"spec": {"replicas": 4}}),
            headers=MERGE,
        )
        assert resp.status == 200
        d = await rollout(env)
        assert d["status"]["availableReplicas"] == 4
        scale = await env.get(f"{APPS}/deployments/web/scale")
        assert scale["status"] == {"replicas": 4, "selector": "app=web"}


async def test_a_replicaset_adopts_orphans_and_releases_pods_it_no_longer_selects(env: Env) -> None:
    orphan = {
        "metadata": {"name": "stray", "labels": {"app": "db"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    await env.post(f"{CORE}/pods", orphan)
    rs = {
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    async with controllers(env):
        await env.post(f"{APPS}/replicasets", rs)

        async def two_owned() -> list[Any] | None:
            pods = await env.items(f"{CORE}/pods")
            owned = [p for p in pods if p["metadata"].get("ownerReferences")]
            return owned if len(pods) == 2 and len(owned) == 2 else None

        owned = await until(two_owned)
        assert "stray" in [p["metadata"]["name"] for p in owned]
        await env.patch(f"{CORE}/pods/stray", {"metadata": {"labels": {"app": "other"}}})

        async def released() -> bool:
            pods = {p["metadata"]["name"]: p for p in await env.items(f"{CORE}/pods")}
            return "ownerReferences" not in pods["stray"]["metadata"] and len(pods) == 3

        await until(released)


async def test_a_new_controller_process_creates_nothing_twice(env: Env) -> None:
    rs = {
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 5,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    await env.post(f"{APPS}/replicasets", rs)
    async with controllers(env):
        await until(lambda: _count(env, 2))  # stopped part way, as a kill -9 would
    async with controllers(env):
        await until(lambda: _count(env, 5))
        await asyncio.sleep(0.5)
        assert len(await env.items(f"{CORE}/pods")) == 5
    async with controllers(env):
        await asyncio.sleep(0.5)
        assert len(await env.items(f"{CORE}/pods")) == 5


async def _count(env: Env, at_least: int) -> bool:
    return len(await env.items(f"{CORE}/pods")) >= at_least


async def test_deleting_a_deployment_in_the_background_removes_its_replicasets_and_pods(
    env: Env,
) -> None:
    async with controllers(env):
        await env.post(f"{APPS}/deployments", deployment(replicas=2))
        await rollout(env)
        await env.delete(f"{APPS}/deployments/web", "Background")

        async def empty() -> bool:
            return not await env.items(f"{APPS}/replicasets") and not await env.items(
                f"{CORE}/pods"
            )

        await until(empty)


async def test_a_foreground_deletion_waits_for_the_dependents(env: Env) -> None:
    async with controllers(env):
        await env.post(f"{APPS}/deployments", deployment(replicas=2))
        await rollout(env)
        marked = await env.delete(f"{APPS}/deployments/web", "Foreground")
        assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]

        async def gone() -> bool:
            return await env.get(f"{APPS}/deployments/web") is None

        await until(gone)
        assert not await env.items(f"{APPS}/replicasets")
        assert not await env.items(f"{CORE}/pods")


async def test_an_orphaning_deletion_keeps_the_replicasets_and_pods(env: Env) -> None:
    async with controllers(env):
        await env.post(f"{APPS}/deployments", deployment(replicas=2))
        await rollout(env)
        await env.delete(f"{APPS}/deployments/web", "Orphan")

        async def orphaned() -> list[Any] | None:
            if await env.get(f"{APPS}/deployments/web") is not None:
                return None
            sets = await env.items(f"{APPS}/replicasets")
            return sets if sets and not sets[0]["metadata"].get("ownerReferences") else None

        await until(orphaned)
        await asyncio.sleep(0.3)
        assert len(await env.items(f"{CORE}/pods")) == 2


async def test_a_replication_controller_orphans_its_pods_unless_asked_otherwise(env: Env) -> None:
    rc = {
        "metadata": {"name": "old"},
        "spec": {
            "replicas": 1,
            "template": {
                "metadata": {"labels": {"app": "old"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    async with controllers(env):
        await env.post(f"{CORE}/replicationcontrollers", rc)
        await until(lambda: _count(env, 1))
        await env.delete(f"{CORE}/replicationcontrollers/old")

        async def freed() -> bool:
            pods = await env.items(f"{CORE}/pods")
            gone = await env.get(f"{CORE}/replicationcontrollers/old") is None
            return gone and len(pods) == 1 and not pods[0]["metadata"].get("ownerReferences")

        await until(freed)


def ready_node(name: str) -> dict[str, Any]:
    room = {"cpu": "2", "memory": "4Gi", "pods": "110"}
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "capacity": room,
            "allocatable": room,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


async def test_a_daemonset_runs_one_pod_on_each_node(env: Env) -> None:
    """Each daemon pod is pinned to its node by node affinity on metadata.name and bound
    there by the scheduler, as upstream's DaemonSet controller leaves binding to it."""
    for name in ("n1", "n2"):
        await env.post("/api/v1/nodes", ready_node(name))
    scheduling = asyncio.create_task(Scheduler(registry=env.server.registry, retry=0.2).run())
    try:
        ds = {
            "metadata": {"name": "agent"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
                },
            },
        }
        async with controllers(env):
            await env.post(f"{APPS}/daemonsets", ds)

            async def placed() -> list[Any] | None:
                pods = await env.items(f"{CORE}/pods")
                bound = len(pods) == 2 and all(p["spec"].get("nodeName") for p in pods)
                return pods if bound else None

            pods = await until(placed)
            assert sorted(p["spec"]["nodeName"] for p in pods) == ["n1", "n2"]
            await env.ready_all()

            async def counted() -> dict[str, Any] | None:
                st = (await env.get(f"{APPS}/daemonsets/agent")).get("status") or {}
                return st if st.get("numberReady") == 2 else None

            st = await until(counted)
            assert (st["desiredNumberScheduled"], st["currentNumberScheduled"]) == (2, 2)
            update = copy.deepcopy(ds["spec"]["template"])
            update["spec"]["containers"][0]["image"] = "busybox:1.37"
            await env.patch(f"{APPS}/daemonsets/agent", {"spec": {"template": update}})

            async def replaced() -> bool:
                await env.ready_all()
                pods = [
                    p
                    for p in await env.items(f"{CORE}/pods")
                    if not p["metadata"].get("deletionTimestamp")
                ]
                images = {p["spec"]["containers"][0]["image"] for p in pods}
                return len(pods) == 2 and images == {"busybox:1.37"}

            await until(replaced)
            revisions = await env.items("/apis/apps/v1/namespaces/default/controllerrevisions")
            assert sorted(r["revision"] for r in revisions) == [1, 2]
            hashes = {
                r["metadata"]["labels"]["controller-revision-hash"]: r["revision"]
                for r in revisions
            }
            pods = [
                p
                for p in await env.items(f"{CORE}/pods")
                if not p["metadata"].get("deletionTimestamp")
            ]
            assert {hashes[p["metadata"]["labels"]["controller-revision-hash"]] for p in pods} == {
                2
            }
    finally:
        scheduling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await scheduling


async def test_a_rollout_without_progress_passes_its_deadline(env: Env) -> None:
    async with controllers(env):
        await env.post(f"{APPS}/deployments", deployment(replicas=1, progressDeadlineSeconds=2))

        async def timed_out() -> dict[str, Any] | None:
            d = await env.get(f"{APPS}/deployments/web")
            progressing = conditions(d).get("Progressing") if d.get("status") else None
            return d if progressing and progressing[1] == "ProgressDeadlineExceeded" else None

        d = await until(timed_out, seconds=15)  # no pod ever turns ready
        rs = (await env.items(f"{APPS}/replicasets"))[0]["metadata"]["name"]
        assert conditions(d)["Progressing"] == (
            "False",
            "ProgressDeadlineExceeded",
            f'ReplicaSet "{rs}" has timed out progressing.',
        )
