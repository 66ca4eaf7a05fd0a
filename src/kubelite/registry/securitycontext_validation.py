"""User and group IDs in pod and container security contexts: each must be a valid Unix ID,
0 to 2147483647 (the API server's ``IsValidUserID``/``IsValidGroupID``), whatever the int64
field could hold.
"""

from __future__ import annotations

from typing import Any

from kubelite.model.fielderrors import FieldError, invalid

MAX_ID = 2**31 - 1
RANGE_MESSAGE = f"must be between 0 and {MAX_ID}, inclusive"
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def _id_errors(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_ID:
        return [invalid(path, value, RANGE_MESSAGE)]
    return []


def validate_security_context_ids(spec: dict[str, Any]) -> list[FieldError]:
    """The pod's ``fsGroup``, ``runAsUser``, ``runAsGroup`` and ``supplementalGroups``, then
    each container's ``runAsUser`` and ``runAsGroup``."""
    errs: list[FieldError] = []
    pod = spec.get("securityContext")
    if isinstance(pod, dict):
        at = "spec.securityContext"
        for field in ("fsGroup", "runAsUser", "runAsGroup"):
            errs += _id_errors(pod.get(field), f"{at}.{field}")
        groups = pod.get("supplementalGroups")
        for i, gid in enumerate(groups if isinstance(groups, list) else []):
            errs += _id_errors(gid, f"{at}.supplementalGroups[{i}]")
    for field in CONTAINER_LISTS:
        containers = spec.get(field)
        for i, c in enumerate(containers if isinstance(containers, list) else []):
            sc = c.get("securityContext") if isinstance(c, dict) else None
            if isinstance(sc, dict):
                at = f"spec.{field}[{i}].securityContext"
                errs += _id_errors(sc.get("runAsUser"), f"{at}.runAsUser")
                errs += _id_errors(sc.get("runAsGroup"), f"{at}.runAsGroup")
    return errs
