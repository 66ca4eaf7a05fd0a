"""The Service proxy's rules carrying real traffic. A throwaway "node" network namespace holds
a bridge (the pods' gateway) and kubelite's nftables table; three "pod" namespaces hang off the
bridge on veths, each running a small TCP/UDP server that answers with its name and the
client address it saw; an "outside" namespace stands for the world beyond the node. Every
address is in a random 10.2xx.y.0/24 chosen here; nothing leaves these namespaces.

Sysctls set inside the node namespace (the real node needs the same): net.ipv4.ip_forward=1,
net.bridge.bridge-nf-call-iptables=1 (unless masquerade_all), and route_localnet=1 on the
bridge for NodePorts on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from kubelite.model.service import EndpointSliceView, ServiceView
from kubelite.network import nft
from kubelite.network.proxyrules import ProxyConfig, render

pytestmark = pytest.mark.e2e

SERVER = r"""
import selectors, socket, sys
name, tcp_port, udp_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = socket.socket()
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", tcp_port))
t.listen(256)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", udp_port))
sel = selectors.DefaultSelector()
sel.register(t, selectors.EVENT_READ)
sel.register(u, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        if key.fileobj is t:
            c, peer = t.accept()
            c.sendall(f"{name} {peer[0]}\n".encode())
            c.close()
        else:
            data, peer = u.recvfrom(512)
            u.sendto(f"{name} {peer[0]}\n".encode(), peer)
"""

CLIENT = r"""
import json, socket, sys, time
host, port, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count, timeout, duration = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
began = time.monotonic()
n = 0
while (n < count) if duration <= 0 else (time.monotonic() - began < duration):
    n += 1
    start = time.monotonic()
    try:
        if proto == "tcp":
            with socket.create_connection((host, port), timeout=timeout) as s:
                answer = s.makefile().readline()
        else:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(timeout)
                s.connect((host, port))
                s.send(b"hello")
                answer = s.recv(512).decode()
        result = {"ok": answer.strip()}
    except OSError as err:
        result = {"err": type(err).__name__}
    result["t"] = time.monotonic() - start
    print(json.dumps(result), flush=True)
"""

TCP_PORT, UDP_PORT, OUTSIDE_PORT = 8080, 5353, 9000


def sh(*argv: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {done.stderr.strip()}")


@dataclass
class Net:
    node: str
    pods: dict[str, str]  # pod name -> netns
    ips: dict[str, str]  # pod name -> address
    gateway: str
    pod_cidr: str
    service_cidr: str
    service_base: str  # "10.Y.S." — Service addresses are service_base + n
    outside: str  # the outside namespace
    outside_ip: str  # its address
    outside_gateway: str  # the node's address towards it
    config: ProxyConfig

    def run(self, netns: str, *argv: str, **kw: Any) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["ip", "netns", "exec", netns, *argv], stdout=subprocess.PIPE, text=True, **kw
        )

    def client(
        self, netns: str, host: str, port: int, proto: str = "tcp", count: int = 1,
        timeout: float = 2.0, duration: float = 0.0,
    ) -> list[dict[str, Any]]:  # fmt: skip
        proc = self.run(netns, sys.executable, "-c", CLIENT, host, str(port), proto,
                        str(count), str(timeout), str(duration))  # fmt: skip
        out, _ = proc.communicate(timeout=60)
        return [json.loads(line) for line in out.splitlines()]

    def background_client(
        self, netns: str, host: str, port: int, duration: float
    ) -> subprocess.Popen[str]:
        args = (host, str(port), "tcp", "0", "2.0", str(duration))
        return self.run(netns, sys.executable, "-c", CLIENT, *args)

    async def apply(
        self, services: Sequence[ServiceView], slices: Sequence[EndpointSliceView],
        config: ProxyConfig | None = None,
    ) -> None:  # fmt: skip
        await nft.apply(render(services, slices, config or self.config), netns=self.node)


def _pod(net_node: str, name: str, suffix: str, ip: str, gateway: str) -> str:
    ns = f"kl-{name}-{suffix}"
    sh("ip", "netns", "add", ns)
    sh("ip", "-n", net_node, "link", "add", f"veth-{name}", "type", "veth",
       "peer", "name", "eth0", "netns", ns)  # fmt: skip
    sh("ip", "-n", net_node, "link", "set", f"veth-{name}", "master", "br0", "up")
    # as the bridge CNI plugin's hairpinMode: a pod reaching itself through a Service gets
    # its frames back out of the port they came in on (br_netfilter bridges the DNATed frame)
    sh("ip", "-n", net_node, "link", "set", f"veth-{name}", "type", "bridge_slave", "hairpin", "on")
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0")
    sh("ip", "-n", ns, "link", "set", "eth0", "up")
    sh("ip", "-n", ns, "route", "add", "default", "via", gateway)
    return ns


@pytest.fixture(scope="module")
def net() -> Iterator[Net]:
    suffix = uuid.uuid4().hex[:6]
    y, z = random.randint(200, 249), random.randrange(0, 250, 4)
    pods, svcs, out = f"10.{y}.{z}", f"10.{y}.{z + 1}", f"10.{y}.{z + 2}"
    node, outside = f"kl-node-{suffix}", f"kl-out-{suffix}"
    namespaces = [node]
    servers: list[subprocess.Popen[str]] = []
    try:
        sh("ip", "netns", "add", node)
        for key in ("net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1"):
            sh("ip", "netns", "exec", node, "sysctl", "-qw", key)
        sh("ip", "-n", node, "link", "set", "lo", "up")
        sh("ip", "-n", node, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", node, "addr", "add", f"{pods}.1/24", "dev", "br0")
        sh("ip", "-n", node, "link", "set", "br0", "up")
        sh("ip", "netns", "exec", node, "sysctl", "-qw", "net.ipv4.conf.br0.route_localnet=1")
        # The Service range is routed to a device with no ports (a dummy would do; this
        # kernel has none): not a blackhole, which fails the node's own connections (EINVAL,
        # before nat-output can DNAT) and drops pods' packets before filter-forward can
        # reject them; not the pod bridge, whose ICMP redirects use up the ICMP rate limit
        # the reject needs. Whatever DNAT leaves alone, cluster-ips-check drops.
        sh("ip", "-n", node, "link", "add", "kl-services", "type", "bridge")
        sh("ip", "-n", node, "link", "set", "kl-services", "up")
        sh("ip", "-n", node, "route", "add", f"{svcs}.0/24", "dev", "kl-services")
        names = {"a": f"{pods}.10", "b": f"{pods}.11", "c": f"{pods}.12"}
        netns = {}
        for name, ip in names.items():
            netns[name] = _pod(node, name, suffix, ip, f"{pods}.1")
            namespaces.append(netns[name])
        sh("ip", "netns", "add", outside)
        namespaces.append(outside)
        sh("ip", "-n", node, "link", "add", "veth-out", "type", "veth",
           "peer", "name", "eth0", "netns", outside)  # fmt: skip
        sh("ip", "-n", node, "addr", "add", f"{out}.1/24", "dev", "veth-out")
        sh("ip", "-n", node, "link", "set", "veth-out", "up")
        sh("ip", "-n", outside, "addr", "add", f"{out}.2/24", "dev", "eth0")
        sh("ip", "-n", outside, "link", "set", "eth0", "up")
        sh("ip", "-n", outside, "link", "set", "lo", "up")
        config = ProxyConfig(
            table=f"kubelite-{suffix}", pod_cidr=f"{pods}.0/24", service_cidr=f"{svcs}.0/24",
            nodeport_addresses=("127.0.0.1", f"{pods}.1"),
        )  # fmt: skip
        n = Net(node, netns, names, f"{pods}.1", f"{pods}.0/24", f"{svcs}.0/24", f"{svcs}.",
                outside, f"{out}.2", f"{out}.1", config)  # fmt: skip
        for name, ns in [*netns.items(), ("outside", outside)]:
            tcp = str(OUTSIDE_PORT if name == "outside" else TCP_PORT)
            proc = n.run(ns, sys.executable, "-c", SERVER, name, tcp, str(UDP_PORT))
            servers.append(proc)
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield n
    finally:
        for proc in servers:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        for ns in namespaces:
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


# ---------------------------------------------------------------------------- objects


def service(
    net: Net, name: str, n: int, *, port: int = 80, protocol: str = "TCP",
    node_port: int | None = None,
) -> ServiceView:  # fmt: skip
    spec_port: dict[str, Any] = {"name": "p", "port": port, "targetPort": "named",
                                 "protocol": protocol}  # fmt: skip
    if node_port:
        spec_port["nodePort"] = node_port
    spec = {"type": "NodePort" if node_port else "ClusterIP",
            "clusterIP": f"{net.service_base}{n}", "ports": [spec_port]}  # fmt: skip
    return ServiceView.of({"metadata": {"namespace": "e2e", "name": name}, "spec": spec})


def endpoints(
    net: Net, name: str, pods: Sequence[str], *, port: int = TCP_PORT, protocol: str = "TCP"
) -> EndpointSliceView:
    return EndpointSliceView.of({
        "metadata": {"namespace": "e2e", "name": f"{name}-x",
                     "labels": {"kubernetes.io/service-name": name}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [net.ips[p]], "conditions": {"ready": True}} for p in pods],
        "ports": [{"name": "p", "port": port, "protocol": protocol}],
    })  # fmt: skip


def answers(results: list[dict[str, Any]]) -> list[tuple[str, str]]:
    assert all("ok" in r for r in results), results
    pairs = [str(r["ok"]).split() for r in results]
    return [(name, peer) for name, peer in pairs]


# ---------------------------------------------------------------------------- tests


async def test_a_pod_reaches_a_cluster_ip_and_every_endpoint_answers_in_turn(net: Net) -> None:
    await net.apply([service(net, "web", 10)], [endpoints(net, "web", ["a", "b"])])
    got = answers(net.client(net.pods["c"], f"{net.service_base}10", 80, count=40))
    assert {name for name, _ in got} == {"a", "b"}
    # between pods on a bridge with br_netfilter, the client's own address is kept
    assert {peer for _, peer in got} == {net.ips["c"]}


async def test_a_pod_reaching_itself_through_its_service_is_masqueraded(net: Net) -> None:
    await net.apply([service(net, "self", 11)], [endpoints(net, "self", ["a"])])
    got = answers(net.client(net.pods["a"], f"{net.service_base}11", 80, count=3))
    assert got == [("a", net.gateway)] * 3


async def test_a_service_without_endpoints_refuses_at_once(net: Net) -> None:
    await net.apply([service(net, "empty", 12)], [endpoints(net, "empty", [])])
    for netns in (net.pods["c"], net.node):
        [result] = net.client(netns, f"{net.service_base}12", 80, timeout=5.0)
        assert result["err"] == "ConnectionRefusedError" and result["t"] < 1.0, result
    [udp] = net.client(net.pods["c"], f"{net.service_base}12", 80, "udp", timeout=5.0)
    assert "err" in udp and udp["t"] < 5.0  # UDP to a TCP-only port: cluster-ips-check


async def test_a_cluster_ip_refuses_a_port_it_does_not_serve(net: Net) -> None:
    await net.apply([service(net, "web", 10)], [endpoints(net, "web", ["a"])])
    [result] = net.client(net.pods["c"], f"{net.service_base}10", 81, timeout=5.0)
    assert result["err"] == "ConnectionRefusedError" and result["t"] < 1.0, result


async def test_the_node_itself_reaches_a_cluster_ip_and_is_masqueraded(net: Net) -> None:
    await net.apply([service(net, "web", 10)], [endpoints(net, "web", ["b"])])
    got = answers(net.client(net.node, f"{net.service_base}10", 80, count=2))
    assert got == [("b", net.gateway)] * 2


async def test_a_nodeport_answers_on_the_gateway_and_on_loopback(net: Net) -> None:
    svc = service(net, "np", 13, node_port=30080)
    await net.apply([svc], [endpoints(net, "np", ["a", "b"])])
    from_pod = answers(net.client(net.pods["c"], net.gateway, 30080, count=20))
    assert {name for name, _ in from_pod} == {"a", "b"}
    assert {peer for _, peer in from_pod} == {net.gateway}  # Cluster policy: masqueraded
    from_node = answers(net.client(net.node, "127.0.0.1", 30080, count=20))
    assert {name for name, _ in from_node} == {"a", "b"}
    assert {peer for _, peer in from_node} == {net.gateway}


async def test_a_nodeport_without_endpoints_refuses_at_once(net: Net) -> None:
    svc = service(net, "np", 13, node_port=30080)
    await net.apply([svc], [endpoints(net, "np", [])])
    for netns, host in ((net.pods["c"], net.gateway), (net.node, "127.0.0.1")):
        [result] = net.client(netns, host, 30080, timeout=5.0)
        assert result["err"] == "ConnectionRefusedError" and result["t"] < 1.0, result


async def test_a_udp_service_answers_from_every_endpoint(net: Net) -> None:
    svc = service(net, "dns", 14, port=53, protocol="UDP")
    await net.apply([svc], [endpoints(net, "dns", ["a", "b"], port=UDP_PORT, protocol="UDP")])
    got = answers(net.client(net.pods["c"], f"{net.service_base}14", 53, "udp", count=30))
    assert {name for name, _ in got} == {"a", "b"}


async def test_an_endpoint_swap_takes_effect_in_one_step(net: Net) -> None:
    svc = service(net, "swap", 15)
    await net.apply([svc], [endpoints(net, "swap", ["a"])])
    client = net.background_client(net.pods["c"], f"{net.service_base}15", 80, duration=2.0)
    await asyncio.sleep(0.8)
    await net.apply([svc], [endpoints(net, "swap", ["b"])])
    out, _ = client.communicate(timeout=30)
    got = answers([json.loads(line) for line in out.splitlines()])
    names = "".join(name for name, _ in got)
    # every connection was answered; first only by a, then only by b
    assert names.count("a") > 0 and names.count("b") > 0, names
    assert names == "a" * names.count("a") + "b" * names.count("b"), names


async def test_pod_egress_is_masqueraded_when_allowed_and_dropped_when_not(net: Net) -> None:
    await net.apply([], [], replace(net.config, pod_egress=True))
    got = answers(net.client(net.pods["c"], net.outside_ip, OUTSIDE_PORT))
    assert got == [("outside", net.outside_gateway)]
    await net.apply([], [], replace(net.config, pod_egress=False))
    [result] = net.client(net.pods["c"], net.outside_ip, OUTSIDE_PORT, timeout=0.5)
    assert result["err"] == "TimeoutError", result


async def test_without_br_netfilter_masquerade_all_keeps_pod_to_pod_services_working(
    net: Net,
) -> None:
    off = "net.bridge.bridge-nf-call-iptables=0"
    sh("ip", "netns", "exec", net.node, "sysctl", "-qw", off)
    try:
        config = replace(net.config, masquerade_all=True)
        await net.apply([service(net, "web", 10)], [endpoints(net, "web", ["a", "b"])], config)
        got = answers(net.client(net.pods["c"], f"{net.service_base}10", 80, count=10))
        assert {peer for _, peer in got} == {net.gateway}
    finally:
        sh("ip", "netns", "exec", net.node, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1")


async def test_client_ip_affinity_keeps_a_client_on_one_endpoint_across_a_sync(net: Net) -> None:
    raw = service(net, "sticky", 16).raw
    spec = {**raw["spec"], "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}}}  # fmt: skip
    svc = ServiceView.of({**raw, "spec": spec})
    slices = [endpoints(net, "sticky", ["a", "b"])]
    await net.apply([svc], slices)
    first = answers(net.client(net.pods["c"], f"{net.service_base}16", 80, count=10))
    assert len({name for name, _ in first}) == 1
    kept = await nft.set_elements("ip", net.config.table, "affinity-", netns=net.node)
    assert sum(len(v) for v in kept.values()) == 1
    await nft.apply(render([svc], slices, net.config, affinity=kept), netns=net.node)
    again = answers(net.client(net.pods["c"], f"{net.service_base}16", 80, count=10))
    assert {name for name, _ in again} == {name for name, _ in first}


# ---------------------------------------------------------------------------- the nft edge


async def test_nft_edge_reports_a_refused_script_with_nfts_message(net: Net) -> None:
    with pytest.raises(nft.NftError) as caught:
        await nft.apply("add rule ip no-such-table no-chain counter\n", netns=net.node)
    assert "No such file or directory" in caught.value.message
    assert caught.value.returncode == 1


async def test_nft_edge_deletes_a_table_whether_or_not_it_exists(net: Net) -> None:
    name = f"kl-scratch-{uuid.uuid4().hex[:6]}"
    assert not await nft.table_exists("ip", name, netns=net.node)
    await nft.delete_table("ip", name, netns=net.node)  # absent: fine
    await nft.apply(f"add table ip {name}\n", netns=net.node)
    assert await nft.table_exists("ip", name, netns=net.node)
    await nft.delete_table("ip", name, netns=net.node)
    assert not await nft.table_exists("ip", name, netns=net.node)
    assert await nft.set_elements("ip", name, netns=net.node) == {}


LIBRARY_PROGRAM = r"""
import asyncio, json, sys
from kubelite.network import nft
async def main():
    assert nft._library() is not None, "libnftables did not load"
    await nft.apply(sys.stdin.read())
    table = sys.argv[1]
    report = {"exists": await nft.table_exists("ip", table)}
    try:
        await nft.apply("add rule ip no-such-table no-chain counter\n")
    except nft.NftError as err:
        report["error"] = err.message
    report["sets"] = await nft.set_elements("ip", table, "affinity-")
    print(json.dumps(report))
asyncio.run(main())
"""


async def test_nft_edge_through_libnftables_carries_the_same_rules(net: Net) -> None:
    """With no netns argument (as in kubelite itself) scripts go through libnftables; run
    that path inside the node namespace and send traffic through what it applied."""
    script = render([service(net, "web", 10)], [endpoints(net, "web", ["b"])], net.config)
    proc = net.run(net.node, sys.executable, "-c", LIBRARY_PROGRAM, net.config.table,
                   stdin=subprocess.PIPE)  # fmt: skip
    out, _ = proc.communicate(script, timeout=60)
    assert proc.returncode == 0
    report = json.loads(out)
    assert report["exists"] is True and report["sets"] == {}
    assert "No such file or directory" in report["error"]
    got = answers(net.client(net.pods["c"], f"{net.service_base}10", 80))
    assert got == [("b", net.ips["c"])]
