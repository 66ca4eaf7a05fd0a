"""A pod's DNS settings (its ``/etc/resolv.conf``), worked out as the kubelet does from
``dnsPolicy``, ``dnsConfig``, the cluster DNS it was given and the node's own resolv.conf.
Pure: the node's file is read by the caller and handed in parsed.

Policies (kubelet's ``GetPodDNS``):
* ``ClusterFirst`` (the default): the cluster DNS server only, the search path
  ``<ns>.svc.<domain> svc.<domain> <domain>`` followed by the node's, and ``ndots:5``. A
  host-network pod falls back to ``Default``, and so does any pod when the node has no cluster
  DNS (with a ``MissingClusterDNS`` warning).
* ``ClusterFirstWithHostNet``: as ClusterFirst, host network or not.
* ``Default``: the node's resolver settings.
* ``None``: nothing but the pod's ``dnsConfig``.
``dnsConfig`` is then merged in (its nameservers and searches appended, options by name), and
the result is cut to the resolver's limits (3 nameservers, 32 search domains, 2048 characters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.runtime.interface import DNSConfig

MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
MAX_SEARCH_CHARS = 2048
CLUSTER_OPTIONS = ("ndots:5",)


@dataclass(frozen=True, slots=True)
class ClusterDNS:
    """The kubelet's ``--cluster-dns`` and ``--cluster-domain``; no servers: none is known."""

    servers: tuple[str, ...] = ()
    domain: str = "cluster.local"


@dataclass(frozen=True, slots=True)
class PodDNS:
    config: DNSConfig
    warnings: tuple[tuple[str, str], ...] = ()  # (event reason, message) for the pod


def parse_resolv_conf(text: str) -> DNSConfig:
    """nameserver, search/domain and options lines of a resolv.conf (the last search or domain
    line wins, as in the resolver)."""
    servers: list[str] = []
    searches: list[str] = []
    options: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        fields = line.split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            servers.append(fields[1])
        elif fields[0] in ("search", "domain"):
            searches = fields[1:]
        elif fields[0] == "options":
            options.extend(fields[1:])
    return DNSConfig(tuple(servers), tuple(searches), tuple(options))


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def _merge_options(base: Sequence[str], extra: Sequence[str]) -> tuple[str, ...]:
    """Options by name, a later one replacing an earlier one of the same name."""
    by_name: dict[str, str] = {}
    for opt in [*base, *extra]:
        by_name[opt.split(":", 1)[0]] = opt
    return tuple(by_name.values())


def _pod_options(dns_config: Mapping[str, Any]) -> list[str]:
    out = []
    for o in dns_config.get("options") or ():
        name = str(o.get("name") or "")
        value = o.get("value")
        out.append(f"{name}:{value}" if value is not None and value != "" else name)
    return out


def _policy_base(
    policy: str, host_network: bool, namespace: str, cluster: ClusterDNS, host: DNSConfig
) -> PodDNS:
    cluster_first = policy == "ClusterFirstWithHostNet" or (
        policy == "ClusterFirst" and not host_network
    )
    if policy == "None":
        return PodDNS(DNSConfig())
    if cluster_first and cluster.servers:
        d = cluster.domain
        searches = _unique([f"{namespace}.svc.{d}", f"svc.{d}", d, *host.searches])
        return PodDNS(DNSConfig(cluster.servers, searches, CLUSTER_OPTIONS))
    warnings: tuple[tuple[str, str], ...] = ()
    if cluster_first:
        warnings = (
            (
                "MissingClusterDNS",
                "kubelet does not have ClusterDNS IP configured and cannot create Pod using "
                f'"{policy}" policy. Falling back to "Default" policy.',
            ),
        )
    return PodDNS(host, warnings)


def _fit(config: DNSConfig) -> PodDNS:
    warnings = []
    servers = config.nameservers
    if len(servers) > MAX_NAMESERVERS:
        servers = servers[:MAX_NAMESERVERS]
        warnings.append(
            (
                "DNSConfigForming",
                "Nameserver limits were exceeded, some nameservers have been omitted, the "
                f"applied nameserver line is: {' '.join(servers)}",
            )
        )
    searches = config.searches
    if len(searches) > MAX_SEARCHES or len(" ".join(searches)) > MAX_SEARCH_CHARS:
        kept: list[str] = []
        for s in searches[:MAX_SEARCHES]:
            if len(" ".join([*kept, s])) > MAX_SEARCH_CHARS:
                break
            kept.append(s)
        searches = tuple(kept)
        warnings.append(
            (
                "DNSConfigForming",
                "Search Line limits were exceeded, some search paths have been omitted, the "
                f"applied search line is: {' '.join(searches)}",
            )
        )
    return PodDNS(DNSConfig(servers, searches, config.options), tuple(warnings))


def pod_dns(
    spec: Mapping[str, Any], namespace: str, cluster: ClusterDNS, host: DNSConfig
) -> PodDNS:
    """The pod's resolver settings and the warnings the kubelet would post about them."""
    policy = str(spec.get("dnsPolicy") or "ClusterFirst")
    base = _policy_base(policy, bool(spec.get("hostNetwork")), namespace, cluster, host)
    config = base.config
    extra = spec.get("dnsConfig")
    if extra:
        config = DNSConfig(
            _unique([*config.nameservers, *(str(s) for s in extra.get("nameservers") or ())]),
            _unique([*config.searches, *(str(s) for s in extra.get("searches") or ())]),
            _merge_options(config.options, _pod_options(extra)),
        )
    fitted = _fit(config)
    return PodDNS(fitted.config, base.warnings + fitted.warnings)
