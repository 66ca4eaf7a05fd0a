"""The Node object this agent registers: capacity, allocatable, conditions, addresses and
versions, as a kubelet reports them. Pure."""

from __future__ import annotations

import platform
from typing import Any

from kubelite import __version__
from kubelite.agent.envvars import NodeFacts
from kubelite.clock import rfc3339

MAX_PODS = "110"  # the kubelet's default maxPods
KUBELET_VERSION = "v1.32.4"


def _condition(kind: str, status: str, reason: str, message: str, now: str) -> dict[str, str]:
    return {
        "type": kind, "status": status, "reason": reason, "message": message,
        "lastHeartbeatTime": now, "lastTransitionTime": now,
    }  # fmt: skip


def node_object(facts: NodeFacts, now: float) -> dict[str, Any]:
    stamp = rfc3339(now)
    capacity = {
        "cpu": facts.cpu, "memory": facts.memory, "pods": MAX_PODS,
        "ephemeral-storage": facts.ephemeral_storage,
    }  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": facts.node_name,
            "labels": {
                "kubernetes.io/hostname": facts.node_name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": {"x86_64": "amd64", "aarch64": "arm64"}.get(
                    platform.machine(), platform.machine()
                ),
                "node-role.kubernetes.io/control-plane": "",
            },
        },
        "spec": {},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [
                _condition(
                    "MemoryPressure",
                    "False",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                    stamp,
                ),
                _condition(
                    "DiskPressure",
                    "False",
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                    stamp,
                ),
                _condition(
                    "PIDPressure",
                    "False",
                    "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available",
                    stamp,
                ),
                _condition(
                    "Ready", "True", "KubeletReady", "kubelet is posting ready status", stamp
                ),
            ],
            "addresses": [
                {"type": "InternalIP", "address": facts.host_ip},
                {"type": "Hostname", "address": facts.node_name},
            ],
            "nodeInfo": {
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "containerRuntimeVersion": f"kubelite://{__version__}",
                "operatingSystem": "linux",
                "architecture": platform.machine(),
                "osImage": _os_image(),
                "kernelVersion": platform.release(),
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        },
    }


def _os_image() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"
