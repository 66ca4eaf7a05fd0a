"""The API servers' identity Leases and the ``kubernetes`` Service's endpoints, decided purely.

Each API server on a shared store heartbeats a Lease in ``kube-system`` as the kube-apiserver
does (``apiserver-<hash>``, label ``apiserver.kubernetes.io/identity=kube-apiserver`` and
``kubernetes.io/hostname``, ``leaseDurationSeconds`` 3600, renewed every 10 s). kubelite adds
where pods reach that server, ``<ip>:<port>``, in the annotation
``kubelite.io/apiserver-endpoint``.

From those Leases every server computes the same ``default/kubernetes`` Endpoints and
EndpointSlices, as the API server's lease endpoint reconciler keeps them: every server whose
Lease was renewed within the endpoint TTL (15 s, the reconciler's master-lease TTL), addresses
sorted. Servers on one port share one subset and one slice (``kubernetes``); where servers
listen on different ports, each further port has a subset and a slice of its own
(``kubernetes-<port>``), since a subset or a slice gives every address the same ports. Liveness
is judged by the Lease's ``renewTime`` against this server's clock, as the API server's lease
garbage collector judges it: the servers' clocks are assumed to agree within seconds.

A Lease past ``renewTime + leaseDurationSeconds`` (an hour) belongs to a server long gone and
is deleted (the API server's identity lease garbage collector).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from kubelite.clock import parse_rfc3339
from kubelite.model.objects import JSON, Obj
from kubelite.model.service import SERVICE_NAME_LABEL

NAMESPACE = "kube-system"
IDENTITY_LABEL = "apiserver.kubernetes.io/identity"
IDENTITY_VALUE = "kube-apiserver"
HOSTNAME_LABEL = "kubernetes.io/hostname"
ENDPOINT_ANNOTATION = "kubelite.io/apiserver-endpoint"
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"
SERVICE = "kubernetes"
SERVICE_NAMESPACE = "default"
PORT_NAME = "https"

LEASE_DURATION = 3600  # the identity Lease's leaseDurationSeconds
RENEW_INTERVAL = 10.0
ENDPOINT_TTL = 15.0  # the lease endpoint reconciler's TTL
GC_PERIOD = 3600.0

_EXTRA_SLICE = re.compile(r"^kubernetes-[0-9]+$")


@dataclass(frozen=True, slots=True)
class IdentityTiming:
    lease_duration: int = LEASE_DURATION
    renew_interval: float = RENEW_INTERVAL
    endpoint_ttl: float = ENDPOINT_TTL
    gc_period: float = GC_PERIOD


@dataclass(frozen=True, slots=True, order=True)
class ServerAddress:
    """Where pods reach one API server."""

    ip: ipaddress.IPv4Address
    port: int

    @classmethod
    def parse(cls, text: str) -> ServerAddress | None:
        host, _, port = text.rpartition(":")
        try:
            address = cls(ipaddress.IPv4Address(host), int(port))
        except ValueError:
            return None
        return address if 0 < address.port < 65536 else None

    def __str__(self) -> str:
        return f"{self.ip}:{self.port}"


# -- the identity Lease ----------------------------------------------------------------------------
def identity_lease(
    *,
    name: str,
    holder: str,
    hostname: str,
    address: ServerAddress | None,
    duration: int,
    stamp: str,
    current: JSON | None = None,
) -> Obj:
    """The Lease to write: ``current`` (kept for its resourceVersion) renewed at ``stamp``
    (MicroTime) by ``holder``, or a new one."""
    meta: Obj = dict(current.get("metadata") or {}) if current is not None else {}
    meta.update(name=name, namespace=NAMESPACE)
    meta["labels"] = {
        **(meta.get("labels") or {}), IDENTITY_LABEL: IDENTITY_VALUE, HOSTNAME_LABEL: hostname,
    }  # fmt: skip
    annotations = dict(meta.get("annotations") or {})
    if address is not None:
        annotations[ENDPOINT_ANNOTATION] = str(address)
    else:
        annotations.pop(ENDPOINT_ANNOTATION, None)
    meta["annotations"] = annotations
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta,
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": duration, "renewTime": stamp},
    }


def lease_address(lease: JSON) -> ServerAddress | None:
    annotations = (lease.get("metadata") or {}).get("annotations") or {}
    text = annotations.get(ENDPOINT_ANNOTATION)
    return ServerAddress.parse(str(text)) if text else None


def renew_time(lease: JSON) -> float | None:
    text = (lease.get("spec") or {}).get("renewTime")
    try:
        return parse_rfc3339(str(text)) if text else None
    except ValueError:
        return None


def renewed_within(lease: JSON, now: float, seconds: float) -> bool:
    renewed = renew_time(lease)
    return renewed is not None and renewed + seconds > now


def expired(lease: JSON, now: float) -> bool:
    """Past ``renewTime + leaseDurationSeconds``: the garbage collector may delete it."""
    duration = (lease.get("spec") or {}).get("leaseDurationSeconds")
    renewed = renew_time(lease)
    if renewed is None or not isinstance(duration, int):
        return False
    return renewed + duration < now


def live_servers(
    leases: Sequence[JSON],
    *,
    now: float,
    ttl: float,
    own_lease: str,
    own: ServerAddress | None,
) -> list[ServerAddress]:
    """The addresses of every server whose Lease was renewed within ``ttl``: ours (``own``,
    None while we stop) whatever our Lease says, the others' by their ``renewTime``."""
    found = {own} if own is not None else set()
    for lease in leases:
        labels = (lease.get("metadata") or {}).get("labels") or {}
        if labels.get(IDENTITY_LABEL) != IDENTITY_VALUE:
            continue
        if (lease.get("metadata") or {}).get("name") == own_lease:
            continue
        address = lease_address(lease)
        if address is not None and renewed_within(lease, now, ttl):
            found.add(address)
    return sorted(found, key=lambda a: (a.port, a.ip))


# -- the kubernetes Service's endpoints -----------------------------------------------------------
def _by_port(servers: list[ServerAddress]) -> list[tuple[int, list[str]]]:
    ordered = sorted(servers, key=lambda a: (a.port, a.ip))
    return [
        (port, [str(a.ip) for a in group]) for port, group in groupby(ordered, lambda a: a.port)
    ]


def _port(port: int) -> Obj:
    return {"name": PORT_NAME, "port": port, "protocol": "TCP"}


def endpoints_object(servers: list[ServerAddress]) -> Obj:
    """``default/kubernetes`` Endpoints: one subset per port (none when no server is live)."""
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": SERVICE,
            "namespace": SERVICE_NAMESPACE,
            "labels": {SKIP_MIRROR_LABEL: "true"},
        },
        "subsets": [
            {"addresses": [{"ip": ip} for ip in ips], "ports": [_port(port)]}
            for port, ips in _by_port(servers)
        ],
    }


def slice_name(port: int, first: bool) -> str:
    return SERVICE if first else f"{SERVICE}-{port}"


def endpoint_slices(servers: list[ServerAddress]) -> list[Obj]:
    """The slices: ``kubernetes`` for the lowest port, ``kubernetes-<port>`` for the others;
    with no live server, ``kubernetes`` alone and empty."""
    groups = _by_port(servers)
    if not groups:
        return [_slice(SERVICE, [], [])]
    return [
        _slice(slice_name(port, i == 0), ips, [_port(port)]) for i, (port, ips) in enumerate(groups)
    ]


def _slice(name: str, ips: list[str], ports: list[Obj]) -> Obj:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": SERVICE_NAMESPACE,
            "labels": {SERVICE_NAME_LABEL: SERVICE},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
        "ports": ports,
    }


ENDPOINTS_FIELDS = ("subsets",)
SLICE_FIELDS = ("addressType", "endpoints", "ports")


def differs(current: JSON, wanted: JSON, fields: tuple[str, ...]) -> bool:
    """Whether ``current`` must be written to become ``wanted`` (its labels included)."""
    labels = (current.get("metadata") or {}).get("labels") or {}
    want = (wanted.get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in want.items()):
        return True
    return any((current.get(f) or []) != (wanted.get(f) or []) for f in fields)


def brought_in_line(current: JSON, wanted: JSON, fields: tuple[str, ...]) -> Obj:
    """``current`` (its metadata kept, for the resourceVersion) with ``wanted``'s fields and
    labels."""
    meta = dict(current.get("metadata") or {})
    meta["labels"] = {**(meta.get("labels") or {}), **wanted["metadata"]["labels"]}
    body: Obj = {**current, "metadata": meta}
    for f in fields:
        body[f] = wanted[f]
    return body


def stale_slices(current: Sequence[JSON], wanted: Sequence[Obj]) -> list[str]:
    """Names of our slices (``kubernetes-<port>``) no port needs any more."""
    keep = {s["metadata"]["name"] for s in wanted}
    names = [str((s.get("metadata") or {}).get("name") or "") for s in current]
    return sorted(n for n in names if _EXTRA_SLICE.match(n) and n not in keep)
