"""The ImageLocality score: nodes that already hold the pod's images score higher, by the
images' sizes and how many nodes hold them (an image every node has counts for little).

It reads ``status.images`` of the Nodes; kubelite's agent does not list its images there yet,
so every node scores 0 and the plugin changes nothing until it does.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubelite.scheduler.nodeinfo import NodeInfo
from kubelite.scheduler.podinfo import PodInfo
from kubelite.scheduler.status import MAX_NODE_SCORE

MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def normalized_image_name(name: str) -> str:
    """A reference without a tag gets ``:latest`` (nothing else is rewritten)."""
    if name.rfind(":") <= name.rfind("/"):
        return name + ":latest"
    return name


def image_locality(
    pod: PodInfo, node: NodeInfo, image_nodes: Mapping[str, int], total_nodes: int
) -> int:
    containers = [*(pod.spec.get("initContainers") or ()), *(pod.spec.get("containers") or ())]
    total = 0
    for container in containers:
        name = normalized_image_name(str((container or {}).get("image") or ""))
        size = node.images.get(name)
        if size is None or total_nodes == 0:
            continue
        total += int(size * (image_nodes.get(name, 0) / total_nodes))
    top = MAX_CONTAINER_THRESHOLD * len(containers)
    total = max(MIN_THRESHOLD, min(total, top))
    if top <= MIN_THRESHOLD:
        return 0
    return MAX_NODE_SCORE * (total - MIN_THRESHOLD) // (top - MIN_THRESHOLD)
