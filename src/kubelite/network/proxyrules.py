"""The Service proxy's data path: Services and EndpointSlices rendered into one nftables
script in kube-proxy's nftables-mode shape (KEP-3866). Pure: data in, text out.

The script replaces kubelite's whole table in one transaction (``add table`` so that the
``delete`` cannot fail, ``delete table``, then the table again), so the kernel switches from
the old rules to the new in one step and nothing stale survives a full sync. Its chains, sets
and maps carry kube-proxy's names, so ``nft list table`` reads as it does on a kube-proxy
node:

    nat-prerouting, nat-output -> services: ip daddr . l4proto . dport vmap @service-ips,
                                             NodePort addresses vmap @service-nodeports
    service-ips  -> service-<HASH>-ns/name/proto/port -> numgen random -> endpoint-<HASH>-...
    service-nodeports -> external-<HASH>-... (masquerade, then the service chain)
    endpoint-... : hairpin masquerade, affinity update, dnat
    filter-input/forward/output -> service-endpoints-check / nodeport-endpoints-check:
                                   @no-endpoint-services / @no-endpoint-nodeports -> reject
    filter-forward, filter-output-post-dnat -> cluster-ips-check (bad port: reject,
                                   unallocated Service address: drop)
    nat-postrouting -> masquerading (packets marked 0x4000 by mark-for-masquerade)

Two things kube-proxy does not have: NodePorts may answer on loopback (127.0.0.1 needs
``route_localnet=1`` on the pod bridge), and the pod-egress policy (``ProxyConfig.pod_egress``).

Deleting the table also empties the ClientIP affinity sets; the caller keeps them across a
sync by reading them first (``nft.set_elements``) and passing them back as ``affinity``.

This module is the configuration and the rules each Service port gets; the chain names come from
``proxynames``, the endpoints from ``proxytargets``, and the transaction text from
``proxyscript``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.model.service import (
    EndpointSliceView,
    ServicePort,
    ServiceType,
    ServiceView,
)
from kubelite.network.layout import NetworkLayout
from kubelite.network.podcidr import internal_ip
from kubelite.network.proxynames import (
    AFFINITY_SET_PREFIX,
    endpoint_chain_base,
    port_name,
    service_chain_base,
)
from kubelite.network.proxyscript import Script
from kubelite.network.proxytargets import Target, index_slices, is_v4, targets, usable

MASQUERADE_MARK = "0x004000"  # kube-proxy's default --masquerade-bit 14, printed as it does

# Base chains: (name, type, hook, priority). Filter chains see the pre-DNAT destination
# (dstnat - 10), except filter-output-post-dnat, which checks what DNAT left alone.
BASE_CHAINS = (
    ("filter-input", "filter", "input", -110),
    ("filter-forward", "filter", "forward", -110),
    ("filter-output", "filter", "output", -110),
    ("filter-output-post-dnat", "filter", "output", -90),
    ("nat-prerouting", "nat", "prerouting", -100),
    ("nat-output", "nat", "output", -100),
    ("nat-postrouting", "nat", "postrouting", 100),
)


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    table: str  # kubelite's own table, family ip
    pod_cidr: str  # every pod of the cluster (kube-proxy's --cluster-cidr)
    service_cidr: str
    # The addresses NodePorts answer on; empty means every local address (fib daddr type
    # local). Loopback addresses work only with route_localnet=1 on the pod bridge.
    nodeport_addresses: tuple[str, ...] = ("127.0.0.1",)
    masquerade_all: bool = False  # for hosts without br_netfilter: SNAT all Service traffic
    pod_egress: bool = True  # pods may reach outside addresses (masqueraded), else dropped
    node_name: str = ""  # endpoints on this node are "local"; "" counts every endpoint local

    @classmethod
    def from_layout(
        cls, layout: NetworkLayout, *, masquerade_all: bool = False, node_name: str = ""
    ) -> ProxyConfig:
        return cls(
            table=layout.nft_table,
            pod_cidr=str(layout.pod_cidr),
            service_cidr=str(layout.service_cidr),
            nodeport_addresses=("127.0.0.1", str(layout.gateway)),
            masquerade_all=masquerade_all,
            pod_egress=layout.pod_egress,
            node_name=node_name,
        )


_VERDICT = "ipv4_addr . inet_proto . inet_service : verdict"
_PORT_VERDICT = "inet_proto . inet_service : verdict"
REGULAR_CHAINS = (
    "services", "service-endpoints-check", "nodeport-endpoints-check", "reject-chain",
    "cluster-ips-check", "mark-for-masquerade", "masquerading",
)  # fmt: skip
# (kind, name, type, comment), as kube-proxy declares them
CONTAINERS = (
    ("set", "cluster-ips", "ipv4_addr", "Active ClusterIPs"),
    ("map", "service-ips", _VERDICT, "ClusterIP, ExternalIP and LoadBalancer IP traffic"),
    ("map", "service-nodeports", _PORT_VERDICT, "NodePort traffic"),
    ("map", "no-endpoint-services", _VERDICT,
     "vmap to drop or reject packets to services with no endpoints"),
    ("map", "no-endpoint-nodeports", _PORT_VERDICT,
     "vmap to drop or reject packets to service nodeports with no endpoints"),
)  # fmt: skip
MASQUERADE_RULES = (
    ("mark-for-masquerade", f"mark set mark or {MASQUERADE_MARK}"),
    ("masquerading", f"mark and {MASQUERADE_MARK} == 0 return"),
    ("masquerading", f"mark set mark xor {MASQUERADE_MARK}"),
    ("masquerading", "masquerade fully-random"),
)
LOCALNET_GUARD = (
    'iifname != "lo" ip saddr != 127.0.0.0/8 ip daddr 127.0.0.0/8 ct state != '
    '{ established, related } ct status ! dnat drop comment "block incoming localnet connections"'
)
# (chain, rule): the rules that do not depend on the Services. The no-endpoint checks sit in
# the input, forward and output hooks: before kernel 5.9 reject is valid only there.
FIXED_RULES = (
    ("filter-input", "ct state new jump nodeport-endpoints-check"),
    ("filter-input", "ct state new jump service-endpoints-check"),
    # NodePorts on 127.0.0.1 need route_localnet on the links they leave by (the pods'
    # bridge; the link to other nodes): nothing else from outside may reach 127.0.0.0/8
    # through them (kube-proxy's "block incoming localnet connections").
    ("filter-input", LOCALNET_GUARD),
    ("filter-forward", "ct state new jump service-endpoints-check"),
    ("filter-output", "ct state new jump service-endpoints-check"),
    ("filter-forward", "ct state new jump cluster-ips-check"),
    ("filter-output-post-dnat", "ct state new jump cluster-ips-check"),
    ("nat-output", "jump services"),
    ("nat-prerouting", "jump services"),
    ("nat-postrouting", "jump masquerading"),
    *MASQUERADE_RULES,
    ("reject-chain", "reject"),
    ("service-endpoints-check", "ip daddr . meta l4proto . th dport vmap @no-endpoint-services"),
    ("services", "ip daddr . meta l4proto . th dport vmap @service-ips"),
    ("cluster-ips-check",
     'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"'),
)  # fmt: skip


def _skeleton(out: Script, config: ProxyConfig, cluster: Sequence[str]) -> None:
    """The Service-independent part: base chains, dispatch, no-endpoint checks, masquerading."""
    for name, type_, hook, priority in BASE_CHAINS:
        out.chain(name, f"type {type_} hook {hook} priority {priority}; policy accept;")
    for name in REGULAR_CHAINS:
        out.chain(name)
    for kind, name, type_, comment in CONTAINERS:
        out.declare(kind, name, f'type {type_}; comment "{comment}";')
    for chain, rule in FIXED_RULES:
        out.rule(chain, rule)
    unallocated = 'comment "Drop traffic to unallocated ClusterIPs"'
    out.rule("cluster-ips-check", f"ip daddr {config.service_cidr} drop {unallocated}")
    nodeports = "meta l4proto . th dport vmap"
    if config.nodeport_addresses:
        out.declare(
            "set", "nodeport-ips", 'type ipv4_addr; comment "IPs that accept NodePort traffic";'
        )
        for ip in config.nodeport_addresses:
            out.element("nodeport-ips", ip)
        out.rule("services", f"ip daddr @nodeport-ips {nodeports} @service-nodeports")
        out.rule(
            "nodeport-endpoints-check", f"ip daddr @nodeport-ips {nodeports} @no-endpoint-nodeports"
        )
    else:
        out.rule("services", f"fib daddr type local {nodeports} @service-nodeports")
        # filter-input sees only local destinations: no address match is needed
        out.rule("nodeport-endpoints-check", f"{nodeports} @no-endpoint-nodeports")
    _egress(out, config, cluster)


def _egress(out: Script, config: ProxyConfig, cluster: Sequence[str]) -> None:
    """Pods' own connections to addresses outside the pod and Service ranges: masqueraded
    behind the node (as kind's ip-masq-agent does), or dropped when new. Without egress, the
    cluster's own addresses outside those ranges (``cluster``: other nodes, the API server)
    may still be reached, masqueraded behind the node, since they have no route back to
    pods."""
    pods, services = config.pod_cidr, config.service_cidr
    if config.pod_egress:
        rule = f'ip saddr {pods} ip daddr != {pods} masquerade comment "pod egress"'
        out.rule("nat-postrouting", rule)
        return
    outside = f"ip daddr != {{ {pods}, {services} }}"
    if cluster:
        out.declare("set", CLUSTER_SET, f'type ipv4_addr; comment "{CLUSTER_COMMENT}";')
        for ip in cluster:
            out.element(CLUSTER_SET, ip)
        masquerade = 'masquerade comment "pod to the cluster\'s nodes"'
        out.rule("nat-postrouting", f"ip saddr {pods} ip daddr @{CLUSTER_SET} {masquerade}")
        outside += f" ip daddr != @{CLUSTER_SET}"
    out.rule(
        "filter-forward", f'ct state new ip saddr {pods} {outside} drop comment "no pod egress"'
    )


CLUSTER_SET = "cluster-addresses"
CLUSTER_COMMENT = "Nodes and API servers outside the pod range"


def cluster_addresses(
    nodes: Iterable[Mapping[str, Any]], slices: Iterable[EndpointSliceView], config: ProxyConfig
) -> list[str]:
    """The addresses pods may reach without egress besides the pod and Service ranges: the
    other nodes' InternalIPs and the ``kubernetes`` Service's endpoints, those outside the pod
    range, sorted."""
    pods = ipaddress.ip_network(config.pod_cidr, strict=False)
    found: set[str] = set()
    for node in nodes:
        if str((node.get("metadata") or {}).get("name") or "") == config.node_name:
            continue
        ip = internal_ip(node)
        if ip:
            found.add(ip)
    for s in slices:
        if (s.namespace, s.service) == ("default", "kubernetes") and s.address_type == "IPv4":
            found.update(e.addresses[0] for e in s.endpoints if e.addresses)
    return sorted(
        (a for a in found if is_v4(a) and ipaddress.ip_address(a) not in pods),
        key=ipaddress.IPv4Address,
    )


@dataclass(frozen=True, slots=True)
class _Port:
    """The decisions for one Service port (kube-proxy's CategorizeEndpoints)."""

    cluster: list[Target]  # endpoints for Cluster traffic policy
    local: list[Target]  # endpoints for externalTrafficPolicy Local (else empty)
    reachable: list[Target]  # every endpoint a chain is written for
    has_endpoints: bool
    external: bool  # reachable from outside: a NodePort or an external IP
    external_local: bool


def _categorize(svc: ServiceView, port: ServicePort, found: list[Target]) -> _Port:
    external = bool(port.node_port) or bool(_external_ips(svc))
    cluster = usable(found)
    external_local = external and svc.external_traffic_local
    local = usable([t for t in found if t.local]) if external_local else []
    reachable = cluster + [t for t in local if t not in cluster]
    return _Port(cluster, local, reachable, bool(cluster), external, external_local)


def _external_ips(svc: ServiceView) -> list[str]:
    """spec.externalIPs and status.loadBalancer.ingress IPs (IPv4); not in the typed view."""
    spec = svc.raw.get("spec") or {}
    ingress = ((svc.raw.get("status") or {}).get("loadBalancer") or {}).get("ingress") or ()
    ips = [*(spec.get("externalIPs") or ()), *(i.get("ip") for i in ingress if i.get("ip"))]
    return [str(ip) for ip in ips if is_v4(str(ip))]


def _capture(out: Script, svc: ServiceView, cluster_ip: str, port: ServicePort, p: _Port) -> None:
    """The map elements that send a port's traffic to its chains, or to reject (no endpoints
    at all) or drop (Local policy without local endpoints, for outside traffic only)."""
    proto, base = port.protocol.lower(), service_chain_base(svc, port)
    comment = f'comment "{port_name(svc, port)}"'
    no_external = "goto reject-chain" if not p.has_endpoints else "drop"
    external_ok = p.has_endpoints and (bool(p.local) or not p.external_local)
    key = f"{cluster_ip} . {proto} . {port.port}"
    if p.has_endpoints:
        out.element("service-ips", key, f" : goto service-{base}")
    else:
        out.element("no-endpoint-services", f"{key} {comment}", " : goto reject-chain")
    external_keys = [("service-ips", f"{ip} . {proto} . {port.port}") for ip in _external_ips(svc)]
    if port.node_port:
        external_keys.append(("service-nodeports", f"{proto} . {port.node_port}"))
    for dispatch, key in external_keys:
        if p.has_endpoints:
            out.element(dispatch, key, f" : goto external-{base}")
        if not external_ok:
            check = (
                "no-endpoint-nodeports"
                if dispatch == "service-nodeports"
                else "no-endpoint-services"
            )
            out.element(check, f"{key} {comment}", f" : {no_external}")


def _chains(
    out: Script, svc: ServiceView, cluster_ip: str, port: ServicePort, p: _Port,
    config: ProxyConfig, affinity: Mapping[str, Sequence[tuple[str, int]]],
) -> None:  # fmt: skip
    """The service chain (with its masquerade rule for outside clients), the external and
    local-policy chains, and one chain per endpoint."""
    base = service_chain_base(svc, port)
    service = f"service-{base}"
    out.chain(service)
    outside = "" if config.masquerade_all else f" ip saddr != {config.pod_cidr}"
    match = f"ip daddr {cluster_ip} {port.protocol.lower()} dport {port.port}{outside}"
    out.rule(service, f"{match} jump mark-for-masquerade")
    if p.external:
        _external_chain(out, base, p, config)
    sticky = svc.session_affinity_timeout is not None
    _dispatch(out, svc, port, service, p.cluster, sticky)
    if p.external_local and p.local:
        out.chain(f"local-{base}")
        _dispatch(out, svc, port, f"local-{base}", p.local, sticky)
    for t in p.reachable:
        _endpoint(out, svc, port, t, svc.session_affinity_timeout, affinity)


def _external_chain(out: Script, base: str, p: _Port, config: ProxyConfig) -> None:
    """NodePort and external-IP traffic. Cluster policy: always masqueraded. Local policy:
    the client address is kept, except for pods and the node itself, which may use every
    endpoint (as if out to a load balancer and back)."""
    external, service = f"external-{base}", f"service-{base}"
    out.chain(external)
    if not p.external_local:
        out.rule(external, "jump mark-for-masquerade")
        out.rule(external, f"goto {service}")
        return
    pods = config.pod_cidr
    out.rule(external, f'ip saddr {pods} goto {service} comment "short-circuit pod traffic"')
    masq = 'jump mark-for-masquerade comment "masquerade local traffic"'
    out.rule(external, f"fib saddr type local {masq}")
    short = f'goto {service} comment "short-circuit local traffic"'
    out.rule(external, f"fib saddr type local {short}")
    if p.local:
        out.rule(external, f"goto local-{base}")


def _dispatch(
    out: Script, svc: ServiceView, port: ServicePort, chain: str, endpoints: list[Target],
    affinity: bool,
) -> None:  # fmt: skip
    """A service (or local-policy) chain: affinity first, then a random endpoint."""
    names = [f"endpoint-{endpoint_chain_base(svc, port, t.ip, t.port)}" for t in endpoints]
    if affinity:
        for name in names:
            set_name = AFFINITY_SET_PREFIX + name.removeprefix("endpoint-")
            out.rule(chain, f"ip saddr @{set_name} goto {name}")
    arms = ", ".join(f"{i} : goto {name}" for i, name in enumerate(names))
    out.rule(chain, f"numgen random mod {len(names)} vmap {{ {arms} }}")


def _endpoint(
    out: Script, svc: ServiceView, port: ServicePort, t: Target, timeout: int | None,
    affinity: Mapping[str, Sequence[tuple[str, int]]],
) -> None:  # fmt: skip
    base = endpoint_chain_base(svc, port, t.ip, t.port)
    chain = f"endpoint-{base}"
    out.chain(chain)
    out.rule(chain, f"ip saddr {t.ip} jump mark-for-masquerade")  # hairpin
    if timeout is not None:
        set_name = AFFINITY_SET_PREFIX + base
        out.declare("set", set_name, f"type ipv4_addr; flags dynamic,timeout; timeout {timeout}s;")
        for ip, expires in affinity.get(set_name, ()):
            if expires > 0 and is_v4(ip):
                left = min(expires, timeout)
                out.element(set_name, ip, f" timeout {timeout}s expires {left}s")
        out.rule(chain, f"update @{set_name} {{ ip saddr }}")
    out.rule(chain, f"meta l4proto {port.protocol.lower()} dnat to {t.ip}:{t.port}")


def _cluster_ip(svc: ServiceView) -> str | None:
    if svc.type is ServiceType.EXTERNAL_NAME or svc.headless:
        return None
    return next((ip for ip in svc.cluster_ips if is_v4(ip)), None)


def uses_affinity(services: Iterable[ServiceView]) -> bool:
    """Whether any Service has ClientIP affinity (only then is there state to carry over)."""
    return any(s.session_affinity_timeout is not None and _cluster_ip(s) for s in services)


def render(
    services: Sequence[ServiceView],
    slices: Sequence[EndpointSliceView],
    config: ProxyConfig,
    affinity: Mapping[str, Sequence[tuple[str, int]]] | None = None,
    *,
    cluster: Sequence[str] = (),
) -> str:
    """The nft script (for ``nft -f -``) that replaces ``config.table`` with the rules for
    ``services``. Headless and ExternalName Services get none. ``affinity`` maps an affinity
    set's name to its (client address, seconds left) entries, to be kept across the sync;
    ``cluster`` are the addresses pods reach without egress (``cluster_addresses``)."""
    out = Script(config.table)
    _skeleton(out, config, cluster)
    index = index_slices(slices)
    for svc in sorted(services, key=lambda s: s.key):
        cluster_ip = _cluster_ip(svc)
        if cluster_ip is None:
            continue
        out.element("cluster-ips", cluster_ip)
        for port in svc.ports:
            found = targets(svc, port, index, config.node_name)
            p = _categorize(svc, port, found)
            _capture(out, svc, cluster_ip, port, p)
            if p.has_endpoints:
                _chains(out, svc, cluster_ip, port, p, config, affinity or {})
    return out.text()
