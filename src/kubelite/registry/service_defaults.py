"""What the API server fills in and carries over on a Service before validating it. Pure.

* ``default_service``: the v1 defaults every decoded Service gets (type, session affinity,
  port protocol and targetPort, traffic policies, allocateLoadBalancerNodePorts).
* ``normalize_cluster_ips``: keep ``clusterIP`` and ``clusterIPs`` in step for clients that
  only know one of them.
* ``keep_allocated``: an update that omits a clusterIP or nodePort the server allocated keeps
  it, so re-applying the same manifest succeeds.
* ``drop_type_dependent``: switching type clears what the new type cannot have (cluster IPs for
  ExternalName, nodePorts for ClusterIP …) unless the user changed it in the same request.
* ``init_ip_families``: ipFamilyPolicy and ipFamilies on this single-stack IPv4 cluster.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any

from kubelite.model.fielderrors import INVALID, FieldError, invalid
from kubelite.model.objects import Obj

CLUSTER_IP = "ClusterIP"
NODE_PORT = "NodePort"
LOAD_BALANCER = "LoadBalancer"
EXTERNAL_NAME = "ExternalName"
NONE = "None"
DEFAULT_AFFINITY_TIMEOUT = 10800


def spec_of(svc: Obj) -> Obj:
    spec = svc.get("spec")
    if not isinstance(spec, dict):
        spec = svc["spec"] = {}
    return spec


def ports_of(spec: Obj) -> list[Obj]:
    ports = spec.get("ports")
    return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []


def externally_accessible(spec: Obj) -> bool:
    t = spec.get("type")
    return t in (NODE_PORT, LOAD_BALANCER) or (t == CLUSTER_IP and bool(spec.get("externalIPs")))


def needs_cluster_ip(spec: Obj) -> bool:
    return spec.get("type") != EXTERNAL_NAME


def needs_node_ports(spec: Obj) -> bool:
    """Whether the type allocates node ports for ports that do not name one."""
    t = spec.get("type")
    if t == LOAD_BALANCER:
        return spec.get("allocateLoadBalancerNodePorts") is not False
    return t == NODE_PORT


def is_headless(spec: Obj) -> bool:
    return spec.get("clusterIP") == NONE


def default_service(svc: Obj) -> None:
    """The v1 defaults (mutates ``svc``); idempotent."""
    spec = spec_of(svc)
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        cfg = spec.get("sessionAffinityConfig")
        client = cfg.get("clientIP") if isinstance(cfg, dict) else None
        if not isinstance(client, dict) or client.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {
                "clientIP": {"timeoutSeconds": DEFAULT_AFFINITY_TIMEOUT}
            }
    if not spec.get("type"):
        spec["type"] = CLUSTER_IP
    for port in ports_of(spec):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    if externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and spec["type"] != EXTERNAL_NAME:
        spec["internalTrafficPolicy"] = "Cluster"
    if spec["type"] == LOAD_BALANCER and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True


def normalize_cluster_ips(new: Obj, old: Obj | None) -> None:
    """Sync ``clusterIP`` and ``clusterIPs`` the way an old or new client meant them."""
    spec = spec_of(new)
    ip, ips = spec.get("clusterIP") or "", spec.get("clusterIPs") or []
    if old is None:
        if ip and not ips:
            spec["clusterIPs"] = [ip]
        return
    ospec = spec_of(old)
    oip, oips = ospec.get("clusterIP") or "", ospec.get("clusterIPs") or []
    if oips and not ips and oip == ip:
        spec["clusterIPs"] = ips = list(oips)
    if oip != ip:
        if oip and not ip and ips == oips:
            spec.pop("clusterIPs", None)
        if ip and ips == oips:
            spec["clusterIPs"] = [ip]


def keep_allocated(new: Obj, old: Obj) -> None:
    """Patch in the clusterIP and nodePorts the server allocated when the update omits them."""
    spec, ospec = spec_of(new), spec_of(old)
    if needs_cluster_ip(ospec) and needs_cluster_ip(spec):
        if not spec.get("clusterIP") and ospec.get("clusterIP"):
            spec["clusterIP"] = ospec["clusterIP"]
        if not spec.get("clusterIPs") and ospec.get("clusterIPs"):
            spec["clusterIPs"] = list(ospec["clusterIPs"])
    if needs_node_ports(ospec) and needs_node_ports(spec):
        used_new = {p.get("nodePort") for p in ports_of(spec) if p.get("nodePort")}
        used_old = {p.get("nodePort") for p in ports_of(ospec) if p.get("nodePort")}
        used = used_new & used_old
        by_name = {str(p.get("name") or ""): p.get("nodePort") for p in ports_of(ospec)}
        for port in ports_of(spec):
            if not port.get("nodePort"):
                was = by_name.get(str(port.get("name") or ""))
                if was and was not in used:
                    port["nodePort"] = was


def _node_ports(spec: Obj) -> list[Any]:
    return [p.get("nodePort") for p in ports_of(spec)]


def drop_type_dependent(new: Obj, old: Obj) -> None:
    """Clear what the new type does not use, where the user left the old value in place."""
    spec, ospec = spec_of(new), spec_of(old)
    if needs_cluster_ip(ospec) and not needs_cluster_ip(spec):
        if (spec.get("clusterIPs") or []) == (ospec.get("clusterIPs") or []):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if spec.get("ipFamilies") == ospec.get("ipFamilies"):
            spec.pop("ipFamilies", None)
        if spec.get("ipFamilyPolicy") == ospec.get("ipFamilyPolicy"):
            spec.pop("ipFamilyPolicy", None)
    if (
        needs_node_ports(ospec)
        and not needs_node_ports(spec)
        and _node_ports(spec) == _node_ports(ospec)
    ):
        for port in ports_of(spec):
            port.pop("nodePort", None)
    if ospec.get("type") == LOAD_BALANCER and spec.get("type") != LOAD_BALANCER:
        was, now = (
            ospec.get("allocateLoadBalancerNodePorts"),
            spec.get("allocateLoadBalancerNodePorts"),
        )
        if was is not None and was == now:
            spec.pop("allocateLoadBalancerNodePorts", None)
        if spec.get("loadBalancerClass") == ospec.get("loadBalancerClass"):
            spec.pop("loadBalancerClass", None)
    if (
        externally_accessible(ospec)
        and not externally_accessible(spec)
        and spec.get("externalTrafficPolicy") == ospec.get("externalTrafficPolicy")
    ):
        spec.pop("externalTrafficPolicy", None)
    if spec.get("type") != LOAD_BALANCER:
        status = new.get("status")
        if isinstance(status, dict):
            status["loadBalancer"] = {}


def init_ip_families(new: Obj, old: Obj | None) -> list[FieldError]:
    """Default ipFamilyPolicy and ipFamilies on this single-stack IPv4 cluster, or say why the
    request cannot be met. A headless Service without a selector asks for both families, as
    the API server defaults it (DNS answers for whatever addresses its endpoints have)."""
    spec = spec_of(new)
    if spec.get("type") == EXTERNAL_NAME:
        return []
    headless_selectorless = is_headless(spec) and not spec.get("selector")
    if spec.get("ipFamilyPolicy") is None:
        ospec = spec_of(old) if old is not None else {}
        if ospec.get("ipFamilyPolicy"):
            spec["ipFamilyPolicy"] = ospec["ipFamilyPolicy"]
        elif headless_selectorless:
            spec["ipFamilyPolicy"] = "RequireDualStack"
        else:
            spec["ipFamilyPolicy"] = "SingleStack"
    policy = spec["ipFamilyPolicy"]
    ips = spec.get("clusterIPs") or []
    raw = spec.get("ipFamilies")
    families = list(raw) if isinstance(raw, list) else []
    errs: list[FieldError] = []
    if policy == "SingleStack":
        if len(ips) == 2:
            errs.append(
                invalid(
                    "spec.ipFamilyPolicy",
                    policy,
                    "must be 'RequireDualStack' or "
                    "'PreferDualStack' when multiple cluster IPs are specified",
                )
            )
        if len(families) == 2:
            errs.append(
                invalid(
                    "spec.ipFamilyPolicy",
                    policy,
                    "must be 'RequireDualStack' or "
                    "'PreferDualStack' when multiple IP families are specified",
                )
            )
    for i, ip in enumerate(ips):
        if ip == NONE:
            break
        if i >= len(families):
            if _family(ip) == "IPv6":
                errs.append(
                    FieldError(
                        INVALID,
                        f"spec.clusterIPs[{i}]",
                        f"Invalid value: {_go_strings(ips)}: IPv6 is not "
                        "configured on this cluster",
                    )
                )
            else:
                families.append("IPv4")
    if errs:
        return errs
    if headless_selectorless:
        families = families or ["IPv4"]
        if len(families) < 2 and policy != "SingleStack":
            families.append("IPv6" if families[0] == "IPv4" else "IPv4")
        spec["ipFamilies"] = families
        return []
    if policy == "RequireDualStack":
        errs.append(
            invalid(
                "spec.ipFamilyPolicy",
                policy,
                "this cluster is not configured for dual-stack services",
            )
        )
    for i, fam in enumerate(families):
        if fam != "IPv4":
            errs.append(invalid(f"spec.ipFamilies[{i}]", fam, "not configured on this cluster"))
    spec["ipFamilies"] = families or ["IPv4"]
    return errs


def _go_strings(values: list[Any]) -> str:
    return "[]string{" + ", ".join(json.dumps(str(v)) for v in values) + "}"


def _family(ip: Any) -> str:
    try:
        return "IPv6" if ipaddress.ip_address(str(ip)).version == 6 else "IPv4"
    except ValueError:
        return "IPv4"


def prepare_new(svc: Obj) -> None:
    """Create: defaults, the clusterIP fields in step, a fresh status."""
    default_service(svc)
    normalize_cluster_ips(svc, None)
    svc["status"] = {"loadBalancer": {}}


def prepare_update(new: Obj, old: Obj) -> None:
    """Update of the main resource: defaults, status kept, allocated values carried over,
    fields of the old type dropped."""
    default_service(new)
    new["status"] = copy.deepcopy(old.get("status") or {"loadBalancer": {}})
    keep_allocated(new, old)
    normalize_cluster_ips(new, old)
    drop_type_dependent(new, old)
