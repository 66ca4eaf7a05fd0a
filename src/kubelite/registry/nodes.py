"""Nodes: cluster-scoped; the node agent registers itself and keeps ``status`` current."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelite.model.objects import Obj
from kubelite.registry import noderestriction
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Subresource, age_of


def _status(node: Obj) -> str:
    ready = "Unknown"
    for c in node.get("status", {}).get("conditions") or []:
        if c.get("type") == "Ready":
            ready = "Ready" if c.get("status") == "True" else "NotReady"
    if node.get("spec", {}).get("unschedulable"):
        ready += ",SchedulingDisabled"
    return ready


def _roles(node: Obj) -> str:
    labels = node.get("metadata", {}).get("labels") or {}
    roles = sorted(
        k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k
    )
    return ",".join(r for r in roles if r) or "<none>"


def _address(node: Obj, kind: str) -> str:
    for a in node.get("status", {}).get("addresses") or []:
        if a.get("type") == kind:
            return str(a.get("address", ""))
    return "<none>"


if TYPE_CHECKING:
    from kubelite.registry.service import Registry


class NodeKind(Kind):
    async def admit(self, registry: Registry, obj: Obj) -> None:
        noderestriction.check_node_create(obj)  # a node registers only itself

    def refuse_delete(self, obj: Obj) -> None:
        noderestriction.check_node_delete(obj)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        noderestriction.check_node_update(new, old)  # nor its taints, nor restricted labels
        if subresource == "status":
            new["spec"] = old.get("spec", {})
        else:
            new["status"] = old.get("status", {})

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the node."),
            Column("Status", description="Whether the node is ready for pods."),
            Column("Roles", description="The node's roles, from its labels."),
            AGE_COLUMN,
            Column("Version", description="The node agent's version."),
            Column("Internal-IP", description="Internal address.", priority=1),
            Column("External-IP", description="External address.", priority=1),
            Column("OS-Image", description="Operating system image.", priority=1),
            Column("Kernel-Version", description="Kernel version.", priority=1),
            Column("Container-Runtime", description="Container runtime version.", priority=1),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        info = obj.get("status", {}).get("nodeInfo") or {}
        return [
            obj["metadata"]["name"],
            _status(obj),
            _roles(obj),
            age_of(obj, now),
            info.get("kubeletVersion", ""),
            _address(obj, "InternalIP"),
            _address(obj, "ExternalIP"),
            info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>",
        ]


NODES = NodeKind(
    group="",
    version="v1",
    kind="Node",
    plural="nodes",
    singular="node",
    namespaced=False,
    short_names=("no",),
    description="A machine that runs pods.",
    subresources=(Subresource("status", "Node", ("get", "patch", "update")),),
)
