"""The Deployment controller's decisions about ReplicaSets, with no I/O (``deploymentutil``,
``rolling.go``, ``recreate.go`` and ``sync.go`` as data in, numbers out).

- The *new* ReplicaSet is the oldest one whose template equals the Deployment's (ignoring
  the ``pod-template-hash`` label); every other one it controls is *old*. A new one is named
  ``<deployment>-<pod-template-hash>``, the hash taken over the template and the collision
  count, so a restarted controller finds the one it made instead of making another.
- Revisions: the new ReplicaSet's ``deployment.kubernetes.io/revision`` is one more than the
  highest old one; a ReplicaSet brought back by a rollback keeps its earlier numbers in
  ``deployment.kubernetes.io/revision-history``.
- ``maxSurge`` rounds up and ``maxUnavailable`` down (both 0 → one unavailable allowed);
  the new ReplicaSet's next size while rolling (``new_rs_replicas``). The sizing decisions
  themselves are ``deployment_rollout``'s.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from typing import Any

from kubelite.clock import parse_rfc3339
from kubelite.model import owners
from kubelite.model.objects import JSON, Obj

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
NOT_COPIED = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
                        ROLLBACK_TO})  # fmt: skip
MAX_HISTORY_CHARS = 2000  # how long revision-history may grow
MAX_INT32 = 2**31 - 1
ROLLING_UPDATE, RECREATE = "RollingUpdate", "Recreate"
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


# -- reading a Deployment ------------------------------------------------------------------------
def spec(obj: JSON) -> JSON:
    value = obj.get("spec")
    return value if isinstance(value, dict) else {}


def replicas_of(obj: JSON) -> int:
    """``spec.replicas`` of a Deployment or ReplicaSet (absent counts as 0 here; the API
    server defaults it to 1 before anything reads it)."""
    value = spec(obj).get("replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def status_count(obj: JSON, field: str) -> int:
    value = (obj.get("status") or {}).get(field)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def annotations_of(obj: JSON) -> dict[str, str]:
    value = (obj.get("metadata") or {}).get("annotations") or {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def is_rolling(d: JSON) -> bool:
    return (spec(d).get("strategy") or {}).get("type") == ROLLING_UPDATE


def created_at(obj: JSON) -> float:
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    try:
        return parse_rfc3339(str(ts)) if ts else 0.0
    except ValueError:
        return 0.0


# -- surge and unavailability --------------------------------------------------------------------
def int_or_percent(value: Any, total: int, round_up: bool) -> int:
    """``intstr.GetScaledValueFromIntOrPercent``."""
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        scaled = int(value[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return 0


def fenceposts(d: JSON) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) for the Deployment's replicas: surge rounds up,
    unavailability down, and when both come to 0 one pod may be unavailable."""
    rolling = (spec(d).get("strategy") or {}).get("rollingUpdate") or {}
    desired = replicas_of(d)
    surge = int_or_percent(rolling.get("maxSurge", 0), desired, True)
    unavailable = int_or_percent(rolling.get("maxUnavailable", 0), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: JSON) -> int:
    return fenceposts(d)[0] if is_rolling(d) else 0


def max_unavailable(d: JSON) -> int:
    if not is_rolling(d) or replicas_of(d) == 0:
        return 0
    return min(fenceposts(d)[1], replicas_of(d))


# -- the template hash ---------------------------------------------------------------------------
def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """``rand.SafeEncodeString``: every character mapped to a letter or digit that can make
    no bad words and no confusion (no vowels, no 0/1/3)."""
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in text)


def normalized(value: Any) -> Any:
    """A copy without null fields: a client's typed body sends ``creationTimestamp: null``
    where another leaves the field out, and Go reads both as the zero value."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def template_hash(template: JSON, collision_count: int | None) -> str:
    """The ``pod-template-hash`` of a template: FNV-32a over its canonical JSON and the
    collision count, written as ``controller.ComputeHash`` writes it."""
    data = json.dumps(normalized(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += str(collision_count).encode()
    return safe_encode(str(fnv32a(data)))


def without_hash(template: Any) -> Any:
    out = normalized(template) if isinstance(template, dict) else {}
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
        if not labels:
            out["metadata"].pop("labels")
    if isinstance(out.get("metadata"), dict) and not out["metadata"]:
        out.pop("metadata")
    return out


def equal_ignore_hash(a: Any, b: Any) -> bool:
    return bool(without_hash(a) == without_hash(b))


# -- sorting ReplicaSets -------------------------------------------------------------------------
def by_creation(rss: Sequence[Obj]) -> list[Obj]:
    return sorted(rss, key=lambda r: (created_at(r), owners.name_of(r)))


def by_size_older(rss: Sequence[Obj]) -> list[Obj]:
    """Larger first; among equals the older first (scaling down)."""
    return sorted(rss, key=lambda r: (-replicas_of(r), created_at(r), owners.name_of(r)))


def by_size_newer(rss: Sequence[Obj]) -> list[Obj]:
    """Larger first; among equals the newer first (scaling up)."""
    ordered = sorted(rss, key=lambda r: (created_at(r), owners.name_of(r)), reverse=True)
    return sorted(ordered, key=lambda r: -replicas_of(r))


def revision(rs: JSON) -> int | None:
    """The revision annotation (0 when absent, None when it is not a number)."""
    text = annotations_of(rs).get(REVISION)
    if text is None:
        return 0
    try:
        return int(text)
    except ValueError:
        return None


def by_revision(rss: Sequence[Obj]) -> list[Obj]:
    return sorted(rss, key=lambda r: (revision(r) or 0, created_at(r), owners.name_of(r)))


def active(rss: Sequence[Obj | None]) -> list[Obj]:
    return [r for r in rss if r is not None and replicas_of(r) > 0]


# -- new and old ReplicaSets ---------------------------------------------------------------------
def find_new(d: JSON, rss: Sequence[Obj]) -> Obj | None:
    template = spec(d).get("template")
    for rs in by_creation(rss):
        if equal_ignore_hash(spec(rs).get("template"), template):
            return rs
    return None


def find_old(d: JSON, rss: Sequence[Obj]) -> list[Obj]:
    new = find_new(d, rss)
    new_uid = owners.uid_of(new) if new is not None else None
    return [r for r in rss if owners.uid_of(r) != new_uid]


def max_revision(rss: Sequence[Obj]) -> int:
    return max((revision(r) or 0 for r in rss), default=0)


def total_replicas(rss: Sequence[JSON | None]) -> int:
    return sum(replicas_of(r) for r in rss if r is not None)


def total_status(rss: Sequence[JSON | None], field: str) -> int:
    return sum(status_count(r, field) for r in rss if r is not None)


def new_rs_annotations(
    d: JSON, rs: JSON, new_revision: int, *, exists: bool
) -> tuple[dict[str, str], bool]:
    """``SetNewReplicaSetAnnotations``: the Deployment's annotations copied (but the
    controller's own), the revision raised to ``new_revision`` (keeping the one it replaces
    in revision-history), and for a ReplicaSet about to be made the replica annotations."""
    out = annotations_of(rs)
    changed = False
    for k, v in annotations_of(d).items():
        if k not in NOT_COPIED and out.get(k) != v:
            out[k] = v
            changed = True
    old_text = out.get(REVISION)
    try:
        old = int(old_text) if old_text is not None else 0
    except ValueError:
        return out, changed
    if old < new_revision:
        out[REVISION] = str(new_revision)
        changed = True
        if old_text is not None:
            out[REVISION_HISTORY] = _history(out.get(REVISION_HISTORY, ""), old_text)
    if not exists:
        desired = replicas_of(d)
        changed = _set_replica_annotations(out, desired, desired + max_surge(d)) or changed
    return out, changed


def _history(history: str, old: str) -> str:
    if not history:
        return old
    parts = history.split(",")
    total = len(history) + len(old) + 1
    start = 0
    while total > MAX_HISTORY_CHARS and start < len(parts):
        total -= len(parts[start]) + 1
        start += 1
    if total <= MAX_HISTORY_CHARS:
        return ",".join([*parts[start:], old])
    return history


def _set_replica_annotations(out: dict[str, str], desired: int, most: int) -> bool:
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(most))):
        if out.get(key) != value:
            out[key] = value
            changed = True
    return changed


def replica_annotations_need_update(d: JSON, rs: JSON) -> bool:
    desired = replicas_of(d)
    current = annotations_of(rs)
    return current.get(DESIRED_REPLICAS) != str(desired) or current.get(MAX_REPLICAS) != str(
        desired + max_surge(d)
    )


def with_replica_annotations(d: JSON, rs: JSON) -> dict[str, str]:
    out = annotations_of(rs)
    desired = replicas_of(d)
    _set_replica_annotations(out, desired, desired + max_surge(d))
    return out


def new_rs_replicas(d: JSON, all_rss: Sequence[Obj | None], new_rs_size: int) -> int:
    """``NewRSNewReplicas``: how big the new ReplicaSet may be now."""
    desired = replicas_of(d)
    if not is_rolling(d):
        return desired
    surge = int_or_percent(((spec(d).get("strategy") or {}).get("rollingUpdate") or {})
                           .get("maxSurge", 0), desired, True)  # fmt: skip
    current = total_replicas(all_rss)
    most = desired + surge
    if current >= most:
        return new_rs_size
    return new_rs_size + min(most - current, desired - new_rs_size)


def new_replica_set(d: JSON, revision_number: int, size: int, api_version: str, kind: str) -> Obj:
    """The body of a new ReplicaSet for ``d`` (``getNewReplicaSet``), with its deterministic
    name and the replica annotations."""
    collision = (d.get("status") or {}).get("collisionCount")
    template = copy.deepcopy(spec(d).get("template") or {})
    pod_hash = template_hash(template, collision if isinstance(collision, int) else None)
    meta = template.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), HASH_LABEL: pod_hash}
    selector = copy.deepcopy(spec(d).get("selector") or {})
    selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: pod_hash}
    body: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{owners.name_of(d)}-{pod_hash}",
            "namespace": owners.namespace_of(d),
            "labels": dict(meta["labels"]),
            "ownerReferences": [owners.controller_reference(d, api_version, kind)],
        },
        "spec": {
            "replicas": size,
            "minReadySeconds": int(spec(d).get("minReadySeconds") or 0),
            "selector": selector,
            "template": template,
        },
    }
    notes, _ = new_rs_annotations(d, body, revision_number, exists=False)
    body["metadata"]["annotations"] = notes
    return body
