"""A pod's resolv.conf from dnsPolicy and dnsConfig, as the kubelet's GetPodDNS works it out."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.agent.dnsconfig import ClusterDNS, parse_resolv_conf, pod_dns
from kubelite.runtime.interface import DNSConfig

CLUSTER = ClusterDNS(("10.96.0.10",), "cluster.local")
HOST = DNSConfig(("192.0.2.53",), ("corp.example",), ("edns0",))


def spec(**fields: Any) -> dict[str, Any]:
    return {"containers": [{"name": "c"}], **fields}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {},
            DNSConfig(
                ("10.96.0.10",),
                ("web.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"),
                ("ndots:5",),
            ),
        ),
        ({"dnsPolicy": "Default"}, HOST),
        ({"dnsPolicy": "ClusterFirst", "hostNetwork": True}, HOST),
        (
            {"dnsPolicy": "ClusterFirstWithHostNet", "hostNetwork": True},
            DNSConfig(
                ("10.96.0.10",),
                ("web.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"),
                ("ndots:5",),
            ),
        ),
        (
            {"dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.2.3.4"], "searches": ["x"]}},
            DNSConfig(("1.2.3.4",), ("x",), ()),
        ),
        (
            {
                "dnsConfig": {
                    "nameservers": ["10.96.0.10", "1.2.3.4"],
                    "searches": ["svc.cluster.local", "extra"],
                    "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
                }
            },
            DNSConfig(
                ("10.96.0.10", "1.2.3.4"),
                (
                    "web.svc.cluster.local",
                    "svc.cluster.local",
                    "cluster.local",
                    "corp.example",
                    "extra",
                ),
                ("ndots:2", "edns0"),
            ),
        ),
    ],
    ids=[
        "cluster first: the cluster server, the namespace's search path, then the node's",
        "default: the node's settings",
        "cluster first on the host network falls back to the node's settings",
        "cluster first with host net uses the cluster server",
        "none: only the pod's dnsConfig",
        "dnsConfig is appended without duplicates and options override by name",
    ],
)
def test_pod_dns(fields: dict[str, Any], expected: DNSConfig) -> None:
    result = pod_dns(spec(**fields), "web", CLUSTER, HOST)
    assert result.config == expected
    assert result.warnings == ()


def test_cluster_first_without_cluster_dns_falls_back_with_a_warning() -> None:
    result = pod_dns(spec(), "web", ClusterDNS(), HOST)
    assert result.config == HOST
    assert result.warnings[0][0] == "MissingClusterDNS"
    assert 'using "ClusterFirst" policy. Falling back to "Default" policy.' in result.warnings[0][1]


def test_more_than_three_nameservers_are_cut_with_the_kubelets_warning() -> None:
    fields = {
        "dnsPolicy": "None",
        "dnsConfig": {"nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]},
    }
    result = pod_dns(spec(**fields), "web", CLUSTER, HOST)
    assert result.config.nameservers == ("1.1.1.1", "2.2.2.2", "3.3.3.3")
    assert result.warnings == (
        (
            "DNSConfigForming",
            "Nameserver limits were exceeded, some nameservers have been omitted, the applied "
            "nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3",
        ),
    )


def test_the_nodes_resolv_conf_is_parsed_with_the_last_search_line_winning() -> None:
    text = "# comment\nnameserver 10.0.0.2\ndomain a.example\nsearch b.example c.example\n"
    text += "options ndots:1 timeout:2\nnameserver 10.0.0.3 ; trailing\n"
    assert parse_resolv_conf(text) == DNSConfig(
        ("10.0.0.2", "10.0.0.3"), ("b.example", "c.example"), ("ndots:1", "timeout:2")
    )
