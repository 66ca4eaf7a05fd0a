"""Services: defaulting (``service_defaults``), cluster IP and node port allocation
(``service_allocation`` over ``serviceips``), validation (``service_validation``), the status
subresource, and the ``get svc`` columns exactly as kubectl prints them.

The allocation runs before validation, as on the API server, so a Service that fails
validation gives back what was reserved for it; a Service leaving the store frees its
addresses and ports (whether deleted directly or by its namespace's reaper).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from kubelite.model.fielderrors import FieldError
from kubelite.model.objects import Obj
from kubelite.registry import service_defaults as defaults
from kubelite.registry.resource import (
    AGE_COLUMN,
    Allocation,
    Column,
    Kind,
    Subresource,
    age_of,
)
from kubelite.registry.selectors import path_getter
from kubelite.registry.service_allocation import ServiceAllocator
from kubelite.registry.service_validation import (
    dns1035_label_errors,
    validate_service,
    validate_service_update,
)

if TYPE_CHECKING:
    from kubelite.registry.service import Registry


def allocator_for(registry: Registry) -> ServiceAllocator:
    return ServiceAllocator(
        store=registry.store, clock=registry.clock, network=registry.service_network
    )


class ServiceKind(Kind):
    def name_errors(self, name: str) -> list[str]:
        """A Service's name becomes a DNS label: an RFC 1035 label (it starts with a letter)."""
        return dns1035_label_errors(name)

    def prepare_create(self, obj: Obj) -> None:
        defaults.prepare_new(obj)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        if subresource == "status":
            new["spec"] = copy.deepcopy(old.get("spec", {}))
            new["metadata"] = {
                **old["metadata"],
                "resourceVersion": new["metadata"].get("resourceVersion"),
            }
            return
        defaults.prepare_update(new, old)

    async def allocate(
        self, registry: Registry, new: Obj, old: Obj | None, *, dry_run: bool
    ) -> Allocation:
        alloc = allocator_for(registry)
        if old is None:
            return await alloc.for_create(new, dry_run=dry_run)
        if new.get("spec") == old.get("spec"):  # status writes and metadata edits
            return await super().allocate(registry, new, old, dry_run=dry_run)
        return await alloc.for_update(new, old, dry_run=dry_run)

    async def release(self, registry: Registry, removed: Obj) -> None:
        await allocator_for(registry).release_all(removed)

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_service(obj)

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        return validate_service_update(new, old)

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the service."),
            Column(
                "Type",
                description="How the service is exposed: ClusterIP, NodePort, "
                "LoadBalancer or ExternalName.",
            ),
            Column("Cluster-IP", description="The virtual address the service answers on."),
            Column("External-IP", description="Addresses outside the cluster that reach it."),
            Column("Port(s)", description="The ports the service exposes."),
            AGE_COLUMN,
            Column("Selector", description="Labels of the pods that back the service.", priority=1),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        spec = obj.get("spec") or {}
        ips = spec.get("clusterIPs") or []
        return [
            obj["metadata"]["name"],
            str(spec.get("type") or ""),
            ips[0] if ips else "<none>",
            external_ip_cell(obj),
            port_cell(spec),
            age_of(obj, now),
            selector_cell(spec.get("selector")),
        ]


def port_cell(spec: Obj) -> str:
    """``80/TCP``, ``80:30080/TCP`` for a node port, comma separated; ``<none>``."""
    pieces = []
    for p in defaults.ports_of(spec):
        protocol = p.get("protocol") or ""
        if p.get("nodePort"):
            pieces.append(f"{p.get('port')}:{p['nodePort']}/{protocol}")
        else:
            pieces.append(f"{p.get('port')}/{protocol}")
    return ",".join(pieces) or "<none>"


def external_ip_cell(svc: Obj) -> str:
    spec = svc.get("spec") or {}
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    t = spec.get("type")
    if t in (defaults.CLUSTER_IP, defaults.NODE_PORT):
        return ",".join(external) or "<none>"
    if t == defaults.LOAD_BALANCER:
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        found = sorted(
            {
                str(i.get("ip") or i.get("hostname"))
                for i in ingress
                if i.get("ip") or i.get("hostname")
            }
        )
        return ",".join(found + external) or "<pending>"
    if t == defaults.EXTERNAL_NAME:
        return str(spec.get("externalName") or "")
    return "<unknown>"


def selector_cell(selector: Any) -> str:
    if not isinstance(selector, dict) or not selector:
        return "<none>"
    return ",".join(f"{k}={selector[k]}" for k in sorted(selector))


SERVICES = ServiceKind(
    group="",
    version="v1",
    kind="Service",
    plural="services",
    singular="service",
    short_names=("svc",),
    categories=("all",),
    label_name=True,
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    description="A stable virtual address and DNS name in front of a set of pods.",
    subresources=(Subresource("status", "Service", ("get", "patch", "update")),),
    fields={
        "spec.clusterIP": path_getter("spec", "clusterIP"),
        "spec.type": path_getter("spec", "type"),
    },
)
