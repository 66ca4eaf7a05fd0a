"""The names in the Service proxy's nftables table, as kube-proxy's nftables mode gives them:
chain-name bases hashed from a Service port (and endpoint), and the ServicePortName string its
comments carry. It exists apart from the renderer so that what ``nft list table`` shows, and
what other modules must spell the same way (affinity sets), is decided in one place. Pure.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from kubelite.model.service import ServicePort, ServiceView

NAME_BASE_MAX = 240  # nftables names hold 256 bytes; kube-proxy keeps 16 for the prefix
AFFINITY_SET_PREFIX = "affinity-"


@functools.lru_cache(maxsize=65536)
def hashed_name(name: str) -> str:
    """kube-proxy's chain-name base: 8 base32 characters of the name's SHA-256, a dash, the
    name; cut to 240 characters with "..." (which real Kubernetes names never reach)."""
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    full = f"{digest[:8]}-{name}"
    return full if len(full) <= NAME_BASE_MAX else full[: NAME_BASE_MAX - 3] + "..."


def service_chain_base(svc: ServiceView, port: ServicePort) -> str:
    """``HASH-namespace/name/protocol/portname``, e.g. ``ULMVA6XW-ns1/svc1/tcp/p80``."""
    return hashed_name(f"{svc.namespace}/{svc.name}/{port.protocol.lower()}/{port.name}")


def endpoint_chain_base(svc: ServiceView, port: ServicePort, ip: str, target: int) -> str:
    """``HASH-namespace/name/protocol/portname__ip/port``."""
    proto = port.protocol.lower()
    return hashed_name(f"{svc.namespace}/{svc.name}/{proto}/{port.name}__{ip}/{target}")


def port_name(svc: ServiceView, port: ServicePort) -> str:
    """kube-proxy's ServicePortName string: ``ns/name`` plus ``:port`` when the port is named."""
    return f"{svc.namespace}/{svc.name}" + (f":{port.name}" if port.name else "")
