"""Watch streams and Table responses as kubectl requests them; discovery and OpenAPI."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient

from kubelite.api.server import ApiServer
from tests.component.api.conftest import pod

PODS = "/api/v1/namespaces/default/pods"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


async def read_events(resp, n: int) -> list[dict]:
    out = []
    while len(out) < n:
        line = await asyncio.wait_for(resp.content.readline(), 3)
        if not line:
            break
        out.append(json.loads(line))
    return out


async def test_watch_without_resource_version_starts_with_synthetic_added(
    client: TestClient,
) -> None:
    await client.post(PODS, json=pod())
    resp = await client.get(PODS, params={"watch": "true", "fieldSelector": "metadata.name=web"})
    first = await read_events(resp, 1)
    assert first[0]["type"] == "ADDED"
    await client.patch(
        f"{PODS}/web",
        data=json.dumps({"metadata": {"labels": {"x": "1"}}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    await client.delete(f"{PODS}/web")
    rest = await read_events(resp, 2)
    assert [e["type"] for e in rest] == ["MODIFIED", "DELETED"]
    resp.close()


async def test_watch_from_a_list_revision_sends_only_later_changes(client: TestClient) -> None:
    await client.post(PODS, json=pod("a"))
    listed = await (await client.get(PODS)).json()
    rv = listed["metadata"]["resourceVersion"]
    resp = await client.get(PODS, params={"watch": "1", "resourceVersion": rv})
    await client.post(PODS, json=pod("b"))
    events = await read_events(resp, 1)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "b")]
    resp.close()


async def test_watch_timeout_seconds_ends_the_stream(client: TestClient) -> None:
    resp = await client.get(PODS, params={"watch": "1", "timeoutSeconds": "1"})
    body = await asyncio.wait_for(resp.read(), 5)
    assert body == b""


async def test_watch_from_a_compacted_revision_gets_410_error_event(
    client: TestClient, api: ApiServer
) -> None:
    for n in ("a", "b", "c"):
        await client.post(PODS, json=pod(n))
    await api.store.compact(api.store.current_revision())
    resp = await client.get(PODS, params={"watch": "1", "resourceVersion": "1"})
    events = await read_events(resp, 1)
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410 and events[0]["object"]["reason"] == "Expired"


async def test_table_list_and_table_watch(client: TestClient) -> None:
    await client.post(PODS, json=pod())
    r = await client.get(PODS, headers={"Accept": TABLE})
    body = await r.json()
    assert body["kind"] == "Table"
    assert body["rows"][0]["cells"][:3] == ["web", "0/1", "Pending"]
    resp = await client.get(
        PODS, params={"watch": "1", "resourceVersion": "0"}, headers={"Accept": TABLE}
    )
    first = (await read_events(resp, 1))[0]
    assert first["object"]["kind"] == "Table" and first["object"]["columnDefinitions"]
    await client.delete(f"{PODS}/web")
    second = (await read_events(resp, 1))[0]
    assert second["type"] == "DELETED" and second["object"]["columnDefinitions"] is None
    resp.close()


async def test_discovery_legacy_and_aggregated(client: TestClient) -> None:
    v = await (await client.get("/version")).json()
    assert (v["major"], v["minor"]) == ("1", "32")
    legacy = await (await client.get("/api/v1")).json()
    pods = next(r for r in legacy["resources"] if r["name"] == "pods")
    assert pods["shortNames"] == ["po"] and "watch" in pods["verbs"]
    agg_accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    r = await client.get("/api", headers={"Accept": agg_accept + ",application/json"})
    assert r.headers["Content-Type"] == agg_accept
    assert (await r.json())["kind"] == "APIGroupDiscoveryList"
    groups = await (await client.get("/apis")).json()
    assert [g["name"] for g in groups["groups"]] == [
        "coordination.k8s.io",
        "events.k8s.io",
        "discovery.k8s.io",
        "rbac.authorization.k8s.io",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "batch",
        "apps",
        "storage.k8s.io",
        "kubelite.dev",  # kubelite's own: PodLifecycle
        "certificates.k8s.io",
        "metrics.k8s.io",  # served by kubelite itself, listed last as an aggregated API is
    ]


async def test_openapi_v3_advertises_field_validation_on_every_patch(client: TestClient) -> None:
    root = await (await client.get("/openapi/v3")).json()
    url = root["paths"]["api/v1"]["serverRelativeURL"]
    doc = await (await client.get(url)).json()
    patches = [ops["patch"] for ops in doc["paths"].values() if "patch" in ops]
    assert patches
    for op in patches:
        assert any(p["name"] == "fieldValidation" for p in op["parameters"])
        assert "application/strategic-merge-patch+json" not in op["requestBody"]["content"]
    container = doc["components"]["schemas"]["io.k8s.api.core.v1.Container"]
    assert container["properties"]["image"]["description"]
    lease_url = root["paths"]["apis/coordination.k8s.io/v1"]["serverRelativeURL"]
    lease_doc = await (await client.get(lease_url)).json()
    assert "io.k8s.api.coordination.v1.Lease" in lease_doc["components"]["schemas"]


async def test_objects_entering_and_leaving_a_selection(client: TestClient) -> None:
    await client.post(PODS, json=pod("sel"))
    resp = await client.get(
        PODS, params={"watch": "1", "resourceVersion": "0", "labelSelector": "stage=on"}
    )
    merge = {"Content-Type": "application/merge-patch+json"}
    for value in ("on", "off"):
        await client.patch(
            f"{PODS}/sel",
            data=json.dumps({"metadata": {"labels": {"stage": value}}}),
            headers=merge,
        )
    events = await read_events(resp, 2)
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]
    resp.close()
