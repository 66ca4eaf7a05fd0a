"""EndpointSlices (discovery.k8s.io/v1): a Service's endpoints in slices of one address type,
each endpoint with its conditions. ``addressType`` is required and never changes; ports get
their defaults (name "", protocol TCP) as the API server gives them. The columns are
kubectl's: ADDRESSTYPE, PORTS and ENDPOINTS (three at most, then ``+ N more...``).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from kubelite.model.fielderrors import (
    FieldError,
    duplicate,
    invalid,
    not_supported,
    required,
)
from kubelite.model.objects import Obj
from kubelite.registry.meta_validation import (
    check,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    qualified_name_errors,
    validate_labels,
)
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, age_of
from kubelite.registry.service_validation import PROTOCOLS, non_special_ip_errors

ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"]
MAX_ENDPOINTS = 1000
MAX_ADDRESSES = 100
MAX_PORTS = 20000
SHOWN = 3


def _dicts(value: Any) -> list[Obj]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def default_slice(obj: Obj) -> None:
    obj.setdefault("endpoints", None)
    for port in _dicts(obj.get("ports")):
        if port.get("name") is None:
            port["name"] = ""
        if port.get("protocol") is None:
            port["protocol"] = "TCP"


def too_many(path: str, count: int, limit: int) -> FieldError:
    return FieldError(
        "FieldValueTooMany", path, f"Too many: {count}: must have at most {limit} items"
    )


def _address_errors(address: Any, kind: str, path: str) -> list[FieldError]:
    value = str(address)
    if kind in ("IPv4", "IPv6"):
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            ip = None
        if ip is None or ip.version != (4 if kind == "IPv4" else 6):
            return [invalid(path, value, f"must be a valid {kind} address")]
        return non_special_ip_errors(path, value)
    if kind == "FQDN":
        if not value:
            return [required(path)]
        return check(path, value, dns1123_subdomain_errors(value.lower()))
    return []


def _endpoint_errors(ep: Obj, kind: str, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    raw = ep.get("addresses")
    addresses: list[Any] = raw if isinstance(raw, list) else []
    if not addresses:
        errs.append(required(f"{path}.addresses", "must contain at least 1 address"))
    elif len(addresses) > MAX_ADDRESSES:
        errs.append(too_many(f"{path}.addresses", len(addresses), MAX_ADDRESSES))
    for k, address in enumerate(addresses):
        errs += _address_errors(address, kind, f"{path}.addresses[{k}]")
    node = ep.get("nodeName")
    if node is not None:
        errs += check(f"{path}.nodeName", node, dns1123_subdomain_errors(str(node)))
    if ep.get("deprecatedTopology") is not None:
        errs += validate_labels(ep.get("deprecatedTopology"), f"{path}.deprecatedTopology")
    for name in ("zone", "hostname"):
        value = ep.get(name)
        if value is not None:
            errs += check(f"{path}.{name}", value, dns1123_label_errors(str(value)))
    conditions = ep.get("conditions")
    if conditions is not None and not isinstance(conditions, dict):
        errs.append(invalid(f"{path}.conditions", conditions, "must be an object"))
    return errs


def _port_errors(ports: list[Obj]) -> list[FieldError]:
    if len(ports) > MAX_PORTS:
        return [too_many("ports", len(ports), MAX_PORTS)]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        at = f"ports[{i}]"
        name = str(port.get("name") or "")
        if name:
            errs += check(f"{at}.name", name, dns1123_label_errors(name))
        if name in names:
            errs.append(duplicate(f"{at}.name", name))
        names.add(name)
        protocol = port.get("protocol")
        if protocol is None:
            errs.append(required(f"{at}.protocol"))
        elif protocol not in PROTOCOLS:
            errs.append(not_supported(f"{at}.protocol", protocol, PROTOCOLS))
        app = port.get("appProtocol")
        if app is not None:
            errs += check(f"{at}.appProtocol", app, qualified_name_errors(str(app)))
    return errs


def validate_slice(obj: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    kind = obj.get("addressType") or ""
    if not kind:
        errs.append(required("addressType"))
    elif kind not in ADDRESS_TYPES:
        errs.append(not_supported("addressType", kind, ADDRESS_TYPES))
    endpoints = _dicts(obj.get("endpoints"))
    if len(endpoints) > MAX_ENDPOINTS:
        errs.append(too_many("endpoints", len(endpoints), MAX_ENDPOINTS))
    else:
        for i, ep in enumerate(endpoints):
            errs += _endpoint_errors(ep, str(kind), f"endpoints[{i}]")
    return errs + _port_errors(_dicts(obj.get("ports")))


def _with_more(shown: list[str], count: int) -> str:
    if count > SHOWN:
        return ",".join(shown) + f" + {count - SHOWN} more..."
    return ",".join(shown) or "<unset>"


def ports_cell(obj: Obj) -> str:
    ports = _dicts(obj.get("ports"))
    shown = []
    for port in ports[:SHOWN]:
        if port.get("port") is not None:
            shown.append(str(port["port"]))
        elif port.get("name") is not None:
            shown.append(str(port["name"]))
        else:
            shown.append("*")
    return _with_more(shown, len(ports))


def endpoints_cell(obj: Obj) -> str:
    addresses = [str(a) for ep in _dicts(obj.get("endpoints")) for a in ep.get("addresses") or []]
    return _with_more(addresses[:SHOWN], len(addresses))


class EndpointSliceKind(Kind):
    def prepare_create(self, obj: Obj) -> None:
        default_slice(obj)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        default_slice(new)

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_slice(obj)

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        errs = validate_slice(new)
        if new.get("addressType") != old.get("addressType"):
            errs.append(invalid("addressType", new.get("addressType"), "field is immutable"))
        return errs

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the slice."),
            Column("AddressType", description="IPv4, IPv6 or FQDN: what the addresses are."),
            Column("Ports", description="The ports of the slice's endpoints."),
            Column("Endpoints", description="The endpoints' addresses."),
            AGE_COLUMN,
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        return [
            obj["metadata"]["name"],
            str(obj.get("addressType") or ""),
            ports_cell(obj),
            endpoints_cell(obj),
            age_of(obj, now),
        ]


ENDPOINTSLICES = EndpointSliceKind(
    group="discovery.k8s.io",
    version="v1",
    kind="EndpointSlice",
    plural="endpointslices",
    singular="endpointslice",
    tracks_generation=True,
    description="A slice of a service's endpoints, all of one address type.",
)
