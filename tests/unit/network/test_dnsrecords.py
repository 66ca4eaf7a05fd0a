"""Cluster DNS records and answers, case by case, against what CoreDNS's kubernetes plugin
answers in a kind cluster (TTL 30, pods insecure)."""

from __future__ import annotations

from typing import Any

import pytest
from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from kubelite.model.service import EndpointSliceView, ServiceView
from kubelite.network.dnsanswer import answer, chase_target, complete_chase
from kubelite.network.dnsindex import (
    ClusterRecords,
    address_from_reverse,
    endpoint_hostname,
    reverse_zones,
)

SERIAL = 1700000000
SOA = (
    "cluster.local. 30 SOA ns.dns.cluster.local. hostmaster.cluster.local. "
    f"{SERIAL} 7200 1800 86400 30"
)
REVERSE_SOA = (
    "96.10.in-addr.arpa. 30 SOA ns.dns.96.10.in-addr.arpa. hostmaster.96.10.in-addr.arpa. "
    f"{SERIAL} 7200 1800 86400 30"
)


def service(name: str, ns: str = "default", **spec: Any) -> ServiceView:
    return ServiceView.of({"metadata": {"name": name, "namespace": ns}, "spec": spec})


def port(name: str, number: int, protocol: str = "TCP") -> dict[str, Any]:
    return {"name": name, "port": number, "protocol": protocol}


def endpoint(ip: str, ready: bool = True, hostname: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"addresses": [ip], "conditions": {"ready": ready}}
    if hostname:
        out["hostname"] = hostname
    return out


def slice_(
    svc: str, endpoints: list[dict[str, Any]], ports: list[dict[str, Any]], **kw: Any
) -> EndpointSliceView:
    return EndpointSliceView.of(
        {
            "metadata": {
                "name": f"{svc}-abcde",
                "namespace": kw.get("ns", "default"),
                "labels": {"kubernetes.io/service-name": svc},
            },
            "addressType": kw.get("address_type", "IPv4"),
            "endpoints": endpoints,
            "ports": ports,
        }
    )


SERVICES = [
    service("kubernetes", clusterIP="10.96.0.1", ports=[port("https", 443)]),
    service(
        "kube-dns",
        "kube-system",
        clusterIP="10.96.0.10",
        ports=[port("dns", 53, "UDP"), port("dns-tcp", 53), port("metrics", 9153)],
    ),
    service("web", clusterIP="None", ports=[port("http", 80)]),
    service("pub", clusterIP="None", publishNotReadyAddresses=True, ports=[port("http", 80)]),
    service("empty", clusterIP="None", ports=[port("http", 80)]),
    service("noport", clusterIP="None"),
    service("api", clusterIP="10.96.0.30", ports=[port("http", 80)]),
    service(
        "dual",
        clusterIP="10.96.0.20",
        clusterIPs=["10.96.0.20", "fd00::20"],
        ports=[port("http", 80)],
    ),
    service("ext", type="ExternalName", externalName="example.com"),
    service("alias", type="ExternalName", externalName="kubernetes.default.svc.cluster.local"),
    service("loop", type="ExternalName", externalName="loop.default.svc.cluster.local"),
]
SLICES = [
    slice_(
        "web",
        [
            endpoint("10.244.0.5", hostname="web-0"),
            endpoint("10.244.0.6"),
            endpoint("10.244.0.7", ready=False),
        ],
        [port("http", 8080)],
    ),
    slice_("pub", [endpoint("10.244.0.8", ready=False)], [port("http", 8080)]),
    slice_("noport", [endpoint("10.244.0.9")], []),
    slice_("api", [endpoint("10.244.0.10")], [port("http", 8080)]),
    slice_("kubernetes", [endpoint("10.244.0.1")], [port("https", 6443)]),
]
NAMESPACES = ["default", "kube-system", "empty-ns"]
CIDRS = ("10.96.0.0/12", "10.244.0.0/16", "fd00::/112")


@pytest.fixture(scope="module")
def records() -> ClusterRecords:
    return ClusterRecords.build(
        SERVICES, SLICES, reverse_cidrs=CIDRS, namespaces=NAMESPACES, serial=SERIAL
    )


def rrs(section: list[Any]) -> list[str]:
    return [f"{r.rname} {r.ttl} {QTYPE[r.rtype]} {r.rdata.toZone()}" for r in section]


def ask(records: ClusterRecords, name: str, qtype: str = "A") -> DNSRecord:
    response = answer(DNSRecord.question(name, qtype), records)
    assert response is not None, f"{name} should be answered here"
    return response


CASES = [
    # (name, qtype, rcode, answer, additional); NODATA and NXDOMAIN carry the zone's SOA
    pytest.param(
        "kubernetes.default.svc.cluster.local", "A", "NOERROR",
        ["kubernetes.default.svc.cluster.local. 30 A 10.96.0.1"], [],
        id="a_cluster_ip_service_answers_its_cluster_ip",
    ),
    pytest.param(
        "KUBERNETES.Default.svc.Cluster.Local", "A", "NOERROR",
        ["KUBERNETES.Default.svc.Cluster.Local. 30 A 10.96.0.1"], [],
        id="names_match_in_any_case_and_the_answer_keeps_the_query_s_spelling",
    ),
    pytest.param(
        "kubernetes.default.svc.cluster.local", "AAAA", "NOERROR", [], [],
        id="aaaa_for_an_ipv4_only_service_is_nodata",
    ),
    pytest.param(
        "dual.default.svc.cluster.local", "AAAA", "NOERROR",
        ["dual.default.svc.cluster.local. 30 AAAA fd00::20"], [],
        id="aaaa_for_a_dual_stack_service_answers_its_ipv6_cluster_ip",
    ),
    pytest.param(
        "nope.default.svc.cluster.local", "A", "NXDOMAIN", [], [],
        id="an_unknown_service_is_nxdomain",
    ),
    pytest.param(
        "kubernetes.nosuch.svc.cluster.local", "A", "NXDOMAIN", [], [],
        id="a_service_in_a_namespace_that_does_not_exist_is_nxdomain",
    ),
    pytest.param(
        "default.svc.cluster.local", "A", "NOERROR", [], [],
        id="an_existing_namespace_is_nodata",
    ),
    pytest.param(
        "empty-ns.svc.cluster.local", "A", "NOERROR", [], [],
        id="a_namespace_without_services_is_nodata_too",
    ),
    pytest.param(
        "nosuch.svc.cluster.local", "A", "NXDOMAIN", [], [],
        id="a_namespace_that_does_not_exist_is_nxdomain",
    ),
    pytest.param("svc.cluster.local", "A", "NOERROR", [], [], id="svc_under_the_zone_is_nodata"),
    pytest.param("pod.cluster.local", "A", "NOERROR", [], [], id="pod_under_the_zone_is_nodata"),
    pytest.param("cluster.local", "A", "NOERROR", [], [], id="the_zone_apex_is_nodata_for_a"),
    pytest.param(
        "foo.cluster.local", "A", "NXDOMAIN", [], [],
        id="a_name_that_is_neither_svc_nor_pod_is_nxdomain",
    ),
    pytest.param(
        "a.b.c.kubernetes.default.svc.cluster.local", "A", "NXDOMAIN", [], [],
        id="a_name_too_long_to_mean_anything_is_nxdomain",
    ),
    pytest.param(
        "web.default.svc.cluster.local", "A", "NOERROR",
        ["web.default.svc.cluster.local. 30 A 10.244.0.5",
         "web.default.svc.cluster.local. 30 A 10.244.0.6"], [],
        id="a_headless_service_answers_its_ready_endpoints_only",
    ),
    pytest.param(
        "pub.default.svc.cluster.local", "A", "NOERROR",
        ["pub.default.svc.cluster.local. 30 A 10.244.0.8"], [],
        id="publish_not_ready_addresses_includes_endpoints_that_are_not_ready",
    ),
    pytest.param(
        "empty.default.svc.cluster.local", "A", "NXDOMAIN", [], [],
        id="a_headless_service_without_ready_endpoints_is_nxdomain",
    ),
    pytest.param(
        "noport.default.svc.cluster.local", "A", "NOERROR",
        ["noport.default.svc.cluster.local. 30 A 10.244.0.9"], [],
        id="a_headless_service_without_ports_still_answers_a",
    ),
    pytest.param(
        "web-0.web.default.svc.cluster.local", "A", "NOERROR",
        ["web-0.web.default.svc.cluster.local. 30 A 10.244.0.5"], [],
        id="an_endpoint_with_a_hostname_answers_under_its_hostname",
    ),
    pytest.param(
        "10-244-0-6.web.default.svc.cluster.local", "A", "NOERROR",
        ["10-244-0-6.web.default.svc.cluster.local. 30 A 10.244.0.6"], [],
        id="an_endpoint_without_a_hostname_answers_under_its_dashed_address",
    ),
    pytest.param(
        "10-244-0-7.web.default.svc.cluster.local", "A", "NXDOMAIN", [], [],
        id="an_endpoint_that_is_not_ready_has_no_name",
    ),
    pytest.param(
        "10-244-0-10.api.default.svc.cluster.local", "A", "NOERROR",
        ["10-244-0-10.api.default.svc.cluster.local. 30 A 10.244.0.10"], [],
        id="endpoints_of_a_cluster_ip_service_have_names_too",
    ),
    pytest.param(
        "_https._tcp.kubernetes.default.svc.cluster.local", "SRV", "NOERROR",
        ["_https._tcp.kubernetes.default.svc.cluster.local. 30 SRV 0 100 443 "
         "kubernetes.default.svc.cluster.local."],
        ["kubernetes.default.svc.cluster.local. 30 A 10.96.0.1"],
        id="srv_for_a_named_port_targets_the_service_with_its_address_additional",
    ),
    pytest.param(
        "_dns._udp.kube-dns.kube-system.svc.cluster.local", "SRV", "NOERROR",
        ["_dns._udp.kube-dns.kube-system.svc.cluster.local. 30 SRV 0 100 53 "
         "kube-dns.kube-system.svc.cluster.local."],
        ["kube-dns.kube-system.svc.cluster.local. 30 A 10.96.0.10"],
        id="srv_matches_the_port_name_and_the_protocol",
    ),
    pytest.param(
        "kube-dns.kube-system.svc.cluster.local", "SRV", "NOERROR",
        ["kube-dns.kube-system.svc.cluster.local. 30 SRV 0 33 53 "
         "kube-dns.kube-system.svc.cluster.local.",
         "kube-dns.kube-system.svc.cluster.local. 30 SRV 0 33 9153 "
         "kube-dns.kube-system.svc.cluster.local."],
        ["kube-dns.kube-system.svc.cluster.local. 30 A 10.96.0.10"],
        id="srv_for_the_bare_service_name_lists_every_port_once_weights_share_100",
    ),
    pytest.param(
        "_http._tcp.web.default.svc.cluster.local", "SRV", "NOERROR",
        ["_http._tcp.web.default.svc.cluster.local. 30 SRV 0 50 8080 "
         "web-0.web.default.svc.cluster.local.",
         "_http._tcp.web.default.svc.cluster.local. 30 SRV 0 50 8080 "
         "10-244-0-6.web.default.svc.cluster.local."],
        ["web-0.web.default.svc.cluster.local. 30 A 10.244.0.5",
         "10-244-0-6.web.default.svc.cluster.local. 30 A 10.244.0.6"],
        id="srv_for_a_headless_service_targets_each_endpoint",
    ),
    pytest.param(
        "_nope._tcp.kubernetes.default.svc.cluster.local", "SRV", "NXDOMAIN", [], [],
        id="srv_for_a_port_the_service_lacks_is_nxdomain",
    ),
    pytest.param(
        "noport.default.svc.cluster.local", "SRV", "NOERROR", [], [],
        id="srv_for_endpoints_without_ports_is_nodata",
    ),
    pytest.param(
        "ext.default.svc.cluster.local", "SRV", "NOERROR", [], [],
        id="srv_for_an_external_name_is_nodata",
    ),
    pytest.param(
        "ext.default.svc.cluster.local", "A", "NOERROR",
        ["ext.default.svc.cluster.local. 30 CNAME example.com."], [],
        id="an_external_name_answers_a_with_its_cname",
    ),
    pytest.param(
        "ext.default.svc.cluster.local", "CNAME", "NOERROR",
        ["ext.default.svc.cluster.local. 30 CNAME example.com."], [],
        id="an_external_name_answers_cname",
    ),
    pytest.param(
        "alias.default.svc.cluster.local", "A", "NOERROR",
        ["alias.default.svc.cluster.local. 30 CNAME kubernetes.default.svc.cluster.local.",
         "kubernetes.default.svc.cluster.local. 30 A 10.96.0.1"], [],
        id="an_external_name_inside_the_zone_is_followed_here",
    ),
    pytest.param(
        "loop.default.svc.cluster.local", "A", "NOERROR", [], [],
        id="an_external_name_naming_itself_is_nodata",
    ),
    pytest.param(
        "x.ext.default.svc.cluster.local", "CNAME", "NXDOMAIN", [], [],
        id="a_name_below_an_external_name_is_nxdomain",
    ),
    pytest.param(
        "1-2-3-4.default.pod.cluster.local", "A", "NOERROR",
        ["1-2-3-4.default.pod.cluster.local. 30 A 1.2.3.4"], [],
        id="pods_insecure_turns_a_dashed_address_into_a",
    ),
    pytest.param(
        "1-2-3-4.default.pod.cluster.local", "AAAA", "NOERROR", [], [],
        id="a_dashed_ipv4_pod_name_is_nodata_for_aaaa",
    ),
    pytest.param(
        "fd00--1.default.pod.cluster.local", "AAAA", "NOERROR",
        ["fd00--1.default.pod.cluster.local. 30 AAAA fd00::1"], [],
        id="a_dashed_ipv6_pod_name_answers_aaaa",
    ),
    pytest.param(
        "blah.default.pod.cluster.local", "A", "NXDOMAIN", [], [],
        id="a_pod_name_that_is_no_address_is_nxdomain",
    ),
    pytest.param(
        "1-2-3-4.nosuch.pod.cluster.local", "A", "NXDOMAIN", [], [],
        id="a_pod_name_in_a_namespace_that_does_not_exist_is_nxdomain",
    ),
    pytest.param(
        "1.0.96.10.in-addr.arpa", "PTR", "NOERROR",
        ["1.0.96.10.in-addr.arpa. 30 PTR kubernetes.default.svc.cluster.local."], [],
        id="ptr_for_a_cluster_ip_names_its_service",
    ),
    pytest.param(
        "5.0.244.10.in-addr.arpa", "PTR", "NOERROR",
        ["5.0.244.10.in-addr.arpa. 30 PTR web-0.web.default.svc.cluster.local."], [],
        id="ptr_for_an_endpoint_names_its_hostname",
    ),
    pytest.param(
        "6.0.244.10.in-addr.arpa", "PTR", "NOERROR",
        ["6.0.244.10.in-addr.arpa. 30 PTR 10-244-0-6.web.default.svc.cluster.local."], [],
        id="ptr_for_an_endpoint_without_hostname_names_its_dashed_address",
    ),
    pytest.param(
        "0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", "PTR",
        "NOERROR",
        ["0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 30 PTR "
         "dual.default.svc.cluster.local."], [],
        id="ptr_works_for_ipv6_cluster_ips",
    ),
    pytest.param(
        "9.9.96.10.in-addr.arpa", "PTR", "NXDOMAIN", [], [],
        id="ptr_for_an_unknown_address_in_the_service_range_is_nxdomain",
    ),
    pytest.param(
        "dns-version.cluster.local", "TXT", "NOERROR",
        ['dns-version.cluster.local. 28800 TXT "1.1.0"'], [],
        id="the_schema_version_is_served_as_txt",
    ),
    pytest.param(
        "kubernetes.default.svc.cluster.local", "TXT", "NOERROR", [], [],
        id="txt_for_a_service_is_nodata",
    ),
    pytest.param(
        "default.svc.cluster.local", "TXT", "NXDOMAIN", [], [],
        id="txt_for_a_name_without_records_is_nxdomain_as_coredns_answers",
    ),
    pytest.param(
        "cluster.local", "SOA", "NOERROR", [SOA], [], id="soa_at_the_apex_answers_the_soa",
    ),
    pytest.param(
        "nope.default.svc.cluster.local", "SOA", "NOERROR", [], [],
        id="soa_below_the_apex_is_nodata_even_for_a_name_that_does_not_exist",
    ),
    pytest.param(
        "cluster.local", "NS", "NOERROR",
        ["cluster.local. 30 NS kube-dns.kube-system.svc.cluster.local."],
        ["kube-dns.kube-system.svc.cluster.local. 30 A 10.96.0.10"],
        id="ns_at_the_apex_names_the_kube_dns_service",
    ),
    pytest.param(
        "ns.dns.cluster.local", "A", "NOERROR",
        ["ns.dns.cluster.local. 30 A 10.96.0.10"], [],
        id="the_default_name_server_name_answers_the_dns_service_ip",
    ),
    pytest.param(
        "svc.cluster.local", "NS", "NOERROR", [], [], id="ns_below_the_apex_is_nodata",
    ),
    pytest.param(
        "kubernetes.default.svc.cluster.local", "MX", "NOERROR", [], [],
        id="other_types_of_an_existing_name_are_nodata",
    ),
    pytest.param(
        "nope.default.svc.cluster.local", "MX", "NXDOMAIN", [], [],
        id="other_types_of_a_missing_name_are_nxdomain",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "qtype", "rcode", "answers", "additional"), CASES)
def test_cluster_answers(
    records: ClusterRecords,
    name: str,
    qtype: str,
    rcode: str,
    answers: list[str],
    additional: list[str],
) -> None:
    response = ask(records, name, qtype)
    assert RCODE[response.header.rcode] == rcode
    assert rrs(response.rr) == answers
    assert rrs(response.ar) == additional
    if not answers:
        soa = REVERSE_SOA if name.endswith("96.10.in-addr.arpa") else SOA
        assert rrs(response.auth) == [soa]
    else:
        assert response.auth == []


@pytest.mark.parametrize(
    "name",
    ["example.com", "1.1.1.1.in-addr.arpa", "1.0.0.11.in-addr.arpa", "cluster.local.example.com"],
)
def test_names_outside_the_served_zones_are_left_to_the_caller(
    records: ClusterRecords, name: str
) -> None:
    assert answer(DNSRecord.question(name, "PTR"), records) is None


def test_an_answer_is_authoritative_without_ra_and_copies_id_rd_and_cd(
    records: ClusterRecords,
) -> None:
    request = DNSRecord.question("kubernetes.default.svc.cluster.local")
    request.header.id, request.header.cd = 4242, 1
    response = answer(request, records)
    assert response is not None
    h = response.header
    assert (h.id, h.qr, h.aa, h.ra, h.rd, h.cd) == (4242, 1, 1, 0, 1, 1)


def test_zone_transfers_are_refused_without_authority(records: ClusterRecords) -> None:
    response = ask(records, "cluster.local", "AXFR")
    assert (response.header.rcode, response.header.aa) == (RCODE.REFUSED, 0)
    assert response.auth == []


def test_before_the_first_list_a_missing_name_is_servfail_not_nxdomain() -> None:
    empty = ClusterRecords.build((), (), synced=False, serial=SERIAL)
    response = ask(empty, "kubernetes.default.svc.cluster.local")
    assert response.header.rcode == RCODE.SERVFAIL
    assert rrs(response.auth) == [SOA]


def test_the_soa_ttl_is_capped_at_300_while_its_minimum_follows_the_ttl() -> None:
    slow = ClusterRecords.build(SERVICES, SLICES, ttl=600, serial=7)
    response = ask(slow, "nope.default.svc.cluster.local")
    assert rrs(response.auth) == [
        "cluster.local. 300 SOA ns.dns.cluster.local. hostmaster.cluster.local. 7 7200 1800 "
        "86400 600"
    ]


def test_without_a_kube_dns_service_the_server_s_own_address_is_the_name_server() -> None:
    bare = ClusterRecords.build((), (), local_ips=["10.244.0.1"])
    response = ask(bare, "cluster.local", "NS")
    assert rrs(response.rr) == ["cluster.local. 30 NS ns.dns.cluster.local."]
    assert rrs(response.ar) == ["ns.dns.cluster.local. 30 A 10.244.0.1"]


def test_without_namespaces_given_those_of_the_objects_exist() -> None:
    derived = ClusterRecords.build(SERVICES, SLICES)
    assert derived.namespaces == {"default", "kube-system"}


def test_a_cluster_ip_claims_its_reverse_name_over_an_endpoint_with_the_same_address() -> None:
    clash = [
        *SERVICES,
        service("odd", clusterIP="None", ports=[port("http", 80)]),
    ]
    slices = [*SLICES, slice_("odd", [endpoint("10.96.0.1")], [port("http", 80)])]
    built = ClusterRecords.build(clash, slices, reverse_cidrs=CIDRS)
    response = ask(built, "1.0.96.10.in-addr.arpa", "PTR")
    assert rrs(response.rr) == [
        "1.0.96.10.in-addr.arpa. 30 PTR kubernetes.default.svc.cluster.local."
    ]


def test_fqdn_slices_and_slices_without_a_service_label_are_ignored() -> None:
    slices = [
        slice_("web", [endpoint("db.example.com")], [], address_type="FQDN"),
        EndpointSliceView.of({"metadata": {"name": "x"}, "endpoints": [endpoint("10.244.0.3")]}),
    ]
    built = ClusterRecords.build(SERVICES, slices)
    assert ask(built, "web.default.svc.cluster.local").header.rcode == RCODE.NXDOMAIN


def test_an_external_name_outside_the_zone_is_left_to_chase() -> None:
    built = ClusterRecords.build(SERVICES, SLICES)
    response = ask(built, "ext.default.svc.cluster.local")
    target = chase_target(response)
    assert str(target) == "example.com."
    found = DNSRecord.question("example.com").reply()
    found.add_answer(RR("example.com", QTYPE.A, ttl=80, rdata=A("192.0.2.1")))
    done = complete_chase(response, found)
    assert rrs(done.rr) == [
        "ext.default.svc.cluster.local. 30 CNAME example.com.",
        "example.com. 80 A 192.0.2.1",
    ]
    assert complete_chase(response, None) is response


@pytest.mark.parametrize(
    ("name", "qtype"),
    [
        ("alias.default.svc.cluster.local", "A"),
        ("ext.default.svc.cluster.local", "CNAME"),
        ("kubernetes.default.svc.cluster.local", "A"),
    ],
)
def test_answers_complete_in_the_zone_need_no_chase(name: str, qtype: str) -> None:
    built = ClusterRecords.build(SERVICES, SLICES)
    assert chase_target(ask(built, name, qtype)) is None


@pytest.mark.parametrize(
    ("cidr", "zones"),
    [
        ("10.244.0.0/16", ["244.10.in-addr.arpa"]),
        ("10.96.0.0/12", [f"{n}.10.in-addr.arpa" for n in range(96, 112)]),
        ("192.168.1.0/24", ["1.168.192.in-addr.arpa"]),
        ("10.0.0.0/7", ["10.in-addr.arpa", "11.in-addr.arpa"]),
        ("fd00::/112", [".".join(["0"] * 24 + ["0", "0", "d", "f", "ip6", "arpa"])]),
    ],
)
def test_reverse_zones_are_cut_on_octet_or_nibble_boundaries(cidr: str, zones: list[str]) -> None:
    assert [".".join(z) for z in reverse_zones(cidr)] == zones


@pytest.mark.parametrize(
    ("name", "address"),
    [
        ("4.3.2.1.in-addr.arpa", "1.2.3.4"),
        ("3.2.1.in-addr.arpa", None),
        ("x.3.2.1.in-addr.arpa", None),
        ("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", "fd00::1"),
        ("1.0.d.f.ip6.arpa", None),
    ],
)
def test_a_reverse_name_gives_its_address_only_when_complete(
    name: str, address: str | None
) -> None:
    assert address_from_reverse(tuple(name.split("."))) == address


@pytest.mark.parametrize(
    ("hostname", "ip", "label"),
    [
        ("web-0", "10.0.0.1", "web-0"),
        ("", "10.0.0.1", "10-0-0-1"),
        ("", "fd00::1", "fd00--1"),
        ("", "fd00::", "fd00--0"),
    ],
)
def test_an_endpoint_is_named_by_its_hostname_else_its_dashed_address(
    hostname: str, ip: str, label: str
) -> None:
    assert endpoint_hostname(hostname, ip) == label
