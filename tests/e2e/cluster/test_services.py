"""Pods reach each other through Services and cluster DNS, on a real one-node kubelite driven by
the real kubectl: the tutorials' init container waiting with ``nc -z`` for a database Service,
``nslookup``, short names and FQDNs, hairpin, headless Services, NodePort and hostPort from the
node, ``kubectl expose``, endpoints following readiness, and the pods' view of the cluster
(resolv.conf, hosts, service variables).
"""

from __future__ import annotations

import json
import re
import socket
import time

import pytest

from tests.e2e.cluster.conftest import Cluster

pytestmark = pytest.mark.e2e

TRAP = 'trap "exit 0" TERM; '
DB = """
apiVersion: v1
kind: Service
metadata: {name: postgres-svc}
spec:
  selector: {app: postgres}
  ports: [{name: sql, port: 5432, targetPort: pg}]
---
apiVersion: v1
kind: Pod
metadata: {name: postgres, labels: {app: postgres}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: db
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; nc -lk -p 5432 -e echo postgres-ready & wait']
    ports: [{name: pg, containerPort: 5432}]
    readinessProbe: {tcpSocket: {port: pg}, periodSeconds: 1}
"""
APP = """
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: wait-for-db
    image: busybox:1.36
    command: [sh, -c, 'until nc -z postgres-svc 5432; do echo waiting for postgres; sleep 1; done; echo postgres is up']
  containers:
  - name: app
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']
"""  # noqa: E501


def shell(cluster: Cluster, pod: str, script: str, check: bool = True) -> str:
    return cluster.exec(pod, "sh", "-c", script, check=check).stdout


def wait_until(what: str, probe: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen within {timeout} s")


@pytest.fixture(scope="module")
def db_and_app(cluster: Cluster) -> Cluster:
    """The app first: its init container waits; then the database behind postgres-svc."""
    cluster.apply(APP)
    cluster.wait("pod/app", "jsonpath={.status.initContainerStatuses[0].state.running}")
    time.sleep(3)
    assert cluster.get("pod", "app")["status"]["phase"] == "Pending"
    cluster.apply(DB)
    cluster.wait("pod/app", "condition=Ready", timeout=120)
    return cluster


def test_an_init_container_waiting_with_nc_z_finishes_once_the_database_is_up(
    db_and_app: Cluster,
) -> None:
    log = db_and_app.logs("app", container="wait-for-db").splitlines()
    assert "waiting for postgres" in log
    assert log[-1] == "postgres is up"
    status = db_and_app.get("pod", "app")["status"]
    init = status["initContainerStatuses"][0]["state"]["terminated"]
    assert init["exitCode"] == 0 and init["reason"] == "Completed"


def test_pods_have_ips_from_the_pod_range_shown_by_get_pods_wide(db_and_app: Cluster) -> None:
    out = db_and_app.kubectl("get", "pods", "-o", "wide").stdout.splitlines()
    assert out[0].split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    prefix = db_and_app.ranges.pod_cidr.rsplit(".", 1)[0] + "."
    status = db_and_app.get("pod", "postgres")["status"]
    assert status["podIP"].startswith(prefix)
    assert status["podIPs"] == [{"ip": status["podIP"]}]
    assert any(status["podIP"] in line for line in out)
    assert status["hostIP"] and status["hostIPs"] == [{"ip": status["hostIP"]}]


def test_nslookup_resolves_a_service_by_short_name_and_fqdn(db_and_app: Cluster) -> None:
    svc_ip = db_and_app.get("svc", "postgres-svc")["spec"]["clusterIP"]
    for name in ("postgres-svc", "postgres-svc.default.svc.cluster.local"):
        # busybox's nslookup applies the search path only to names without a dot, tries every
        # search domain at once and exits 1 when any of them is NXDOMAIN (so against CoreDNS
        # too): only the answer is checked here
        out = shell(db_and_app, "app", f"nslookup {name}", check=False)
        assert "Name:\tpostgres-svc.default.svc.cluster.local" in out, out
        assert f"Address: {svc_ip}" in out, out
    fqdn = "postgres-svc.default.svc.cluster.local"
    assert shell(db_and_app, "app", f"until nslookup {fqdn}; do sleep 1; done; echo found")


def test_a_service_is_reached_by_name_and_the_connection_lands_on_the_pod(
    db_and_app: Cluster,
) -> None:
    out = shell(db_and_app, "app", "nc -w 2 postgres-svc 5432 </dev/null")
    assert out.strip() == "postgres-ready"
    for name in ("postgres-svc.default", "postgres-svc.default.svc.cluster.local"):
        out = shell(db_and_app, "app", f"nc -w 2 {name} 5432 </dev/null")  # libc: ndots, search
        assert out.strip() == "postgres-ready"


def test_a_pod_reaches_itself_through_its_own_service_hairpin(db_and_app: Cluster) -> None:
    out = shell(db_and_app, "postgres", "nc -w 2 postgres-svc 5432 </dev/null")
    assert out.strip() == "postgres-ready"


def test_the_pods_resolv_conf_hosts_and_service_variables_are_a_clusters(
    db_and_app: Cluster,
) -> None:
    dns_ip = db_and_app.get("svc", "kube-dns", "kube-system")["spec"]["clusterIP"]
    resolv = shell(db_and_app, "app", "cat /etc/resolv.conf")
    assert resolv == (
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        f"nameserver {dns_ip}\noptions ndots:5\n"
    )
    ip = db_and_app.get("pod", "app")["status"]["podIP"]
    assert f"{ip}\tapp\n" in shell(db_and_app, "app", "cat /etc/hosts")
    env = dict(
        line.split("=", 1) for line in shell(db_and_app, "app", "env").splitlines() if "=" in line
    )
    svc_ip = db_and_app.get("svc", "postgres-svc")["spec"]["clusterIP"]
    api_ip = db_and_app.get("svc", "kubernetes")["spec"]["clusterIP"]
    assert env["POSTGRES_SVC_SERVICE_HOST"] == svc_ip
    assert env["POSTGRES_SVC_SERVICE_PORT_SQL"] == "5432"
    assert env["POSTGRES_SVC_PORT"] == f"tcp://{svc_ip}:5432"
    assert env["KUBERNETES_SERVICE_HOST"] == api_ip
    assert env["KUBERNETES_SERVICE_PORT"] == "443"


def test_get_endpoints_endpointslices_and_describe_service(db_and_app: Cluster) -> None:
    ip = db_and_app.get("pod", "postgres")["status"]["podIP"]
    eps = db_and_app.kubectl("get", "endpoints", "postgres-svc").stdout.splitlines()
    assert eps[0].split() == ["NAME", "ENDPOINTS", "AGE"]
    assert eps[1].split()[:2] == ["postgres-svc", f"{ip}:5432"]
    slices = db_and_app.kubectl(
        "get", "endpointslices", "-l", "kubernetes.io/service-name=postgres-svc"
    ).stdout.splitlines()
    assert slices[0].split() == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert slices[1].split()[1:4] == ["IPv4", "5432", ip]
    describe = db_and_app.kubectl("describe", "svc", "postgres-svc").stdout
    assert re.search(r"\nSelector:\s+app=postgres\n", describe), describe
    assert re.search(rf"\nEndpoints:\s+{re.escape(ip)}:5432\n", describe), describe


def test_an_unready_pod_leaves_the_endpoints_and_comes_back(db_and_app: Cluster) -> None:
    c = db_and_app
    c.apply(
        """
apiVersion: v1
kind: Pod
metadata: {name: flappy, labels: {app: flappy}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; touch /tmp/ready; httpd -f -p 8080 -h /tmp & wait']
    readinessProbe: {exec: {command: [test, -f, /tmp/ready]}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: flappy}
spec:
  selector: {app: flappy}
  ports: [{port: 80, targetPort: 8080}]
"""
    )
    c.wait("pod/flappy", "condition=Ready")
    ip = c.get("pod", "flappy")["status"]["podIP"]

    def subsets() -> list[dict[str, object]]:
        return list(c.get("endpoints", "flappy").get("subsets") or [])

    wait_until("ready address", lambda: subsets() and "addresses" in subsets()[0])
    c.exec("flappy", "rm", "/tmp/ready")
    wait_until("not ready", lambda: subsets() and "notReadyAddresses" in subsets()[0])
    assert subsets()[0]["notReadyAddresses"][0]["ip"] == ip  # type: ignore[index]
    out = shell(c, "app", "wget -q -T 2 -O - http://flappy/ 2>&1", check=False)
    assert "refused" in out, out  # no ready endpoint: the proxy rejects at once
    c.exec("flappy", "touch", "/tmp/ready")
    wait_until("ready again", lambda: subsets() and "addresses" in subsets()[0])
    c.kubectl("delete", "pod", "flappy", "--wait=false")
    slices = c.kubectl(
        "get", "endpointslices", "-l", "kubernetes.io/service-name=flappy", "-o", "json"
    ).stdout
    conds = [e["conditions"] for s in json.loads(slices)["items"] for e in s.get("endpoints") or []]
    # being deleted: terminating, and serving until the pod's readiness drops with it
    assert conds in (
        [{"ready": False, "serving": True, "terminating": True}],
        [{"ready": False, "serving": False, "terminating": True}],
        [],
    ), conds
    c.kubectl("delete", "svc", "flappy")


def test_a_service_without_endpoints_refuses_connections_at_once(db_and_app: Cluster) -> None:
    db_and_app.kubectl("create", "service", "clusterip", "nobody", "--tcp=80:80")
    start = time.monotonic()
    out = shell(db_and_app, "app", "nc -w 5 nobody 80 </dev/null 2>&1; echo rc=$?", check=False)
    assert "rc=1" in out and time.monotonic() - start < 4, out
    db_and_app.kubectl("delete", "svc", "nobody")


def test_headless_service_dns_answers_each_ready_pod_and_its_hostname(cluster: Cluster) -> None:
    cluster.apply(
        """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, labels: {app: web}}
spec:
  hostname: web-0
  subdomain: web
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox:1.36, command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec:
  hostname: web-1
  subdomain: web
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox:1.36, command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']}
"""
    )
    cluster.wait("pod/web-0", "condition=Ready")
    cluster.wait("pod/web-1", "condition=Ready")
    ips = {cluster.get("pod", p)["status"]["podIP"] for p in ("web-0", "web-1")}
    wait_until(
        "both endpoints in DNS",
        lambda: ips <= set(shell(cluster, "web-0", "nslookup web 2>&1", check=False).split()),
    )
    one = shell(cluster, "web-0", "nslookup web-1.web.default.svc.cluster.local")
    assert cluster.get("pod", "web-1")["status"]["podIP"] in one
    hosts = shell(cluster, "web-0", "cat /etc/hosts")
    ip0 = cluster.get("pod", "web-0")["status"]["podIP"]
    assert f"{ip0}\tweb-0.web.default.svc.cluster.local\tweb-0\n" in hosts
    cluster.kubectl("delete", "svc", "web")
    cluster.kubectl("delete", "pod", "web-0", "web-1", "--wait=false")


def test_external_name_service_answers_a_cname(db_and_app: Cluster) -> None:
    db_and_app.kubectl(
        "create", "service", "externalname", "alias", "--external-name",
        "postgres-svc.default.svc.cluster.local",
    )  # fmt: skip
    out = shell(db_and_app, "app", "nslookup alias", check=False)  # exit 1: see above
    assert "canonical name = postgres-svc.default.svc.cluster.local" in out, out
    db_and_app.kubectl("delete", "svc", "alias")


def _read(host: str, port: int) -> bytes:
    with socket.create_connection((host, port), timeout=5) as s:
        s.settimeout(5)
        return s.recv(100)


def test_nodeport_and_expose_reach_the_pod_from_the_node(db_and_app: Cluster) -> None:
    db_and_app.kubectl(
        "expose", "pod", "postgres", "--name=db-np", "--type=NodePort", "--port=5432"
    )
    svc = db_and_app.get("svc", "db-np")
    assert svc["spec"]["selector"] == {"app": "postgres"}
    port = svc["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767
    wait_until("NodePort", lambda: _read("127.0.0.1", port) == b"postgres-ready\n")
    cluster_ip = svc["spec"]["clusterIP"]
    assert _read(cluster_ip, 5432) == b"postgres-ready\n"  # the node reaches a ClusterIP
    line = db_and_app.kubectl("get", "svc", "db-np").stdout.splitlines()[1].split()
    assert line[:5] == ["db-np", "NodePort", cluster_ip, "<none>", f"5432:{port}/TCP"]
    db_and_app.kubectl("delete", "svc", "db-np")


def test_a_host_port_is_reachable_on_the_nodes_loopback(cluster: Cluster) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cluster.apply(
        f"""
apiVersion: v1
kind: Pod
metadata: {{name: hp}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    command: [sh, -c, 'trap "exit 0" TERM; nc -lk -p 7000 -e echo via-hostport & wait']
    ports: [{{containerPort: 7000, hostPort: {port}}}]
"""
    )
    cluster.wait("pod/hp", "condition=Ready")
    wait_until("hostPort", lambda: _read("127.0.0.1", port) == b"via-hostport\n")
    cluster.kubectl("delete", "pod", "hp")


def test_a_host_network_pod_has_the_nodes_address_and_network(cluster: Cluster) -> None:
    cluster.apply(
        """
apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox:1.36, command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']}
"""
    )
    cluster.wait("pod/hostnet", "condition=Ready")
    status = cluster.get("pod", "hostnet")["status"]
    assert status["podIP"] == status["hostIP"]
    links = shell(cluster, "hostnet", "ip -o link")
    layout_bridge = [w for w in links.split() if w.startswith("kl")]
    assert layout_bridge, links  # the node's bridge is visible: the node's own namespace
    assert shell(cluster, "hostnet", "hostname").strip() == socket.gethostname()
    cluster.kubectl("delete", "pod", "hostnet")


def test_host_aliases_land_in_the_hosts_file(cluster: Cluster) -> None:
    cluster.apply(
        """
apiVersion: v1
kind: Pod
metadata: {name: aliased}
spec:
  terminationGracePeriodSeconds: 1
  hostAliases: [{ip: 10.1.2.3, hostnames: [foo.local, bar.local]}]
  containers:
  - {name: c, image: busybox:1.36, command: [sh, -c, 'trap "exit 0" TERM; sleep 3600 & wait']}
"""
    )
    cluster.wait("pod/aliased", "condition=Ready")
    hosts = shell(cluster, "aliased", "cat /etc/hosts")
    assert hosts.endswith("# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n")
    cluster.kubectl("delete", "pod", "aliased")
