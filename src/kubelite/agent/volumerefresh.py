"""VOL-9 / SA-5: when a running pod's ConfigMap, Secret, downward API and projected volumes are
written again.

The kubelet sets these volumes up again on its periodic pod syncs (about a minute apart), so an
edited ConfigMap or Secret, a changed label or annotation, or a token near the end of its life
reaches the files in a running pod within a minute or two; a label or annotation change makes
a sync of its own, so a downward API file follows it at once. subPath mounts are bind mounts of
one file and never see a change. Environment variables are fixed when a container is created.

This module decides only: which of a pod's volumes are refreshed, and whether a refresh is due.
The pod worker keeps the time of the last write and asks; the executor does the writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

REFRESH_SECONDS: Final = 60.0  # the kubelet's sync period: no more often than this
REFRESHED_SOURCES: Final = ("configMap", "secret", "downwardAPI", "projected")


def refreshed_volumes(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pod's volumes whose files come from API objects or the pod itself."""
    volumes = (pod.get("spec") or {}).get("volumes") or []
    return [v for v in volumes if isinstance(v, dict) and any(k in v for k in REFRESHED_SOURCES)]


def with_refreshed_volumes_only(pod: Mapping[str, Any]) -> dict[str, Any]:
    """The pod with only the refreshed volumes (claims, emptyDirs and host paths are set up
    once, with the sandbox, and have nothing to refresh); shares the rest with ``pod``."""
    return {**pod, "spec": {**(pod.get("spec") or {}), "volumes": refreshed_volumes(pod)}}


def metadata_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether the labels or annotations a downward API file may show have changed."""
    before, after = old.get("metadata") or {}, new.get("metadata") or {}
    return any((before.get(k) or {}) != (after.get(k) or {}) for k in ("labels", "annotations"))


def refresh_due(last: float | None, now: float, *, metadata_moved: bool) -> bool:
    """Whether to write the volumes again now: never written by this worker (an agent that
    restarted catches up at once), at least ``REFRESH_SECONDS`` since the last write
    (monotonic seconds), or the pod's labels or annotations moved since then."""
    return last is None or metadata_moved or now - last >= REFRESH_SECONDS
