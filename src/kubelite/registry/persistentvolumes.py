"""PersistentVolumes (core/v1, cluster-scoped): a piece of storage, bound to at most one claim.

Defaulting is the API server's: reclaim policy ``Retain``, volume mode ``Filesystem``, an
unset hostPath ``type`` written as ``""``, and a new volume's status ``Pending`` (the
persistent-volume controller makes it ``Available``); the StorageObjectInUseProtection
admission adds the ``kubernetes.io/pv-protection`` finalizer, which the controller removes once
the volume is no longer bound. ``status`` is a subresource: writes to the volume keep it, and
status writes keep everything else. ``kubectl get pv`` columns are kubectl's, ``Terminating``
for a volume being deleted.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.model import storage as st
from kubelite.model.fielderrors import FieldError
from kubelite.model.objects import Obj
from kubelite.model.quantity import QuantityError
from kubelite.model.quantityformat import canonical
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Subresource, age_of
from kubelite.registry.storage_validation import validate_volume, validate_volume_update


def default_volume(pv: Obj) -> None:
    spec = pv.get("spec")
    if not isinstance(spec, dict):
        return
    if not spec.get("persistentVolumeReclaimPolicy"):
        spec["persistentVolumeReclaimPolicy"] = st.RETAIN
    if spec.get("volumeMode") is None:
        spec["volumeMode"] = st.FILESYSTEM
    host = spec.get("hostPath")
    if isinstance(host, dict) and host.get("type") is None:
        host["type"] = ""


def add_finalizer(obj: Obj, finalizer: str) -> None:
    meta = obj.setdefault("metadata", {})
    finalizers = meta.get("finalizers") or []
    if finalizer not in finalizers:
        meta["finalizers"] = [*finalizers, finalizer]


def keep_status_or_spec(new: Obj, old: Obj, subresource: str) -> None:
    """A status write changes only ``status``; any other write keeps the stored status."""
    if subresource == "status":
        new["spec"] = copy.deepcopy(old.get("spec", {}))
        new["metadata"] = {
            **copy.deepcopy(old["metadata"]),
            "resourceVersion": new["metadata"].get("resourceVersion"),
        }
    else:
        new["status"] = copy.deepcopy(old.get("status", {}))


def quantity_cell(value: Any) -> str:
    if value is None:
        return ""
    try:
        return canonical(value)
    except (QuantityError, TypeError, ValueError):
        return str(value)


def phase_cell(obj: Obj) -> str:
    return "Terminating" if st.is_deleting(obj) else st.phase_of(obj)


class PersistentVolumeKind(Kind):
    def prepare_create(self, obj: Obj) -> None:
        default_volume(obj)
        add_finalizer(obj, st.PV_PROTECTION)
        stamp = obj["metadata"].get("creationTimestamp")
        obj["status"] = {"phase": st.PENDING, "lastPhaseTransitionTime": stamp}

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        default_volume(new)
        keep_status_or_spec(new, old, subresource)

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_volume(obj)

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        if subresource == "status":
            return []
        return validate_volume_update(new, old)

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the volume."),
            Column("Capacity", description="How much the volume holds."),
            Column("Access Modes", description="How the volume may be mounted."),
            Column("Reclaim Policy", description="What becomes of it once its claim goes."),
            Column("Status", description="Phase of the volume."),
            Column("Claim", description="The claim it is bound to."),
            Column("StorageClass", description="StorageClass of the pv"),
            Column("VolumeAttributesClass", description="VolumeAttributesClass of the pv"),
            Column("Reason", description="Why the volume is in its phase."),
            AGE_COLUMN,
            Column("VolumeMode", description="Filesystem or Block.", priority=1),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        spec = obj.get("spec") or {}
        ref = spec.get("claimRef")
        claim = f"{ref.get('namespace', '')}/{ref.get('name', '')}" if isinstance(ref, dict) else ""
        return [
            obj["metadata"]["name"],
            quantity_cell((spec.get("capacity") or {}).get("storage")),
            st.access_modes_text(spec.get("accessModes") or []),
            str(spec.get("persistentVolumeReclaimPolicy") or ""),
            phase_cell(obj),
            claim,
            st.volume_class(obj),
            str(spec.get("volumeAttributesClassName") or "<unset>"),
            str((obj.get("status") or {}).get("reason") or ""),
            age_of(obj, now),
            str(spec.get("volumeMode") or "<unset>"),
        ]


PERSISTENTVOLUMES = PersistentVolumeKind(
    group="",
    version="v1",
    kind="PersistentVolume",
    plural="persistentvolumes",
    singular="persistentvolume",
    namespaced=False,
    short_names=("pv",),
    description="A piece of storage on the node, bound to at most one claim.",
    subresources=(Subresource("status", "PersistentVolume", ("get", "patch", "update")),),
)
