"""What a node's pod network is made from when the node belongs to a cluster: its Node's
``spec.podCIDR`` (given by the node IPAM controller), and until then the node is NotReady with
the words a kubelet uses while its CNI plugin has no configuration. Pure.

A kubelet on a kind node waits the same way: kindnetd writes the CNI configuration only once the
Node has a ``podCIDR``, and until then the container runtime reports its network not ready.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping
from typing import Any

READY = "Ready"
NOT_READY_REASON = "KubeletNotReady"
NOT_READY_MESSAGE = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)


def pod_cidr(node: Mapping[str, Any]) -> str | None:
    """The node's IPv4 pod range: the first IPv4 entry of ``spec.podCIDRs``, else
    ``spec.podCIDR``; None while it has none."""
    spec = node.get("spec") or {}
    for text in [*(spec.get("podCIDRs") or ()), spec.get("podCIDR")]:
        if text and _is_v4_net(str(text)):
            return str(text)
    return None


def _is_v4_net(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_network(text, strict=False), ipaddress.IPv4Network)
    except ValueError:
        return False


def internal_ip(node: Mapping[str, Any]) -> str | None:
    """The node's first IPv4 ``InternalIP`` address."""
    for a in (node.get("status") or {}).get("addresses") or ():
        if isinstance(a, dict) and a.get("type") == "InternalIP":
            address = str(a.get("address") or "")
            try:
                if isinstance(ipaddress.ip_address(address), ipaddress.IPv4Address):
                    return address
            except ValueError:
                continue
    return None


def network_not_ready(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The node's conditions with ``Ready`` False for want of a pod network."""
    out = copy.deepcopy(conditions)
    for c in out:
        if c.get("type") == READY:
            c.update(status="False", reason=NOT_READY_REASON, message=NOT_READY_MESSAGE)
    return out


def registered_not_ready(node: dict[str, Any]) -> dict[str, Any]:
    """The Node to register, NotReady until its network is made."""
    status = node.get("status") or {}
    conditions = network_not_ready(list(status.get("conditions") or ()))
    return {**node, "status": {**status, "conditions": conditions}}
