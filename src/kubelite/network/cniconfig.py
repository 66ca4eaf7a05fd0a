"""What kubelite hands the CNI reference plugins: the network configuration list, each
plugin's input, and the arguments Kubernetes passes. Pure.

The list is kind-like: ``bridge`` (with ``host-local`` IPAM) puts the pod on this node's
bridge with an address of the node's pod subnet, then ``portmap`` publishes its hostPorts.
The bridge (and its gateway address) is made by kubelite itself (``hostsetup``), so the
plugin is told ``isGateway: false`` and never touches the host's global forwarding switch;
the pod's default route points at the bridge's address through the IPAM ``routes``.
Masquerading and egress filtering live in kubelite's nftables table, not in the plugins.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.model.objects import Obj
from kubelite.network.layout import NETWORK_NAME, NetworkLayout
from kubelite.runtime.interface import PortMapping

CNI_VERSION = "1.0.0"


def network_config_list(layout: NetworkLayout, *, port_mappings: bool = True) -> Obj:
    """The ``.conflist`` kubelite writes and uses (cniVersion 1.0.0). An attachment without
    hostPorts is made without ``portmap``: with no mappings its ADD only passes the result on
    and its DEL only searches iptables for rules that were never made (a third of the ADD and
    most of the DEL). Each attachment's list is cached with it and used for its DEL."""
    pod_range = {"subnet": str(layout.node_subnet), "gateway": str(layout.gateway)}
    return {
        "cniVersion": CNI_VERSION,
        "name": NETWORK_NAME,
        "plugins": [
            {
                "type": "bridge",
                "bridge": layout.bridge,
                "isGateway": False,
                "isDefaultGateway": False,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[pod_range]],
                    "routes": [{"dst": "0.0.0.0/0", "gw": str(layout.gateway)}],
                    "dataDir": str(layout.ipam_dir),
                },
            },
            *([PORTMAP] if port_mappings else []),
        ],
    }


PORTMAP: Obj = {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True}


def plugin_input(
    conf_list: Mapping[str, Any],
    plugin: Mapping[str, Any],
    *,
    prev_result: Mapping[str, Any] | None,
    capability_args: Mapping[str, Any],
) -> Obj:
    """One plugin's stdin: its own config with the list's name and version, the previous
    result (ADD: the plugin before it; DEL: the cached final result) and the runtime config
    for the capabilities it declares."""
    out: Obj = copy.deepcopy(dict(plugin))
    out["name"] = conf_list["name"]
    out["cniVersion"] = conf_list["cniVersion"]
    if prev_result is not None:
        out["prevResult"] = copy.deepcopy(dict(prev_result))
    caps = {k for k, on in (plugin.get("capabilities") or {}).items() if on}
    runtime = {k: v for k, v in capability_args.items() if k in caps}
    if runtime:
        out["runtimeConfig"] = runtime
    return out


def capability_args(ports: Sequence[PortMapping]) -> Obj:
    """The ``portMappings`` capability, as the kubelet's runtime fills it from hostPorts."""
    if not ports:
        return {}
    return {
        "portMappings": [
            {
                "hostPort": p.host_port,
                "containerPort": p.container_port,
                "protocol": p.protocol.lower(),
                "hostIP": p.host_ip,
            }
            for p in ports
        ]
    }


def cni_args(*, namespace: str, name: str, uid: str, sandbox_id: str) -> list[tuple[str, str]]:
    """``CNI_ARGS`` as Kubernetes runtimes pass them (IgnoreUnknown first, so a plugin that
    does not know the K8S_ keys accepts them)."""
    return [
        ("IgnoreUnknown", "1"),
        ("K8S_POD_NAMESPACE", namespace),
        ("K8S_POD_NAME", name),
        ("K8S_POD_INFRA_CONTAINER_ID", sandbox_id),
        ("K8S_POD_UID", uid),
    ]


def encode_args(args: Sequence[tuple[str, str]]) -> str:
    return ";".join(f"{k}={v}" for k, v in args)


def pod_ip(result: Mapping[str, Any]) -> str | None:
    """The first IPv4 address of a CNI 1.0 result, without its prefix length."""
    for entry in result.get("ips") or ():
        address = str(entry.get("address") or "")
        ip = address.partition("/")[0]
        if ip and ":" not in ip:
            return ip
    return None


def dumps(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
