"""A DaemonSet's revisions (ControllerRevisions), as its controller keeps them, so that
``kubectl rollout history daemonset`` lists them and ``kubectl rollout undo daemonset`` can
put an old template back. No I/O.

A revision holds the patch that restores the DaemonSet's template (``{"spec": {"template":
{..., "$patch": "replace"}}}``), is named ``<daemonset>-<hash>`` with the template hash its
pods carry as ``controller-revision-hash`` (the label is on the revision too), has the
template's labels (so the DaemonSet's selector finds it) and the DaemonSet's annotations (its
change cause), and a number: one more than every older revision. The revision of the current
template is the one whose patch equals it; an older one brought back (a rollback) is
renumbered as the newest. Old revisions beyond ``revisionHistoryLimit`` go, oldest first,
unless a live pod still runs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kubelite.controllers.daemonset import REVISION_HASH, revision_hash
from kubelite.controllers.statefulsetrevisions import number_of as number_of
from kubelite.controllers.statefulsetrevisions import patch_of
from kubelite.model import owners
from kubelite.model.objects import JSON, Obj


@dataclass(frozen=True, slots=True)
class History:
    current: Obj | None  # the revision of the template now, if one exists
    old: tuple[Obj, ...]
    next_number: int  # the number the current revision must have


def classify(ds: JSON, revisions: Iterable[Obj]) -> History:
    data = patch_of(ds)
    current: list[Obj] = []
    old: list[Obj] = []
    for rev in revisions:
        (current if rev.get("data") == data else old).append(rev)
    newest = max(current, key=number_of) if current else None
    extra = [r for r in current if r is not newest]
    next_number = max((number_of(r) for r in old), default=0) + 1
    return History(newest, tuple(old + extra), next_number)


def snapshot(ds: JSON, number: int, api_version: str = "apps/v1", kind: str = "DaemonSet") -> Obj:
    """A new revision of ``ds``'s template, numbered ``number``."""
    pod_hash = revision_hash(ds)
    template = (ds.get("spec") or {}).get("template") or {}
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels[REVISION_HASH] = pod_hash
    meta: Obj = {
        "name": f"{owners.name_of(ds)[:223]}-{pod_hash}",
        "namespace": owners.namespace_of(ds),
        "labels": labels,
        "ownerReferences": [owners.controller_reference(ds, api_version, kind)],
    }
    notes = (ds.get("metadata") or {}).get("annotations")
    if notes:
        meta["annotations"] = dict(notes)
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": meta,
        "data": patch_of(ds),
        "revision": number,
    }


def pod_hash_of(revision: JSON) -> str:
    labels = (revision.get("metadata") or {}).get("labels") or {}
    return str(labels.get(REVISION_HASH) or (revision.get("metadata") or {}).get("name") or "")


def to_clean_up(ds: JSON, old: Sequence[Obj], live_hashes: set[str]) -> list[Obj]:
    """Old revisions beyond ``revisionHistoryLimit`` no live pod runs, oldest first."""
    limit = (ds.get("spec") or {}).get("revisionHistoryLimit")
    keep = limit if isinstance(limit, int) else 10
    extra = len(old) - keep
    out: list[Obj] = []
    for rev in sorted(old, key=number_of):
        if extra <= 0:
            break
        if pod_hash_of(rev) in live_hashes:
            continue
        out.append(rev)
        extra -= 1
    return out
