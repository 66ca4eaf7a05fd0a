"""Service validation with the API server's field paths and messages. Pure.

``validate_service`` is ValidateService (after defaulting and allocation), ``validate_cluster_ips``
the clusterIP/clusterIPs/ipFamilies checks that also run before allocation, and
``validate_service_update`` adds what may not change (the primary cluster IP).
Go prints some bad values with ``%#v`` (``[]string{"10.96.0.9"}``, ``core.ServicePort{…}``);
``go_strings`` and ``go_service_port`` reproduce those texts, since kubectl shows them verbatim.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from kubelite.model.fielderrors import (
    DUPLICATE,
    INVALID,
    FieldError,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kubelite.model.objects import Obj
from kubelite.registry.meta_validation import (
    check,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    port_name_errors,
    qualified_name_errors,
    regex_message,
    validate_labels,
)
from kubelite.registry.service_defaults import (
    CLUSTER_IP,
    EXTERNAL_NAME,
    LOAD_BALANCER,
    NODE_PORT,
    NONE,
    externally_accessible,
    is_headless,
)

PROTOCOLS = ["SCTP", "TCP", "UDP"]
SERVICE_TYPES = [CLUSTER_IP, EXTERNAL_NAME, LOAD_BALANCER, NODE_PORT]
AFFINITIES = ["ClientIP", "None"]
FAMILY_POLICIES = ["PreferDualStack", "RequireDualStack", "SingleStack"]
FAMILIES = ["IPv4", "IPv6"]
TRAFFIC_POLICIES = ["Cluster", "Local"]
MAX_AFFINITY_TIMEOUT = 86400
KUBELET_PORT = 10250
PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"
IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
_DNS1035_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_RE = re.compile(f"^(?:{_DNS1035_FMT})$")


def dns1035_label_errors(value: str) -> list[str]:
    """Service names: a DNS label that starts with a letter."""
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _DNS1035_RE.match(value):
        errs.append(
            regex_message(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                "start with an alphabetic character, and end with an alphanumeric character",
                _DNS1035_FMT,
                "my-name",
                "abc-123",
            )
        )
    return errs


def go_strings(values: Any) -> str:
    """Go's ``%#v`` of a ``[]string``."""
    if values is None:
        return "[]string(nil)"
    items = values if isinstance(values, list) else [values]
    return "[]string{" + ", ".join(json.dumps(str(v)) for v in items) + "}"


def invalid_strings(path: str, values: Any, detail: str) -> FieldError:
    return FieldError(INVALID, path, f"Invalid value: {go_strings(values)}: {detail}")


def go_service_port(protocol: str, port: int) -> str:
    """Go's ``%#v`` of the (protocol, port) key the API server reports duplicates with."""
    return (
        f'core.ServicePort{{Name:"", Protocol:{json.dumps(protocol)}, '
        f"AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, "
        'IntVal:0, StrVal:""}, NodePort:0}'
    )


def ip_errors(path: str, value: Any) -> list[FieldError]:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return [invalid(path, value, IP_MSG)]
    return []


def non_special_ip_errors(path: str, value: str) -> list[FieldError]:
    """Addresses a Service or endpoint may not use: unspecified, loopback, link-local."""
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return [invalid(path, value, "must be a valid IP address")]
    errs = []
    if ip.is_unspecified:
        errs.append(invalid(path, value, f"may not be unspecified ({value})"))
    if ip.is_loopback:
        errs.append(invalid(path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
    if ip.is_link_local and not ip.is_multicast:
        errs.append(
            invalid(path, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")
        )
    if ip in ipaddress.ip_network("224.0.0.0/24") or (
        ip.version == 6 and ip in ipaddress.ip_network("ff02::/16")
    ):
        errs.append(
            invalid(
                path,
                value,
                "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
            )
        )
    return errs


def port_number_errors(path: str, value: Any) -> list[FieldError]:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        return [invalid(path, value, PORT_RANGE_MSG)]
    return []


def port_num_or_name_errors(path: str, value: Any) -> list[FieldError]:
    if isinstance(value, str) and not value.isdigit():
        return check(path, value, port_name_errors(value))
    number = int(value) if isinstance(value, str) else value
    return port_number_errors(path, number)


def validate_cluster_ips(spec: Obj) -> list[FieldError]:
    """clusterIP vs clusterIPs, well-formed IPs, families and policy (not for ExternalName)."""
    if spec.get("type") == EXTERNAL_NAME:
        return []
    errs: list[FieldError] = []
    ip, ips = spec.get("clusterIP") or "", spec.get("clusterIPs") or []
    if ip:
        if not ips:
            errs.append(required("spec.clusterIPs"))
        elif ips[0] != ip:
            errs.append(
                invalid_strings("spec.clusterIPs", ips, "first value must match `clusterIP`")
            )
    elif ips:
        errs.append(
            invalid_strings(
                "spec.clusterIPs", ips, "must be empty when `clusterIP` is not specified"
            )
        )
    seen: set[str] = set()
    for i, fam in enumerate(spec.get("ipFamilies") or []):
        if fam not in FAMILIES:
            errs.append(not_supported(f"spec.ipFamilies[{i}]", fam, FAMILIES))
        if fam in seen:
            errs.append(duplicate(f"spec.ipFamilies[{i}]", fam))
        seen.add(fam)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in FAMILY_POLICIES:
        errs.append(not_supported("spec.ipFamilyPolicy", policy, FAMILY_POLICIES))
    bad_ip = False
    for i, value in enumerate(ips):
        if i == 0 and value == NONE:
            if len(ips) > 1:
                bad_ip = True
                errs.append(
                    invalid_strings(
                        "spec.clusterIPs", ips, "'None' must be the first and only value"
                    )
                )
            continue
        found = ip_errors(f"spec.clusterIPs[{i}]", value)
        bad_ip = bad_ip or bool(found)
        errs += found
    if len(ips) > 2:
        errs.append(invalid_strings("spec.clusterIPs", ips, "may only hold up to 2 values"))
    if bad_ip:
        return errs
    families = spec.get("ipFamilies") or []
    if not is_headless(spec):
        for i, value in enumerate(ips[: len(families)]):
            v6 = ipaddress.ip_address(value).version == 6
            if families[i] == "IPv4" and v6:
                errs.append(
                    invalid(
                        f"spec.clusterIPs[{i}]",
                        value,
                        f"expected an IPv4 value as indicated by `ipFamilies[{i}]`",
                    )
                )
            if families[i] == "IPv6" and not v6:
                errs.append(
                    invalid(
                        f"spec.clusterIPs[{i}]",
                        value,
                        f"expected an IPv6 value as indicated by `ipFamilies[{i}]`",
                    )
                )
    return errs


def _validate_port(port: Obj, path: str, require_name: bool, names: set[str]) -> list[FieldError]:
    errs: list[FieldError] = []
    name = port.get("name") or ""
    if require_name and not name:
        errs.append(required(f"{path}.name"))
    elif name:
        errs += check(f"{path}.name", name, dns1123_label_errors(str(name)))
        if name in names:
            errs.append(duplicate(f"{path}.name", name))
        names.add(str(name))
    errs += port_number_errors(f"{path}.port", port.get("port", 0))
    protocol = port.get("protocol") or ""
    if not protocol:
        errs.append(required(f"{path}.protocol"))
    elif protocol not in PROTOCOLS:
        errs.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    errs += port_num_or_name_errors(f"{path}.targetPort", port.get("targetPort", 0))
    app = port.get("appProtocol")
    if app is not None:
        errs += check(f"{path}.appProtocol", app, qualified_name_errors(str(app)))
    return errs


def _validate_type(spec: Obj, ports: list[Obj]) -> list[FieldError]:
    errs: list[FieldError] = []
    t = spec.get("type")
    ips = spec.get("clusterIPs") or []
    if t in (LOAD_BALANCER, NODE_PORT) and is_headless(spec):
        errs.append(
            invalid(
                "spec.clusterIPs[0]",
                ips[0] if ips else NONE,
                f"may not be set to 'None' for {t} services",
            )
        )
    if t == LOAD_BALANCER:
        for i, p in enumerate(ports):
            if p.get("port") == KUBELET_PORT:
                errs.append(
                    invalid(
                        f"spec.ports[{i}]",
                        KUBELET_PORT,
                        f"may not expose port {KUBELET_PORT} externally since it is used by "
                        "kubelet",
                    )
                )
    if t == EXTERNAL_NAME:
        if ips:
            errs.append(forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        if spec.get("ipFamilies"):
            errs.append(forbidden("spec.ipFamilies", "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            errs.append(
                forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
            )
        cname = str(spec.get("externalName") or "").removesuffix(".")
        if cname:
            errs += check("spec.externalName", cname, dns1123_subdomain_errors(cname))
        else:
            errs.append(required("spec.externalName"))
    return errs


def _validate_affinity(spec: Obj) -> list[FieldError]:
    affinity = spec.get("sessionAffinity") or ""
    if not affinity:
        return [required("spec.sessionAffinity")]
    if affinity not in AFFINITIES:
        return [not_supported("spec.sessionAffinity", affinity, AFFINITIES)]
    cfg = spec.get("sessionAffinityConfig")
    if affinity == "None":
        if cfg is not None:
            return [
                forbidden(
                    "spec.sessionAffinityConfig", "must not be set when session affinity is None"
                )
            ]
        return []
    when = "when session affinity type is ClientIP"
    if not isinstance(cfg, dict):
        return [required("spec.sessionAffinityConfig", when)]
    client = cfg.get("clientIP")
    if not isinstance(client, dict):
        return [required("spec.sessionAffinityConfig.clientIP", when)]
    timeout = client.get("timeoutSeconds")
    path = "spec.sessionAffinityConfig.clientIP.timeoutSeconds"
    if timeout is None:
        return [required(path, when)]
    if not isinstance(timeout, int) or not 0 < timeout <= MAX_AFFINITY_TIMEOUT:
        return [
            invalid(path, timeout, f"must be greater than 0 and less than {MAX_AFFINITY_TIMEOUT}")
        ]
    return []


def _validate_port_sets(spec: Obj, ports: list[Obj]) -> list[FieldError]:
    errs: list[FieldError] = []
    if spec.get("type") == CLUSTER_IP:
        for i, p in enumerate(ports):
            if p.get("nodePort"):
                errs.append(
                    forbidden(
                        f"spec.ports[{i}].nodePort", "may not be used when `type` is 'ClusterIP'"
                    )
                )
    node_ports: set[tuple[Any, Any]] = set()
    for i, p in enumerate(ports):
        if not p.get("nodePort"):
            continue
        key = (p.get("protocol"), p.get("nodePort"))
        if key in node_ports:
            errs.append(duplicate(f"spec.ports[{i}].nodePort", p.get("nodePort")))
        node_ports.add(key)
    seen: set[tuple[Any, Any]] = set()
    for i, p in enumerate(ports):
        key = (p.get("protocol"), p.get("port"))
        if key in seen:
            shown = go_service_port(str(key[0] or ""), int(key[1] or 0))
            errs.append(FieldError(DUPLICATE, f"spec.ports[{i}]", f"Duplicate value: {shown}"))
        seen.add(key)
    return errs


def _validate_traffic(spec: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    etp = spec.get("externalTrafficPolicy") or ""
    if not externally_accessible(spec):
        if etp:
            errs.append(
                invalid(
                    "spec.externalTrafficPolicy",
                    etp,
                    "may only be set for externally-accessible services",
                )
            )
    elif not etp:
        errs.append(required("spec.externalTrafficPolicy"))
    elif etp not in TRAFFIC_POLICIES:
        errs.append(not_supported("spec.externalTrafficPolicy", etp, TRAFFIC_POLICIES))
    itp = spec.get("internalTrafficPolicy")
    if itp is None and spec.get("type") in (CLUSTER_IP, NODE_PORT, LOAD_BALANCER):
        errs.append(required("spec.internalTrafficPolicy"))
    if itp is not None and itp not in TRAFFIC_POLICIES:
        errs.append(not_supported("spec.internalTrafficPolicy", itp, TRAFFIC_POLICIES))
    alloc = spec.get("allocateLoadBalancerNodePorts")
    if spec.get("type") != LOAD_BALANCER and alloc is not None:
        errs.append(
            forbidden(
                "spec.allocateLoadBalancerNodePorts",
                "may only be used when `type` is 'LoadBalancer'",
            )
        )
    return errs


def validate_service(svc: Obj) -> list[FieldError]:
    """ValidateService, for a defaulted Service (metadata is checked by the registry)."""
    spec = svc.get("spec")
    if not isinstance(spec, dict):
        return [required("spec")]
    errs: list[FieldError] = []
    name = str((svc.get("metadata") or {}).get("name") or "")
    if name and not dns1123_label_errors(name):  # the registry already reported label errors
        errs += check("metadata.name", name, dns1035_label_errors(name))
    raw_ports = spec.get("ports") or []
    ports = [p for p in raw_ports if isinstance(p, dict)]
    if not ports and not is_headless(spec) and spec.get("type") != EXTERNAL_NAME:
        errs.append(required("spec.ports"))
    errs += _validate_type(spec, ports)
    names: set[str] = set()
    for i, p in enumerate(ports):
        errs += _validate_port(p, f"spec.ports[{i}]", len(ports) > 1, names)
    if spec.get("selector") is not None:
        errs += validate_labels(spec.get("selector"), "spec.selector")
    errs += _validate_affinity(spec)
    errs += validate_cluster_ips(spec)
    for i, ip in enumerate(spec.get("externalIPs") or []):
        path = f"spec.externalIPs[{i}]"
        errs += ip_errors(path, ip) or non_special_ip_errors(path, str(ip))
    t = spec.get("type") or ""
    if not t:
        errs.append(required("spec.type"))
    elif t not in SERVICE_TYPES:
        errs.append(not_supported("spec.type", t, SERVICE_TYPES))
    errs += _validate_port_sets(spec, ports)
    errs += _validate_traffic(spec)
    return errs


def validate_service_update(new: Obj, old: Obj) -> list[FieldError]:
    """The primary cluster IP never changes (except to or from ExternalName), then as create."""
    spec, ospec = new.get("spec") or {}, old.get("spec") or {}
    errs: list[FieldError] = []
    both_headless = is_headless(spec) and is_headless(ospec)
    if EXTERNAL_NAME not in (spec.get("type"), ospec.get("type")) and not both_headless:
        ips, old_ips = spec.get("clusterIPs") or [], ospec.get("clusterIPs") or []
        if len(ips) == len(old_ips):
            for i, ip in enumerate(old_ips):
                if ip != ips[i]:
                    errs.append(
                        invalid_strings(f"spec.clusterIPs[{i}]", ips, "may not change once set")
                    )
        elif len(ips) < len(old_ips):
            if not ips:
                errs.append(
                    invalid_strings(
                        "spec.clusterIPs[0]",
                        spec.get("clusterIPs"),
                        "primary clusterIP can not be unset",
                    )
                )
            elif ips[0] != old_ips[0]:
                errs.append(invalid_strings("spec.clusterIPs[0]", ips, "may not change once set"))
        elif old_ips and ips[0] != old_ips[0]:
            errs.append(invalid_strings("spec.clusterIPs[0]", ips, "may not change once set"))
    return errs + validate_service(new)
