"""What the composition root needs to let nodes join (``app``'s helpers, kept apart so the
root stays a list of parts):

* for ``kubelite up``: the addresses other machines reach this API server at (the listen
  address, or every address of this machine when it listens on all), which the serving
  certificate must name and ``cluster-info`` advertises; the cluster-info and the bindings
  set up as kubeadm init does (``controllers.joinsetup``);
* for ``kubelite agent --token``: where the node's credentials live under the data dir, the
  address it reports (``InternalIP``: ``--node-ip``, else the one it reaches the server from),
  and the Node it registers as a worker (no control-plane role: NodeRestriction would refuse
  it, and it is not one).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import socket
import subprocess
from typing import Any
from urllib.parse import urlsplit

from kubelite.agent.tlsbootstrap import CredentialFiles
from kubelite.settings import Settings

CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"


def is_wildcard(host: str) -> bool:
    try:
        return not host or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def local_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback, in the order ``ip`` lists them."""
    try:
        out = subprocess.run(
            ["ip", "-j", "-4", "addr", "show"], capture_output=True, text=True, timeout=10
        ).stdout
        links = json.loads(out or "[]")
    except (OSError, ValueError, subprocess.SubprocessError):
        return []
    found = []
    for link in links:
        for info in link.get("addr_info") or []:
            addr = str(info.get("local") or "")
            with contextlib.suppress(ValueError):
                if not ipaddress.ip_address(addr).is_loopback:
                    found.append(addr)
    return found


def reachable_addresses(host: str) -> list[str]:
    """The addresses a server listening on ``host`` is reached at from elsewhere."""
    if is_wildcard(host):
        return local_addresses()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return []  # a name: nothing to add as an IP
    return [host]


def advertised_url(host: str, port: int) -> str:
    """The URL ``cluster-info`` names: the listen address, or this machine's first."""
    if is_wildcard(host):
        addresses = local_addresses()
        host = addresses[0] if addresses else "127.0.0.1"
    return f"https://{host}:{port}"


def credential_files(settings: Settings) -> CredentialFiles:
    """A joined node's CA and client certificate (apart from ``pki``, the server's own)."""
    return CredentialFiles(settings.data_dir / "node-pki")


def source_address(server_url: str) -> str | None:
    """The local address this machine reaches ``server_url`` from (no packet is sent: a
    UDP socket is only connected, which picks the route)."""
    parts = urlsplit(server_url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return None
    for family, kind, proto, _, addr in infos:
        with contextlib.suppress(OSError), socket.socket(family, kind, proto) as s:
            s.connect(addr)
            return str(s.getsockname()[0])
    return None


def node_ip(server_url: str, explicit: str | None) -> str | None:
    """``--node-ip``, else the address the server is reached from unless that is loopback
    (then the agent's usual choice stands)."""
    if explicit:
        return explicit
    found = source_address(server_url)
    if found is None or ipaddress.ip_address(found).is_loopback:
        return None
    return found


def as_worker(node: dict[str, Any]) -> dict[str, Any]:
    """The Node object without the control-plane role label."""
    labels = dict(node["metadata"].get("labels") or {})
    labels.pop(CONTROL_PLANE_LABEL, None)
    return {**node, "metadata": {**node["metadata"], "labels": labels}}
