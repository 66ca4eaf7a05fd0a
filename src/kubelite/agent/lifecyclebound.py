"""Keeping a pod's lifecycle record bounded (``timeline.record.MAX_FACTS``). Pure.

Repeated probe results are folded into one fact as they come (``lifecyclefacts.fold_probe``),
so a healthy pod's record hardly grows; what still grows is a pod whose probes flap or whose
containers restart for days. When a record goes over its limit, facts are dropped in this
order, oldest first within each step, until it is back to ``target``:

1. repeated probe successes: a success whose previous result of the same probe of the same
   container was a success too (the fold could not join them: another message, or a result of
   another instance in between);
2. any other probe result that repeats the previous one of its probe (a failure after a
   failure): the transitions, a probe's first success after failures and first failure after
   successes, stay;
3. then, if it must, the oldest facts whatever they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.timeline import record as rec

Fact = Mapping[str, Any]


def _repeats(facts: Sequence[Fact]) -> tuple[list[int], list[int]]:
    """Indexes of probe results that repeat the previous result of their probe: successes,
    and the others."""
    last: dict[tuple[str, str], str] = {}
    successes: list[int] = []
    others: list[int] = []
    for i, f in enumerate(facts):
        if f.get("type") != rec.PROBE:
            continue
        key = (str(f.get("container", "")), str(f.get("probe", "")))
        result = str(f.get("result", ""))
        ok = result in rec.PROBE_OK
        before = last.get(key)
        last[key] = "ok" if ok else "failed"
        if before is None or before != last[key]:
            continue  # a probe's first result, or a transition: kept
        (successes if ok else others).append(i)
    return successes, others


def bound(facts: Sequence[Fact], limit: int, target: int | None = None) -> tuple[list[Fact], int]:
    """``facts`` (in time order) cut down to ``target`` (default ``limit``) if there are more
    than ``limit``; returns the facts kept, in order, and how many were dropped."""
    if len(facts) <= limit:
        return list(facts), 0
    goal = limit if target is None else min(target, limit)
    excess = len(facts) - goal
    successes, others = _repeats(facts)
    drop: set[int] = set()
    for candidates in (successes, others):
        for i in candidates:
            if len(drop) >= excess:
                break
            drop.add(i)
    for i in range(len(facts)):
        if len(drop) >= excess:
            break
        drop.add(i)
    kept = [f for i, f in enumerate(facts) if i not in drop]
    return kept, len(drop)
