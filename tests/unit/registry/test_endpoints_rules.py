"""Endpoints and EndpointSlice validation and columns, with the API server's messages and
kubectl's cell texts."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.registry.endpoints import endpoints_cell, validate_endpoints
from kubelite.registry.endpointslices import (
    ENDPOINTSLICES,
    default_slice,
    ports_cell,
    validate_slice,
)
from kubelite.registry.endpointslices import endpoints_cell as slice_endpoints_cell


def subset(ips: list[str], ports: list[int]) -> dict[str, Any]:
    return {
        "addresses": [{"ip": ip} for ip in ips],
        "ports": [{"name": f"p{p}", "port": p, "protocol": "TCP"} for p in ports],
    }


ENDPOINTS_CELLS = [
    ("no subsets print none", [], "<none>"),
    ("one address and port", [subset(["10.244.0.5"], [80])], "10.244.0.5:80"),
    (
        "more than three pairs are cut",
        [subset(["10.244.0.5", "10.244.0.6"], [80, 443])],
        "10.244.0.5:80,10.244.0.6:80,10.244.0.5:443 + 1 more...",
    ),
    ("a subset without ports lists addresses", [{"addresses": [{"ip": "10.1.0.1"}]}], "10.1.0.1"),
    ("only not-ready addresses print nothing", [{"notReadyAddresses": [{"ip": "10.1.0.1"}]}], ""),
]


@pytest.mark.parametrize(
    ("case", "subsets", "want"), ENDPOINTS_CELLS, ids=[c[0] for c in ENDPOINTS_CELLS]
)
def test_endpoints_column(case: str, subsets: list[Any], want: str) -> None:
    assert endpoints_cell({"subsets": subsets}) == want


ENDPOINTS_INVALID = [
    ("a subset needs addresses", [{"ports": []}],
     ["subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"]),
    ("an address must be an IP", [{"addresses": [{"ip": "x"}]}],
     ['subsets[0].addresses[0].ip: Invalid value: "x": must be a valid IP address, (e.g. '
      "10.9.8.7 or 2001:db8::ffff)",
      'subsets[0].addresses[0].ip: Invalid value: "x": must be a valid IP address']),
    ("loopback addresses are refused", [{"addresses": [{"ip": "127.0.0.1"}]}],
     ['subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback '
      "range (127.0.0.0/8, ::1/128)"]),
    ("ports are in range",
     [{"addresses": [{"ip": "10.1.0.1"}], "ports": [{"port": 0, "protocol": "TCP"}]}],
     ["subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "subsets", "want"), ENDPOINTS_INVALID, ids=[c[0] for c in ENDPOINTS_INVALID]
)
def test_endpoints_validation(case: str, subsets: list[Any], want: list[str]) -> None:
    assert [str(e) for e in validate_endpoints({"subsets": subsets})] == want


def test_valid_endpoints_pass() -> None:
    assert validate_endpoints({"subsets": [subset(["10.244.0.5"], [80, 81])]}) == []


SLICE_INVALID = [
    ("the address type is required", {"endpoints": []}, ["addressType: Required value"]),
    ("the address type is one of three", {"addressType": "IP"},
     ['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"']),
    ("an endpoint needs an address", {"addressType": "IPv4", "endpoints": [{"addresses": []}]},
     ["endpoints[0].addresses: Required value: must contain at least 1 address"]),
    ("an IPv4 slice holds IPv4 addresses",
     {"addressType": "IPv4", "endpoints": [{"addresses": ["fd00::1"]}]},
     ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address']),
    ("port names are unique",
     {"addressType": "IPv4", "ports": [{"name": "a", "protocol": "TCP"}] * 2},
     ['ports[1].name: Duplicate value: "a"']),
]  # fmt: skip


@pytest.mark.parametrize(("case", "obj", "want"), SLICE_INVALID, ids=[c[0] for c in SLICE_INVALID])
def test_slice_validation(case: str, obj: dict[str, Any], want: list[str]) -> None:
    assert [str(e) for e in validate_slice(obj)] == want


def test_the_address_type_never_changes() -> None:
    old = {"addressType": "IPv4", "endpoints": []}
    new = {"addressType": "FQDN", "endpoints": []}
    assert [str(e) for e in ENDPOINTSLICES.validate_update(new, old)] == [
        'addressType: Invalid value: "FQDN": field is immutable'
    ]


def test_slice_ports_get_their_defaults() -> None:
    obj: dict[str, Any] = {"addressType": "IPv4", "ports": [{"port": 80}]}
    default_slice(obj)
    assert obj == {
        "addressType": "IPv4",
        "endpoints": None,
        "ports": [{"port": 80, "name": "", "protocol": "TCP"}],
    }


SLICE_CELLS = [
    ("an empty slice prints unset", {}, "<unset>", "<unset>"),
    ("ports and addresses", {"ports": [{"port": 80}, {"name": "dns"}, {}],
                             "endpoints": [{"addresses": [a]} for a in ("10.1.0.1", "10.1.0.2")]},
     "80,dns,*", "10.1.0.1,10.1.0.2"),
    ("more than three are cut", {"ports": [{"port": p} for p in (1, 2, 3, 4, 5)],
                                 "endpoints": [{"addresses": [f"10.1.0.{i}"]} for i in "1234"]},
     "1,2,3 + 2 more...", "10.1.0.1,10.1.0.2,10.1.0.3 + 1 more..."),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "obj", "ports", "eps"), SLICE_CELLS, ids=[c[0] for c in SLICE_CELLS]
)
def test_slice_columns(case: str, obj: dict[str, Any], ports: str, eps: str) -> None:
    assert (ports_cell(obj), slice_endpoints_cell(obj)) == (ports, eps)
