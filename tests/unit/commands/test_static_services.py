"""kubelite run's own Services: defaulted, given a cluster IP from the range (never .1 or .10),
validated as the API server does, and their EndpointSlices kept from the run's pods."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from kubelite.commands._services import ServiceError, StaticServices, cluster_ip_line
from kubelite.network.layout import NetworkLayout
from kubelite.settings import Settings

LAYOUT = NetworkLayout.from_settings(Settings(service_cidr="10.99.0.0/24"))


def svc(name: str = "db", **spec: Any) -> dict[str, Any]:
    body = {"selector": {"app": "db"}, "ports": [{"port": 5432}], **spec}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": body}


def pod(ip: str, ready: bool = True) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "default", "name": "db-0", "uid": "u", "labels": {"app": "db"}},
        "spec": {"containers": [{"name": "c"}]},
        "status": {
            "phase": "Running", "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }  # fmt: skip


def test_a_service_gets_defaults_and_a_free_cluster_ip_from_the_range() -> None:
    services = StaticServices(LAYOUT, "node-1")
    made = services.add(svc())
    ip = ipaddress.ip_address(made["spec"]["clusterIP"])
    assert ip in LAYOUT.service_cidr and str(ip) not in ("10.99.0.1", "10.99.0.10", "10.99.0.0")
    assert made["spec"]["clusterIPs"] == [str(ip)]
    assert made["spec"]["ports"][0] == {"port": 5432, "protocol": "TCP", "targetPort": 5432}
    assert cluster_ip_line(made) == f"service/db ClusterIP {ip} 5432/TCP"


def test_node_ports_come_from_the_node_port_range() -> None:
    made = StaticServices(LAYOUT, "node-1").add(svc(type="NodePort"))
    assert 30000 <= made["spec"]["ports"][0]["nodePort"] <= 32767


def test_an_invalid_service_is_refused_with_the_api_servers_words() -> None:
    with pytest.raises(ServiceError) as err:
        StaticServices(LAYOUT, "node-1").add(svc(ports=[{"port": 70000}]))
    assert str(err.value).startswith('The Service "db" is invalid: \n* spec.ports[0].port: ')
    assert "70000" in str(err.value)


def test_kube_dns_is_there_with_the_nodes_dns_server_as_its_endpoint() -> None:
    services = StaticServices(LAYOUT, "node-1")
    dns = services.services.get("kube-system", "kube-dns")
    assert dns is not None and dns["spec"]["clusterIP"] == "10.99.0.10"
    (slice_,) = services.slices.items()
    assert slice_["endpoints"][0]["addresses"] == [str(LAYOUT.gateway)]


def test_slices_follow_the_pods() -> None:
    services = StaticServices(LAYOUT, "node-1")
    services.add(svc())
    services.pods_changed([pod("10.244.0.9")])
    mine = [s for s in services.slices.items() if s["metadata"]["namespace"] == "default"]
    assert [e["addresses"] for s in mine for e in s["endpoints"]] == [["10.244.0.9"]]
    assert mine[0]["metadata"]["name"].startswith("db-")
    services.pods_changed([pod("10.244.0.9", ready=False)])
    (again,) = [s for s in services.slices.items() if s["metadata"]["namespace"] == "default"]
    assert again["endpoints"][0]["conditions"]["ready"] is False
