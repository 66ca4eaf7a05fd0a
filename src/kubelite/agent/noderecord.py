"""The Node object this agent registers and keeps reporting: capacity, allocatable,
conditions, addresses and versions, as a kubelet reports them. Pure: what it needs of the
machine comes in as a ``HostInfo`` (read by ``node.host_info``).

Conditions carry two times. ``lastHeartbeatTime`` is when the agent last reported the
condition (each status report stamps every condition); ``lastTransitionTime`` is when its
status last changed, and is kept from the previous report while the status stays the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite import __version__
from kubelite.agent.envvars import NodeFacts
from kubelite.clock import rfc3339

MAX_PODS = "110"  # the kubelet's default maxPods
KUBELET_VERSION = "v1.32.4"

# uname's machine names as Go names them (GOARCH), which is what nodeInfo.architecture and
# the kubernetes.io/arch label carry.
GOARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv6l": "arm",
    "armv7l": "arm",
    "armv8l": "arm",
    "i386": "386",
    "i486": "386",
    "i586": "386",
    "i686": "386",
    "ppc64le": "ppc64le",
    "ppc64": "ppc64",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "loongarch64": "loong64",
    "mips": "mips",
    "mipsel": "mipsle",
    "mips64": "mips64",
    "mips64el": "mips64le",
}


def go_arch(machine: str) -> str:
    """Go's name of a machine architecture (``x86_64`` -> ``amd64``); unknown names as given."""
    return GOARCH.get(machine, machine)


@dataclass(frozen=True, slots=True)
class HostInfo:
    """What the Node reports about the machine itself (nodeInfo)."""

    architecture: str = "amd64"  # Go's name (``go_arch``)
    os_image: str = "Linux"
    kernel_version: str = ""
    machine_id: str = ""
    system_uuid: str = ""
    boot_id: str = ""


# type, status, reason, message: the kubelet's, while nothing presses on the node
CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory",
     "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)  # fmt: skip


def stamp(
    conditions: Sequence[Mapping[str, Any]],
    now: float,
    previous: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Each condition reported at ``now``: ``lastHeartbeatTime`` is now; ``lastTransitionTime``
    is the previous report's while the condition's status is unchanged, else now."""
    at = rfc3339(now)
    before = {str(c.get("type")): c for c in previous}
    out = []
    for cond in conditions:
        old = before.get(str(cond.get("type")))
        same = old is not None and old.get("status") == cond.get("status")
        transition = old.get("lastTransitionTime") if old is not None and same else None
        out.append({**cond, "lastHeartbeatTime": at, "lastTransitionTime": transition or at})
    return out


def conditions(now: float, previous: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """The agent's node conditions as reported at ``now`` (see ``stamp``)."""
    current = [
        {"type": kind, "status": status, "reason": reason, "message": message}
        for kind, status, reason, message in CONDITIONS
    ]
    return stamp(current, now, previous)


def changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a node status differs from the last one reported in more than the heartbeat
    times (the kubelet then reports at once instead of at its next report period)."""
    return _without_heartbeats(old) != _without_heartbeats(new)


def _without_heartbeats(status: Mapping[str, Any]) -> dict[str, Any]:
    conds = [
        {k: v for k, v in c.items() if k != "lastHeartbeatTime"}
        for c in status.get("conditions") or ()
    ]
    return {**status, "conditions": conds}


def node_status(
    facts: NodeFacts,
    host: HostInfo,
    now: float,
    previous: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The Node's ``status`` reported at ``now``; ``previous`` are the conditions last
    reported (their transition times are kept while their status holds)."""
    capacity = {
        "cpu": facts.cpu, "memory": facts.memory, "pods": MAX_PODS,
        "ephemeral-storage": facts.ephemeral_storage,
    }  # fmt: skip
    return {
        "capacity": capacity,
        "allocatable": dict(capacity),
        "conditions": conditions(now, previous),
        "addresses": [
            {"type": "InternalIP", "address": facts.host_ip},
            {"type": "Hostname", "address": facts.node_name},
        ],
        "nodeInfo": {
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": KUBELET_VERSION,
            "containerRuntimeVersion": f"kubelite://{__version__}",
            "operatingSystem": "linux",
            "architecture": host.architecture,
            "osImage": host.os_image,
            "kernelVersion": host.kernel_version,
            "machineID": host.machine_id,
            "systemUUID": host.system_uuid,
            "bootID": host.boot_id,
        },
    }


def node_object(
    facts: NodeFacts,
    now: float,
    host: HostInfo | None = None,
    previous: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The Node to register. ``host`` defaults to this machine's (``node.host_info``)."""
    if host is None:
        from kubelite.agent.node import host_info  # the one place that reads the machine

        host = host_info()
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": facts.node_name,
            "labels": {
                "kubernetes.io/hostname": facts.node_name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": host.architecture,
                "node-role.kubernetes.io/control-plane": "",
            },
        },
        "spec": {},
        "status": node_status(facts, host, now, previous),
    }
