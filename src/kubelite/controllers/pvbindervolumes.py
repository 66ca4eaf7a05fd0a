"""The persistent-volume controller's decisions for one volume: its phase from its claimRef
(``Available`` with none, ``Bound`` while its claim names it, ``Released`` once the claim is
gone), what its reclaim policy does then (Retain keeps it; Delete leaves a provisioned volume to
its provisioner, deletes a hostPath under ``/tmp`` as the in-tree deleter does, and fails any
other with the deleter's error), unbinding a volume the controller bound to a claim that went
elsewhere, and the ``kubernetes.io/pv-protection`` finalizer of a volume no longer bound.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kubelite.controllers.pvbinderactions import (
    WARNING,
    Action,
    DeleteHostPathVolume,
    RemoveFinalizer,
    SetVolumePhase,
    SyncClaim,
    UnbindVolume,
    volume_event,
)
from kubelite.model import storage as st
from kubelite.model.objects import JSON

TMP_DELETABLE = re.compile(r"/tmp/.+")


def _spec(obj: JSON) -> JSON:
    return obj.get("spec") or {}


def _reclaim(volume: JSON) -> list[Action]:
    spec = _spec(volume)
    policy = spec.get("persistentVolumeReclaimPolicy") or st.RETAIN
    name = st.name_of(volume)
    if policy == st.RETAIN or st.phase_of(volume) == st.FAILED:
        return []
    if policy == st.RECYCLE:
        message = "No recycler plugin found for the volume!"
        return [
            SetVolumePhase(name, st.FAILED, message),
            volume_event(volume, WARNING, "VolumeFailedRecycle", message),
        ]
    if st.PROVISIONED_BY in st.annotations_of(volume):
        return []  # its provisioner deletes it
    host = spec.get("hostPath")
    if isinstance(host, dict):
        path = str(host.get("path") or "")
        if TMP_DELETABLE.fullmatch(path):
            return [DeleteHostPathVolume(name, path)]
        message = f"host_path deleter only supports /tmp/.+ but received provided {path}"
    else:
        message = (
            f'error getting deleter volume plugin for volume "{name}": no deletable '
            "volume plugin matched"
        )
    return [
        SetVolumePhase(name, st.FAILED, message),
        volume_event(volume, WARNING, "VolumeFailedDelete", message),
    ]


def _phase(volume: JSON, phase: str) -> list[Action]:
    return [] if st.phase_of(volume) == phase else [SetVolumePhase(st.name_of(volume), phase)]


def sync_volume(volume: JSON, claims: Sequence[JSON]) -> list[Action]:
    out: list[Action] = []
    meta = volume.get("metadata") or {}
    if (
        st.is_deleting(volume)
        and st.PV_PROTECTION in (meta.get("finalizers") or [])
        and st.phase_of(volume) != st.BOUND
    ):
        out.append(RemoveFinalizer("PersistentVolume", "", st.name_of(volume), st.PV_PROTECTION))
    ref = _spec(volume).get("claimRef")
    if not isinstance(ref, dict) or not ref.get("uid"):
        return out + _phase(volume, st.AVAILABLE)
    claim = next(
        (
            c
            for c in claims
            if st.namespace_of(c) == ref.get("namespace") and st.name_of(c) == ref.get("name")
        ),
        None,
    )
    if claim is None or st.uid_of(claim) != ref.get("uid"):
        released = (
            []
            if st.phase_of(volume) in (st.RELEASED, st.FAILED)
            else ([SetVolumePhase(st.name_of(volume), st.RELEASED)])
        )
        return out + released + _reclaim(volume)
    named = _spec(claim).get("volumeName")
    if not named:
        return [*out, SyncClaim(st.namespace_of(claim), st.name_of(claim))]
    if named == st.name_of(volume):
        return out + _phase(volume, st.BOUND)
    ann = st.annotations_of(volume)
    if st.PROVISIONED_BY in ann and _spec(volume).get("persistentVolumeReclaimPolicy") == st.DELETE:
        released = (
            []
            if st.phase_of(volume) in (st.RELEASED, st.FAILED)
            else ([SetVolumePhase(st.name_of(volume), st.RELEASED)])
        )
        return out + released + _reclaim(volume)
    if st.BOUND_BY_CONTROLLER in ann:
        return [*out, UnbindVolume(st.name_of(volume))]
    return out
