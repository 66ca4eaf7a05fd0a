"""StorageClasses (storage.k8s.io/v1, cluster-scoped): which provisioner makes a claim's
volume, with what reclaim policy, and when (``Immediate``, or ``WaitForFirstConsumer``: once a
pod using the claim is scheduled).

Defaulting is the API server's (``reclaimPolicy: Delete``, ``volumeBindingMode: Immediate``);
``provisioner``, ``parameters`` and ``reclaimPolicy`` never change and ``volumeBindingMode`` is
immutable, each refused with the API server's words. ``kubectl get sc`` marks the default class
``(default)`` after its name, as kubectl prints it.
"""

from __future__ import annotations

from typing import Any

from kubelite.model import storage as st
from kubelite.model.fielderrors import FieldError, forbidden, invalid, not_supported, required
from kubelite.model.objects import Obj
from kubelite.registry.meta_validation import check, qualified_name_errors
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, age_of

RECLAIM_POLICIES = [st.DELETE, st.RETAIN]
BINDING_MODES = [st.IMMEDIATE, st.WAIT_FOR_FIRST_CONSUMER]
MAX_PARAMETERS = 512
MAX_PARAMETERS_SIZE = 256 * 1024


def default_class(obj: Obj) -> None:
    if obj.get("reclaimPolicy") is None:
        obj["reclaimPolicy"] = st.DELETE
    if obj.get("volumeBindingMode") is None:
        obj["volumeBindingMode"] = st.IMMEDIATE


def _parameter_errors(params: Any) -> list[FieldError]:
    if not isinstance(params, dict):
        return []
    if len(params) > MAX_PARAMETERS:
        return [
            FieldError(
                "FieldValueTooLong",
                "parameters",
                f"Too long: may not be more than {MAX_PARAMETERS} bytes",
            )
        ]
    errs: list[FieldError] = []
    size = 0
    for key, value in params.items():
        if not key:
            errs.append(invalid("parameters", key, "field can not be empty."))
        size += len(str(key)) + len(str(value))
    if size > MAX_PARAMETERS_SIZE:
        errs.append(
            FieldError(
                "FieldValueTooLong",
                "parameters",
                f"Too long: may not be more than {MAX_PARAMETERS_SIZE} bytes",
            )
        )
    return errs


def validate_class(obj: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    provisioner = obj.get("provisioner")
    if not provisioner:
        errs.append(required("provisioner"))
    else:
        text = str(provisioner)
        errs += check("provisioner", text, qualified_name_errors(text.lower()))
    errs += _parameter_errors(obj.get("parameters"))
    policy = obj.get("reclaimPolicy")
    if policy and policy not in RECLAIM_POLICIES:
        errs.append(not_supported("reclaimPolicy", policy, RECLAIM_POLICIES))
    mode = obj.get("volumeBindingMode")
    if mode is None:
        errs.append(required("volumeBindingMode"))
    elif mode not in BINDING_MODES:
        errs.append(not_supported("volumeBindingMode", mode, BINDING_MODES))
    return errs


def validate_class_update(new: Obj, old: Obj) -> list[FieldError]:
    errs = validate_class(new)
    if (new.get("parameters") or {}) != (old.get("parameters") or {}):
        errs.append(forbidden("parameters", "updates to parameters are forbidden."))
    if new.get("provisioner") != old.get("provisioner"):
        errs.append(forbidden("provisioner", "updates to provisioner are forbidden."))
    if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
        errs.append(forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    if new.get("volumeBindingMode") != old.get("volumeBindingMode"):
        errs.append(
            invalid("volumeBindingMode", new.get("volumeBindingMode"), "field is immutable")
        )
    return errs


def name_cell(obj: Obj) -> str:
    name = str(obj.get("metadata", {}).get("name", ""))
    return f"{name} (default)" if st.is_default_class(obj) else name


class StorageClassKind(Kind):
    def prepare_create(self, obj: Obj) -> None:
        default_class(obj)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        default_class(new)

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_class(obj)

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        return validate_class_update(new, old)

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the class."),
            Column("Provisioner", description="What makes the volumes of this class."),
            Column("ReclaimPolicy", description="What becomes of a volume once its claim goes."),
            Column("VolumeBindingMode", description="When claims of this class are bound."),
            Column("AllowVolumeExpansion", description="Whether claims may grow."),
            AGE_COLUMN,
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        return [
            name_cell(obj),
            str(obj.get("provisioner") or ""),
            str(obj.get("reclaimPolicy") or st.DELETE),
            str(obj.get("volumeBindingMode") or st.IMMEDIATE),
            bool(obj.get("allowVolumeExpansion")),
            age_of(obj, now),
        ]


STORAGECLASSES = StorageClassKind(
    group="storage.k8s.io",
    version="v1",
    kind="StorageClass",
    plural="storageclasses",
    singular="storageclass",
    namespaced=False,
    short_names=("sc",),
    description="A class of storage: the provisioner of its volumes and how they are bound.",
)


def local_path_class() -> Obj:
    """The default class every kubelite cluster starts with, as k3s ships it."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "local-path",
            "annotations": {st.DEFAULT_CLASS_ANNOTATION: "true"},
        },
        "provisioner": st.LOCAL_PATH_PROVISIONER,
        "reclaimPolicy": st.DELETE,
        "volumeBindingMode": st.WAIT_FOR_FIRST_CONSUMER,
    }
