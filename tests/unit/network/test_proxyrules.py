"""The Service proxy's nftables script (kube-proxy's nftables-mode shape), read back as data:
which chains, rules and map elements each kind of Service gets. The last tests hand every
script to the real ``nft -c`` (check mode, in a throwaway network namespace)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from kubelite.model.service import EndpointSliceView, ServiceView
from kubelite.network.proxynames import hashed_name
from kubelite.network.proxyrules import ProxyConfig, cluster_addresses, render, uses_affinity

TABLE = "kubelite-unit"
CONFIG = ProxyConfig(
    table=TABLE,
    pod_cidr="10.244.0.0/16",
    service_cidr="10.96.0.0/16",
    nodeport_addresses=("127.0.0.1", "10.244.0.1"),
)


# ---------------------------------------------------------------------------- builders


def port(
    name: str = "http", number: int = 80, target: int | str = "http", protocol: str = "TCP",
    node_port: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    raw: dict[str, Any] = {"name": name, "port": number, "targetPort": target, "protocol": protocol}
    if node_port:
        raw["nodePort"] = node_port
    return raw


def service(
    name: str = "web", *, ns: str = "default", type_: str = "ClusterIP",
    cluster_ip: str = "10.96.0.10", ports: Sequence[dict[str, Any]] = (port(),),
    affinity: int | None = None, local: bool = False, external_ips: Sequence[str] = (),
) -> ServiceView:  # fmt: skip
    spec: dict[str, Any] = {"type": type_, "clusterIP": cluster_ip, "ports": list(ports)}
    if affinity is not None:
        spec["sessionAffinity"] = "ClientIP"
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": affinity}}
    if local:
        spec["externalTrafficPolicy"] = "Local"
    if external_ips:
        spec["externalIPs"] = list(external_ips)
    if type_ == "ExternalName":
        spec = {"type": type_, "externalName": "example.org"}
    return ServiceView.of({"metadata": {"namespace": ns, "name": name}, "spec": spec})


def ep(
    ip: str, *, ready: bool = True, serving: bool | None = None, terminating: bool = False,
    node: str = "",
) -> dict[str, Any]:  # fmt: skip
    cond: dict[str, Any] = {"ready": ready, "terminating": terminating}
    if serving is not None:
        cond["serving"] = serving
    return {"addresses": [ip], "conditions": cond, "nodeName": node}


def slice_(
    svc: str = "web", *, ns: str = "default", name: str = "",
    endpoints: Sequence[dict[str, Any]] = (),
    ports: Sequence[tuple[str, int, str]] = (("http", 8080, "TCP"),), address_type: str = "IPv4",
) -> EndpointSliceView:  # fmt: skip
    return EndpointSliceView.of({
        "metadata": {"namespace": ns, "name": name or f"{svc}-{uuid.uuid4().hex[:5]}",
                     "labels": {"kubernetes.io/service-name": svc}},
        "addressType": address_type,
        "endpoints": list(endpoints),
        "ports": [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports],
    })  # fmt: skip


def svc_chain(base: str, kind: str = "service") -> str:
    """The chain kube-proxy names for ``ns/name/proto/port`` (or ``...__ip/port``)."""
    return f"{kind}-{hashed_name(base)}"


def ep_chain(base: str) -> str:
    return svc_chain(base, "endpoint")


# ---------------------------------------------------------------------------- reading back


@dataclass
class Script:
    text: str
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        self.prefix = f"ip {TABLE} "

    def chains(self) -> set[str]:
        head = f"add chain {self.prefix}"
        return {line[len(head) :].split(" {")[0] for line in self._lines(head)}

    def rules(self, chain: str) -> list[str]:
        head = f"add rule {self.prefix}{chain} "
        return [line[len(head) :] for line in self._lines(head)]

    def elements(self, container: str) -> list[str]:
        head = f"add element {self.prefix}{container} {{ "
        return [e for line in self._lines(head) for e in line[len(head) : -2].split(", ")]

    def sets(self) -> list[str]:
        return list(self._lines(f"add set {self.prefix}"))

    def _lines(self, head: str) -> Iterator[str]:
        return (line for line in self.text.splitlines() if line.startswith(head))


def rendered(
    services: Sequence[ServiceView], slices: Sequence[EndpointSliceView] = (),
    config: ProxyConfig = CONFIG, **kw: Any,
) -> Script:  # fmt: skip
    return Script(render(services, slices, config, **kw))


WEB = "default/web/tcp/http"
TWO = [slice_(endpoints=[ep("10.244.0.5"), ep("10.244.0.6")])]


# ---------------------------------------------------------------------------- the tests


def test_chain_names_hash_as_kube_proxy_does() -> None:
    # the examples in kube-proxy's own documentation of these names
    assert hashed_name("ns1/svc1/tcp/p80") == "ULMVA6XW-ns1/svc1/tcp/p80"
    assert (
        hashed_name("ns1/svc1/tcp/p80__10.180.0.1/80") == "5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
    )


def test_the_script_replaces_the_whole_table_in_one_transaction() -> None:
    lines = render([], [], CONFIG).splitlines()
    assert lines[:3] == [
        f"add table ip {TABLE}",
        f"delete table ip {TABLE}",
        f'add table ip {TABLE} {{ comment "rules for kubelite"; }}',
    ]
    assert sum(line.startswith("delete ") for line in lines) == 1


def test_an_empty_cluster_still_has_kube_proxys_skeleton() -> None:
    s = rendered([])
    assert {
        "filter-input", "filter-forward", "filter-output", "filter-output-post-dnat",
        "nat-prerouting", "nat-output", "nat-postrouting", "services", "masquerading",
        "mark-for-masquerade", "service-endpoints-check", "nodeport-endpoints-check",
        "reject-chain", "cluster-ips-check",
    } <= s.chains()  # fmt: skip
    assert s.rules("nat-prerouting") == ["jump services"]
    assert s.rules("services") == [
        "ip daddr . meta l4proto . th dport vmap @service-ips",
        "ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports",
    ]
    assert s.rules("mark-for-masquerade") == ["mark set mark or 0x004000"]
    assert s.rules("masquerading") == [
        "mark and 0x004000 == 0 return", "mark set mark xor 0x004000", "masquerade fully-random",
    ]  # fmt: skip
    assert s.rules("reject-chain") == ["reject"]
    assert s.elements("nodeport-ips") == ["127.0.0.1", "10.244.0.1"]
    assert s.elements("service-ips") == []


def test_a_cluster_ip_dispatches_to_a_random_ready_endpoint() -> None:
    s = rendered([service()], TWO)
    a, b = ep_chain(f"{WEB}__10.244.0.5/8080"), ep_chain(f"{WEB}__10.244.0.6/8080")
    assert s.elements("service-ips") == [f"10.96.0.10 . tcp . 80 : goto {svc_chain(WEB)}"]
    assert s.elements("cluster-ips") == ["10.96.0.10"]
    assert s.rules(svc_chain(WEB)) == [
        "ip daddr 10.96.0.10 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade",
        f"numgen random mod 2 vmap {{ 0 : goto {a}, 1 : goto {b} }}",
    ]
    assert s.rules(a) == [
        "ip saddr 10.244.0.5 jump mark-for-masquerade",  # hairpin
        "meta l4proto tcp dnat to 10.244.0.5:8080",
    ]


@dataclass(frozen=True)
class Case:
    name: str
    services: list[ServiceView]
    slices: list[EndpointSliceView]
    expect: dict[str, list[str]]  # container -> its elements
    config: ProxyConfig = CONFIG


NP = svc_chain(WEB, "external")
REJECT = 'comment "default/web:http" : goto reject-chain'
DISPATCH_CASES = [
    Case("a ClusterIP Service is captured by its address, protocol and port",
         [service()], TWO,
         {"service-ips": [f"10.96.0.10 . tcp . 80 : goto {svc_chain(WEB)}"],
          "service-nodeports": [], "no-endpoint-services": []}),
    Case("a NodePort Service is captured by its node port too, through the external chain",
         [service(type_="NodePort", ports=[port(node_port=30080)])], TWO,
         {"service-ips": [f"10.96.0.10 . tcp . 80 : goto {svc_chain(WEB)}"],
          "service-nodeports": [f"tcp . 30080 : goto {NP}"], "no-endpoint-nodeports": []}),
    Case("a headless Service gets no rules",
         [service(cluster_ip="None")], TWO,
         {"service-ips": [], "cluster-ips": [], "no-endpoint-services": []}),
    Case("an ExternalName Service gets no rules",
         [service(type_="ExternalName")], TWO,
         {"service-ips": [], "cluster-ips": [], "no-endpoint-services": []}),
    Case("a Service without endpoints is rejected",
         [service()], [],
         {"service-ips": [], "cluster-ips": ["10.96.0.10"],
          "no-endpoint-services": [f"10.96.0.10 . tcp . 80 {REJECT}"]}),
    Case("a NodePort without endpoints is rejected on its node port too",
         [service(type_="NodePort", ports=[port(node_port=30080)])], [slice_()],
         {"service-nodeports": [], "no-endpoint-nodeports": [f"tcp . 30080 {REJECT}"],
          "no-endpoint-services": [f"10.96.0.10 . tcp . 80 {REJECT}"]}),
    Case("endpoints that are neither ready nor serving-and-terminating count as none",
         [service()], [slice_(endpoints=[ep("10.244.0.5", ready=False),
                                         ep("10.244.0.6", ready=False, terminating=True)])],
         {"service-ips": [], "no-endpoint-services": [f"10.96.0.10 . tcp . 80 {REJECT}"]}),
    Case("a slice of another Service, namespace or address family is ignored",
         [service()], [slice_("other", endpoints=[ep("10.244.0.5")]),
                       slice_(ns="prod", endpoints=[ep("10.244.0.5")]),
                       slice_(address_type="IPv6", endpoints=[ep("fd00::5")])],
         {"service-ips": [], "no-endpoint-services": [f"10.96.0.10 . tcp . 80 {REJECT}"]}),
    Case("an unnamed port is written without a port name",
         [service(ports=[port(name="", target=8080)])],
         [slice_(ports=[("", 8080, "TCP")], endpoints=[ep("10.244.0.5")])],
         {"service-ips": [f"10.96.0.10 . tcp . 80 : goto {svc_chain('default/web/tcp/')}"]}),
    Case("an external IP goes through the external chain",
         [service(external_ips=["192.0.2.7", "2001:db8::7"])], TWO,
         {"service-ips": [f"10.96.0.10 . tcp . 80 : goto {svc_chain(WEB)}",
                          f"192.0.2.7 . tcp . 80 : goto {NP}"]}),
    Case("NodePorts answer on every local address when no list is given",
         [service(type_="NodePort", ports=[port(node_port=30080)])], TWO,
         {"nodeport-ips": [], "service-nodeports": [f"tcp . 30080 : goto {NP}"]},
         replace(CONFIG, nodeport_addresses=())),
]  # fmt: skip


@pytest.mark.parametrize("case", DISPATCH_CASES, ids=lambda c: c.name)
def test_dispatch(case: Case) -> None:
    s = rendered(case.services, case.slices, case.config)
    for container, expected in case.expect.items():
        assert s.elements(container) == expected, container


def test_headless_and_external_name_services_get_no_chains() -> None:
    s = rendered([service(cluster_ip="None"), service("ext", type_="ExternalName")], TWO)
    assert not [c for c in s.chains() if "/" in c]


def test_nodeport_traffic_is_masqueraded_then_sent_to_the_service_chain() -> None:
    s = rendered([service(type_="NodePort", ports=[port(node_port=30080)])], TWO)
    assert s.rules(NP) == ["jump mark-for-masquerade", f"goto {svc_chain(WEB)}"]


def test_nodeports_on_every_local_address_match_by_fib() -> None:
    s = rendered([], config=replace(CONFIG, nodeport_addresses=()))
    assert "fib daddr type local meta l4proto . th dport vmap @service-nodeports" in s.rules(
        "services"
    )
    assert s.rules("nodeport-endpoints-check") == [
        "meta l4proto . th dport vmap @no-endpoint-nodeports"
    ]


def test_no_endpoint_checks_sit_in_the_input_forward_and_output_hooks() -> None:
    s = rendered([service()])
    for chain in ("filter-input", "filter-forward", "filter-output"):
        assert "ct state new jump service-endpoints-check" in s.rules(chain)
    assert s.rules("filter-input")[0] == "ct state new jump nodeport-endpoints-check"
    assert s.rules("service-endpoints-check") == [
        "ip daddr . meta l4proto . th dport vmap @no-endpoint-services"
    ]
    assert s.rules("cluster-ips-check") == [
        'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
        'ip daddr 10.96.0.0/16 drop comment "Drop traffic to unallocated ClusterIPs"',
    ]


def test_terminating_serving_endpoints_are_used_only_when_none_is_ready() -> None:
    fallback = [slice_(endpoints=[
        ep("10.244.0.5", ready=False, serving=True, terminating=True),
        ep("10.244.0.6", ready=False, serving=False, terminating=True),
    ])]  # fmt: skip
    s = rendered([service()], fallback)
    only = ep_chain(f"{WEB}__10.244.0.5/8080")
    assert s.rules(svc_chain(WEB))[-1] == f"numgen random mod 1 vmap {{ 0 : goto {only} }}"

    mixed = [slice_(endpoints=[ep("10.244.0.7"), *fallback[0].raw["endpoints"]])]
    s = rendered([service()], mixed)
    ready = ep_chain(f"{WEB}__10.244.0.7/8080")
    assert s.rules(svc_chain(WEB))[-1] == f"numgen random mod 1 vmap {{ 0 : goto {ready} }}"
    assert only not in s.chains()


def test_client_ip_affinity_sends_a_known_client_to_its_endpoint_first() -> None:
    s = rendered([service(affinity=60)], TWO)
    a = f"{WEB}__10.244.0.5/8080"
    b = f"{WEB}__10.244.0.6/8080"
    assert s.rules(svc_chain(WEB))[1:] == [
        f"ip saddr @{svc_chain(a, 'affinity')} goto {ep_chain(a)}",
        f"ip saddr @{svc_chain(b, 'affinity')} goto {ep_chain(b)}",
        f"numgen random mod 2 vmap {{ 0 : goto {ep_chain(a)}, 1 : goto {ep_chain(b)} }}",
    ]
    assert s.rules(ep_chain(a)) == [
        "ip saddr 10.244.0.5 jump mark-for-masquerade",
        f"update @{svc_chain(a, 'affinity')} {{ ip saddr }}",
        "meta l4proto tcp dnat to 10.244.0.5:8080",
    ]
    assert (
        f"add set ip {TABLE} {svc_chain(a, 'affinity')} "
        "{ type ipv4_addr; flags dynamic,timeout; timeout 60s; }"
    ) in s.sets()
    assert uses_affinity([service(affinity=60)]) and not uses_affinity([service()])


def test_affinity_entries_are_carried_over_within_the_services_timeout() -> None:
    a = svc_chain(f"{WEB}__10.244.0.5/8080", "affinity")
    kept = {
        a: [("10.244.0.9", 30), ("10.244.0.8", 500), ("10.244.0.7", 0)],
        "affinity-gone": [("1.2.3.4", 9)],
    }
    s = rendered([service(affinity=60)], TWO, affinity=kept)
    assert s.elements(a) == [
        "10.244.0.9 timeout 60s expires 30s",
        "10.244.0.8 timeout 60s expires 60s",
    ]
    assert "affinity-gone" not in s.text


def test_a_named_target_port_takes_its_number_from_the_slice() -> None:
    svc = service(ports=[port(name="web", target="http-alt")])
    slices = [slice_(ports=[("web", 8443, "TCP"), ("metrics", 9090, "TCP")],
                     endpoints=[ep("10.244.0.5")])]  # fmt: skip
    s = rendered([svc], slices)
    chain = ep_chain("default/web/tcp/web__10.244.0.5/8443")
    assert s.rules(chain)[-1] == "meta l4proto tcp dnat to 10.244.0.5:8443"
    assert "9090" not in s.text


def test_each_port_of_a_service_gets_its_own_chains() -> None:
    svc = service(ports=[port("http", 80), port("dns", 53, "dns", "UDP")])
    slices = [slice_(ports=[("http", 8080, "TCP"), ("dns", 5353, "UDP")],
                     endpoints=[ep("10.244.0.5")])]  # fmt: skip
    s = rendered([svc], slices)
    dns = "default/web/udp/dns"
    assert s.elements("service-ips") == [
        f"10.96.0.10 . tcp . 80 : goto {svc_chain(WEB)}",
        f"10.96.0.10 . udp . 53 : goto {svc_chain(dns)}",
    ]
    assert s.elements("cluster-ips") == ["10.96.0.10"]
    assert s.rules(ep_chain(f"{dns}__10.244.0.5/5353"))[-1] == (
        "meta l4proto udp dnat to 10.244.0.5:5353"
    )
    assert s.rules(svc_chain(dns))[0] == (
        "ip daddr 10.96.0.10 udp dport 53 ip saddr != 10.244.0.0/16 jump mark-for-masquerade"
    )


def test_an_endpoint_in_two_slices_is_written_once_preferring_the_ready_copy() -> None:
    slices = [slice_(endpoints=[ep("10.244.0.5", ready=False)]),
              slice_(endpoints=[ep("10.244.0.5"), ep("10.244.0.10")])]  # fmt: skip
    s = rendered([service()], slices)
    a, b = ep_chain(f"{WEB}__10.244.0.5/8080"), ep_chain(f"{WEB}__10.244.0.10/8080")
    # sorted by address as a number: .5 before .10
    assert (
        s.rules(svc_chain(WEB))[-1] == f"numgen random mod 2 vmap {{ 0 : goto {a}, 1 : goto {b} }}"
    )


def test_two_services_claiming_one_external_ip_and_port_keep_the_first() -> None:
    services = [service("a", cluster_ip="10.96.0.11", external_ips=["192.0.2.7"]),
                service("b", cluster_ip="10.96.0.12", external_ips=["192.0.2.7"])]  # fmt: skip
    slices = [slice_("a", endpoints=[ep("10.244.0.5")]), slice_("b", endpoints=[ep("10.244.0.6")])]
    s = rendered(services, slices)
    external = [e for e in s.elements("service-ips") if e.startswith("192.0.2.7")]
    assert external == [
        f"192.0.2.7 . tcp . 80 : goto {svc_chain('default/a/tcp/http', 'external')}"
    ]


def test_masquerade_all_marks_every_cluster_ip_connection() -> None:
    s = rendered([service()], TWO, replace(CONFIG, masquerade_all=True))
    assert s.rules(svc_chain(WEB))[0] == "ip daddr 10.96.0.10 tcp dport 80 jump mark-for-masquerade"


@pytest.mark.parametrize(
    ("egress", "chain", "rule"),
    [
        (True, "nat-postrouting",
         'ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade comment "pod egress"'),
        (False, "filter-forward",
         "ct state new ip saddr 10.244.0.0/16 ip daddr != { 10.244.0.0/16, 10.96.0.0/16 } drop "
         'comment "no pod egress"'),
    ],
    ids=["pod egress is masqueraded when allowed", "pod egress is dropped when not"],
)  # fmt: skip
def test_pod_egress(egress: bool, chain: str, rule: str) -> None:
    s = rendered([], config=replace(CONFIG, pod_egress=egress))
    assert rule in s.rules(chain)
    assert "egress" not in "".join(s.rules("filter-forward" if egress else "nat-postrouting"))


def test_outside_packets_to_loopback_are_dropped_as_kube_proxy_does() -> None:
    assert rendered([]).rules("filter-input")[-1] == (
        'iifname != "lo" ip saddr != 127.0.0.0/8 ip daddr 127.0.0.0/8 ct state != { established, '
        'related } ct status ! dnat drop comment "block incoming localnet connections"'
    )


def test_without_egress_the_clusters_own_addresses_are_reached_masqueraded() -> None:
    config = replace(CONFIG, pod_egress=False)
    s = rendered([], config=config, cluster=["192.168.5.1", "192.168.5.12"])
    assert (
        'add set ip kubelite-unit cluster-addresses { type ipv4_addr; comment "Nodes and API '
        'servers outside the pod range"; }'
    ) in s.sets()
    assert s.elements("cluster-addresses") == ["192.168.5.1", "192.168.5.12"]
    assert s.rules("nat-postrouting")[-1] == (
        'ip saddr 10.244.0.0/16 ip daddr @cluster-addresses masquerade comment "pod to the '
        "cluster's nodes\""
    )
    assert s.rules("filter-forward")[-1] == (
        "ct state new ip saddr 10.244.0.0/16 ip daddr != { 10.244.0.0/16, 10.96.0.0/16 } "
        'ip daddr != @cluster-addresses drop comment "no pod egress"'
    )
    assert rendered([], config=config).text == render([], [], config)  # none: as before


def test_the_clusters_own_addresses_are_the_other_nodes_and_the_api_servers() -> None:
    def node(name: str, ip: str) -> dict[str, Any]:
        return {"metadata": {"name": name},
                "status": {"addresses": [{"type": "InternalIP", "address": ip}]}}  # fmt: skip

    nodes = [node("n1", "192.168.5.11"), node("n2", "192.168.5.12"), node("n3", "10.244.3.1")]
    api = slice_("kubernetes", endpoints=[ep("192.168.5.1")], ports=[("https", 6443, "TCP")])
    other = slice_("web", endpoints=[ep("192.0.2.9")])
    config = replace(CONFIG, node_name="n1")
    found = cluster_addresses(nodes, [api, other], config)
    assert found == ["192.168.5.1", "192.168.5.12"]  # not this node, nor pod addresses


def test_external_traffic_policy_local_keeps_outside_clients_on_local_endpoints() -> None:
    svc = service(type_="NodePort", ports=[port(node_port=30080)], local=True)
    slices = [slice_(endpoints=[ep("10.244.0.5", node="n1"), ep("10.244.1.5", node="n2")])]
    s = rendered([svc], slices, replace(CONFIG, node_name="n1"))
    local = svc_chain(WEB, "local")
    assert s.rules(NP) == [
        f'ip saddr 10.244.0.0/16 goto {svc_chain(WEB)} comment "short-circuit pod traffic"',
        'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"',
        f'fib saddr type local goto {svc_chain(WEB)} comment "short-circuit local traffic"',
        f"goto {local}",
    ]
    mine = ep_chain(f"{WEB}__10.244.0.5/8080")
    assert s.rules(local) == [f"numgen random mod 1 vmap {{ 0 : goto {mine} }}"]


def test_external_traffic_policy_local_without_local_endpoints_drops_outside_traffic() -> None:
    svc = service(type_="NodePort", ports=[port(node_port=30080)], local=True)
    slices = [slice_(endpoints=[ep("10.244.1.5", node="n2")])]
    s = rendered([svc], slices, replace(CONFIG, node_name="n1"))
    assert s.elements("no-endpoint-nodeports") == ['tcp . 30080 comment "default/web:http" : drop']
    assert s.elements("service-nodeports") == [f"tcp . 30080 : goto {NP}"]
    assert s.rules(NP)[-1].startswith("fib saddr type local goto")


def test_the_script_does_not_depend_on_the_order_of_its_inputs() -> None:
    services = [service("a", cluster_ip="10.96.0.11"), service("b", cluster_ip="10.96.0.12")]
    slices = [slice_("a", name="a1", endpoints=[ep("10.244.0.5"), ep("10.244.0.6")]),
              slice_("b", name="b1", endpoints=[ep("10.244.0.7")])]  # fmt: skip
    forward = render(services, slices, CONFIG)
    assert render(services[::-1], slices[::-1], CONFIG) == forward


def test_proxy_config_from_layout_answers_nodeports_on_loopback_and_the_gateway(
    tmp_path: Any,
) -> None:
    from kubelite.network.layout import NetworkLayout
    from kubelite.settings import Settings

    layout = NetworkLayout.from_settings(Settings(data_dir=tmp_path, pod_egress=False))
    config = ProxyConfig.from_layout(layout)
    assert config.table == layout.nft_table
    assert config.nodeport_addresses == ("127.0.0.1", str(layout.gateway))
    assert (config.pod_cidr, config.service_cidr) == ("10.244.0.0/16", "10.96.0.0/16")
    assert config.pod_egress is False


# ---------------------------------------------------------------------------- real nft


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    name = f"kl-unit-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def _all_scripts() -> list[tuple[str, str]]:
    scripts = [(c.name, render(c.services, c.slices, c.config)) for c in DISPATCH_CASES]
    shared = [service(n, cluster_ip=ip, external_ips=["192.0.2.7"])
              for n, ip in (("a", "10.96.0.11"), ("b", "10.96.0.12"))]  # fmt: skip
    scripts.append(("a shared external IP", render(shared, [], CONFIG)))
    svc = service(type_="NodePort", ports=[port(node_port=30080), port("dns", 53, "dns", "UDP")],
                  affinity=30, local=True)  # fmt: skip
    slices = [slice_(ports=[("http", 8080, "TCP"), ("dns", 5353, "UDP")],
                     endpoints=[ep("10.244.0.5", node="n1"), ep("10.244.0.6")])]  # fmt: skip
    a = svc_chain(f"{WEB}__10.244.0.5/8080", "affinity")
    for egress in (True, False):
        config = replace(CONFIG, pod_egress=egress, masquerade_all=not egress, node_name="n1")
        text = render([svc], slices, config, affinity={a: [("10.244.0.9", 10)]},
                      cluster=["192.168.5.1", "192.168.5.12"])  # fmt: skip
        scripts.append((f"everything at once (egress {egress})", text))
    return scripts


@pytest.mark.e2e
@pytest.mark.skipif(os.geteuid() != 0, reason="nft -c needs CAP_NET_ADMIN")
@pytest.mark.parametrize(("name", "text"), _all_scripts(), ids=[n for n, _ in _all_scripts()])
def test_the_real_nft_accepts_the_script(netns: str, name: str, text: str) -> None:
    check = subprocess.run(
        ["ip", "netns", "exec", netns, "nft", "-c", "-f", "-"],
        input=text, capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
