"""PersistentVolumeClaims (core/v1): a pod's request for storage of a class, size and access
modes, bound by the persistent-volume controller to one PersistentVolume.

On create, as the API server's admission does: a claim that names no class (no
``storageClassName`` at all, and no beta class annotation) gets the default StorageClass
(DefaultStorageClass), and the ``kubernetes.io/pvc-protection`` finalizer holds the claim while
a pod uses it (StorageObjectInUseProtection). Defaulting gives ``volumeMode: Filesystem`` and
the status ``Pending``. ``status`` is a subresource. ``kubectl get pvc`` shows VOLUME, CAPACITY
and ACCESS MODES only once the claim names its volume, and ``Terminating`` while it is being
deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubelite.model import storage as st
from kubelite.model.fielderrors import FieldError
from kubelite.model.objects import Obj
from kubelite.registry.persistentvolumes import (
    add_finalizer,
    keep_status_or_spec,
    phase_cell,
    quantity_cell,
)
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Subresource, age_of
from kubelite.registry.storage_validation import validate_claim, validate_claim_update
from kubelite.registry.storageclasses import STORAGECLASSES

if TYPE_CHECKING:
    from kubelite.registry.service import Registry


def default_claim(pvc: Obj) -> None:
    spec = pvc.get("spec")
    if isinstance(spec, dict) and spec.get("volumeMode") is None:
        spec["volumeMode"] = st.FILESYSTEM


def names_no_class(pvc: Obj) -> bool:
    spec = pvc.get("spec") or {}
    return spec.get("storageClassName") is None and st.BETA_CLASS_ANNOTATION not in (
        st.annotations_of(pvc)
    )


class PersistentVolumeClaimKind(Kind):
    def prepare_create(self, obj: Obj) -> None:
        default_claim(obj)
        add_finalizer(obj, st.PVC_PROTECTION)
        obj["status"] = {"phase": st.PENDING}

    async def admit(self, registry: Registry, obj: Obj) -> None:
        """DefaultStorageClass: a claim naming no class gets the default one, if any."""
        if not names_no_class(obj) or not isinstance(obj.get("spec"), dict):
            return
        classes, _ = await registry.list(STORAGECLASSES, None)
        chosen = st.default_class(classes)
        if chosen is not None:
            obj["spec"]["storageClassName"] = st.name_of(chosen)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        default_claim(new)
        keep_status_or_spec(new, old, subresource)

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_claim(obj)

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        if subresource == "status":
            return []
        return validate_claim_update(new, old)

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the claim."),
            Column("Status", description="Phase of the claim."),
            Column("Volume", description="The volume the claim is bound to."),
            Column("Capacity", description="How much the bound volume holds."),
            Column("Access Modes", description="How the bound volume may be mounted."),
            Column("StorageClass", description="StorageClass of the pvc"),
            Column("VolumeAttributesClass", description="VolumeAttributesClass of the pvc"),
            AGE_COLUMN,
            Column("VolumeMode", description="Filesystem or Block.", priority=1),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        volume = str(spec.get("volumeName") or "")
        capacity = modes = ""
        if volume:
            capacity = quantity_cell((status.get("capacity") or {}).get("storage")) or "0"
            modes = st.access_modes_text(status.get("accessModes") or [])
        return [
            obj["metadata"]["name"],
            phase_cell(obj),
            volume,
            capacity,
            modes,
            st.claim_class(obj),
            str(spec.get("volumeAttributesClassName") or "<unset>"),
            age_of(obj, now),
            str(spec.get("volumeMode") or "<unset>"),
        ]


PERSISTENTVOLUMECLAIMS = PersistentVolumeClaimKind(
    group="",
    version="v1",
    kind="PersistentVolumeClaim",
    plural="persistentvolumeclaims",
    singular="persistentvolumeclaim",
    short_names=("pvc",),
    description="A request for storage: a class, a size and access modes.",
    subresources=(Subresource("status", "PersistentVolumeClaim", ("get", "patch", "update")),),
)
