"""The node's network, worked out from Settings: address ranges, well-known addresses and the
names of the kernel objects kubelite makes. Pure.

Every kernel object (bridge, nftables table, routes) is named after a digest of the data
directory, as the pod cgroups are, so several kubelites on one machine (the tests run many)
never touch each other's, and a sweep finds exactly its own.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from kubelite.errors import KubeliteError
from kubelite.settings import Settings

CNI_BIN_DIRS = (Path("/usr/lib/cni"), Path("/opt/cni/bin"))  # Debian's, then upstream's
NODE_PORT_RANGE = (30000, 32767)  # inclusive, the API server's default
NODE_SUBNET_PREFIX = 24  # each node takes a /24 of the pod range, as kind's nodes do
# The protocol number of the routes to other nodes' pod ranges (``ip route ... proto 75``),
# which tells kubelite's routes from everyone else's in a listing.
ROUTE_PROTOCOL = 75
API_SERVICE_INDEX = 1  # default/kubernetes: the first address of the Service range
DNS_SERVICE_INDEX = 10  # kube-system/kube-dns, as kubeadm and kind place it
NETWORK_NAME = "kubelite"  # the CNI network name (results are cached under it)
POD_IFNAME = "eth0"


class LayoutError(KubeliteError, ValueError):
    """The configured ranges cannot make a network (too small, overlapping, not IPv4)."""


def data_dir_digest(data_dir: Path) -> str:
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()


def _v4(text: str, what: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as err:
        raise LayoutError(f"{what} {text!r}: {err}") from err
    if not isinstance(net, ipaddress.IPv4Network):
        raise LayoutError(f"{what} {text!r}: only IPv4 ranges are supported")
    return net


def _node_subnet(text: str, pods: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    try:
        node = ipaddress.ip_network(text, strict=False)
    except ValueError as err:
        raise LayoutError(f"the node's pod CIDR {text!r}: {err}") from err
    if not isinstance(node, ipaddress.IPv4Network):
        raise LayoutError(f"the node's pod CIDR {text!r}: only IPv4 ranges are supported")
    if not node.subnet_of(pods):
        raise LayoutError(
            f"the node's pod CIDR {node} is not inside the cluster's pod CIDR {pods}: give "
            f"this agent the cluster's --pod-cidr"
        )
    if node.prefixlen > 30:
        raise LayoutError(f"the node's pod CIDR {node} is too small (at most /30)")
    return node


@dataclass(frozen=True, slots=True)
class NetworkLayout:
    pod_cidr: ipaddress.IPv4Network  # every pod of the cluster
    node_subnet: ipaddress.IPv4Network  # this node's pods (its Node's spec.podCIDR)
    gateway: ipaddress.IPv4Address  # the node's own address on the pod network (the bridge)
    service_cidr: ipaddress.IPv4Network
    api_service_ip: ipaddress.IPv4Address
    dns_service_ip: ipaddress.IPv4Address
    cluster_domain: str
    pod_egress: bool
    bridge: str  # the Linux bridge the pods' veths join (at most 15 characters)
    service_sink: str  # a port-less device the Service range is routed to (a black hole)
    nft_table: str  # kubelite's own nftables table (family ip)
    state_dir: Path  # CNI config, result cache, IPAM leases

    @classmethod
    def from_settings(cls, settings: Settings, node_subnet: str | None = None) -> NetworkLayout:
        """The layout of this node; ``node_subnet`` is its Node's ``spec.podCIDR``, which must
        lie in the cluster's range. Without it (no API: ``kubelite run``, or nothing known
        yet) the node takes the first /24 of the range, or the whole range if smaller."""
        pods = _v4(settings.pod_cidr, "pod CIDR")
        services = _v4(settings.service_cidr, "service CIDR")
        if pods.overlaps(services):
            raise LayoutError(
                f"pod CIDR {pods} and service CIDR {services} overlap; they must be disjoint"
            )
        if pods.prefixlen > 30:
            raise LayoutError(f"pod CIDR {pods} is too small (at most /30)")
        if services.num_addresses < 16:
            raise LayoutError(f"service CIDR {services} is too small (at least /28)")
        node = next(pods.subnets(new_prefix=max(pods.prefixlen, NODE_SUBNET_PREFIX)))
        if node_subnet is not None:
            node = _node_subnet(node_subnet, pods)
        digest = data_dir_digest(settings.data_dir)
        return cls(
            pod_cidr=pods,
            node_subnet=node,
            gateway=node.network_address + 1,
            service_cidr=services,
            api_service_ip=services.network_address + API_SERVICE_INDEX,
            dns_service_ip=services.network_address + DNS_SERVICE_INDEX,
            cluster_domain=settings.cluster_domain.strip(".") or "cluster.local",
            pod_egress=settings.pod_egress,
            bridge="kl" + digest[:10],
            service_sink="ks" + digest[:10],
            nft_table="kubelite-" + digest[:12],
            state_dir=settings.network_dir,
        )

    @property
    def cni_conf_dir(self) -> Path:
        return self.state_dir / "net.d"

    @property
    def cni_cache_dir(self) -> Path:
        """Each attachment's ADD result, by sandbox (what DEL is given back)."""
        return self.state_dir / "cache"

    @property
    def ipam_dir(self) -> Path:
        """host-local's leases: one file per address in use."""
        return self.state_dir / "ipam"
