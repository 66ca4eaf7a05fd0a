"""What the persistent-volume controller decides (``pvbinder`` for claims, ``pvbindervolumes``
for volumes), as records the loop (``pvbindercontroller``) carries out in order: writes to
volumes and claims, events, and the in-tree hostPath deleter's removal of a ``/tmp`` folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubelite.model import storage as st
from kubelite.model.objects import JSON

Action = Any  # one of the records below
NORMAL = "Normal"
WARNING = "Warning"


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # PersistentVolumeClaim or PersistentVolume
    namespace: str
    name: str
    uid: str
    type: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class BindVolume:
    """Set the volume's claimRef to the claim (``by_controller``: the controller chose it)."""

    volume: str
    claim_ref: dict[str, str]
    by_controller: bool


@dataclass(frozen=True, slots=True)
class UnbindVolume:
    volume: str


@dataclass(frozen=True, slots=True)
class SetVolumePhase:
    volume: str
    phase: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class BindClaim:
    namespace: str
    name: str
    volume: str
    by_controller: bool


@dataclass(frozen=True, slots=True)
class SetClaimStatus:
    namespace: str
    name: str
    phase: str
    access_modes: tuple[str, ...] = ()
    capacity: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AnnotateClaim:
    namespace: str
    name: str
    annotations: dict[str, str]


@dataclass(frozen=True, slots=True)
class RemoveFinalizer:
    kind: str  # PersistentVolumeClaim or PersistentVolume
    namespace: str
    name: str
    finalizer: str


@dataclass(frozen=True, slots=True)
class DeleteHostPathVolume:
    """The in-tree hostPath deleter: remove the directory, then the volume."""

    volume: str
    path: str


@dataclass(frozen=True, slots=True)
class SyncClaim:
    """Sync this claim next (a volume points at it and waits for it)."""

    namespace: str
    name: str


def claim_event(claim: JSON, type_: str, reason: str, message: str) -> Event:
    return Event(
        "PersistentVolumeClaim",
        st.namespace_of(claim),
        st.name_of(claim),
        st.uid_of(claim),
        type_,
        reason,
        message,
    )


def volume_event(volume: JSON, type_: str, reason: str, message: str) -> Event:
    return Event(
        "PersistentVolume", "", st.name_of(volume), st.uid_of(volume), type_, reason, message
    )
