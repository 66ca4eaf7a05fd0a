"""Leases (coordination.k8s.io/v1): the node agent's heartbeat in ``kube-node-lease``."""

from __future__ import annotations

from typing import Any

from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Obj, age_of

NODE_LEASE_NAMESPACE = "kube-node-lease"


class LeaseKind(Kind):
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
