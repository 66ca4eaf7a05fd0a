"""The real kubectl against ``kubelite up --no-agent``: Services, Endpoints and EndpointSlices
as kubectl 1.32 shows them, and the API server's error texts for what it refuses."""

from __future__ import annotations

import re

import pytest

from tests.e2e.api.conftest import Server

pytestmark = pytest.mark.e2e

WEB = """apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  clusterIP: 10.96.0.80
  ports:
  - name: http
    port: 80
    targetPort: 8080
  - name: metrics
    port: 9100
    targetPort: metrics
"""

NODEPORT = """apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: NodePort
  selector: {{app: np}}
  ports:
  - port: 80
    nodePort: 30080
"""

POD = """apiVersion: v1
kind: Pod
metadata: {name: shop, labels: {app: shop}}
spec:
  containers: [{name: c, image: busybox:1.36, ports: [{containerPort: 8080}]}]
"""


def rows(text: str) -> list[list[str]]:
    """Table rows split on runs of spaces, the AGE column left out."""
    lines = [re.split(r"\s{2,}", line.strip()) for line in text.strip().splitlines()]
    age = lines[0].index("AGE")
    return [line[:age] + line[age + 1 :] for line in lines]


def ok(server: Server, *args: str, input: str | None = None) -> str:
    return server.kubectl(*args, input=input, check=True).stdout


def test_the_kubernetes_service_exists_from_the_start(server: Server) -> None:
    assert rows(ok(server, "get", "svc", "kubernetes")) == [
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"],
        ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP"],
    ]
    assert rows(ok(server, "get", "svc", "-n", "kube-system")) == [
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"],
        ["kube-dns", "ClusterIP", "10.96.0.10", "<none>", "53/UDP,53/TCP,9153/TCP"],
    ]
    port = str(server.port)
    assert rows(ok(server, "get", "ep", "kubernetes")) == [
        ["NAME", "ENDPOINTS"],
        ["kubernetes", f"10.244.0.1:{port}"],
    ]
    assert rows(ok(server, "get", "endpointslices")) == [
        ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS"],
        ["kubernetes", "IPv4", port, "10.244.0.1"],
    ]


def test_apply_a_service_and_list_it(server: Server) -> None:
    assert ok(server, "apply", "-f", "-", input=WEB).strip() == "service/web created"
    assert ok(server, "apply", "-f", "-", input=WEB).strip() == "service/web unchanged"
    assert rows(ok(server, "get", "svc", "web", "-o", "wide")) == [
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "SELECTOR"],
        ["web", "ClusterIP", "10.96.0.80", "<none>", "80/TCP,9100/TCP", "app=web"],
    ]
    described = ok(server, "describe", "svc", "web")
    for line in (
        "Selector:                 app=web",
        "IP Family Policy:         SingleStack",
        "IP:                       10.96.0.80",
        "Port:                     http  80/TCP",
        "TargetPort:               metrics/TCP",
        "Session Affinity:         None",
    ):
        assert line in described


def test_a_node_port_service_and_a_taken_node_port(server: Server) -> None:
    ok(server, "apply", "-f", "-", input=NODEPORT.format(name="np"))
    assert rows(ok(server, "get", "svc", "np"))[1][1:5:3] == ["NodePort", "80:30080/TCP"]
    r = server.kubectl("apply", "-f", "-", input=NODEPORT.format(name="np2"))
    assert r.returncode == 1
    assert r.stderr.strip() == (
        'The Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided '
        "port is already allocated"
    )


def test_the_cluster_ip_cannot_change(server: Server) -> None:
    ok(server, "apply", "-f", "-", input=WEB)
    r = server.kubectl("apply", "-f", "-", input=WEB.replace("10.96.0.80", "10.96.0.81"))
    assert r.returncode == 1
    assert r.stderr.strip() == (
        'The Service "web" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.81"}: '
        "may not change once set"
    )


def test_an_invalid_port_and_a_taken_cluster_ip_are_refused(server: Server) -> None:
    bad = WEB.replace("name: web", "name: bad").replace("port: 80\n", "port: 70000\n")
    r = server.kubectl("apply", "-f", "-", input=bad.replace("10.96.0.80", "10.96.0.90"))
    assert r.returncode == 1
    assert r.stderr.strip() == (
        'The Service "bad" is invalid: spec.ports[0].port: Invalid value: 70000: must be between '
        "1 and 65535, inclusive"
    )
    r = server.kubectl("apply", "-f", "-", input=WEB.replace("name: web", "name: dns").replace(
        "10.96.0.80", "10.96.0.10"))  # fmt: skip
    assert r.stderr.strip() == (
        'The Service "dns" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: '
        "failed to allocate IP 10.96.0.10: provided IP is already allocated"
    )


def test_deleting_a_service_releases_its_address(server: Server) -> None:
    manifest = WEB.replace("name: web", "name: again").replace("10.96.0.80", "10.96.0.85")
    ok(server, "apply", "-f", "-", input=manifest)
    assert ok(server, "delete", "svc", "again").strip() == 'service "again" deleted'
    assert ok(server, "apply", "-f", "-", input=manifest).strip() == "service/again created"


def test_expose_a_pod(server: Server) -> None:
    ok(server, "apply", "-f", "-", input=POD)
    assert ok(server, "expose", "pod", "shop", "--port=80", "--target-port=8080").strip() == (
        "service/shop exposed"
    )
    assert ok(server, "get", "svc", "shop", "-o", "jsonpath={.spec.selector.app}") == "shop"


def test_explain_service_ports(server: Server) -> None:
    text = ok(server, "explain", "service.spec.ports")
    assert "FIELD: ports <[]ServicePort>" in text
    assert "port\t<integer> -required-" in text
    assert "GROUP:      discovery.k8s.io" in ok(server, "explain", "endpointslices")


def test_create_service_clusterip_and_nodeport(server: Server) -> None:
    assert ok(server, "create", "service", "clusterip", "made", "--tcp=80:8080").strip() == (
        "service/made created"
    )
    ok(server, "create", "service", "nodeport", "madenp", "--tcp=80:8080", "--node-port=30999")
    assert rows(ok(server, "get", "svc", "made", "madenp", "-o", "wide")) == [
        ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "SELECTOR"],
        ["made", "ClusterIP", rows(ok(server, "get", "svc", "made"))[1][2], "<none>", "80/TCP",
         "app=made"],
        ["madenp", "NodePort", rows(ok(server, "get", "svc", "madenp"))[1][2], "<none>",
         "80:30999/TCP", "app=madenp"],
    ]  # fmt: skip
