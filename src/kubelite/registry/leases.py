"""Leases (coordination.k8s.io/v1): the node agent's heartbeat in ``kube-node-lease``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelite.model.objects import Obj
from kubelite.registry import noderestriction
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, age_of

if TYPE_CHECKING:
    from kubelite.registry.service import Registry

NODE_LEASE_NAMESPACE = "kube-node-lease"


class LeaseKind(Kind):
    # A node writes only its own Lease in kube-node-lease (NodeRestriction).
    async def admit(self, registry: Registry, obj: Obj) -> None:
        noderestriction.check_lease(obj)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        noderestriction.check_lease(old)

    def refuse_delete(self, obj: Obj) -> None:
        noderestriction.check_lease(obj)

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the lease."),
            Column("Holder", description="The identity holding the lease."),
            AGE_COLUMN,
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        holder = obj.get("spec", {}).get("holderIdentity") or "<none>"
        return [obj["metadata"]["name"], holder, age_of(obj, now)]


LEASES = LeaseKind(
    group="coordination.k8s.io",
    version="v1",
    kind="Lease",
    plural="leases",
    singular="lease",
    description="A lock or heartbeat held by one identity.",
)
