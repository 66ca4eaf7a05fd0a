"""How many pods a running Job keeps, and which (PURE): ``parallelism`` of them, fewer when fewer
completions remain; extra ones deleted least-advanced first (and, in an Indexed Job, any
without a valid index or a second one for an index); missing ones created after the back-off
since the last failure (10 s, doubling with each failure since the last success, at most
10 minutes, read off the pods' finish times); a suspended Job keeps none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kubelite.controllers import jobpods as jp
from kubelite.model.objects import JSON, Obj

POD_BACKOFF = 10.0  # seconds after the first failure
MAX_POD_BACKOFF = 600.0
MAX_CREATE_DELETE = 500
MIN_WAIT = 1.0  # the controller's batching period: never look again sooner


@dataclass(frozen=True, slots=True)
class Scale:
    release: list[str]  # active pods to delete, uncounted
    create: list[Obj]  # pods to create
    wait: float | None = None  # the back-off still to wait before creating


def succeeded_indexes(status: JSON, pods: Iterable[JSON], completions: int) -> set[int]:
    """Indexes done: those recorded, and those of tracked pods that succeeded."""
    done = jp.parse_indexes(status.get("completedIndexes"), completions)
    for p in pods:
        ix = jp.completion_index(p)
        if jp.tracked(p) and jp.phase(p) == jp.SUCCEEDED and ix is not None and ix < completions:
            done.add(ix)
    return done


def backoff_remaining(pods: list[JSON], now: float) -> float:
    """Seconds before a replacement may be created: 10 s after the first failure since the
    last success, doubling with each further one, at most 10 minutes."""
    ends_ok = [jp.finish_time(p) for p in pods if jp.phase(p) == jp.SUCCEEDED]
    last_ok = max(ends_ok) if ends_ok else float("-inf")
    failures = [
        jp.finish_time(p)
        for p in pods
        if (jp.phase(p) == jp.FAILED or (jp.tracked(p) and jp.is_terminating(p)))
    ]
    failures = [t for t in failures if t > last_ok]
    if not failures:
        return 0.0
    delay = POD_BACKOFF
    for _ in range(1, len(failures)):
        delay *= 2
        if delay >= MAX_POD_BACKOFF:
            delay = MAX_POD_BACKOFF
            break
    return max(0.0, delay - (now - max(failures)))


def removal_order(pod: JSON) -> tuple[int, int, int]:
    """Pods least far along go first: unscheduled, pending, not ready."""
    return (
        1 if (pod.get("spec") or {}).get("nodeName") else 0,
        1 if jp.phase(pod) == "Running" else 0,
        1 if jp.is_ready(pod) else 0,
    )


def scale(
    job: JSON,
    pods: list[JSON],
    active: list[JSON],
    succeeded: int,
    blocking: int,
    now: float,
    done_indexes: set[int],
) -> Scale:
    """What brings ``active`` to the pods ``job`` wants; ``blocking`` pods being deleted hold
    their replacements back (with ``podReplacementPolicy: Failed``)."""
    spec = job.get("spec") or {}
    if spec.get("suspend") is True:
        return Scale([jp.name_of(p) for p in active], [])
    raw = spec.get("completions")
    completions = raw if isinstance(raw, int) else None
    indexed = spec.get("completionMode") == "Indexed" and completions is not None
    parallelism = int(spec.get("parallelism") or 0)
    if completions is None:
        want = len(active) if succeeded > 0 else parallelism
    else:
        want = max(0, min(completions - succeeded, parallelism))
    extra = extra_pods(active, completions) if indexed else []
    if len(extra) < len(active) - want:
        rest = sorted((p for p in active if p not in extra), key=removal_order)
        extra += rest[: len(active) - want - len(extra)]
    if extra:
        return Scale([jp.name_of(p) for p in extra[:MAX_CREATE_DELETE]], [])
    diff = min(want - blocking - len(active), MAX_CREATE_DELETE)
    if diff <= 0:
        return Scale([], [])
    wait = backoff_remaining(pods, now)
    if wait > 0:
        return Scale([], [], max(wait, MIN_WAIT))
    if not indexed or completions is None:
        return Scale([], [jp.new_pod(job, None) for _ in range(diff)])
    taken = done_indexes | {ix for p in active if (ix := jp.completion_index(p)) is not None}
    pending = [ix for ix in range(completions) if ix not in taken][:diff]
    return Scale([], [jp.new_pod(job, ix) for ix in pending])


def extra_pods(active: list[JSON], completions: int | None) -> list[JSON]:
    """Active pods of an Indexed Job with no valid index, or a second one for an index."""
    seen: set[int] = set()
    extra = []
    ordered = sorted(active, key=lambda p: str(jp.meta(p).get("creationTimestamp") or ""))
    for p in ordered:
        ix = jp.completion_index(p)
        if ix is None or completions is None or ix >= completions or ix in seen:
            extra.append(p)
        else:
            seen.add(ix)
    return extra
