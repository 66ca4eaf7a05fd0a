"""The metrics API, discovery of it, Prometheus text and trailing slashes, served in-process
with a scripted node side."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest
from aiohttp.test_utils import TestClient

from kubelite.api.metrics import PodRef, Point, Samples, Scrape
from kubelite.api.server import ApiServer
from kubelite.registry.nodes import NODES
from kubelite.registry.pods import PODS
from tests.component.api.conftest import pod

T = 1_700_000_000.0
METRICS = "/apis/metrics.k8s.io/v1beta1"


@dataclass
class ScriptedSource:
    scrape_: Scrape = field(default_factory=Scrape)
    calls: int = 0

    async def scrape(self) -> Scrape:
        self.calls += 1
        return self.scrape_


def two(cpu: int, mem: int) -> Samples:
    return Samples(Point(T + 10, T - 100, cpu, mem), Point(T, T - 100, 0, mem))


async def running(api: ApiServer, client: TestClient, name: str, labels: dict) -> str:
    body = pod(name)
    body["metadata"]["labels"] = labels
    r = await client.post("/api/v1/namespaces/default/pods", json=body)
    assert r.status == 201, await r.text()
    created = await r.json()
    created["status"] = {"phase": "Running"}
    await api.registry.update(PODS, "default", name, created, subresource="status")
    return str(created["metadata"]["uid"])


async def add_node(api: ApiServer, name: str) -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"a": "b"}}}
    await api.registry.create(NODES, "", node)


async def test_kubectl_top_reads_pod_and_node_metrics(api: ApiServer, client: TestClient) -> None:
    web = await running(api, client, "web", {"app": "web"})
    db = await running(api, client, "db", {"app": "db"})
    await add_node(api, "n1")
    await add_node(api, "other")
    source = ScriptedSource(Scrape(
        node_name="n1", node=two(20_000_000_000, 1 << 30),
        pods={PodRef("default", "web", web): {"nginx": two(1_000_000_000, 8 << 20)},
              PodRef("default", "db", db): {"db": Samples(Point(T, T - 1, 5, 5))}},
    ))  # fmt: skip
    api.set_backends(metrics=source)

    listed = await (await client.get(f"{METRICS}/namespaces/default/pods")).json()
    assert listed["kind"] == "PodMetricsList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["web"]  # db: one sample only
    assert listed["items"][0]["containers"] == [
        {"name": "nginx", "usage": {"cpu": "100m", "memory": "8Mi"}}
    ]
    selected = await client.get(f"{METRICS}/pods", params={"labelSelector": "app=db"})
    assert (await selected.json())["items"] == []

    one = await client.get(f"{METRICS}/namespaces/default/pods/web")
    assert one.status == 200 and (await one.json())["window"] == "10s"
    missing = await client.get(f"{METRICS}/namespaces/default/pods/db")
    assert missing.status == 404
    assert (await missing.json())["message"] == ('podmetrics.metrics.k8s.io "default/db" not found')
    no_pod = await client.get(f"{METRICS}/namespaces/default/pods/nope")
    assert (await no_pod.json())["message"] == 'pods "nope" not found'

    nodes = await (await client.get(f"{METRICS}/nodes")).json()
    assert [n["metadata"]["name"] for n in nodes["items"]] == ["n1"]
    assert nodes["items"][0]["usage"] == {"cpu": "2", "memory": "1Gi"}
    other = await client.get(f"{METRICS}/nodes/other")
    assert (await other.json())["message"] == 'nodemetrics.metrics.k8s.io "other" not found'


async def test_the_metrics_api_is_read_only_and_empty_without_a_node(
    api: ApiServer, client: TestClient
) -> None:
    await running(api, client, "web", {})
    empty = await (await client.get(f"{METRICS}/pods")).json()
    assert empty == {"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1",
                     "metadata": {}, "items": []}  # fmt: skip
    posted = await client.post(f"{METRICS}/namespaces/default/pods", json={})
    assert posted.status == 405
    assert (await client.get(f"{METRICS}/namespaces/default/widgets")).status == 404


async def test_discovery_lists_the_metrics_group_as_kubectl_top_looks_for_it(
    client: TestClient,
) -> None:
    groups = await (await client.get("/apis")).json()
    assert {"groupVersion": "metrics.k8s.io/v1beta1", "version": "v1beta1"} in [
        v for g in groups["groups"] for v in g["versions"]
    ]
    resources = await (await client.get(METRICS)).json()
    assert resources["resources"] == [
        {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics",
         "verbs": ["get", "list"]},
        {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics",
         "verbs": ["get", "list"]},
    ]  # fmt: skip
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    agg = await (await client.get("/apis", headers={"Accept": accept})).json()
    metrics = [g for g in agg["items"] if g["metadata"].get("name") == "metrics.k8s.io"]
    assert [r["resource"] for r in metrics[0]["versions"][0]["resources"]] == ["nodes", "pods"]
    group = await (await client.get("/apis/metrics.k8s.io")).json()
    assert group["preferredVersion"]["version"] == "v1beta1"


async def test_fixed_paths_answer_with_a_trailing_slash_too(client: TestClient) -> None:
    for path in ("/version/", "/apis/", "/api/v1/", "/apis/apps/", "/apis/apps/v1/",
                 "/healthz/", "/api/v1/namespaces/default/pods/", "/openapi/v3/"):  # fmt: skip
        r = await client.get(path)
        assert r.status == 200, path
    assert (await (await client.get("/version/")).json())["major"] == "1"


async def test_requests_are_counted_and_pod_starts_timed_on_metrics(
    api: ApiServer, client: TestClient
) -> None:
    await client.get("/api/v1/namespaces/default/pods")
    await client.get("/api/v1/namespaces/default/pods/nope")
    text = await (await client.get("/metrics")).text()
    assert 'apiserver_request_total{code="404",component="apiserver",group=""' in text
    assert 'resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"}' in text
    assert "kubelet_running_pods" in text and "kubelet_pod_start_duration_seconds_bucket" in text


async def test_the_kubelets_resource_metrics_are_served_directly_and_through_the_node_proxy(
    api: ApiServer, client: TestClient
) -> None:
    await add_node(api, "n1")
    pods = {PodRef("default", "web", "u"): {"app": two(1, 2)}}
    source = ScriptedSource(Scrape(node_name="n1", node=two(5, 6), pods=pods))
    api.set_backends(metrics=source)
    direct = await (await client.get("/metrics/resource")).text()
    proxied = await client.get("/api/v1/nodes/n1/proxy/metrics/resource")
    assert proxied.status == 200
    assert direct == await proxied.text()
    assert (
        'container_memory_working_set_bytes{container="app",namespace="default",pod="web"}'
        in direct
    )
    missing = await client.get("/api/v1/nodes/nope/proxy/metrics/resource")
    assert missing.status == 404


class BrokenSource:
    async def scrape(self) -> Scrape:
        raise RuntimeError("a bug on the node side")


async def test_a_request_that_fails_on_the_servers_side_is_logged_and_counted(
    api: ApiServer, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    api.set_backends(metrics=BrokenSource())
    with caplog.at_level(logging.WARNING, logger="kubelite.api.server"):
        r = await client.get(f"{METRICS}/pods", headers={"User-Agent": "top-test"})
    assert r.status == 500
    assert (await r.json())["message"] == "an internal error occurred"
    failed = [rec.getMessage() for rec in caplog.records if "request failed" in rec.getMessage()]
    assert failed == [f"request failed: GET {METRICS}/pods -> 500 (top-test)"]
    text = await (await client.get("/metrics")).text()
    assert 'code="500"' in text and 'group="metrics.k8s.io"' in text
