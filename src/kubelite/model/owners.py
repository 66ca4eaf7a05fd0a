"""Owner references, the links the garbage collector and the workload controllers follow.

An object may have several owners (``metadata.ownerReferences``); at most one of them is its
*controller* (``controller: true``), the one that manages it (a ReplicaSet for its pods, a
Deployment for its ReplicaSets). ``blockOwnerDeletion`` makes a foreground deletion of the
owner wait for this dependent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubelite.model.objects import JSON, Obj

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"


def _meta(obj: JSON) -> JSON:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def uid_of(obj: JSON) -> str:
    return str(_meta(obj).get("uid") or "")


def name_of(obj: JSON) -> str:
    return str(_meta(obj).get("name") or "")


def namespace_of(obj: JSON) -> str:
    return str(_meta(obj).get("namespace") or "")


def owner_references(obj: JSON) -> list[JSON]:
    refs = _meta(obj).get("ownerReferences") or []
    return [r for r in refs if isinstance(r, Mapping)] if isinstance(refs, list) else []


def controller_of(obj: JSON) -> JSON | None:
    """The owner reference marked ``controller: true``, if any (``metav1.GetControllerOf``)."""
    for ref in owner_references(obj):
        if ref.get("controller") is True:
            return ref
    return None


def is_controlled_by(obj: JSON, owner_uid: str) -> bool:
    ref = controller_of(obj)
    return ref is not None and str(ref.get("uid") or "") == owner_uid


def controller_reference(owner: JSON, api_version: str, kind: str) -> Obj:
    """``metav1.NewControllerRef``: what a controller puts on what it creates or adopts."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name_of(owner),
        "uid": uid_of(owner),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def finalizers(obj: JSON) -> list[str]:
    values = _meta(obj).get("finalizers") or []
    return [str(f) for f in values] if isinstance(values, list) else []


def being_deleted(obj: JSON) -> bool:
    return bool(_meta(obj).get("deletionTimestamp"))


def deleting_dependents(obj: JSON) -> bool:
    """Marked for deletion with the foreground finalizer: it waits for its blocking
    dependents to go."""
    return being_deleted(obj) and FOREGROUND_FINALIZER in finalizers(obj)


def orphaning(obj: JSON) -> bool:
    """Marked for deletion with the orphan finalizer: its dependents are to be released."""
    return being_deleted(obj) and ORPHAN_FINALIZER in finalizers(obj)


def adopt_patch(obj: JSON, ref: Mapping[str, Any]) -> Obj:
    """The strategic merge patch a controller sends to adopt an orphan: the reference added
    (owner references merge by uid), the object's uid as a precondition."""
    return {"metadata": {"ownerReferences": [dict(ref)], "uid": uid_of(obj)}}


def release_patch(obj: JSON, owner_uid: str) -> Obj:
    """The strategic merge patch that drops the reference to ``owner_uid`` (releasing a
    dependent, or orphaning it when its owner goes with ``propagationPolicy=Orphan``)."""
    return {
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": owner_uid}],
            "uid": uid_of(obj),
        }
    }
