"""The per-sandbox ``/etc/hosts``, ``/etc/hostname`` and ``/etc/resolv.conf`` (VOL-6, VOL-7).

Rendered purely from the SandboxConfig (and the host's resolv.conf when the pod gives no DNS
settings), written once into the sandbox folder and bind-mounted into every container that
does not mount its own file at the same path.
"""

from __future__ import annotations

from pathlib import Path

from kubelite.runtime.interface import DNSConfig, HostAlias

ETC_FILES = ("hosts", "hostname", "resolv.conf")
HOST_RESOLV_CONF = Path("/etc/resolv.conf")
HOST_HOSTS = Path("/etc/hosts")


def _alias_lines(aliases: tuple[HostAlias, ...]) -> list[str]:
    if not aliases:
        return []
    return ["", "# Entries added by HostAliases."] + [
        f"{a.ip}\t{chr(9).join(a.hostnames)}" for a in aliases
    ]


def render_host_network_hosts(node_hosts: str, aliases: tuple[HostAlias, ...]) -> str:
    """A host-network pod's hosts file: the node's own, then the pod's host aliases."""
    text = node_hosts if node_hosts.endswith("\n") or not node_hosts else node_hosts + "\n"
    extra = _alias_lines(aliases)
    return text + ("\n".join(extra) + "\n" if extra else "")


def render_hosts(
    hostname: str, ip: str | None, aliases: tuple[HostAlias, ...], fqdn: str = ""
) -> str:
    lines = [
        "# Kubernetes-managed hosts file.",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "fe00::0\tip6-localnet",
        "fe00::0\tip6-mcastprefix",
        "fe00::1\tip6-allnodes",
        "fe00::2\tip6-allrouters",
    ]
    if ip:
        # with a subdomain: the FQDN, then the short name (which setHostnameAsFQDN does not
        # change here, only in the UTS namespace)
        short = fqdn.split(".", 1)[0]
        lines.append(f"{ip}\t{fqdn}\t{short}" if fqdn else f"{ip}\t{hostname}")
    lines += _alias_lines(aliases)
    return "\n".join(lines) + "\n"


def render_resolv_conf(dns: DNSConfig, host_text: str) -> str:
    """The pod's DNS settings when it has any (search, nameservers, options: containerd's
    order), else the host's file as it is."""
    if not (dns.nameservers or dns.searches or dns.options):
        return host_text
    lines = []
    if dns.searches:
        lines.append("search " + " ".join(dns.searches))
    lines += [f"nameserver {ns}" for ns in dns.nameservers]
    if dns.options:
        lines.append("options " + " ".join(dns.options))
    return "\n".join(lines) + "\n"


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def write_etc_files(
    sandbox_dir: Path, hostname: str, ip: str | None, aliases: tuple[HostAlias, ...],
    dns: DNSConfig, *, host_network: bool = False, fqdn: str = "",
) -> None:  # fmt: skip
    host_resolv = _read(HOST_RESOLV_CONF)
    if host_network:
        hosts = render_host_network_hosts(_read(HOST_HOSTS), aliases)
    else:
        hosts = render_hosts(hostname, ip, aliases, fqdn)
    (sandbox_dir / "hosts").write_text(hosts)
    (sandbox_dir / "hostname").write_text(hostname + "\n")
    (sandbox_dir / "resolv.conf").write_text(render_resolv_conf(dns, host_resolv))
    for name in ETC_FILES:
        (sandbox_dir / name).chmod(0o644)
