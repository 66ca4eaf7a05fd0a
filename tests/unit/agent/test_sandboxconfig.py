"""From a pod to its sandbox: hostname, FQDN, host network, hostPorts and host aliases."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.agent.dnsconfig import ClusterDNS
from kubelite.agent.sandboxconfig import HostnameError, build_sandbox_config
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import DNSConfig, HostAlias, PortMapping

CLUSTER = ClusterDNS(("10.96.0.10",), "cluster.local")


def pod(name: str = "web", **spec: Any) -> PodSpec:
    body = {"containers": [{"name": "app", "image": "nginx"}], **spec}
    return PodSpec.of({"metadata": {"name": name, "namespace": "shop", "uid": "u1"}, "spec": body})


def build(p: PodSpec) -> Any:
    return build_sandbox_config(
        p, 0, node_name="node-1", cluster_dns=CLUSTER, host_dns=DNSConfig(("192.0.2.1",))
    ).config


def test_the_hostname_is_the_pod_name_and_there_is_no_fqdn_without_a_subdomain() -> None:
    cfg = build(pod())
    assert (cfg.hostname, cfg.fqdn) == ("web", "")
    assert cfg.dns.nameservers == ("10.96.0.10",)


def test_a_long_pod_name_is_cut_to_a_dns_label_without_a_trailing_dash() -> None:
    name = "a" * 62 + "-b"
    assert build(pod(name)).hostname == "a" * 62


def test_hostname_and_subdomain_make_the_fqdn_of_a_headless_service_member() -> None:
    cfg = build(pod(hostname="db-0", subdomain="db"))
    assert (cfg.hostname, cfg.fqdn) == ("db-0", "db-0.db.shop.svc.cluster.local")


def test_set_hostname_as_fqdn_puts_the_fqdn_in_the_uts_namespace() -> None:
    cfg = build(pod(hostname="db-0", subdomain="db", setHostnameAsFQDN=True))
    assert cfg.hostname == "db-0.db.shop.svc.cluster.local"


def test_an_fqdn_longer_than_64_characters_cannot_be_the_hostname() -> None:
    with pytest.raises(HostnameError, match="is too long"):
        build(pod(hostname="h" * 40, subdomain="s" * 20, setHostnameAsFQDN=True))


def test_a_host_network_pod_takes_the_nodes_name_and_publishes_no_ports() -> None:
    ports = [{"containerPort": 80, "hostPort": 80}]
    cfg = build(pod(hostNetwork=True, containers=[{"name": "a", "image": "x", "ports": ports}]))
    assert (cfg.hostname, cfg.host_network, cfg.port_mappings) == ("node-1", True, ())


def test_host_ports_of_app_containers_become_port_mappings() -> None:
    ports = [
        {"containerPort": 80, "hostPort": 8080},
        {"containerPort": 53, "hostPort": 5353, "protocol": "UDP", "hostIP": "127.0.0.1"},
        {"containerPort": 9090},
    ]
    cfg = build(pod(containers=[{"name": "a", "image": "x", "ports": ports}]))
    assert cfg.port_mappings == (
        PortMapping(8080, 80, "TCP", ""),
        PortMapping(5353, 53, "UDP", "127.0.0.1"),
    )


def test_host_aliases_are_passed_to_the_hosts_file() -> None:
    cfg = build(pod(hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar"]}]))
    assert cfg.host_aliases == (HostAlias("10.1.2.3", ("foo.local", "bar")),)
