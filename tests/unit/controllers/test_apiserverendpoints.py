"""The lease endpoint reconciler's decisions: which API servers are live by their identity
Leases, the ``kubernetes`` Endpoints and EndpointSlices that list them (a subset and a slice per
port), which Leases the garbage collector deletes, and the servers' names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubelite.clock import parse_rfc3339, rfc3339_micro
from kubelite.controllers import apiserverendpoints as ae
from kubelite.controllers.serveridentity import ServerIdentity, apiserver_lease_name, stable_id
from kubelite.registry.bootstrap import ApiAddress, kubernetes_endpoint_slice, kubernetes_endpoints

NOW = parse_rfc3339("2026-01-01T01:00:00Z")


def addr(text: str) -> ae.ServerAddress:
    found = ae.ServerAddress.parse(text)
    assert found is not None
    return found


def lease(name: str, endpoint: str | None, renewed_ago: float, **labels: str) -> dict[str, Any]:
    ident = ae.identity_lease(
        name=name, holder=f"{name}_x", hostname="h", address=addr(endpoint) if endpoint else None,
        duration=3600, stamp=rfc3339_micro(NOW - renewed_ago),
    )  # fmt: skip
    ident["metadata"]["labels"].update(labels)
    return ident


@dataclass(frozen=True)
class LiveCase:
    name: str
    leases: list[dict[str, Any]]
    own: str | None
    live: list[str]


LIVE = [
    LiveCase("a lone server lists itself", [], "10.0.0.1:6443", ["10.0.0.1:6443"]),
    LiveCase(
        "servers renewed within the TTL are listed, sorted by port and address",
        [lease("b", "10.0.0.2:6443", 9), lease("c", "10.0.0.1:7000", 1)],
        "10.0.0.3:6443", ["10.0.0.2:6443", "10.0.0.3:6443", "10.0.0.1:7000"],
    ),
    LiveCase(
        "a server whose Lease is older than the TTL is dropped",
        [lease("b", "10.0.0.2:6443", 15)], "10.0.0.1:6443", ["10.0.0.1:6443"],
    ),
    LiveCase(
        "our own Lease does not count: we are live while running, gone while stopping",
        [lease("own", "10.0.0.1:6443", 100), lease("b", "10.0.0.2:6443", 1)], None,
        ["10.0.0.2:6443"],
    ),
    LiveCase(
        "a Lease without an endpoint, or not an API server's, lists nobody",
        [lease("b", None, 1), lease("c", "10.0.0.3:6443", 1, **{ae.IDENTITY_LABEL: "other"})],
        "10.0.0.1:6443", ["10.0.0.1:6443"],
    ),
    LiveCase(
        "two servers on one address and one port are one endpoint",
        [lease("b", "10.0.0.1:6443", 1)], "10.0.0.1:6443", ["10.0.0.1:6443"],
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", LIVE, ids=[c.name for c in LIVE])
def test_the_live_servers_are_those_renewed_within_the_ttl(case: LiveCase) -> None:
    own = addr(case.own) if case.own else None
    found = ae.live_servers(case.leases, now=NOW, ttl=15.0, own_lease="own", own=own)
    assert [str(a) for a in found] == case.live


def test_one_server_gets_the_endpoints_the_single_server_bootstrap_writes() -> None:
    one = [addr("10.244.0.1:6443")]
    api = ApiAddress("10.244.0.1", 6443)
    assert ae.endpoints_object(one) == kubernetes_endpoints(api)
    assert ae.endpoint_slices(one) == [kubernetes_endpoint_slice(api)]


def test_servers_on_one_port_share_one_subset_and_one_slice() -> None:
    servers = [addr("10.0.0.9:6443"), addr("10.0.0.10:6443")]
    subsets = ae.endpoints_object(servers)["subsets"]
    assert subsets == [
        {
            "addresses": [{"ip": "10.0.0.9"}, {"ip": "10.0.0.10"}],
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        }
    ]
    (only,) = ae.endpoint_slices(servers)
    assert only["metadata"]["name"] == "kubernetes"
    assert [e["addresses"] for e in only["endpoints"]] == [["10.0.0.9"], ["10.0.0.10"]]


def test_servers_on_different_ports_get_a_subset_and_a_slice_per_port() -> None:
    servers = [addr("10.0.0.1:41000"), addr("10.0.0.1:39000"), addr("10.0.0.2:39000")]
    subsets = ae.endpoints_object(servers)["subsets"]
    assert [(s["ports"][0]["port"], [a["ip"] for a in s["addresses"]]) for s in subsets] == [
        (39000, ["10.0.0.1", "10.0.0.2"]),
        (41000, ["10.0.0.1"]),
    ]
    slices = ae.endpoint_slices(servers)
    assert [(s["metadata"]["name"], s["ports"][0]["port"]) for s in slices] == [
        ("kubernetes", 39000),
        ("kubernetes-41000", 41000),
    ]
    assert all(s["metadata"]["labels"] == {"kubernetes.io/service-name": "kubernetes"}
               for s in slices)  # fmt: skip


def test_with_no_live_server_the_endpoints_are_empty_and_only_the_main_slice_stays() -> None:
    assert ae.endpoints_object([])["subsets"] == []
    (only,) = ae.endpoint_slices([])
    assert only["metadata"]["name"] == "kubernetes" and only["endpoints"] == []
    current = [{"metadata": {"name": n}} for n in ("kubernetes", "kubernetes-41000", "mine")]
    assert ae.stale_slices(current, [only]) == ["kubernetes-41000"]


@pytest.mark.parametrize(
    ("change", "differs"),
    [
        ({}, False),
        ({"subsets": []}, True),
        ({"metadata": {"name": "kubernetes", "labels": {}}}, True),
        ({"metadata": {"name": "kubernetes", "labels": {ae.SKIP_MIRROR_LABEL: "true", "x": "y"}}},
         False),
    ],
    ids=["the same", "other subsets", "a wanted label missing", "extra labels of its own"],
)  # fmt: skip
def test_endpoints_are_written_only_when_they_differ(change: dict[str, Any], differs: bool) -> None:
    wanted = ae.endpoints_object([addr("10.0.0.1:6443")])
    current = {**wanted, **change}
    assert ae.differs(current, wanted, ae.ENDPOINTS_FIELDS) is differs
    fixed = ae.brought_in_line(current, wanted, ae.ENDPOINTS_FIELDS)
    assert not ae.differs(fixed, wanted, ae.ENDPOINTS_FIELDS)


@pytest.mark.parametrize(
    ("renewed_ago", "expired"),
    [(10.0, False), (3599.0, False), (3601.0, True)],
    ids=["renewed lately", "within its hour", "past its hour"],
)
def test_the_garbage_collector_takes_leases_past_renew_time_plus_duration(
    renewed_ago: float, expired: bool
) -> None:
    assert ae.expired(lease("b", "10.0.0.2:6443", renewed_ago), NOW) is expired


def test_an_identity_lease_is_shaped_as_the_api_servers_with_our_endpoint() -> None:
    made = ae.identity_lease(
        name="apiserver-abc", holder="apiserver-abc_u", hostname="m1",
        address=addr("10.0.0.1:6443"), duration=3600, stamp="2026-01-01T00:00:00.000000Z",
    )  # fmt: skip
    assert made["metadata"] == {
        "name": "apiserver-abc",
        "namespace": "kube-system",
        "labels": {"apiserver.kubernetes.io/identity": "kube-apiserver",
                   "kubernetes.io/hostname": "m1"},
        "annotations": {"kubelite.io/apiserver-endpoint": "10.0.0.1:6443"},
    }  # fmt: skip
    assert made["spec"] == {
        "holderIdentity": "apiserver-abc_u", "leaseDurationSeconds": 3600,
        "renewTime": "2026-01-01T00:00:00.000000Z",
    }  # fmt: skip
    renewed = ae.identity_lease(
        name="apiserver-abc", holder="apiserver-abc_v", hostname="m1", address=None,
        duration=3600, stamp="2026-01-01T00:00:10.000000Z",
        current={**made, "metadata": {**made["metadata"], "resourceVersion": "7"}},
    )  # fmt: skip
    assert renewed["metadata"]["resourceVersion"] == "7"
    assert renewed["metadata"]["annotations"] == {}


@pytest.mark.parametrize(
    "text", ["10.0.0.1", "10.0.0.1:0", "10.0.0.1:70000", "host:6443", "[::1]:6443", ""]
)
def test_an_endpoint_annotation_that_is_no_ipv4_address_and_port_is_ignored(text: str) -> None:
    assert ae.ServerAddress.parse(text) is None


def test_the_identity_lease_name_has_the_api_servers_shape_and_differs_per_server() -> None:
    name = apiserver_lease_name("m1", "11111111-1111-1111-1111-111111111111")
    assert name.startswith("apiserver-") and len(name) == len("apiserver-") + 26
    assert name == name.lower()
    assert name != apiserver_lease_name("m1", "22222222-2222-2222-2222-222222222222")
    assert name == apiserver_lease_name("m1", "11111111-1111-1111-1111-111111111111")


def test_a_servers_id_is_kept_in_its_data_dir_so_a_restart_is_the_same_server(
    tmp_path: Path,
) -> None:
    first = ServerIdentity.load(tmp_path, hostname="m1")
    again = ServerIdentity.load(tmp_path, hostname="m1")
    assert first.election == again.election == f"m1_{stable_id(tmp_path)}"
    assert first.lease_name == again.lease_name
    assert first.lease_holder != again.lease_holder  # a new holder each run, as upstream
    assert first.lease_holder.startswith(first.lease_name + "_")
    assert (tmp_path / "server-id").stat().st_mode & 0o777 == 0o600
    (tmp_path / "other").mkdir()
    other = ServerIdentity.load(tmp_path / "other", hostname="m1")  # a second server, same host
    assert other.election != first.election and other.lease_name != first.lease_name
