"""The Endpoints controller's decision (core/v1 Endpoints, named as their Service). Pure.

Pods that are not ready go to ``notReadyAddresses`` (all to ``addresses`` with
``publishNotReadyAddresses``); pods being deleted are left out. Addresses that serve the same
ports share a subset, as upstream's repacking does; a Service with no endpoints has
``subsets: []``. Services without a selector are not managed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.controllers.endpointdata import (
    EndpointPortValue,
    PodEndpoint,
    pod_endpoints,
    service_labels,
    target_ref,
)
from kubelite.model.objects import Obj
from kubelite.model.service import ServiceView

TRIGGER_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"


def _address(e: PodEndpoint) -> Obj:
    out: Obj = {"ip": e.ip}
    if e.hostname:
        out["hostname"] = e.hostname
    if e.node_name:
        out["nodeName"] = e.node_name
    out["targetRef"] = target_ref(e)
    return out


def _port(p: EndpointPortValue) -> Obj:
    out: Obj = {"port": p.port, "protocol": p.protocol}
    if p.name:
        out["name"] = p.name
    if p.app_protocol:
        out["appProtocol"] = p.app_protocol
    return out


def subsets(endpoints: Sequence[PodEndpoint]) -> list[Obj]:
    """Group addresses by the exact set of ports they serve; pods serving none are left out."""
    groups: dict[tuple[EndpointPortValue, ...], tuple[list[Obj], list[Obj]]] = {}
    for e in endpoints:
        if not e.ports:
            continue
        key = tuple(sorted(e.ports, key=lambda p: (p.name, p.protocol, p.port)))
        ready, not_ready = groups.setdefault(key, ([], []))
        (ready if e.ready else not_ready).append(_address(e))
    out = []
    for key, (ready, not_ready) in groups.items():
        subset: Obj = {}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        subset["ports"] = [_port(p) for p in key]
        out.append(subset)
    return out


def desired_endpoints(service: ServiceView, pods: Sequence[Mapping[str, Any]]) -> Obj | None:
    """The Endpoints object the Service should have; None if it is not managed here."""
    if service.selector is None:
        return None
    found = pod_endpoints(service, pods, include_terminating=service.publish_not_ready)
    meta: Obj = {"name": service.name, "namespace": service.namespace}
    labels = service_labels(service)
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta, "subsets": subsets(found)}


def needs_update(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Whether what the controller owns (subsets and labels) differs."""
    old_labels = (existing.get("metadata") or {}).get("labels") or {}
    new_labels = (desired.get("metadata") or {}).get("labels") or {}
    return (existing.get("subsets") or []) != (desired.get("subsets") or []) or (
        old_labels != new_labels
    )
