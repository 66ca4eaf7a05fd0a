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


def render_hosts(hostname: str, ip: str | None, aliases: tuple[HostAlias, ...]) -> str:
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
        lines.append(f"{ip}\t{hostname}")
    if aliases:
        lines += ["", "# Entries added by HostAliases."]
        lines += [f"{a.ip}\t{chr(9).join(a.hostnames)}" for a in aliases]
    return "\n".join(lines) + "\n"


def render_resolv_conf(dns: DNSConfig, host_text: str) -> str:
    """The pod's DNS settings when it has any, else the host's file as it is."""
    if not (dns.nameservers or dns.searches or dns.options):
        return host_text
    lines = [f"nameserver {ns}" for ns in dns.nameservers]
    if dns.searches:
        lines.append("search " + " ".join(dns.searches))
    if dns.options:
        lines.append("options " + " ".join(dns.options))
    return "\n".join(lines) + "\n"


def write_etc_files(
    sandbox_dir: Path, hostname: str, ip: str | None, aliases: tuple[HostAlias, ...],
    dns: DNSConfig,
) -> None:  # fmt: skip
    try:
        host_resolv = HOST_RESOLV_CONF.read_text()
    except OSError:
        host_resolv = ""
    (sandbox_dir / "hosts").write_text(render_hosts(hostname, ip, aliases))
    (sandbox_dir / "hostname").write_text(hostname + "\n")
    (sandbox_dir / "resolv.conf").write_text(render_resolv_conf(dns, host_resolv))
    for name in ETC_FILES:
        (sandbox_dir / name).chmod(0o644)
