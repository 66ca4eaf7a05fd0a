"""What a scheduling plugin says about a node (kube-scheduler's ``Status``), and the names of
the plugins of the default profile.

A node is refused ``Unschedulable`` when removing pods could make room (preemption may help)
and ``UnschedulableAndUnresolvable`` when it could not; the reasons are the texts the
``FailedScheduling`` message counts.

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Code(Enum):
    UNSCHEDULABLE = "Unschedulable"
    UNRESOLVABLE = "UnschedulableAndUnresolvable"


@dataclass(frozen=True, slots=True)
class Status:
    code: Code
    reasons: tuple[str, ...]
    plugin: str = ""

    def message(self) -> str:
        """``Status.Message``: the reasons joined by ", "."""
        return ", ".join(self.reasons)


def unschedulable(plugin: str, *reasons: str) -> Status:
    return Status(Code.UNSCHEDULABLE, reasons, plugin)


def unresolvable(plugin: str, *reasons: str) -> Status:
    return Status(Code.UNRESOLVABLE, reasons, plugin)


# the default profile's plugins, by the names upstream gives them
NODE_UNSCHEDULABLE = "NodeUnschedulable"
NODE_NAME = "NodeName"
TAINT_TOLERATION = "TaintToleration"
NODE_AFFINITY = "NodeAffinity"
NODE_PORTS = "NodePorts"
NODE_RESOURCES_FIT = "NodeResourcesFit"
VOLUME_RESTRICTIONS = "VolumeRestrictions"
VOLUME_BINDING = "VolumeBinding"
POD_TOPOLOGY_SPREAD = "PodTopologySpread"
INTER_POD_AFFINITY = "InterPodAffinity"
BALANCED_ALLOCATION = "NodeResourcesBalancedAllocation"
IMAGE_LOCALITY = "ImageLocality"

# Score weights of the default profile (``getDefaultPlugins``)
WEIGHTS = {
    TAINT_TOLERATION: 3,
    NODE_AFFINITY: 2,
    NODE_RESOURCES_FIT: 1,
    POD_TOPOLOGY_SPREAD: 2,
    INTER_POD_AFFINITY: 2,
    BALANCED_ALLOCATION: 1,
    IMAGE_LOCALITY: 1,
}

MAX_NODE_SCORE = 100
