"""The local-path provisioner's decisions (k3s's ``rancher.io/local-path``, with the external
provisioner library around it): when a claim gets a volume, what that volume is, and when a
released volume and its folder go.

A claim is provisioned when the persistent-volume controller has handed it to this provisioner
(``volume.kubernetes.io/storage-provisioner``), it names no volume yet, its class is served
here, and, for a ``WaitForFirstConsumer`` class, the scheduler has picked its node
(``volume.kubernetes.io/selected-node``). The volume is named ``pvc-<claim uid>`` (so a
provisioning repeated after a crash finds the one already made), is pre-bound to the claim,
holds what the claim requests with its access modes, takes its class's reclaim policy, and is
a ``hostPath`` folder ``<storage>/pvc-<uid>_<namespace>_<claim>`` (``DirectoryOrCreate``)
pinned to the node by ``kubernetes.io/hostname``. A released volume of this provisioner under
``Delete`` loses its folder, then its object; under ``Retain`` both stay.

Refusals are the provisioner's own words: only ReadWriteOnce and ReadWriteOncePod, no block
volumes, no selector, a node is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from kubelite.model import storage as st
from kubelite.model.objects import JSON, Obj

PROVISIONER = st.LOCAL_PATH_PROVISIONER
NODE_ANNOTATION = "local.path.provisioner/selected-node"
FOLDER_MODE = 0o777
ACCESS_MODES = (st.READ_WRITE_ONCE, st.READ_WRITE_ONCE_POD)
ACCESS_MODE_REFUSAL = (
    "NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes"
)


@dataclass(frozen=True, slots=True)
class Provision:
    volume: Obj  # the PersistentVolume to create
    folder: PurePath


@dataclass(frozen=True, slots=True)
class Refuse:
    message: str  # the ProvisioningFailed event's text


@dataclass(frozen=True, slots=True)
class Reclaim:
    volume: str
    folder: PurePath | None  # None: the folder is not this provisioner's to remove


def volume_name(claim: JSON) -> str:
    return f"pvc-{st.uid_of(claim)}"


def folder_for(claim: JSON, storage: PurePath) -> PurePath:
    return storage / f"{volume_name(claim)}_{st.namespace_of(claim)}_{st.name_of(claim)}"


def _class(claim: JSON, classes: Sequence[JSON]) -> JSON | None:
    wanted = st.claim_class(claim)
    return next((c for c in classes if st.name_of(c) == wanted), None)


def wants_provisioning(claim: JSON, classes: Sequence[JSON]) -> bool:
    """The library's shouldProvision: handed to us, unbound, of one of our classes."""
    spec = claim.get("spec") or {}
    if spec.get("volumeName") or st.is_deleting(claim):
        return False
    ann = st.annotations_of(claim)
    handed = ann.get(st.STORAGE_PROVISIONER) or ann.get(st.BETA_STORAGE_PROVISIONER)
    cls = _class(claim, classes)
    if handed != PROVISIONER or cls is None or cls.get("provisioner") != PROVISIONER:
        return False
    return st.binding_mode(cls) != st.WAIT_FOR_FIRST_CONSUMER or st.SELECTED_NODE in ann


def _node_value(node_name: str, nodes: Sequence[JSON]) -> str:
    node = next((n for n in nodes if st.name_of(n) == node_name), None)
    labels = ((node or {}).get("metadata") or {}).get("labels") or {}
    return str(labels.get(st.HOSTNAME_LABEL) or node_name)


def provision(
    claim: JSON, classes: Sequence[JSON], nodes: Sequence[JSON], storage: PurePath
) -> Provision | Refuse:
    cls = _class(claim, classes) or {}
    spec = claim.get("spec") or {}
    refusal = _refusal(claim, spec)
    if refusal:
        name = st.claim_class(claim)
        return Refuse(f'failed to provision volume with StorageClass "{name}": {refusal}')
    node = str(st.annotations_of(claim).get(st.SELECTED_NODE) or "")
    if not node:
        return Refuse("configuration error, no node was specified")
    folder = folder_for(claim, storage)
    meta = claim.get("metadata") or {}
    volume: Obj = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": volume_name(claim),
            "annotations": {st.PROVISIONED_BY: PROVISIONER, NODE_ANNOTATION: node},
        },
        "spec": {
            "accessModes": list(spec.get("accessModes") or []),
            "capacity": {"storage": (spec.get("resources") or {})["requests"]["storage"]},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": st.namespace_of(claim),
                "name": st.name_of(claim),
                "uid": st.uid_of(claim),
                "resourceVersion": str(meta.get("resourceVersion") or ""),
            },
            "hostPath": {"path": str(folder), "type": "DirectoryOrCreate"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [_on(_node_value(node, nodes))]}},
            "persistentVolumeReclaimPolicy": str(cls.get("reclaimPolicy") or st.DELETE),
            "storageClassName": st.claim_class(claim),
            "volumeMode": st.FILESYSTEM,
        },
    }
    return Provision(volume, folder)


def _refusal(claim: JSON, spec: JSON) -> str:
    if spec.get("selector") is not None:
        return "claim.Spec.Selector is not supported"
    if any(m not in ACCESS_MODES for m in st.access_modes(claim)):
        return ACCESS_MODE_REFUSAL
    if st.volume_mode(claim) == st.BLOCK:
        return f"{PROVISIONER} does not support block volume provisioning"
    return ""


def _on(node: str) -> dict[str, Any]:
    requirement = {"key": st.HOSTNAME_LABEL, "operator": "In", "values": [node]}
    return {"matchExpressions": [requirement]}


def reclaim(volume: JSON, storage: PurePath) -> Reclaim | None:
    """A released volume of ours under ``Delete``: its folder (if it lies in ``storage``) and
    then the object go."""
    spec = volume.get("spec") or {}
    if st.annotations_of(volume).get(st.PROVISIONED_BY) != PROVISIONER:
        return None
    if spec.get("persistentVolumeReclaimPolicy") != st.DELETE:
        return None
    if st.phase_of(volume) != st.RELEASED or st.is_deleting(volume):
        return None
    source = spec.get("hostPath") or spec.get("local") or {}
    path = PurePath(str(source.get("path") or ""))
    mine = path.is_absolute() and path.parent == storage and ".." not in path.parts
    return Reclaim(st.name_of(volume), path if mine else None)
