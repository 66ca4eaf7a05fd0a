"""Endpoints (core/v1): the addresses behind a Service, grouped in subsets of addresses that
share ports. Validated as the API server does (every address a valid, non-special IP; ports
1-65535 with names when there are several); ``get ep`` prints ``ip:port`` pairs, the first
three and ``+ N more...``.
"""

from __future__ import annotations

from typing import Any

from kubelite.model.fielderrors import FieldError, invalid, not_supported, required
from kubelite.model.objects import Obj
from kubelite.registry.meta_validation import check, dns1123_label_errors, qualified_name_errors
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, age_of
from kubelite.registry.service_validation import (
    PROTOCOLS,
    ip_errors,
    non_special_ip_errors,
    port_number_errors,
)

SHOWN = 3  # addresses kubectl's column lists before "+ N more..."


def _dicts(value: Any) -> list[Obj]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def default_endpoints(obj: Obj) -> None:
    for subset in _dicts(obj.get("subsets")):
        for port in _dicts(subset.get("ports")):
            if not port.get("protocol"):
                port["protocol"] = "TCP"


def _address_errors(addr: Obj, path: str) -> list[FieldError]:
    ip = str(addr.get("ip") or "")
    errs = ip_errors(f"{path}.ip", ip)
    hostname = addr.get("hostname")
    if hostname:
        errs += check(f"{path}.hostname", hostname, dns1123_label_errors(str(hostname)))
    return errs + non_special_ip_errors(f"{path}.ip", ip)


def endpoint_port_errors(port: Obj, path: str, require_name: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    name = port.get("name") or ""
    if require_name and not name:
        errs.append(required(f"{path}.name"))
    elif name:
        errs += check(f"{path}.name", name, dns1123_label_errors(str(name)))
    errs += port_number_errors(f"{path}.port", port.get("port", 0))
    protocol = port.get("protocol") or ""
    if not protocol:
        errs.append(required(f"{path}.protocol"))
    elif protocol not in PROTOCOLS:
        errs.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    app = port.get("appProtocol")
    if app is not None:
        errs += check(f"{path}.appProtocol", app, qualified_name_errors(str(app)))
    return errs


def validate_endpoints(obj: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    subsets = obj.get("subsets")
    if subsets is not None and not isinstance(subsets, list):
        return [invalid("subsets", subsets, "must be a list")]
    for i, subset in enumerate(_dicts(subsets)):
        at = f"subsets[{i}]"
        ready, not_ready = _dicts(subset.get("addresses")), _dicts(subset.get("notReadyAddresses"))
        if not ready and not not_ready:
            errs.append(required(at, "must specify `addresses` or `notReadyAddresses`"))
        for j, addr in enumerate(ready):
            errs += _address_errors(addr, f"{at}.addresses[{j}]")
        for j, addr in enumerate(not_ready):
            errs += _address_errors(addr, f"{at}.notReadyAddresses[{j}]")
        ports = _dicts(subset.get("ports"))
        for j, port in enumerate(ports):
            errs += endpoint_port_errors(port, f"{at}.ports[{j}]", len(ports) > 1)
    return errs


def endpoints_cell(obj: Obj) -> str:
    """kubectl's ENDPOINTS column: ready addresses with each port, three at most."""
    subsets = _dicts(obj.get("subsets"))
    if not subsets:
        return "<none>"
    shown: list[str] = []
    count, more = 0, False
    for subset in subsets:
        ips = [str(a.get("ip") or "") for a in _dicts(subset.get("addresses"))]
        ports = _dicts(subset.get("ports"))
        pairs = [ip for ip in ips] if not ports else []
        for port in ports:
            pairs += [_host_port(ip, port.get("port")) for ip in ips]
        count += len(pairs)
        for pair in pairs:
            if len(shown) == SHOWN:
                more = True
                break
            shown.append(pair)
    text = ",".join(shown)
    return f"{text} + {count - SHOWN} more..." if more else text


def _host_port(ip: str, port: Any) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


class EndpointsKind(Kind):
    def prepare_create(self, obj: Obj) -> None:
        default_endpoints(obj)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        default_endpoints(new)

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_endpoints(obj)

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the endpoints object."),
            Column("Endpoints", description="Ready addresses and ports of the service."),
            AGE_COLUMN,
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        return [obj["metadata"]["name"], endpoints_cell(obj), age_of(obj, now)]


ENDPOINTS = EndpointsKind(
    group="",
    version="v1",
    kind="Endpoints",
    plural="endpoints",
    singular="endpoints",
    short_names=("ep",),
    description="The addresses and ports that implement a service.",
)
