"""The identity Lease loop against an in-memory API, on virtual time: a round renews this
server's Lease and writes the ``kubernetes`` endpoints of the live servers, a server that
stops renewing drops out after the TTL, an hour-dead server's Lease is collected (a renewed
one is not), and a stopping server deletes its Lease and leaves the endpoints."""

from __future__ import annotations

import asyncio
import builtins
import copy
from collections.abc import Mapping
from typing import Any

import pytest

from kubelite.client.rest import ApiError, Obj, Resource
from kubelite.clock import ManualClock, rfc3339_micro
from kubelite.controllers import apiserverendpoints as ae
from kubelite.controllers.apiserverleases import ApiServerLeases
from kubelite.controllers.serveridentity import ServerIdentity

Key = tuple[str, str, str]  # plural, namespace, name


class FakeApi:
    def __init__(self) -> None:
        self.objects: dict[Key, Obj] = {}
        self.version = 0

    def _store(self, res: Resource, obj: Mapping[str, Any]) -> Obj:
        self.version += 1
        stored = copy.deepcopy(dict(obj))
        stored["metadata"]["resourceVersion"] = str(self.version)
        meta = stored["metadata"]
        self.objects[(res.plural, meta["namespace"], meta["name"])] = stored
        return copy.deepcopy(stored)

    async def get(self, res: Resource, namespace: str | None, name: str) -> Obj:
        try:
            return copy.deepcopy(self.objects[(res.plural, namespace or "", name)])
        except KeyError:
            raise ApiError(404, "NotFound", "not found") from None

    async def list(
        self, res: Resource, namespace: str | None = None, *, label_selector: str = ""
    ) -> Obj:
        key, _, value = label_selector.partition("=")
        items = [
            copy.deepcopy(o)
            for (plural, ns, _), o in sorted(self.objects.items())
            if plural == res.plural and ns == namespace
            and (not key or (o["metadata"].get("labels") or {}).get(key) == value)
        ]  # fmt: skip
        return {"items": items}

    async def create(self, res: Resource, namespace: str | None, obj: Mapping[str, Any]) -> Obj:
        if (res.plural, namespace or "", obj["metadata"]["name"]) in self.objects:
            raise ApiError(409, "AlreadyExists", "exists")
        return self._store(res, {**obj, "metadata": {**obj["metadata"], "namespace": namespace}})

    async def replace(self, res: Resource, obj: Mapping[str, Any], *, sub: str = "") -> Obj:
        meta = obj["metadata"]
        stored = self.objects[(res.plural, meta["namespace"], meta["name"])]
        if meta.get("resourceVersion") != stored["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "modified")
        return self._store(res, obj)

    async def delete(self, res: Resource, namespace: str | None, name: str) -> None:
        self.objects.pop((res.plural, namespace or "", name), None)

    async def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Obj:
        assert method == "DELETE" and body is not None
        _, _, _, _, _, ns, plural, name = path.split("/")
        stored = self.objects.get((plural, ns, name))
        if stored is None:
            raise ApiError(404, "NotFound", "gone")
        if stored["metadata"]["resourceVersion"] != body["preconditions"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "precondition failed")
        del self.objects[(plural, ns, name)]
        return {}

    def leases(self) -> dict[str, Obj]:
        return {k[2]: o for k, o in self.objects.items() if k[0] == "leases"}

    def slice_endpoints(self) -> dict[str, builtins.list[str]]:
        return {
            k[2]: [f"{e['addresses'][0]}:{p['port']}" for p in o["ports"] for e in o["endpoints"]]
            for k, o in self.objects.items()
            if k[0] == "endpointslices"
        }


def other_server(api: FakeApi, name: str, endpoint: str, renewed: float) -> None:
    address = ae.ServerAddress.parse(endpoint)
    lease = ae.identity_lease(
        name=name, holder=f"{name}_r", hostname="m2", address=address, duration=3600,
        stamp=rfc3339_micro(renewed),
    )  # fmt: skip
    api._store(Resource("coordination.k8s.io", "v1", "leases", "Lease"), lease)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def server(api: FakeApi, clock: ManualClock, endpoint: str) -> ApiServerLeases:
    identity = ServerIdentity("m1", "11111111-1111-1111-1111-111111111111", "run")
    return ApiServerLeases(
        api, identity=identity, address=ae.ServerAddress.parse(endpoint), clock=clock,
        timing=ae.IdentityTiming(renew_interval=1.0, endpoint_ttl=3.0),
    )  # fmt: skip


async def test_a_round_renews_our_lease_and_lists_every_live_server(clock: ManualClock) -> None:
    api = FakeApi()
    other_server(api, "apiserver-b", "10.0.0.1:7000", clock.now())
    us = server(api, clock, "10.0.0.1:6443")
    await us.round()
    ours = api.leases()[ServerIdentity("m1", "11111111-1111-1111-1111-111111111111", "").lease_name]
    assert ours["metadata"]["annotations"] == {"kubelite.io/apiserver-endpoint": "10.0.0.1:6443"}
    assert ours["spec"]["leaseDurationSeconds"] == 3600
    assert api.slice_endpoints() == {
        "kubernetes": ["10.0.0.1:6443"],
        "kubernetes-7000": ["10.0.0.1:7000"],
    }
    first = ours["spec"]["renewTime"]
    await clock.advance(5)  # the other server says nothing more
    await us.round()
    assert api.leases()[ours["metadata"]["name"]]["spec"]["renewTime"] != first
    assert api.slice_endpoints() == {"kubernetes": ["10.0.0.1:6443"]}
    subsets = api.objects[("endpoints", "default", "kubernetes")]["subsets"]
    assert [s["ports"][0]["port"] for s in subsets] == [6443]


async def test_leases_an_hour_past_their_term_are_collected_and_renewed_ones_kept(
    clock: ManualClock,
) -> None:
    api = FakeApi()
    other_server(api, "apiserver-gone", "10.0.0.2:6443", clock.now() - 3700)
    other_server(api, "apiserver-alive", "10.0.0.3:6443", clock.now() - 1)
    await server(api, clock, "10.0.0.1:6443").round()
    assert "apiserver-gone" not in api.leases() and "apiserver-alive" in api.leases()


async def test_a_stopping_server_deletes_its_lease_and_leaves_the_endpoints(
    clock: ManualClock,
) -> None:
    api = FakeApi()
    other_server(api, "apiserver-b", "10.0.0.2:6443", clock.now())
    task = asyncio.create_task(server(api, clock, "10.0.0.1:6443").run())
    for _ in range(3):
        await clock.advance(0.5)
    assert api.slice_endpoints() == {"kubernetes": ["10.0.0.1:6443", "10.0.0.2:6443"]}
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert set(api.leases()) == {"apiserver-b"}
    assert api.slice_endpoints() == {"kubernetes": ["10.0.0.2:6443"]}
