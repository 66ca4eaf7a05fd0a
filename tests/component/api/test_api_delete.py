"""Deletion: grace periods, finalizers, force, namespaces emptying out."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient

from tests.component.api.conftest import pod

PODS = "/api/v1/namespaces/default/pods"


async def bind(client: TestClient, name: str) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name},
        "target": {"kind": "Node", "name": "n1"},
    }
    r = await client.post(f"{PODS}/{name}/binding", json=body)
    assert r.status == 201


async def test_an_unbound_pod_is_deleted_at_once(client: TestClient) -> None:
    await client.post(PODS, json=pod())
    r = await client.delete(f"{PODS}/web")
    body = await r.json()
    assert r.status == 200 and body["kind"] == "Pod" and body["metadata"]["uid"]
    assert (await client.get(f"{PODS}/web")).status == 404


async def test_a_bound_pod_waits_out_its_grace_period(client: TestClient) -> None:
    await client.post(PODS, json=pod())
    await bind(client, "web")
    r = await client.delete(f"{PODS}/web", json={"gracePeriodSeconds": 5})
    body = await r.json()
    assert r.status == 200 and body["kind"] == "Pod"
    assert body["metadata"]["deletionGracePeriodSeconds"] == 5
    assert body["metadata"]["deletionTimestamp"]
    # a longer grace period never extends it; a shorter one shortens it
    r = await client.delete(f"{PODS}/web?gracePeriodSeconds=30")
    assert (await r.json())["metadata"]["deletionGracePeriodSeconds"] == 5
    # the node agent finishes with grace 0
    r = await client.delete(f"{PODS}/web", json={"gracePeriodSeconds": 0})
    assert (await r.json())["kind"] == "Pod"
    assert (await client.get(f"{PODS}/web")).status == 404


async def test_finalizers_hold_a_deleted_pod_until_removed(client: TestClient) -> None:
    p = pod()
    p["metadata"]["finalizers"] = ["e2e.example.com/hold"]
    await client.post(PODS, json=p)
    r = await client.delete(f"{PODS}/web", json={"gracePeriodSeconds": 0})
    assert (await r.json())["metadata"]["deletionTimestamp"]
    assert (await client.get(f"{PODS}/web")).status == 200
    patch = [{"op": "remove", "path": "/metadata/finalizers"}]
    r = await client.patch(
        f"{PODS}/web",
        data=json.dumps(patch),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert r.status == 200
    assert (await client.get(f"{PODS}/web")).status == 404


async def test_delete_of_a_missing_pod_is_404(client: TestClient) -> None:
    r = await client.delete(f"{PODS}/nope")
    assert (r.status, (await r.json())["message"]) == (404, 'pods "nope" not found')


async def test_deleting_a_namespace_empties_it_then_removes_it(client: TestClient) -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}
    assert (await client.post("/api/v1/namespaces", json=ns)).status == 201
    r = await client.get("/api/v1/namespaces/demo/serviceaccounts/default")
    assert r.status == 200
    await client.post("/api/v1/namespaces/demo/pods", json=pod())
    r = await client.delete("/api/v1/namespaces/demo")
    assert (await r.json())["status"]["phase"] == "Terminating"
    r = await client.post("/api/v1/namespaces/demo/configmaps", json={"metadata": {"name": "c"}})
    assert r.status == 403
    refused = await r.json()
    assert refused["message"] == (
        'configmaps "c" is forbidden: unable to create new content in namespace demo because '
        "it is being terminated"
    )
    assert refused["details"]["causes"] == [
        {
            "reason": "NamespaceTerminating",
            "message": "namespace demo is being terminated",
            "field": "metadata.namespace",
        }
    ]
    for _ in range(100):
        if (await client.get("/api/v1/namespaces/demo")).status == 404:
            break
        await asyncio.sleep(0.02)
    assert (await client.get("/api/v1/namespaces/demo")).status == 404
    assert (await client.get("/api/v1/namespaces/demo/pods/web")).status == 404


async def test_binding_twice_is_a_conflict(client: TestClient) -> None:
    await client.post(PODS, json=pod())
    await bind(client, "web")
    body = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "web"},
        "target": {"kind": "Node", "name": "n2"},
    }
    r = await client.post(f"{PODS}/web/binding", json=body)
    assert r.status == 409
    assert (await r.json())["message"] == (
        'Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to '
        'node "n1"'
    )


async def test_a_binding_with_a_stale_uid_is_a_conflict(client: TestClient) -> None:
    await client.post(PODS, json=pod("web"))
    body = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web", "uid": "other"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}}  # fmt: skip
    r = await client.post(f"{PODS}/web/binding", json=body)
    assert r.status == 409, await r.text()
    assert "Precondition failed: UID in precondition: other" in (await r.json())["message"]


async def test_an_eviction_honours_its_delete_preconditions(client: TestClient) -> None:
    await client.post(PODS, json=pod("web"))
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web"},
            "deleteOptions": {"preconditions": {"uid": "other"}}}  # fmt: skip
    r = await client.post(f"{PODS}/web/eviction", json=body)
    assert r.status == 409, await r.text()
    assert "the UID in the precondition (other) does not match" in (await r.json())["message"]
    r = await client.get(f"{PODS}/web")
    assert r.status == 200  # not deleted


async def test_a_terminating_namespace_is_freed_through_its_finalize_subresource(
    client: TestClient,
) -> None:
    """What `kubectl replace --raw /api/v1/namespaces/x/finalize -f -` does for a namespace
    stuck Terminating: only spec.finalizers changes."""
    r = await client.post("/api/v1/namespaces", json={"metadata": {"name": "stuck"}})
    assert r.status == 201
    ns = await (await client.get("/api/v1/namespaces/stuck")).json()
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    ns["spec"]["finalizers"] = []
    ns["status"] = {"phase": "Bogus"}
    r = await client.put("/api/v1/namespaces/stuck/finalize", json=ns)
    assert r.status == 200, await r.text()
    after = await r.json()
    assert after["spec"].get("finalizers") == [] and after["status"]["phase"] == "Active"
    r = await client.get("/api/v1/namespaces/stuck/status")
    assert r.status == 200 and (await r.json())["metadata"]["name"] == "stuck"
