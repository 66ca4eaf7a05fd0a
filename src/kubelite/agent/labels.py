"""The labels the agent puts on sandboxes and containers, and how it reads them back.

The runtime returns labels untouched, so they are the agent's memory across restarts: which
pod a container belongs to, which spec entry it came from, and the spec hash that tells a
"definition changed" container apart (SYNC-8). Nothing else in the agent spells these keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from kubelite.model.pod import ContainerSpec, PodSpec

PREFIX = "kubelite.io/"
POD_UID = PREFIX + "pod-uid"
POD_NAME = PREFIX + "pod-name"
POD_NAMESPACE = PREFIX + "pod-namespace"
CONTAINER_NAME = PREFIX + "container-name"
CONTAINER_KIND = PREFIX + "container-kind"  # "init" | "sidecar" | "app"
SPEC_HASH = PREFIX + "spec-hash"  # SYNC-8
TGPS = PREFIX + "termination-grace-period"  # seconds, for kills after an agent restart


def spec_hash(container: ContainerSpec) -> str:
    """Hash of the fields whose change restarts a running container: name and image (SYNC-8)."""
    digest = hashlib.sha256(f"{container.name}\x00{container.image}".encode()).hexdigest()
    return digest[:16]


def sandbox_labels(pod: PodSpec) -> dict[str, str]:
    return {POD_UID: pod.uid, POD_NAME: pod.name, POD_NAMESPACE: pod.namespace}


def container_labels(pod: PodSpec, container: ContainerSpec) -> dict[str, str]:
    return {
        **sandbox_labels(pod),
        CONTAINER_NAME: container.name,
        CONTAINER_KIND: container.kind.value,
        SPEC_HASH: spec_hash(container),
        TGPS: str(pod.termination_grace_period_seconds),
    }


def pod_uid_of(labels: Mapping[str, str]) -> str | None:
    return labels.get(POD_UID)


def hash_of(labels: Mapping[str, str]) -> str | None:
    return labels.get(SPEC_HASH)
