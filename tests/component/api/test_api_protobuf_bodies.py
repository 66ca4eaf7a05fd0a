"""Protobuf bodies through HTTP: an Eviction as ``kubectl drain`` posts it and the DeleteOptions
of a typed client's delete, both read by the message table (``protoschema``)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.component.api.conftest import pod
from tests.unit.api.test_protobuf_tables import envelope, f, msg

PODS = "/api/v1/namespaces/default/pods"
PROTOBUF = {"Content-Type": "application/vnd.kubernetes.protobuf",
            "Accept": "application/vnd.kubernetes.protobuf,application/json"}  # fmt: skip


async def test_an_eviction_in_protobuf_deletes_the_pod(client: TestClient) -> None:
    await client.post(PODS, json=pod("web"))
    options = msg(f(1, 0))  # gracePeriodSeconds: 0, kept although zero
    body = envelope("policy/v1", "Eviction", msg(f(1, msg(f(1, "web"))), f(2, options)))
    r = await client.post(f"{PODS}/web/eviction", data=body, headers=PROTOBUF)
    assert r.status == 201, await r.text()
    assert (await client.get(f"{PODS}/web")).status == 404


async def test_an_eviction_naming_another_uid_is_refused(client: TestClient) -> None:
    await client.post(PODS, json=pod("web"))
    options = msg(f(2, msg(f(1, "not-the-uid"))))
    body = envelope("policy/v1", "Eviction", msg(f(1, msg(f(1, "web"))), f(2, options)))
    r = await client.post(f"{PODS}/web/eviction", data=body, headers=PROTOBUF)
    assert r.status == 409 and "(not-the-uid) does not match" in (await r.json())["message"]


async def test_a_delete_with_protobuf_options_honours_them(client: TestClient) -> None:
    await client.post(PODS, json=pod("web"))
    body = envelope("meta.k8s.io/v1", "DeleteOptions", msg(f(1, 0)))
    r = await client.delete(f"{PODS}/web", data=body, headers=PROTOBUF)
    assert r.status == 200
    assert (await client.get(f"{PODS}/web")).status == 404


async def test_a_malformed_protobuf_delete_body_is_415(client: TestClient) -> None:
    await client.post(PODS, json=pod("web"))
    r = await client.delete(f"{PODS}/web", data=b"k8s\x00\x0b", headers=PROTOBUF)
    assert r.status == 415 and (await r.json())["reason"] == "UnsupportedMediaType"
    assert (await client.get(f"{PODS}/web")).status == 200
