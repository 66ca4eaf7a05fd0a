"""Several API servers on one etcd, in one process (aiohttp's test client in front of each):
they bootstrap at the same moment, hand out Service addresses and node ports from one pool,
and any of them serves what another was told."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import ClientTimeout, web
from aiohttp.test_utils import TestClient, TestServer

from kubelite.api.server import ApiServer
from kubelite.registry.bootstrap import bootstrap
from kubelite.store.etcd import EtcdStore
from kubelite.store.etcdconfig import parse_etcd_url
from tests.e2e.etcd.etcdproc import ETCD, EtcdCluster

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(ETCD is None, reason="needs etcd (scripts/install-deps.sh)"),
]

SERVERS = 3
Client = TestClient[web.Request, web.Application]


@pytest.fixture(scope="module")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    cluster = EtcdCluster(tmp_path_factory.mktemp("etcd"), size=1)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def servers(etcd: EtcdCluster) -> AsyncIterator[list[ApiServer]]:
    config = parse_etcd_url(f"{etcd.store_url}/api-{secrets.token_hex(4)}")
    apis = [ApiServer(store=EtcdStore(config), require_auth=False) for _ in range(SERVERS)]
    try:
        yield apis
    finally:
        for api in apis:
            await api.store.close()


@pytest.fixture
async def clients(servers: list[ApiServer]) -> AsyncIterator[list[Client]]:
    for api in servers:  # each bootstraps, as each would at its start
        await bootstrap(api.registry)
    started = [TestClient(TestServer(api.app)) for api in servers]
    for c in started:
        await c.start_server()
    try:
        yield started
    finally:
        for c in started:
            await c.close()


def service(name: str, kind: str = "ClusterIP") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"type": kind, "selector": {"app": name}, "ports": [{"port": 80}]},
    }


async def body(resp: Any) -> Any:
    return json.loads(await resp.text())


async def test_a_bootstrap_run_by_every_server_at_once_makes_each_object_once(
    servers: list[ApiServer],
) -> None:
    await asyncio.gather(*(bootstrap(api.registry) for api in servers))
    clients = [TestClient(TestServer(api.app)) for api in servers]
    for c in clients:
        await c.start_server()
    try:
        await _each_object_once(clients)
    finally:
        for c in clients:
            await c.close()


async def test_a_bootstrap_run_by_every_server_makes_each_object_once(
    clients: list[Client],
) -> None:
    await _each_object_once(clients)


async def _each_object_once(clients: list[Client]) -> None:
    for c in clients:
        ns = await body(await c.get("/api/v1/namespaces"))
        names = [n["metadata"]["name"] for n in ns["items"]]
        assert sorted(names) == sorted(set(names))
        assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= set(names)
    svc = await body(await clients[1].get("/api/v1/namespaces/default/services/kubernetes"))
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    roles = await body(await clients[2].get("/apis/rbac.authorization.k8s.io/v1/clusterroles"))
    assert "cluster-admin" in {r["metadata"]["name"] for r in roles["items"]}


async def test_services_made_through_every_server_get_distinct_addresses_and_ports(
    clients: list[Client],
) -> None:
    async def make(i: int) -> Any:
        c = clients[i % len(clients)]
        kind = "NodePort" if i % 2 else "ClusterIP"
        resp = await c.post("/api/v1/namespaces/default/services", json=service(f"s{i}", kind))
        assert resp.status == 201, await resp.text()
        return await body(resp)

    made = await asyncio.gather(*(make(i) for i in range(24)))
    ips = [s["spec"]["clusterIP"] for s in made]
    ports = [s["spec"]["ports"][0]["nodePort"] for s in made if s["spec"]["type"] == "NodePort"]
    assert len(set(ips)) == 24 and len(set(ports)) == 12


async def test_a_write_through_one_server_reaches_a_watch_on_another(
    clients: list[Client],
) -> None:
    a, b = clients[0], clients[1]
    listed = await body(await b.get("/api/v1/namespaces/default/configmaps"))
    rv = listed["metadata"]["resourceVersion"]
    watch = await b.get(
        f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}",
        timeout=ClientTimeout(total=10),
    )
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hello"}}
    made = await body(await a.post("/api/v1/namespaces/default/configmaps", json=cm))
    line = await asyncio.wait_for(watch.content.readline(), 10)
    event = json.loads(line)
    watch.close()
    assert event["type"] == "ADDED"
    assert event["object"]["metadata"]["resourceVersion"] == made["metadata"]["resourceVersion"]
    got = await b.get("/api/v1/namespaces/default/configmaps/hello")  # read back elsewhere
    assert got.status == 200


async def test_an_update_from_a_stale_read_on_another_server_is_a_conflict(
    clients: list[Client],
) -> None:
    a, b = clients[0], clients[2]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "0"}}
    await a.post("/api/v1/namespaces/default/configmaps", json=cm)
    stale = await body(await b.get("/api/v1/namespaces/default/configmaps/c"))
    fresh = await body(await a.get("/api/v1/namespaces/default/configmaps/c"))
    fresh["data"] = {"k": "a"}
    assert (await a.put("/api/v1/namespaces/default/configmaps/c", json=fresh)).status == 200
    stale["data"] = {"k": "b"}
    resp = await b.put("/api/v1/namespaces/default/configmaps/c", json=stale)
    assert resp.status == 409
    assert (await body(resp))["reason"] == "Conflict"
