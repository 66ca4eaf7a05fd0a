"""Services, Endpoints and EndpointSlices through the HTTP API on the memory store: cluster IP
and node port allocation (races, leaks, release on delete and namespace removal, repair after a
crash), the objects every cluster starts with, discovery and listing."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from kubelite.api.server import ApiServer
from kubelite.api.tables import TABLE_CONTENT_TYPE
from kubelite.registry.bootstrap import ApiAddress, bootstrap
from kubelite.registry.service_repair import repair
from kubelite.registry.serviceips import CLUSTER_IPS, NODE_PORTS
from kubelite.registry.services import SERVICES
from kubelite.store.interface import make_key, prefix_for

SVCS = "/api/v1/namespaces/default/services"


def service(name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("ports", [{"port": 80}])
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


async def reserved(api: ApiServer, resource: str = CLUSTER_IPS) -> list[str]:
    items, _ = await api.store.list(prefix_for(resource, ""))
    return sorted(i["metadata"]["name"] for i in items)


async def create(client: TestClient, body: dict[str, Any], path: str = SVCS) -> Any:
    r = await client.post(path, json=body)
    return r.status, await r.json()


async def test_a_new_service_gets_a_free_cluster_ip_from_the_range(
    client: TestClient, api: ApiServer
) -> None:
    status, body = await create(client, service("web", selector={"app": "web"}))
    assert status == 201
    ip = body["spec"]["clusterIP"]
    assert ip.startswith("10.96.") and body["spec"]["clusterIPs"] == [ip]
    assert ip in await reserved(api)
    assert body["status"] == {"loadBalancer": {}}


async def test_a_taken_cluster_ip_is_refused_with_the_api_servers_text(client: TestClient) -> None:
    status, body = await create(client, service("dns2", clusterIP="10.96.0.10"))
    assert status == 422
    assert body["message"] == (
        'Service "dns2" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: '
        "failed to allocate IP 10.96.0.10: provided IP is already allocated"
    )
    assert body["details"]["causes"][0]["field"] == "spec.clusterIPs"


async def test_a_failed_create_leaks_no_reservation(client: TestClient, api: ApiServer) -> None:
    before = await reserved(api), await reserved(api, NODE_PORTS)
    status, body = await create(
        client, service("bad", type="NodePort", clusterIP="10.96.0.50", ports=[{"port": 0}])
    )
    assert status == 422
    assert body["details"]["causes"][0]["field"] == "spec.ports[0].port"
    status, _ = await create(client, service("kubernetes", clusterIP="10.96.0.51"))
    assert status == 409  # the name is taken: the address reserved for it goes back
    assert (await reserved(api), await reserved(api, NODE_PORTS)) == before


async def test_deleting_a_service_releases_its_address(client: TestClient, api: ApiServer) -> None:
    _, body = await create(client, service("web", type="NodePort"))
    ip, port = body["spec"]["clusterIP"], body["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767
    r = await client.delete(f"{SVCS}/web")
    assert r.status == 200
    assert ip not in await reserved(api) and await reserved(api, NODE_PORTS) == []
    status, again = await create(
        client,
        service("web2", type="NodePort", clusterIP=ip, ports=[{"port": 80, "nodePort": port}]),
    )
    assert status == 201 and again["spec"]["clusterIP"] == ip


async def test_concurrent_creates_get_distinct_addresses(
    client: TestClient, api: ApiServer
) -> None:
    results = await asyncio.gather(*(create(client, service(f"s{i}")) for i in range(12)))
    ips = [body["spec"]["clusterIP"] for status, body in results if status == 201]
    assert len(ips) == 12 and len(set(ips)) == 12


async def test_changing_type_allocates_and_releases_node_ports(
    client: TestClient, api: ApiServer
) -> None:
    _, body = await create(client, service("web"))
    body["spec"]["type"] = "NodePort"
    r = await client.put(f"{SVCS}/web", json=body)
    body = await r.json()
    port = body["spec"]["ports"][0]["nodePort"]
    assert r.status == 200 and await reserved(api, NODE_PORTS) == [str(port)]
    body["spec"]["type"] = "ClusterIP"
    r = await client.put(f"{SVCS}/web", json=body)
    assert r.status == 200 and "nodePort" not in (await r.json())["spec"]["ports"][0]
    assert await reserved(api, NODE_PORTS) == []
    ip = body["spec"]["clusterIP"]
    patch = {"spec": {"type": "ExternalName", "externalName": "example.com"}}
    r = await client.patch(
        f"{SVCS}/web", json=patch, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert r.status == 200 and "clusterIP" not in (await r.json())["spec"]
    assert ip not in await reserved(api)


async def test_the_cluster_ip_is_immutable(client: TestClient) -> None:
    _, body = await create(client, service("web", clusterIP="10.96.0.40"))
    body["spec"]["clusterIP"] = "10.96.0.41"
    body["spec"]["clusterIPs"] = ["10.96.0.41"]
    r = await client.put(f"{SVCS}/web", json=body)
    assert r.status == 422
    assert (await r.json())["message"] == (
        'Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.41"}: '
        "may not change once set"
    )


async def test_a_dry_run_reserves_nothing(client: TestClient, api: ApiServer) -> None:
    before = await reserved(api)
    r = await client.post(SVCS + "?dryRun=All", json=service("web"))
    assert r.status == 201 and (await r.json())["spec"]["clusterIP"]
    assert await reserved(api) == before


async def test_removing_a_namespace_releases_its_services(
    client: TestClient, api: ApiServer
) -> None:
    await client.post("/api/v1/namespaces", json={"metadata": {"name": "team"}})
    status, body = await create(client, service("web"), "/api/v1/namespaces/team/services")
    assert status == 201
    await client.delete("/api/v1/namespaces/team")
    for _ in range(200):
        if body["spec"]["clusterIP"] not in await reserved(api):
            break
        await asyncio.sleep(0.02)
    assert body["spec"]["clusterIP"] not in await reserved(api)


async def test_repair_drops_orphans_and_restores_missing_reservations(api: ApiServer) -> None:
    reg = api.registry
    svc = await reg.create(SERVICES, "default", service("web"))
    ip = svc["spec"]["clusterIP"]
    await api.store.delete(make_key(CLUSTER_IPS, "", "10.96.0.10"))  # a lost reservation
    await api.store.delete(make_key("services", "default", "web"))  # crash before release
    plan = await repair(api.store, api.clock, reg.service_network, min_age=0)
    assert ("clusterips.internal.kubelite.io", ip) in plan.remove
    assert ip not in await reserved(api)
    assert "10.96.0.10" in await reserved(api)


async def test_every_cluster_starts_with_kubernetes_and_kube_dns(
    client: TestClient, api: ApiServer
) -> None:
    await bootstrap(api.registry, api=ApiAddress("10.244.0.1", 6443))
    await bootstrap(api.registry, api=ApiAddress("10.244.0.1", 7443))  # the port moved
    r = await client.get(f"{SVCS}/kubernetes")
    spec = (await r.json())["spec"]
    assert spec["clusterIP"] == "10.96.0.1"
    assert spec["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 7443}]
    r = await client.get("/api/v1/namespaces/kube-system/services/kube-dns")
    dns = await r.json()
    assert dns["spec"]["clusterIP"] == "10.96.0.10" and "selector" not in dns["spec"]
    r = await client.get("/api/v1/namespaces/default/endpoints/kubernetes")
    assert (await r.json())["subsets"] == [
        {
            "addresses": [{"ip": "10.244.0.1"}],
            "ports": [{"name": "https", "port": 7443, "protocol": "TCP"}],
        }
    ]
    r = await client.get(
        "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
        params={"labelSelector": "kubernetes.io/service-name=kubernetes"},
    )
    slices = (await r.json())["items"]
    assert [s["metadata"]["name"] for s in slices] == ["kubernetes"]
    assert slices[0]["ports"] == [{"name": "https", "port": 7443, "protocol": "TCP"}]


async def test_tables_and_field_selectors(client: TestClient) -> None:
    await create(client, service("np", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    r = await client.get(
        SVCS, params={"fieldSelector": "spec.type=NodePort"}, headers={"Accept": TABLE_CONTENT_TYPE}
    )
    table = await r.json()
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age", "Selector",
    ]  # fmt: skip
    assert [row["cells"][4] for row in table["rows"]] == ["80:30080/TCP"]


async def test_endpoint_slices_are_discovered(client: TestClient) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    r = await client.get("/apis", headers={"Accept": accept})
    groups = {g["metadata"]["name"]: g for g in (await r.json())["items"]}
    resources = groups["discovery.k8s.io"]["versions"][0]["resources"]
    assert [x["resource"] for x in resources] == ["endpointslices"]
    r = await client.get("/api/v1")
    core = {x["name"]: x for x in (await r.json())["resources"]}
    assert core["services"]["shortNames"] == ["svc"] and core["services"]["categories"] == ["all"]
    assert core["endpoints"]["shortNames"] == ["ep"]


async def test_a_service_name_must_be_a_dns_1035_label(client: TestClient) -> None:
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "1db"},
            "spec": {"ports": [{"port": 80}]}}  # fmt: skip
    r = await client.post("/api/v1/namespaces/default/services", json=body)
    assert r.status == 422
    (cause,) = (await r.json())["details"]["causes"]
    assert cause["field"] == "metadata.name"
    assert "a DNS-1035 label must consist of lower case alphanumeric" in cause["message"]
