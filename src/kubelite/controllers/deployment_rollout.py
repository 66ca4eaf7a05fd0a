"""The Deployment controller's sizing decisions, with no I/O (``rolling.go``, ``recreate.go``
and ``sync.go``'s ``scale``), over the ReplicaSets ``deployment`` sorts out.

- RollingUpdate: the new ReplicaSet grows while all pods stay within replicas + maxSurge; old
  ones shrink while the available pods stay at replicas - maxUnavailable, unhealthy pods
  first, oldest ReplicaSet first.
- Recreate: old ReplicaSets go to zero; the new one waits until no old pod runs.
- A scaling event or a paused Deployment: one active ReplicaSet takes the whole new size, a
  saturated new one lets the old ones go to zero, otherwise the size is spread over the
  active ReplicaSets in proportion to theirs (larger first; newer first when growing, older
  first when shrinking), leftovers to the first.
- Clean-up: old ReplicaSets beyond ``revisionHistoryLimit`` that hold no pods go, oldest
  revision first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kubelite.controllers.deployment import (
    DESIRED_REPLICAS,
    MAX_INT32,
    MAX_REPLICAS,
    active,
    annotations_of,
    by_creation,
    by_revision,
    by_size_newer,
    by_size_older,
    is_rolling,
    max_surge,
    max_unavailable,
    new_rs_replicas,
    replicas_of,
    spec,
    status_count,
    total_replicas,
    total_status,
)
from kubelite.model import owners
from kubelite.model.objects import JSON, Obj


# -- rolling update ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Resize:
    rs: Obj
    replicas: int


def reconcile_new(d: JSON, all_rss: Sequence[Obj | None], new: Obj) -> int | None:
    """The new ReplicaSet's next size in a rolling update (None: leave it)."""
    desired, current = replicas_of(d), replicas_of(new)
    if current == desired:
        return None
    if current > desired:
        return desired
    target = new_rs_replicas(d, all_rss, current)
    return None if target == current else target


def reconcile_old(
    d: JSON, all_rss: Sequence[Obj | None], old_active: Sequence[Obj], new: Obj | None
) -> list[Resize]:
    """Old ReplicaSets to shrink in a rolling update: first the unhealthy pods of each
    (oldest ReplicaSet first), then available ones while the minimum stays available."""
    old_total = total_replicas(old_active)
    if old_total == 0:
        return []
    all_total = total_replicas(all_rss)
    min_available = replicas_of(d) - max_unavailable(d)
    new_unavailable = (replicas_of(new) - status_count(new, "availableReplicas")) if new else 0
    budget = all_total - min_available - new_unavailable
    if budget <= 0:
        return []
    sizes = {owners.uid_of(r): replicas_of(r) for r in old_active}
    cleaned = 0
    for rs in by_creation(old_active):  # unhealthy replicas first
        if cleaned >= budget:
            break
        size, available = sizes[owners.uid_of(rs)], status_count(rs, "availableReplicas")
        if size == 0 or size == available:
            continue
        cut = min(budget - cleaned, size - available)
        sizes[owners.uid_of(rs)] = size - cut
        cleaned += cut
    # then available ones, keeping the minimum available
    available_total = total_status([*all_rss], "availableReplicas")
    room = available_total - min_available
    scaled = 0
    if room > 0:
        for rs in by_creation(old_active):
            if scaled >= room:
                break
            size = sizes[owners.uid_of(rs)]
            if size == 0:
                continue
            cut = min(size, room - scaled)
            sizes[owners.uid_of(rs)] = size - cut
            scaled += cut
    return [
        Resize(rs, sizes[owners.uid_of(rs)])
        for rs in by_creation(old_active)
        if sizes[owners.uid_of(rs)] != replicas_of(rs)
    ]


# -- proportional scaling ------------------------------------------------------------------------
def is_scaling_event(d: JSON, rss: Sequence[Obj | None]) -> bool:
    """An active ReplicaSet whose desired-replicas annotation is not ``spec.replicas``."""
    for rs in active(rss):
        text = annotations_of(rs).get(DESIRED_REPLICAS)
        if text is None:
            continue
        try:
            desired = int(text)
        except ValueError:
            continue
        if desired != replicas_of(d):
            return True
    return False


def find_active_or_latest(new: Obj | None, old: Sequence[Obj]) -> Obj | None:
    if new is None and not old:
        return None
    newest_first = list(reversed(by_creation(old)))
    live = active([*newest_first, new])
    if not live:
        return new if new is not None else newest_first[0]
    return live[0] if len(live) == 1 else None


def is_saturated(d: JSON, rs: JSON | None) -> bool:
    if rs is None:
        return False
    try:
        desired = int(annotations_of(rs).get(DESIRED_REPLICAS, ""))
    except ValueError:
        return False
    n = replicas_of(d)
    return replicas_of(rs) == n and desired == n and status_count(rs, "availableReplicas") == n


@dataclass(frozen=True, slots=True)
class ScalePlan:
    resizes: tuple[Resize, ...]
    operation: str  # "up", "down" or "" (the events' word, for proportional scaling)


def scale(d: JSON, new: Obj | None, old: Sequence[Obj]) -> ScalePlan:
    """``scale()``: sizes for a scaling event or a paused Deployment."""
    only = find_active_or_latest(new, old)
    if only is not None:
        if replicas_of(only) == replicas_of(d):
            return ScalePlan((), "")
        return ScalePlan((Resize(only, replicas_of(d)),), "")
    if is_saturated(d, new):
        return ScalePlan(tuple(Resize(r, 0) for r in active(old)), "")
    if not is_rolling(d):
        return ScalePlan((), "")
    live = active([*old, new])
    allowed = replicas_of(d) + max_surge(d) if replicas_of(d) > 0 else 0
    to_add = allowed - total_replicas(live)
    operation = ""
    if to_add > 0:
        live, operation = by_size_newer(live), "up"
    elif to_add < 0:
        live, operation = by_size_older(live), "down"
    added = 0
    sizes: list[int] = []
    for rs in live:
        if to_add != 0:
            part = proportion(rs, d, to_add, added)
            sizes.append(replicas_of(rs) + part)
            added += part
        else:
            sizes.append(replicas_of(rs))
    if live and to_add != 0:
        sizes[0] = max(0, sizes[0] + to_add - added)
    return ScalePlan(tuple(Resize(rs, size) for rs, size in zip(live, sizes, strict=True)),
                     operation)  # fmt: skip


def proportion(rs: JSON, d: JSON, to_add: int, added: int) -> int:
    """``GetReplicaSetProportion``."""
    if replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, d)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _fraction(rs: JSON, d: JSON) -> int:
    if replicas_of(d) == 0:
        return -replicas_of(rs)
    deployment_size = replicas_of(d) + max_surge(d)
    try:
        annotated = int(annotations_of(rs).get(MAX_REPLICAS, ""))
    except ValueError:
        annotated = status_count(d, "replicas")
    if annotated == 0:
        return 0
    size = replicas_of(rs) * deployment_size / annotated
    return _round_half_away(size) - replicas_of(rs)


def _round_half_away(x: float) -> int:
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


# -- clean-up ------------------------------------------------------------------------------------
def to_clean_up(d: JSON, old: Sequence[Obj]) -> list[Obj]:
    """Old ReplicaSets beyond ``revisionHistoryLimit`` that hold no pods (oldest revisions
    first)."""
    limit = spec(d).get("revisionHistoryLimit")
    if not isinstance(limit, int) or limit == MAX_INT32:
        return []
    alive = [r for r in old if not owners.being_deleted(r)]
    extra = len(alive) - limit
    if extra <= 0:
        return []
    out = []
    for rs in by_revision(alive)[:extra]:
        generation = int((rs.get("metadata") or {}).get("generation") or 0)
        if (
            status_count(rs, "replicas") != 0
            or replicas_of(rs) != 0
            or generation > status_count(rs, "observedGeneration")
        ):
            continue
        out.append(rs)
    return out


def old_pods_running(
    new: JSON | None, old: Sequence[JSON], pods_by_rs: dict[str, list[JSON]]
) -> bool:
    """Recreate waits while an old ReplicaSet reports replicas or any of its pods is not in a
    terminal phase."""
    if total_status(list(old), "replicas") > 0:
        return True
    new_uid = owners.uid_of(new) if new is not None else None
    for uid, pods in pods_by_rs.items():
        if uid == new_uid:
            continue
        for pod in pods:
            if (pod.get("status") or {}).get("phase") not in ("Failed", "Succeeded"):
                return True
    return False
