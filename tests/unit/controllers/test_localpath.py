"""The local-path provisioner's decisions: which claims it provisions, the volume it makes
(named by the claim's uid, pre-bound, pinned to the node, a folder under the storage dir), its
refusals in the provisioner's words, and which released volumes it removes."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import pytest

from kubelite.controllers import localpath
from kubelite.model import storage as st

STORAGE = PurePath("/var/lib/kubelite/storage")
HANDED = {st.STORAGE_PROVISIONER: "rancher.io/local-path", st.SELECTED_NODE: "node-1"}


def sc(mode: str = "WaitForFirstConsumer", policy: str = "Delete") -> dict[str, Any]:
    return {
        "metadata": {"name": "local-path"},
        "provisioner": "rancher.io/local-path",
        "reclaimPolicy": policy,
        "volumeBindingMode": mode,
    }


def claim(annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    body = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "128Mi"}},
        "storageClassName": "local-path",
        "volumeMode": "Filesystem",
        **spec,
    }
    meta = {
        "name": "data-db-0",
        "namespace": "shop",
        "uid": "1234",
        "resourceVersion": "42",
        "annotations": HANDED if annotations is None else annotations,
    }
    return {"metadata": meta, "spec": body}


NODES = [{"metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "host-1"}}}]


CHOOSING = [
    ("a claim handed over with its node selected", claim(), [sc()], True),
    (
        "a claim not handed to this provisioner yet",
        claim({st.SELECTED_NODE: "node-1"}),
        [sc()],
        False,
    ),
    (
        "a delayed claim whose node is not chosen yet",
        claim({st.STORAGE_PROVISIONER: "rancher.io/local-path"}),
        [sc()],
        False,
    ),
    (
        "an immediate claim needs no node to be handed over",
        claim({st.STORAGE_PROVISIONER: "rancher.io/local-path"}),
        [sc("Immediate")],
        True,
    ),
    ("a claim that already names its volume", claim(volumeName="pv-x"), [sc()], False),
    ("a claim of a class that is gone", claim(), [], False),
]


@pytest.mark.parametrize(
    ("case", "pvc", "classes", "wanted"), CHOOSING, ids=[c[0] for c in CHOOSING]
)
def test_the_provisioner_takes_only_claims_handed_to_it(
    case: str, pvc: dict[str, Any], classes: list[dict[str, Any]], wanted: bool
) -> None:
    assert localpath.wants_provisioning(pvc, classes) is wanted


def test_the_volume_is_named_by_the_claims_uid_pre_bound_and_pinned_to_the_node() -> None:
    decision = localpath.provision(claim(), [sc(policy="Retain")], NODES, STORAGE)
    assert isinstance(decision, localpath.Provision)
    assert decision.folder == STORAGE / "pvc-1234_shop_data-db-0"
    pv = decision.volume
    assert pv["metadata"] == {
        "name": "pvc-1234",
        "annotations": {
            "pv.kubernetes.io/provisioned-by": "rancher.io/local-path",
            "local.path.provisioner/selected-node": "node-1",
        },
    }
    spec = pv["spec"]
    assert spec["claimRef"] == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "namespace": "shop",
        "name": "data-db-0",
        "uid": "1234",
        "resourceVersion": "42",
    }
    assert spec["hostPath"] == {
        "path": "/var/lib/kubelite/storage/pvc-1234_shop_data-db-0",
        "type": "DirectoryOrCreate",
    }
    assert spec["nodeAffinity"]["required"]["nodeSelectorTerms"] == [
        {
            "matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["host-1"]}
            ]
        }
    ]
    assert (spec["capacity"], spec["accessModes"]) == ({"storage": "128Mi"}, ["ReadWriteOnce"])
    assert spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert (spec["storageClassName"], spec["volumeMode"]) == ("local-path", "Filesystem")


REFUSALS = [
    (
        claim(accessModes=["ReadWriteMany"]),
        'failed to provision volume with StorageClass "local-path": NodePath only supports '
        "ReadWriteOnce and ReadWriteOncePod (1.22+) access modes",
    ),
    (
        claim(volumeMode="Block"),
        'failed to provision volume with StorageClass "local-path": rancher.io/local-path does '
        "not support block volume provisioning",
    ),
    (
        claim(selector={"matchLabels": {"a": "b"}}),
        'failed to provision volume with StorageClass "local-path": claim.Spec.Selector is not '
        "supported",
    ),
    (
        claim({st.STORAGE_PROVISIONER: "rancher.io/local-path"}),
        "configuration error, no node was specified",
    ),
]


@pytest.mark.parametrize(("pvc", "message"), REFUSALS)
def test_the_provisioner_refuses_what_local_path_cannot_do(
    pvc: dict[str, Any], message: str
) -> None:
    assert localpath.provision(pvc, [sc()], NODES, STORAGE) == localpath.Refuse(message)


def volume(phase: str = "Released", policy: str = "Delete", path: str = "", **ann: str) -> Any:
    annotations = {"pv.kubernetes.io/provisioned-by": "rancher.io/local-path", **ann}
    folder = path or str(STORAGE / "pvc-1234_shop_data-db-0")
    return {
        "metadata": {"name": "pvc-1234", "annotations": annotations},
        "spec": {"persistentVolumeReclaimPolicy": policy, "hostPath": {"path": folder}},
        "status": {"phase": phase},
    }


def test_a_released_volume_under_delete_loses_its_folder_and_object() -> None:
    assert localpath.reclaim(volume(), STORAGE) == localpath.Reclaim(
        "pvc-1234", STORAGE / "pvc-1234_shop_data-db-0"
    )


@pytest.mark.parametrize(
    "pv",
    [
        volume(phase="Bound"),
        volume(policy="Retain"),
        {**volume(), "metadata": {"name": "pvc-1234", "annotations": {}}},
    ],
    ids=["still bound", "retained", "someone else's"],
)
def test_other_volumes_are_left_alone(pv: Any) -> None:
    assert localpath.reclaim(pv, STORAGE) is None


def test_a_folder_outside_the_storage_dir_is_never_removed() -> None:
    decision = localpath.reclaim(volume(path="/etc"), STORAGE)
    assert decision == localpath.Reclaim("pvc-1234", None)
