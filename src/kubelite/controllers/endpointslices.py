"""The EndpointSlice controller's decision (discovery.k8s.io/v1). Pure.

Endpoints are grouped by the set of ports they serve; each group fills slices of at most
``MAX_ENDPOINTS`` endpoints, reusing the Service's existing slices for that port set (in name
order) before making new ones, and deleting what is left over. Every endpoint carries
``ready`` / ``serving`` / ``terminating`` conditions (pods being deleted stay, marked
terminating, so proxies can fall back to them). A selector Service with no endpoints keeps one
empty slice, as upstream does; a Service without a selector is not managed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubelite.controllers.endpointdata import (
    EndpointPortValue,
    PodEndpoint,
    pod_endpoints,
    service_labels,
    target_ref,
)
from kubelite.model.objects import Obj
from kubelite.model.service import MANAGED_BY_LABEL, SERVICE_NAME_LABEL, ServiceView

CONTROLLER = "endpointslice-controller.k8s.io"
MAX_ENDPOINTS = 100
NAME_PREFIX_MAX = 58  # generateName prefix: a name is at most 63 with the 5 random characters

PortSet = tuple[EndpointPortValue, ...]


@dataclass(frozen=True, slots=True)
class SliceChanges:
    create: list[Obj] = field(default_factory=list)
    update: list[Obj] = field(default_factory=list)  # existing objects with new content
    delete: list[str] = field(default_factory=list)  # names

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def _endpoint(e: PodEndpoint) -> Obj:
    out: Obj = {
        "addresses": [e.ip],
        "conditions": {"ready": e.ready, "serving": e.serving, "terminating": e.terminating},
    }
    if e.hostname:
        out["hostname"] = e.hostname
    if e.node_name:
        out["nodeName"] = e.node_name
    out["targetRef"] = target_ref(e)
    return out


def _ports(ports: PortSet) -> list[Obj]:
    out = []
    for p in ports:
        entry: Obj = {"name": p.name, "port": p.port, "protocol": p.protocol}
        if p.app_protocol:
            entry["appProtocol"] = p.app_protocol
        out.append(entry)
    return out


def _port_set(slice_: Mapping[str, Any]) -> PortSet:
    return tuple(
        sorted(
            (
                EndpointPortValue(
                    str(p.get("name") or ""),
                    str(p.get("protocol") or "TCP"),
                    int(p.get("port") or 0),
                    str(p.get("appProtocol") or ""),
                )
                for p in slice_.get("ports") or ()
            ),
            key=lambda p: (p.name, p.protocol, p.port),
        )
    )


def owned_by_us(slice_: Mapping[str, Any], service: str) -> bool:
    labels = (slice_.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == CONTROLLER and labels.get(SERVICE_NAME_LABEL) == service


def _labels(service: ServiceView) -> dict[str, str]:
    labels = service_labels(service)
    labels[SERVICE_NAME_LABEL] = service.name
    labels[MANAGED_BY_LABEL] = CONTROLLER
    return labels


def _owner(service: ServiceView) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "name": service.name,
        "uid": service.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _new_slice(service: ServiceView, ports: PortSet, endpoints: list[Obj]) -> Obj:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": service.name[:NAME_PREFIX_MAX] + "-",
            "namespace": service.namespace,
            "labels": _labels(service),
            "ownerReferences": [_owner(service)],
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": _ports(ports),
    }


def _groups(found: Sequence[PodEndpoint]) -> dict[PortSet, list[Obj]]:
    groups: dict[PortSet, list[Obj]] = {}
    for e in found:
        key = tuple(sorted(e.ports, key=lambda p: (p.name, p.protocol, p.port)))
        groups.setdefault(key, []).append(_endpoint(e))
    return groups


def desired_changes(
    service: ServiceView, pods: Sequence[Mapping[str, Any]], existing: Sequence[Mapping[str, Any]]
) -> SliceChanges:
    """What to create, update and delete so that the Service's slices match its pods."""
    if service.selector is None:
        return SliceChanges()
    mine = sorted(
        (s for s in existing if owned_by_us(s, service.name)),
        key=lambda s: str((s.get("metadata") or {}).get("name") or ""),
    )
    groups = _groups(pod_endpoints(service, pods, include_terminating=True))
    if not groups:
        groups = {(): []}  # upstream's placeholder: one slice, no ports, no endpoints
    available: dict[PortSet, list[Mapping[str, Any]]] = {}
    for s in mine:
        available.setdefault(_port_set(s), []).append(s)
    changes = SliceChanges()
    for ports, endpoints in groups.items():
        chunks = [endpoints[i : i + MAX_ENDPOINTS] for i in range(0, len(endpoints), MAX_ENDPOINTS)]
        for chunk in chunks or [[]]:
            reuse = available.get(ports) or []
            if reuse:
                old = reuse.pop(0)
                updated = _updated(old, service, ports, chunk)
                if updated is not None:
                    changes.update.append(updated)
            else:
                changes.create.append(_new_slice(service, ports, chunk))
    for leftover in available.values():
        changes.delete.extend(str(s["metadata"]["name"]) for s in leftover)
    return changes


def _updated(
    old: Mapping[str, Any], service: ServiceView, ports: PortSet, endpoints: list[Obj]
) -> Obj | None:
    meta = dict(old.get("metadata") or {})
    labels = _labels(service)
    if (
        (old.get("endpoints") or []) == endpoints
        and (meta.get("labels") or {}) == labels
        and (old.get("ports") or []) == _ports(ports)
    ):
        return None
    meta["labels"] = labels
    meta["ownerReferences"] = [_owner(service)]
    return {**old, "metadata": meta, "endpoints": endpoints, "ports": _ports(ports)}
