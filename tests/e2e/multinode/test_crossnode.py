"""Pod networking across nodes (issue 14, item 5): three machines on the test's LAN joined to a
``kubelite up --no-agent``. Each Node gets its own block of the cluster's pod range from the
node IPAM controller; pods take addresses from their node's block; every agent routes the other
nodes' blocks via their addresses (as kindnetd does), so a pod reaches pods on other nodes by
address, through a Service whose only endpoint is elsewhere, and by DNS name from every node
(each node's DNS server answers for the others'); pods on joined nodes reach the API server
through ``kubernetes.default.svc``. A deleted Node's routes leave the others and its block is
handed out again; with every block taken a Node waits with ``CIDRNotAvailable``.

What a pod sees is read from its termination message (a probe pod writes its findings there
and ends), so the checks need nothing but the API. Every address tried is the test's own
(its LAN, its pod and Service ranges): pods run with ``--no-pod-egress``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.etcd.etcdproc import ETCD, EtcdCluster
from tests.e2e.multinode.harness import NODE_MASK, Cluster, wait_for

pytestmark = pytest.mark.e2e

MACHINES = ("m1", "m2", "m3")
DOMAIN = "cluster.local"

# An HTTP GET from a machine itself (Debian's busybox wget crashes in a namespace).
HTTP_GET = """
import socket, sys
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as s:
    s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
    print(s.makefile("rb").read().decode().split("\\r\\n\\r\\n", 1)[-1])
"""


def server_pod(node: str) -> dict[str, Any]:
    """A web server on ``node`` answering with its node's name."""
    script = f"mkdir -p /www && echo {node} > /www/index.html && httpd -f -p 80 -h /www"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"web-{node}", "labels": {"app": "web", "node": node}},
        "spec": {
            "nodeName": node,
            "terminationGracePeriodSeconds": 1,
            "containers": [{
                "name": "web", "image": "busybox:1.36",
                "command": ["sh", "-c", f'trap "exit 0" TERM; {script} & wait'],
                "ports": [{"containerPort": 80, "name": "http"}],
                "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1},
            }],
        },
    }  # fmt: skip


def service(name: str, selector: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": selector, "ports": [{"name": "http", "port": 80, "targetPort": 80}],
                 **spec},
    }  # fmt: skip


def apply(cluster: Cluster, *objects: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"kind": "List", "apiVersion": "v1",
                                                          "items": list(objects)}))  # fmt: skip


def probe(
    cluster: Cluster, node: str, checks: dict[str, str], timeout: float = 120
) -> dict[str, str]:
    """Run each shell check in a pod on ``node``; what each printed (or ``FAILED <code>``)."""
    lines = [
        f'out=$( {cmd} 2>&1 ); code=$?; [ $code = 0 ] || out="FAILED $code: $out"; '
        f'printf "%s\\t%s\\n" {shlex.quote(name)} "$(echo $out)" >> /dev/termination-log'
        for name, cmd in checks.items()
    ]
    name = f"probe-{node}-{uuid.uuid4().hex[:6]}"
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {
            "nodeName": node, "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "probe", "image": "busybox:1.36",
                            "command": ["sh", "-c", "\n".join(lines)]}],
        },
    }  # fmt: skip
    apply(cluster, pod)

    def finished() -> dict[str, Any] | None:
        obj = cluster.get("pod", name)
        phase = obj.get("status", {}).get("phase")
        return obj if phase in ("Succeeded", "Failed") else None

    try:
        obj = wait_for(f"probe {name} to finish", finished, timeout, every=1)
    finally:
        cluster.kubectl("delete", "pod", name, "--wait=false", check=False)
    state = obj["status"]["containerStatuses"][0]["state"]["terminated"]
    found = dict(line.split("\t", 1) for line in (state.get("message") or "").splitlines())
    assert set(found) == set(checks), state
    return found


def nodes(cluster: Cluster) -> dict[str, dict[str, Any]]:
    return {n["metadata"]["name"]: n for n in cluster.get("nodes")["items"]}


def our_routes(cluster: Cluster, machine: str) -> dict[str, str]:
    """kubelite's routes inside a machine: destination -> gateway."""
    agent = next(a for a in cluster.agents if a.name == machine)
    out = agent.machine.ip("-j", "-4", "route", "show", "proto", "75")
    return {r["dst"]: r["gateway"] for r in json.loads(out or "[]")}


def routes_are(cluster: Cluster, machine: str, wanted: dict[str, str]) -> bool:
    return our_routes(cluster, machine) == wanted


def route_gone(cluster: Cluster, machine: str, destination: str) -> bool:
    return destination not in our_routes(cluster, machine)


def open_lan(base: Path, registry: Path, names: tuple[str, ...], **kw: Any) -> Cluster:
    cluster = Cluster.open(base, registry, **kw)
    try:
        for name in names:
            cluster.join(name)
        for name in names:
            wait_for(f"node {name} Ready", partial(cluster.node_ready, name), 90)
    except BaseException:
        problems = cluster.close()
        assert not problems, problems
        raise
    return cluster


@pytest.fixture(scope="module")
def lan(tmp_path_factory: pytest.TempPathFactory, registry_config_file: Path) -> Iterator[Cluster]:
    """The control plane and three machines, each with a web server pod, ``web-<machine>``,
    and the Service ``only-m2`` (a NodePort) whose one endpoint is m2's."""
    for tool in ("nsenter", "ip", "runc", "conmon"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            pytest.skip(f"multi-node tests need {tool}")
    cluster = open_lan(tmp_path_factory.mktemp("crossnode"), registry_config_file, MACHINES)
    try:
        apply(cluster, *(server_pod(m) for m in MACHINES),
              service("only-m2", {"app": "web", "node": "m2"}, type="NodePort"))  # fmt: skip
        for m in MACHINES:
            cluster.kubectl("wait", f"pod/web-{m}", "--for=condition=Ready", "--timeout=120s",
                            timeout=150)  # fmt: skip
        yield cluster
    finally:
        problems = cluster.close()
        if problems:
            pytest.fail("\n".join(problems))


def pod_ip(cluster: Cluster, name: str) -> str:
    return str(cluster.get("pod", name)["status"]["podIP"])


def test_each_node_gets_its_own_block_of_the_clusters_pod_range(lan: Cluster) -> None:
    cluster_range = ipaddress.IPv4Network(lan.control.ranges.pod_cidr)
    found = nodes(lan)
    blocks = [ipaddress.IPv4Network(found[m]["spec"]["podCIDR"]) for m in MACHINES]
    assert len(set(blocks)) == len(MACHINES)
    for m, block in zip(MACHINES, blocks, strict=True):
        assert block.prefixlen == NODE_MASK and block.subnet_of(cluster_range)
        assert found[m]["spec"]["podCIDRs"] == [str(block)]
    described = lan.kubectl("describe", "node", "m1").stdout
    assert re.search(rf"^PodCIDR:\s+{re.escape(str(blocks[0]))}$", described, re.M), described


def test_pods_get_addresses_from_their_nodes_block(lan: Cluster) -> None:
    found = nodes(lan)
    for m in MACHINES:
        block = ipaddress.ip_network(found[m]["spec"]["podCIDR"])
        assert ipaddress.ip_address(pod_ip(lan, f"web-{m}")) in block


def test_every_node_routes_the_other_nodes_blocks_via_their_addresses(lan: Cluster) -> None:
    found = nodes(lan)
    address = {a.name: a.machine.address for a in lan.agents}
    for m in MACHINES:
        wanted = {found[o]["spec"]["podCIDR"]: address[o] for o in MACHINES if o != m}
        wait_for(f"{m}'s routes", partial(routes_are, lan, m, wanted), 30)
    host = subprocess.run(["ip", "-4", "route", "show", "proto", "75"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert host == ""  # the machine running the tests is left alone


def test_a_pod_reaches_pods_on_the_other_nodes_by_address(lan: Cluster) -> None:
    ips = {m: pod_ip(lan, f"web-{m}") for m in MACHINES}
    found = probe(lan, "m1", {
        "m2": f"wget -qO- -T 5 http://{ips['m2']}/",
        "m3": f"wget -qO- -T 5 http://{ips['m3']}/",
        "m3-port": f"nc -z -w 5 {ips['m3']} 80",
    })  # fmt: skip
    assert found == {"m2": "m2", "m3": "m3", "m3-port": ""}


@pytest.mark.parametrize("node", MACHINES)
def test_a_service_whose_only_endpoint_is_on_m2_answers_from_every_node(
    lan: Cluster, node: str
) -> None:
    ip = lan.get("svc", "only-m2")["spec"]["clusterIP"]
    fqdn = f"only-m2.default.svc.{DOMAIN}"
    found = probe(lan, node, {
        "by-ip": f"wget -qO- -T 5 http://{ip}/",
        "by-name": "wget -qO- -T 5 http://only-m2/",
        "nc-by-name": "nc -z -w 5 only-m2 80",
        "nslookup": f"nslookup {fqdn} | grep -c 'Address: {ip}$'",
    })  # fmt: skip
    assert found == {"by-ip": "m2", "by-name": "m2", "nc-by-name": "", "nslookup": "1"}


def test_every_nodes_dns_server_answers_pods_on_the_others(lan: Cluster) -> None:
    [subset] = lan.get("endpoints", "kube-dns", "-n", "kube-system")["subsets"]
    servers = {a["nodeName"]: a["ip"] for a in subset["addresses"]}
    assert set(servers) == set(MACHINES)
    checks = {m: f"nslookup kubernetes.default.svc.{DOMAIN} {ip} | grep -c Name"
              for m, ip in servers.items()}  # fmt: skip
    assert probe(lan, "m1", checks) == {m: "1" for m in MACHINES}


def test_pods_on_joined_nodes_reach_the_api_server_through_kubernetes_default(
    lan: Cluster,
) -> None:
    [subset] = lan.get("endpoints", "kubernetes")["subsets"]
    assert [a["ip"] for a in subset["addresses"]] == [lan.links.server_address]
    found = probe(lan, "m3", {
        "short": "nc -z -w 5 kubernetes.default.svc 443",
        "fqdn": f"nc -z -w 5 kubernetes.default.svc.{DOMAIN} 443",
    })  # fmt: skip
    assert found == {"short": "", "fqdn": ""}


def test_a_pod_reaches_itself_through_its_own_service_on_a_joined_node(lan: Cluster) -> None:
    apply(lan, service("self-m3", {"app": "self"}))
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "self-m3", "labels": {"app": "self"}},
        "spec": {
            "nodeName": "m3", "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
            "containers": [{
                "name": "c", "image": "busybox:1.36",
                "ports": [{"containerPort": 80}],
                "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 1},
                "command": ["sh", "-c",
                            "mkdir /www && echo hairpin > /www/index.html && httpd -p 80 -h /www;"
                            " for i in $(seq 60); do wget -qO- -T 2 http://self-m3/ "
                            "> /dev/termination-log && exit 0; sleep 1; done; exit 1"],
            }],
        },
    }  # fmt: skip
    apply(lan, pod)
    try:
        wait_for("self-m3 to succeed",
                 lambda: lan.get("pod", "self-m3")["status"].get("phase") == "Succeeded", 120,
                 every=1)  # fmt: skip
        state = lan.get("pod", "self-m3")["status"]["containerStatuses"][0]["state"]
        assert state["terminated"]["message"].strip() == "hairpin"
    finally:
        lan.kubectl("delete", "pod,svc", "self-m3", "--wait=false", check=False)


def test_a_nodeport_on_a_node_reaches_the_endpoint_on_another(lan: Cluster) -> None:
    port = lan.get("svc", "only-m2")["spec"]["ports"][0]["nodePort"]
    m1 = next(a for a in lan.agents if a.name == "m1").machine
    block = ipaddress.IPv4Network(nodes(lan)["m1"]["spec"]["podCIDR"])
    for address in ("127.0.0.1", str(block.network_address + 1)):  # loopback, m1's gateway
        r = subprocess.run(
            m1.nsenter(sys.executable, "-c", HTTP_GET, address, str(port)),
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert r.stdout.strip() == "m2", (address, r.stderr)


def phantom(name: str) -> dict[str, Any]:
    """A Node with no agent behind it: it only takes a block."""
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}


def test_a_deleted_nodes_routes_go_and_its_block_is_handed_out_again(lan: Cluster) -> None:
    """Last: m3 goes. The fourth block is taken by a Node without an agent, so a fifth Node
    waits (CIDRNotAvailable) until m3 is deleted and its block is free."""
    m3_block = nodes(lan)["m3"]["spec"]["podCIDR"]
    apply(lan, phantom("p1"))
    wait_for("p1's block", lambda: nodes(lan)["p1"]["spec"].get("podCIDR"), 30)
    apply(lan, phantom("p2"))

    def not_available() -> bool:
        events = [e for e in lan.get("events")["items"] if e["involvedObject"]["name"] == "p2"]
        return any(e["reason"] == "CIDRNotAvailable" and e["type"] == "Normal"
                   and e["message"] == "Node p2 status is now: CIDRNotAvailable"
                   and e["source"]["component"] == "cidrAllocator" for e in events)  # fmt: skip

    try:
        wait_for("p2's CIDRNotAvailable event", not_available, 30)
        assert "podCIDR" not in nodes(lan)["p2"].get("spec", {})
        next(a for a in lan.agents if a.name == "m3").kill()
        lan.kubectl("delete", "node", "m3", timeout=60)
        for m in ("m1", "m2"):
            wait_for(f"{m}'s route to m3 gone", partial(route_gone, lan, m, m3_block), 45)
        wait_for("p2 to get m3's block",
                 lambda: nodes(lan)["p2"]["spec"].get("podCIDR") == m3_block, 30)  # fmt: skip
    finally:
        lan.kubectl("delete", "node", "p1", "p2", "--ignore-not-found", check=False)


@pytest.mark.skipif(ETCD is None, reason="needs etcd (scripts/install-deps.sh)")
def test_pods_on_two_machines_reach_each_other_on_a_control_plane_on_etcd(
    tmp_path: Path, registry_config_file: Path
) -> None:
    etcd = EtcdCluster(tmp_path / "etcd", size=1)
    etcd.start()
    try:
        cluster = open_lan(tmp_path / "c", registry_config_file, ("m1", "m2"),
                           up_extra=("--store", etcd.store_url))  # fmt: skip
        try:
            apply(cluster, server_pod("m2"), service("web", {"app": "web"}))
            cluster.kubectl("wait", "pod/web-m2", "--for=condition=Ready", "--timeout=120s",
                            timeout=150)  # fmt: skip
            found = probe(cluster, "m1", {
                "by-ip": f"wget -qO- -T 5 http://{pod_ip(cluster, 'web-m2')}/",
                "by-name": "wget -qO- -T 5 http://web/",
            })  # fmt: skip
            assert found == {"by-ip": "m2", "by-name": "m2"}
        finally:
            problems = cluster.close()
            assert not problems, problems
    finally:
        etcd.stop()
