"""The cluster's DNS records: one immutable index (``ClusterRecords``) of the names the cluster's
Services and EndpointSlices give, built in one pass whenever they change. It exists apart from
the answering of queries (``dnsanswer``) so that the build, which runs on every update, and the
per-query lookups each read as one concept. Pure: no I/O.

kubeadm, and so kind, configures CoreDNS with::

    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    forward . /etc/resolv.conf { max_concurrent 1000 }
    cache 30 { disable success cluster.local; disable denial cluster.local }
    loadbalance

so every record here carries kind's TTL of 30 s (``DEFAULT_TTL``; CoreDNS's own default would be
5 s). Names: ``<svc>.<ns>.svc``, ``<endpoint>.<svc>.<ns>.svc`` (its hostname, else its address
with dashes), ``_<port>._<proto>.<svc>.<ns>.svc`` (SRV), ``<a-b-c-d>.<ns>.pod`` (``pods
insecure``), ``dns-version`` (TXT), ``ns.dns`` and the apex's SOA and NS.

Reverse zones: kubelite serves the reverse zones of its own Service and pod ranges, cut at octet
(IPv4) or nibble (IPv6) boundaries as CoreDNS cuts a zone given as a CIDR (``reverse_zones``).
Each ready endpoint's address and each ClusterIP maps to the names a PTR query for it gives;
``address_from_reverse`` reads a reverse name back to its address.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from dnslib import AAAA, QTYPE, A

from kubelite.model.service import EndpointSliceView, ServiceType, ServiceView

DEFAULT_TTL = 30  # kind/kubeadm's "ttl 30"
DNS_SERVICE = ("kube-system", "kube-dns")  # the Service whose addresses NS answers give

SVC, POD = "svc", "pod"
NS_DNS = ("ns", "dns")  # the name server's own name below the zone
_REVERSE_SUFFIXES: dict[tuple[str, ...], int] = {("in-addr", "arpa"): 4, ("ip6", "arpa"): 6}


class Kind(enum.Enum):
    CLUSTER_IP = "ClusterIP"
    HEADLESS = "Headless"
    EXTERNAL = "ExternalName"


@dataclass(frozen=True, slots=True)
class Zone:
    labels: tuple[str, ...]  # lower case, no root label
    reverse: bool


@dataclass(frozen=True, slots=True)
class Port:
    name: str  # lower case; "" for an unnamed port
    protocol: str  # lower case
    port: int  # -1: the object declares no port (no SRV record)


NO_PORT = Port("", "", -1)


class Hit(NamedTuple):
    """One thing a name resolves to (CoreDNS's msg.Service): an address, or a CNAME target.
    A NamedTuple rather than a frozen dataclass: a build makes one per address and port."""

    rtype: int  # QTYPE.A, QTYPE.AAAA or QTYPE.CNAME
    host: str  # the address, or the CNAME target's text
    rdata: Any  # the A/AAAA rdata; None for a CNAME
    port: int  # for SRV; -1 for none
    owner: tuple[str, ...]  # the hit's own name below the zone (an SRV target)
    target: tuple[bytes, ...] = ()  # a CNAME's target, as wire labels
    target_lower: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Service:
    namespace: str
    name: str
    kind: Kind
    ports: tuple[Port, ...]
    ip_hits: tuple[tuple[Port, Hit], ...]  # ClusterIP: one per port and cluster IP
    endpoint_hits: tuple[tuple[Port, str, Hit], ...]  # per ready address and port; str: hostname
    bare_endpoint_hits: tuple[Hit, ...]
    external: Hit | None  # ExternalName: its CNAME


@functools.lru_cache(maxsize=1 << 16)  # the same addresses come back on every update
def parse_ip(text: str) -> tuple[int, str, Any] | None:
    """(record type, canonical text, rdata) of an address, as Go's net.ParseIP reads it. The
    rdata is shared: never mutate it."""
    if "%" in text:
        return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return QTYPE.A, str(ip), A(tuple(ip.packed))
    return QTYPE.AAAA, str(ip), AAAA(tuple(ip.packed))


def endpoint_hostname(hostname: str, ip: str) -> str:
    """An endpoint's own label: its hostname, else its address with dashes (CoreDNS's rule)."""
    if hostname:
        return hostname
    if "." in ip:
        return ip.replace(".", "-")
    dashed = ip.replace(":", "-")
    return dashed + "0" if dashed.endswith("-") else dashed


_Address = tuple[int, str, Any, str]  # record type, address, rdata, endpoint hostname


def wire_labels(labels: Iterable[str]) -> tuple[bytes, ...]:
    """A name's labels as they go on the wire (case kept)."""
    return tuple(part.encode() for part in labels)


def reverse_zones(cidr: str) -> list[tuple[str, ...]]:
    """The reverse zones covering a CIDR, each on an octet (nibble) boundary."""
    net = ipaddress.ip_network(cidr, strict=False)
    step = 8 if net.version == 4 else 4
    prefix = max(step, -(-net.prefixlen // step) * step)
    zones = []
    for sub in net.subnets(new_prefix=prefix):
        labels = sub.network_address.reverse_pointer.split(".")
        zones.append(tuple(labels[len(labels) - 2 - prefix // step :]))
    return zones


def address_from_reverse(labels: tuple[str, ...]) -> str | None:
    """The address a full reverse name stands for (canonical text), else None."""
    family = _REVERSE_SUFFIXES.get(labels[-2:])
    if family == 4 and len(labels) == 6:
        text = ".".join(reversed(labels[:4]))
    elif family == 6 and len(labels) == 34 and all(len(n) == 1 for n in labels[:32]):
        nibbles = "".join(reversed(labels[:32]))
        text = ":".join(nibbles[i : i + 4] for i in range(0, 32, 4))
    else:
        return None
    parsed = parse_ip(text)
    return parsed[1] if parsed and (parsed[0] == QTYPE.A) == (family == 4) else None


def _service(view: ServiceView, sets: Sequence[tuple[tuple[Port, ...], list[_Address]]]) -> Service:
    ns, name = view.namespace.lower(), view.name.lower()
    owner = (name, ns, SVC)
    ports = tuple(Port(p.name.lower(), p.protocol.lower(), p.port or -1) for p in view.ports)
    ports = ports or (NO_PORT,)
    if view.type is ServiceType.EXTERNAL_NAME:
        target = view.external_name.rstrip(".")
        external = None
        if target and parse_ip(target) is None:
            labels = tuple(target.split("."))
            low = tuple(part.lower() for part in labels)
            external = Hit(QTYPE.CNAME, target, None, 0, owner, wire_labels(labels), low)
        return Service(ns, name, Kind.EXTERNAL, ports, (), (), (), external)
    ips = [parsed for parsed in map(parse_ip, view.cluster_ips) if parsed]
    ip_hits = tuple((p, Hit(rt, text, rd, p.port, owner)) for p in ports for rt, text, rd in ips)
    endpoint_hits = tuple(
        (p, label.lower(), Hit(rt, text, rd, p.port, (label, name, ns, SVC)))
        for set_ports, addresses in sets
        for rt, text, rd, label in addresses
        for p in set_ports
    )
    kind = Kind.HEADLESS if view.headless else Kind.CLUSTER_IP
    bare = tuple(hit for _, _, hit in endpoint_hits)
    return Service(ns, name, kind, ports, ip_hits, endpoint_hits, bare, None)


@dataclass(frozen=True, slots=True)
class ClusterRecords:
    """An immutable index of the cluster's names, built in one pass over Services and slices."""

    domain: str  # lower case, no trailing dot
    ttl: int
    serial: int  # the SOA serial: when the records last changed (Unix seconds)
    synced: bool  # False until the first list: a name error then answers SERVFAIL
    zones: Mapping[tuple[str, ...], Zone]
    zone_sizes: tuple[int, ...]  # label counts of the zones, longest first
    services: Mapping[tuple[str, str], Service]
    namespaces: frozenset[str]
    reverse: Mapping[str, tuple[tuple[bytes, ...], ...]]  # canonical address -> PTR targets
    nameservers: tuple[Hit, ...]  # addresses of the zone's name server

    @classmethod
    def build(
        cls,
        services: Sequence[ServiceView],
        slices: Sequence[EndpointSliceView],
        *,
        domain: str = "cluster.local",
        reverse_cidrs: Sequence[str] = (),
        namespaces: Iterable[str] | None = None,
        local_ips: Sequence[str] = (),
        ttl: int = DEFAULT_TTL,
        serial: int = 0,
        synced: bool = True,
    ) -> ClusterRecords:
        """``namespaces``: those that exist (a name in any other is NXDOMAIN, as CoreDNS, which
        watches Namespaces, answers); None takes the namespaces of the objects given.
        ``local_ips``: the server's own addresses, the name server when there is no kube-dns
        Service."""
        domain = domain.strip(".").lower()
        dom = tuple(domain.split("."))
        by_key = {(s.namespace.lower(), s.name.lower()): s for s in services}
        sets: dict[tuple[str, str], list[tuple[tuple[Port, ...], list[_Address]]]] = {}
        by_endpoint: dict[str, list[tuple[bytes, ...]]] = {}
        for sl in slices:
            if not sl.service or sl.address_type not in ("IPv4", "IPv6"):
                continue
            key = (sl.namespace.lower(), sl.service.lower())
            view = by_key.get(key)
            publish = view.publish_not_ready if view else False
            ports = tuple(Port(p.name.lower(), p.protocol.lower(), p.port or -1) for p in sl.ports)
            addresses: list[_Address] = []
            suffix = wire_labels((key[1], key[0], SVC, *dom))
            for ep in sl.endpoints:
                if not (ep.ready or publish):
                    continue
                for address in ep.addresses:
                    parsed = parse_ip(address)
                    if parsed is None:
                        continue
                    label = endpoint_hostname(ep.hostname, address)
                    addresses.append((*parsed, label))
                    target = (label.lower().encode(), *suffix)
                    by_endpoint.setdefault(parsed[1], []).append(target)
            sets.setdefault(key, []).append((ports or (NO_PORT,), addresses))
        index = {key: _service(view, sets.get(key, ())) for key, view in by_key.items()}
        reverse = {ip: tuple(dict.fromkeys(labels)) for ip, labels in by_endpoint.items()}
        claimed: set[str] = set()
        for svc in index.values():  # a ClusterIP names its Service alone; the first one wins
            for _, hit in svc.ip_hits:
                if hit.host not in claimed:
                    claimed.add(hit.host)
                    reverse[hit.host] = (wire_labels((svc.name, svc.namespace, SVC, *dom)),)
        zones = {dom: Zone(dom, False)}
        for cidr in reverse_cidrs:
            zones.update((z, Zone(z, True)) for z in reverse_zones(cidr))
        if namespaces is None:
            namespaces = {k[0] for k in by_key} | {s.namespace.lower() for s in slices}
        return cls(
            domain=domain,
            ttl=ttl,
            serial=serial & 0xFFFFFFFF,
            synced=synced,
            zones=zones,
            zone_sizes=tuple(sorted({len(z) for z in zones}, reverse=True)),
            services=index,
            namespaces=frozenset(n.lower() for n in namespaces),
            reverse=reverse,
            nameservers=_nameservers(index.get(DNS_SERVICE), local_ips),
        )

    def zone_for(self, labels: tuple[str, ...]) -> Zone | None:
        """The longest zone served here that holds the name (lower-case labels)."""
        for size in self.zone_sizes:
            if size <= len(labels):
                zone = self.zones.get(labels[len(labels) - size :])
                if zone is not None:
                    return zone
        return None


def _nameservers(dns_service: Service | None, local_ips: Sequence[str]) -> tuple[Hit, ...]:
    """The name server's addresses: kube-dns's cluster IPs, else the server's own addresses."""
    if dns_service is not None and dns_service.ip_hits:
        owner = (dns_service.name, dns_service.namespace, SVC)
        unique = {hit.host: hit for _, hit in dns_service.ip_hits}
        return tuple(Hit(h.rtype, h.host, h.rdata, -1, owner) for h in unique.values())
    parsed = [p for p in map(parse_ip, local_ips) if p]
    return tuple(Hit(rt, host, rd, -1, NS_DNS) for rt, host, rd in parsed)
