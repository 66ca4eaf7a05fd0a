"""A StatefulSet's revisions (ControllerRevisions), as its controller keeps them: each holds the
patch that restores the set's pod template (``{"spec": {"template": {..., "$patch":
"replace"}}}``), is named ``<set>-<hash>`` from that patch (FNV-32 of its bytes, with the
collision count when a name is taken by other data, encoded as Kubernetes' SafeEncodeString),
labelled with the template's labels and ``controller.kubernetes.io/hash``, carries the set's
annotations, and is numbered in order.

``plan_revisions`` decides the update revision (the set's template now: an existing equal
revision is reused, renumbered as the newest when it was an older one, as ``kubectl rollout
undo`` relies on) and the current one (``status.currentRevision`` if it still exists);
``to_prune`` keeps ``revisionHistoryLimit`` revisions besides the live ones.

Pure: no I/O.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.model.objects import JSON, Obj

HASH_LABEL = "controller.kubernetes.io/hash"
POD_REVISION_LABEL = "controller-revision-hash"
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
FNV_OFFSET = 2166136261
FNV_PRIME = 16777619


def fnv32(data: bytes) -> int:
    """FNV-1 (32 bit), Go's ``hash/fnv.New32``."""
    value = FNV_OFFSET
    for byte in data:
        value = (value * FNV_PRIME) & 0xFFFFFFFF
        value ^= byte
    return value


def safe_encode(text: str) -> str:
    """Kubernetes' ``rand.SafeEncodeString``: each byte as a letter or digit no word is made of."""
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in text.encode())


def _meta(obj: JSON) -> JSON:
    return obj.get("metadata") or {}


def patch_of(sts: JSON) -> Obj:
    """The revision's data: the set's pod template, to be put back whole."""
    template = copy.deepcopy(dict((sts.get("spec") or {}).get("template") or {}))
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def _bytes(data: JSON) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def revision_hash(data: JSON, collisions: int) -> str:
    raw = _bytes(data)
    if collisions:
        raw += str(collisions).encode()
    return safe_encode(str(fnv32(raw)))


def new_revision(sts: JSON, number: int, collisions: int) -> Obj:
    meta = _meta(sts)
    data = patch_of(sts)
    digest = revision_hash(data, collisions)
    template = (sts.get("spec") or {}).get("template") or {}
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    labels[HASH_LABEL] = digest
    owner = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": str(meta.get("name") or ""),
        "uid": str(meta.get("uid") or ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }
    out_meta: Obj = {
        "name": f"{str(meta.get('name') or '')[:223]}-{digest}",
        "namespace": str(meta.get("namespace") or ""),
        "labels": labels,
        "ownerReferences": [owner],
    }
    if meta.get("annotations"):
        out_meta["annotations"] = dict(meta["annotations"])
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": out_meta,
        "data": data,
        "revision": number,
    }


def template_of(revision: JSON) -> Obj:
    """The pod template a revision restores."""
    template = dict(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return copy.deepcopy(template)


def number_of(revision: JSON) -> int:
    value = revision.get("revision")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def name_of(revision: JSON) -> str:
    return str(_meta(revision).get("name") or "")


@dataclass(frozen=True, slots=True)
class RevisionPlan:
    update: Obj  # the update revision (as it will be stored)
    current: Obj  # the current revision
    create: bool  # ``update`` is new: create it
    renumber: bool  # ``update`` is an older revision brought back: write its new number
    collisions: int  # the set's collisionCount from now on


def plan_revisions(sts: JSON, revisions: Sequence[JSON]) -> RevisionPlan:
    """``revisions``: the set's own, in any order."""
    ordered = sorted(revisions, key=number_of)
    status = sts.get("status") or {}
    collisions = int(status.get("collisionCount") or 0)
    following = number_of(ordered[-1]) + 1 if ordered else 1
    by_name = {name_of(r): r for r in ordered}
    while True:
        candidate = new_revision(sts, following, collisions)
        equal = [r for r in ordered if r.get("data") == candidate["data"]]
        if equal:
            update = dict(equal[-1])
            renumber = name_of(update) != name_of(ordered[-1])
            if renumber:
                update = {**update, "revision": following}
            create = False
            break
        if name_of(candidate) in by_name:  # the name is taken by other data
            collisions += 1
            continue
        update, create, renumber = candidate, True, False
        break
    current_name = str(status.get("currentRevision") or "")
    current = by_name.get(current_name) if current_name != name_of(update) else None
    return RevisionPlan(update, dict(current or update), create, renumber, collisions)


def to_prune(sts: JSON, revisions: Sequence[JSON], live: Iterable[str]) -> list[str]:
    """The oldest revisions beyond ``revisionHistoryLimit`` that nothing uses."""
    limit = (sts.get("spec") or {}).get("revisionHistoryLimit")
    keep = limit if isinstance(limit, int) and limit >= 0 else 10
    alive = set(live)
    history = sorted((r for r in revisions if name_of(r) not in alive), key=number_of)
    excess = len(history) - keep
    return [name_of(r) for r in history[: max(0, excess)]]


def apply_template(sts: JSON, revision: JSON) -> Obj:
    """The set as it was at ``revision``: its template put back."""
    out = copy.deepcopy(dict(sts))
    out.setdefault("spec", {})["template"] = template_of(revision)
    return out


def owned_revisions(sts: JSON, revisions: Iterable[JSON]) -> list[Any]:
    uid = _meta(sts).get("uid")
    return [
        r
        for r in revisions
        if any(
            ref.get("uid") == uid and ref.get("controller")
            for ref in _meta(r).get("ownerReferences") or []
        )
    ]
