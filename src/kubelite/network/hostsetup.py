"""The node's side of the pod network: the bridge the pods' veths join, with the node's
address on it (the pods' gateway), the switches that let packets from pods be routed
(Services, NodePorts, hostPorts on 127.0.0.1), and a black hole for the Service range, so
that a packet to a Service IP that no rule translated never leaves the machine.

The black hole is a route of the Service range to a bridge with no ports (``service_sink``),
not a ``blackhole`` route: with that, the node's own connect() to a ClusterIP fails in the
route lookup before the nat-output hook can translate it, and a pod's packet to a Service with
no endpoints is dropped by routing before the proxy's filter rules can reject it.

Only objects kubelite names after its data directory are touched, and only on the bridge's
own interface: forwarding is switched on for the bridge, not for the whole host, unless pods
may reach the outside (``pod_egress``), which needs the uplink to forward replies back (as
kind and Docker do). ``teardown`` removes it all once no pod uses it, and the routes to other
nodes' pods (``routes``) with it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from kubelite.errors import KubeliteError
from kubelite.network.cniconfig import dumps, network_config_list
from kubelite.network.layout import NETWORK_NAME, ROUTE_PROTOCOL, NetworkLayout
from kubelite.network.routes import remove_routes

log = logging.getLogger(__name__)

PROC_IPV4 = Path("/proc/sys/net/ipv4")
BRIDGE_NF = Path("/proc/sys/net/bridge/bridge-nf-call-iptables")


class HostSetupError(KubeliteError):
    """The node network could not be made (the message says which step and why)."""


@dataclass(frozen=True, slots=True)
class HostFacts:
    # Bridged traffic passes the IP hooks (br_netfilter): replies between pods on the bridge
    # are un-NATed. Without it the proxy must masquerade all Service traffic.
    bridge_netfilter: bool


async def _ip(*args: str, check: bool = True) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        "ip", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    code = proc.returncode or 0
    if check and code != 0:
        text = err.decode(errors="replace").strip()
        raise HostSetupError(f"ip {' '.join(args)}: {text}")
    return code, out.decode(errors="replace")


def _write(path: Path, value: str) -> None:
    try:
        if path.read_text().strip() == value:
            return
        path.write_text(value)
    except OSError as err:
        raise HostSetupError(f"cannot set {path} to {value}: {err}") from err


def link_exists(name: str) -> bool:
    """Whether this process's network namespace has the link: asked of the kernel through a
    socket, not /sys/class/net, which shows the namespace sysfs was mounted in (the host's,
    for an agent that entered a namespace of its own with ``nsenter --net``)."""
    try:
        socket.if_nametoindex(name)
    except OSError:
        return False
    return True


def bridge_exists(layout: NetworkLayout) -> bool:
    return link_exists(layout.bridge)


async def ensure(layout: NetworkLayout) -> HostFacts:
    """Make the node network if it is missing (idempotent; cheap when all is in place)."""
    name = layout.bridge
    gateway = f"{layout.gateway}/{layout.node_subnet.prefixlen}"
    await _check_route(layout)
    if not bridge_exists(layout):
        await _ip("link", "add", "name", name, "type", "bridge")
    _, addrs = await _ip("-o", "-4", "addr", "show", "dev", name)
    for line in addrs.splitlines():  # an earlier pod range of this node's (its Node changed)
        words = line.split()
        old = words[words.index("inet") + 1] if "inet" in words else gateway
        if old != gateway:
            await _ip("addr", "del", old, "dev", name, check=False)
    if f" {gateway} " not in addrs:
        await _ip("addr", "replace", gateway, "dev", name)
    await _ip("link", "set", name, "up")
    conf = PROC_IPV4 / "conf" / name
    _write(conf / "forwarding", "1")  # packets from pods are routed through the node
    _write(conf / "route_localnet", "1")  # 127.0.0.1 NodePorts/hostPorts DNAT to pods
    if layout.pod_egress:
        _write(PROC_IPV4 / "ip_forward", "1")  # replies from the uplink to pods
    if not link_exists(layout.service_sink):
        await _ip("link", "add", "name", layout.service_sink, "type", "bridge")
    await _ip("link", "set", layout.service_sink, "up")
    await _ip("route", "replace", str(layout.service_cidr), "dev", layout.service_sink)
    _write_conflist(layout)
    return HostFacts(bridge_netfilter=_bridge_netfilter())


async def _check_route(layout: NetworkLayout) -> None:
    """The node's pod range must not be routed elsewhere. A route kubelite made to another
    node that held this range before (left by a kill) is stale, and goes."""
    _, routes = await _ip("-o", "route", "show", "exact", str(layout.node_subnet))
    for line in routes.splitlines():
        dev = line.split(" dev ", 1)[1].split()[0] if " dev " in line else ""
        if f" proto {ROUTE_PROTOCOL} " in f"{line} ":
            await _ip("route", "del", str(layout.node_subnet), "proto", str(ROUTE_PROTOCOL),
                      check=False)  # fmt: skip
        elif dev and dev != layout.bridge:
            raise HostSetupError(
                f"the pod subnet {layout.node_subnet} is already routed to {dev} (another "
                f"kubelite or network on this machine?); choose another --pod-cidr"
            )


def _bridge_netfilter() -> bool:
    try:
        return BRIDGE_NF.read_text().strip() == "1"
    except OSError:
        return False


def _write_conflist(layout: NetworkLayout) -> None:
    """The list kubelite uses, where CNI tools look for it (for people and tools to read)."""
    layout.cni_conf_dir.mkdir(parents=True, exist_ok=True)
    path = layout.cni_conf_dir / f"10-{NETWORK_NAME}.conflist"
    data = dumps(network_config_list(layout))
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


async def teardown(layout: NetworkLayout) -> None:
    """Remove the bridge, the Service range's black hole, the routes to other nodes and the
    CNI state. Only when no pod is attached: a pod's veth would go with the bridge."""
    if link_exists(layout.service_sink):  # its route goes with it
        await _ip("link", "del", layout.service_sink, check=False)
    code, _ = await _run("nft", "list", "table", "ip", layout.nft_table)
    if code == 0:  # the Service proxy's rules, if it did not remove them itself
        await _run("nft", "delete", "table", "ip", layout.nft_table)
    if bridge_exists(layout):
        await _ip("link", "del", layout.bridge, check=False)
    await remove_routes(layout)  # to other nodes' pods, and the forwarding they needed
    shutil.rmtree(layout.state_dir, ignore_errors=True)
    for tool, family in (("iptables", "ip"), ("ip6tables", "ip6")):
        await _remove_portmap_scaffolding(tool, family)


async def _run(*argv: str) -> tuple[int, str]:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
    except FileNotFoundError:
        return 127, ""
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode(errors="replace")


PORTMAP_CHAINS = ("CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ")


async def _remove_portmap_scaffolding(tool: str, family: str) -> None:
    """The portmap plugin leaves its shared chains (and the jumps to them) in the ``nat``
    table after the last DEL; it re-creates them on its next ADD. Once no hostPort is left
    (its DNAT chain is empty), take them away, and the ``nat`` table too if nothing else is
    in it, so that a stopped kubelite leaves no rule behind."""
    code, listing = await _run("nft", "list", "table", family, "nat")
    if code != 0:
        return  # no table (asking iptables first would create it)
    if "CNI-HOSTPORT-DNAT" not in listing:
        if "chain " not in listing:  # an empty table the plugin's iptables library made
            await _run("nft", "delete", "table", family, "nat")
        return
    code, rules = await _run(tool, "-w", "-t", "nat", "-S")
    if code != 0 or "-N CNI-HOSTPORT-DNAT" not in rules:
        return
    if any(line.startswith("-A CNI-HOSTPORT-DNAT ") for line in rules.splitlines()):
        return  # someone still publishes a hostPort
    for line in rules.splitlines():
        parts = line.split()
        if line.startswith("-A ") and parts[1] not in PORTMAP_CHAINS and "CNI-HOSTPORT-" in line:
            await _run(tool, "-w", "-t", "nat", "-D", *_unquote(parts[1:]))
    for chain in PORTMAP_CHAINS:
        await _run(tool, "-w", "-t", "nat", "-F", chain)
    for chain in PORTMAP_CHAINS:
        await _run(tool, "-w", "-t", "nat", "-X", chain)
    code, listing = await _run("nft", "-a", "list", "table", family, "nat")
    if code == 0 and not _has_rules(listing):
        await _run("nft", "delete", "table", family, "nat")


def _has_rules(listing: str) -> bool:
    """Whether an ``nft -a list table`` output holds any rule (not just chains)."""
    for line in listing.splitlines():
        text = line.strip()
        if "# handle " in text and not text.startswith(("table ", "chain ")):
            return True
    return False


def _unquote(parts: list[str]) -> list[str]:
    """``iptables -S`` prints comments quoted; give them back as one argument each."""
    out: list[str] = []
    quoted: list[str] | None = None
    for p in parts:
        if quoted is not None:
            quoted.append(p)
            if p.endswith('"'):
                out.append(" ".join(quoted)[1:-1])
                quoted = None
        elif p.startswith('"') and not (p.endswith('"') and len(p) > 1):
            quoted = [p]
        else:
            out.append(p.strip('"'))
    return out
