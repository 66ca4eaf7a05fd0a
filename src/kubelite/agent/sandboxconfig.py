"""From a pod to the runtime's SandboxConfig (the kubelet's ``generatePodSandboxConfig``):
hostname and FQDN, host networking, host PID and IPC namespaces, hostPorts, host aliases, DNS,
the pod cgroup's memory and CPU limits (RES-3, ``podlimits``) and the node's pids limit. Pure:
the node's resolv.conf is read by the caller and handed in parsed. The only place a
SandboxConfig is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelite.agent.dnsconfig import ClusterDNS, PodDNS, pod_dns
from kubelite.agent.labels import sandbox_labels
from kubelite.agent.podlimits import pod_cgroup_limits
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import DNSConfig, HostAlias, PortMapping, SandboxConfig

MAX_HOSTNAME = 63  # a DNS label


@dataclass(frozen=True, slots=True)
class SandboxPlan:
    config: SandboxConfig
    warnings: tuple[tuple[str, str], ...] = ()  # (event reason, message) to post on the pod


class HostnameError(ValueError):
    """``setHostnameAsFQDN`` with an FQDN longer than a hostname may be."""


def hostname_and_domain(pod: PodSpec, cluster_domain: str) -> tuple[str, str]:
    """The kubelet's ``GeneratePodHostNameAndDomain``: ``spec.hostname`` or the pod name cut to
    63 characters (without a trailing ``-`` or ``.``), and with ``spec.subdomain`` the domain
    ``<subdomain>.<ns>.svc.<cluster domain>``."""
    spec = pod.raw.get("spec") or {}
    hostname = str(spec.get("hostname") or "")
    if not hostname:
        hostname = pod.name[:MAX_HOSTNAME].rstrip("-.")
    subdomain = str(spec.get("subdomain") or "")
    domain = f"{subdomain}.{pod.namespace}.svc.{cluster_domain}" if subdomain else ""
    return hostname, domain


def port_mappings(pod: PodSpec) -> tuple[PortMapping, ...]:
    """Every app container port with a hostPort (host networking publishes nothing)."""
    if pod.host_network:
        return ()
    out = []
    for c in pod.containers:
        for p in c.raw.get("ports") or ():
            if p.get("hostPort"):
                out.append(
                    PortMapping(
                        host_port=int(p["hostPort"]),
                        container_port=int(p.get("containerPort") or 0),
                        protocol=str(p.get("protocol") or "TCP"),
                        host_ip=str(p.get("hostIP") or ""),
                    )
                )
    return tuple(out)


def host_aliases(pod: PodSpec) -> tuple[HostAlias, ...]:
    spec = pod.raw.get("spec") or {}
    return tuple(
        HostAlias(ip=str(a.get("ip") or ""), hostnames=tuple(map(str, a.get("hostnames") or ())))
        for a in spec.get("hostAliases") or ()
    )


def build_sandbox_config(
    pod: PodSpec,
    attempt: int,
    *,
    node_name: str,
    cluster_dns: ClusterDNS,
    host_dns: DNSConfig,
    pids_limit: int | None = None,
) -> SandboxPlan:
    """``pids_limit``: the node's --pod-max-pids (NodePolicy)."""
    limits = pod_cgroup_limits(pod)
    spec = pod.raw.get("spec") or {}
    dns: PodDNS = pod_dns(spec, pod.namespace, cluster_dns, host_dns)
    hostname, domain = hostname_and_domain(pod, cluster_dns.domain)
    fqdn = f"{hostname}.{domain}" if domain else ""
    if pod.host_network:
        hostname, fqdn = node_name, ""  # the node's UTS namespace: its own name
    elif spec.get("setHostnameAsFQDN") and fqdn:
        if len(fqdn) > 64:
            raise HostnameError(
                f"failed to construct FQDN from pod hostname and cluster domain, FQDN {fqdn} "
                "is too long (64 characters is the max, "
                f"{len(fqdn)} characters requested)"
            )
        hostname = fqdn
    config = SandboxConfig(
        pod_uid=pod.uid,
        pod_name=pod.name,
        namespace=pod.namespace,
        attempt=attempt,
        hostname=hostname,
        fqdn=fqdn,
        share_process_namespace=bool(spec.get("shareProcessNamespace")),
        host_network=pod.host_network,
        host_pid=bool(spec.get("hostPID")),
        host_ipc=bool(spec.get("hostIPC")),
        port_mappings=port_mappings(pod),
        dns=dns.config,
        host_aliases=host_aliases(pod),
        memory_limit=limits.memory_limit,
        cpu_quota=limits.cpu_quota,
        cpu_period=limits.cpu_period,
        pids_limit=pids_limit,
        labels=sandbox_labels(pod),
    )
    return SandboxPlan(config, dns.warnings)
