"""StorageClasses, PersistentVolumes and PersistentVolumeClaims in the registry: defaulting,
the create-time admission (default class, protection finalizers), validation with the API
server's field paths, the status subresource, and ``kubectl get sc,pv,pvc`` cells."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.clock import ManualClock
from kubelite.model import storage as st
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.errors import Invalid
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.persistentvolumeclaims import PERSISTENTVOLUMECLAIMS as PVCS
from kubelite.registry.persistentvolumes import PERSISTENTVOLUMES as PVS
from kubelite.registry.service import Registry
from kubelite.registry.storageclasses import STORAGECLASSES as SCS
from kubelite.registry.storageclasses import local_path_class
from kubelite.store.memory import MemoryStore

NOW = 1_700_000_000.0


@pytest.fixture
async def reg() -> Registry:
    r = Registry(store=MemoryStore(), clock=ManualClock(NOW), kinds=[NAMESPACES, SCS, PVS, PVCS])
    await r.create(NAMESPACES, "", {"metadata": {"name": "default"}})
    return r


def pvc(name: str = "data", **spec: Any) -> dict[str, Any]:
    body = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    return {"metadata": {"name": name}, "spec": {**body, **spec}}


def pv(name: str = "vol", **spec: Any) -> dict[str, Any]:
    body = {
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": "2Gi"},
        "hostPath": {"path": "/tmp/vol"},
    }
    return {"metadata": {"name": name}, "spec": {**body, **spec}}


async def messages(reg: Registry, kind: Any, body: dict[str, Any]) -> list[str]:
    with pytest.raises(Invalid) as err:
        await reg.create(kind, "default", body)
    return [str(c) for c in err.value.causes]


# -- StorageClass ------------------------------------------------------------------------------


async def test_a_class_gets_the_api_servers_defaults(reg: Registry) -> None:
    made = await reg.create(SCS, "", {"metadata": {"name": "x"}, "provisioner": "example.com/x"})
    assert made["reclaimPolicy"] == "Delete" and made["volumeBindingMode"] == "Immediate"


async def test_the_default_local_path_class_is_marked_default_in_its_name_cell(
    reg: Registry,
) -> None:
    made = await reg.create(SCS, "", local_path_class())
    assert SCS.cells(made, NOW) == [
        "local-path (default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        False,
        "0s",
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, ["provisioner: Required value"]),
        (
            {"provisioner": "x", "reclaimPolicy": "Recycle"},
            ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"'],
        ),
        (
            {"provisioner": "x", "volumeBindingMode": "Later"},
            [
                'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", '
                '"WaitForFirstConsumer"'
            ],
        ),
    ],
)
async def test_a_bad_class_is_refused(
    reg: Registry, body: dict[str, Any], expected: list[str]
) -> None:
    assert await messages(reg, SCS, {"metadata": {"name": "bad"}, **body}) == expected


async def test_a_classes_provisioner_and_policy_never_change(reg: Registry) -> None:
    made = await reg.create(SCS, "", local_path_class())
    changed = {**made, "provisioner": "other.io/p", "reclaimPolicy": "Retain"}
    with pytest.raises(Invalid) as err:
        await reg.update(SCS, "", "local-path", changed)
    assert [str(c) for c in err.value.causes] == [
        "provisioner: Forbidden: updates to provisioner are forbidden.",
        "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
    ]


# -- PersistentVolume --------------------------------------------------------------------------


async def test_a_volume_gets_its_defaults_a_pending_status_and_the_protection_finalizer(
    reg: Registry,
) -> None:
    made = await reg.create(PVS, "", pv())
    spec = made["spec"]
    assert spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert spec["volumeMode"] == "Filesystem" and spec["hostPath"]["type"] == ""
    assert made["status"]["phase"] == "Pending"
    assert made["metadata"]["finalizers"] == [st.PV_PROTECTION]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"accessModes": [], "capacity": None, "hostPath": None},
            [
                "spec.accessModes: Required value",
                "spec.capacity: Required value",
                "spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "
                '"storage"',
                "spec: Required value: must specify a volume type",
            ],
        ),
        (
            {"accessModes": ["ReadWriteSometimes"]},
            [
                'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: '
                '"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'
            ],
        ),
        (
            {"local": {"path": "/data"}},
            ["spec.local: Forbidden: may not specify more than 1 volume type"],
        ),
        (
            {"hostPath": None, "local": {"path": "/data"}},
            ["spec.nodeAffinity: Required value: Local volume requires node affinity"],
        ),
        (
            {"capacity": {"storage": "0"}},
            ['spec.capacity[storage]: Invalid value: "0": must be greater than zero'],
        ),
        (
            {"persistentVolumeReclaimPolicy": "Keep"},
            [
                'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: '
                '"Delete", "Recycle", "Retain"'
            ],
        ),
    ],
)
async def test_a_bad_volume_is_refused_with_the_api_servers_causes(
    reg: Registry, spec: dict[str, Any], expected: list[str]
) -> None:
    body = pv(**spec)
    body["spec"] = {k: v for k, v in body["spec"].items() if v is not None}
    assert await messages(reg, PVS, body) == expected


async def test_a_volumes_source_is_immutable(reg: Registry) -> None:
    made = await reg.create(PVS, "", pv())
    made["spec"]["hostPath"] = {"path": "/tmp/elsewhere", "type": ""}
    with pytest.raises(Invalid) as err:
        await reg.update(PVS, "", "vol", made)
    assert err.value.causes[0].field == "spec.persistentvolumesource"
    assert "spec.persistentvolumesource is immutable after creation" in err.value.causes[0].message


async def test_a_status_write_changes_only_the_status(reg: Registry) -> None:
    made = await reg.create(PVS, "", pv())
    body = {
        **made,
        "spec": {**made["spec"], "storageClassName": "x"},
        "status": {"phase": "Available"},
    }
    after = await reg.update(PVS, "", "vol", body, subresource="status")
    assert after["status"]["phase"] == "Available" and "storageClassName" not in after["spec"]
    again = await reg.update(PVS, "", "vol", {**after, "status": {"phase": "Failed"}})
    assert again["status"]["phase"] == "Available"


async def test_the_volume_columns_are_kubectls(reg: Registry) -> None:
    ref = {"namespace": "default", "name": "data"}
    body = pv(capacity={"storage": "2048Mi"}, storageClassName="slow", claimRef=ref)
    made = await reg.create(PVS, "", body)
    assert PVS.cells(made, NOW + 90) == [
        "vol",
        "2Gi",
        "RWO",
        "Retain",
        "Pending",
        "default/data",
        "slow",
        "<unset>",
        "",
        "90s",
        "Filesystem",
    ]
    deleted = {**made, "metadata": {**made["metadata"], "deletionTimestamp": "x"}}
    assert PVS.cells(deleted, NOW)[4] == "Terminating"


# -- PersistentVolumeClaim ---------------------------------------------------------------------


async def test_a_claim_naming_no_class_gets_the_default_one(reg: Registry) -> None:
    await reg.create(SCS, "", local_path_class())
    made = await reg.create(PVCS, "default", pvc())
    assert made["spec"]["storageClassName"] == "local-path"
    assert made["spec"]["volumeMode"] == "Filesystem"
    assert made["status"] == {"phase": "Pending"}
    assert made["metadata"]["finalizers"] == [st.PVC_PROTECTION]


async def test_a_claim_naming_the_empty_class_keeps_it(reg: Registry) -> None:
    await reg.create(SCS, "", local_path_class())
    made = await reg.create(PVCS, "default", pvc(storageClassName=""))
    assert made["spec"]["storageClassName"] == ""


async def test_without_a_default_class_a_claim_keeps_no_class(reg: Registry) -> None:
    made = await reg.create(PVCS, "default", pvc())
    assert "storageClassName" not in made["spec"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"accessModes": None, "resources": None},
            [
                "spec.accessModes: Required value: at least 1 access mode is required",
                "spec.resources[storage]: Required value",
            ],
        ),
        (
            {"resources": {"requests": {"storage": "-1Gi"}}},
            ['spec.resources[storage]: Invalid value: "-1Gi": must be greater than zero'],
        ),
        (
            {"accessModes": ["ReadWriteOncePod", "ReadWriteOnce"]},
            ["spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"],
        ),
        (
            {"storageClassName": "Not_Valid"},
            [
                'spec.storageClassName: Invalid value: "Not_Valid": a lowercase RFC 1123 '
                "subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                "must start and end with an alphanumeric character (e.g. 'example.com', regex "
                "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
                "[a-z0-9])?)*')"
            ],
        ),
    ],
)
async def test_a_bad_claim_is_refused_with_the_api_servers_causes(
    reg: Registry, spec: dict[str, Any], expected: list[str]
) -> None:
    body = pvc(**spec)
    body["spec"] = {k: v for k, v in body["spec"].items() if v is not None}
    assert await messages(reg, PVCS, body) == expected


async def test_a_claims_spec_is_immutable_but_binding_may_name_its_volume_once(
    reg: Registry,
) -> None:
    made = await reg.create(PVCS, "default", pvc(storageClassName="x"))
    made["spec"]["volumeName"] = "pv-1"
    bound = await reg.update(PVCS, "default", "data", made)
    assert bound["spec"]["volumeName"] == "pv-1"
    bound["spec"]["volumeName"] = "pv-2"
    bound["spec"]["accessModes"] = ["ReadWriteMany"]
    with pytest.raises(Invalid) as err:
        await reg.update(PVCS, "default", "data", bound)
    cause = err.value.causes[0]
    assert cause.field == "spec"
    assert cause.message.startswith(
        "Forbidden: spec is immutable after creation except resources.requests and "
        "volumeAttributesClassName for bound claims\n"
    )


async def test_a_claims_request_may_not_shrink(reg: Registry) -> None:
    made = await reg.create(PVCS, "default", pvc(storageClassName="x"))
    made["spec"]["resources"]["requests"]["storage"] = "512Mi"
    with pytest.raises(Invalid) as err:
        await reg.update(PVCS, "default", "data", made)
    assert (
        "spec.resources.requests.storage: Forbidden: field can not be less than previous "
        "value" in [str(c) for c in err.value.causes]
    )


async def test_the_claim_columns_show_the_volume_once_bound(reg: Registry) -> None:
    made = await reg.create(PVCS, "default", pvc(storageClassName="local-path"))
    assert PVCS.cells(made, NOW) == [
        "data",
        "Pending",
        "",
        "",
        "",
        "local-path",
        "<unset>",
        "0s",
        "Filesystem",
    ]
    made["spec"]["volumeName"] = "pvc-1"
    bound = await reg.update(PVCS, "default", "data", made)
    status = {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}
    bound = await reg.update(
        PVCS, "default", "data", {**bound, "status": status}, subresource="status"
    )
    assert PVCS.cells(bound, NOW) == [
        "data",
        "Bound",
        "pvc-1",
        "1Gi",
        "RWO",
        "local-path",
        "<unset>",
        "0s",
        "Filesystem",
    ]


async def test_an_unbound_claim_may_be_annotated_without_touching_its_spec(reg: Registry) -> None:
    made = await reg.create(PVCS, "default", pvc(storageClassName="x"))
    made["metadata"]["annotations"] = {st.SELECTED_NODE: "n1"}
    after = await reg.update(PVCS, "default", "data", made)
    assert st.annotations_of(after)[st.SELECTED_NODE] == "n1"


async def test_every_cluster_starts_with_the_default_local_path_class() -> None:
    r = Registry(store=MemoryStore(), clock=ManualClock(NOW), kinds=ALL_KINDS)
    await bootstrap(r)
    await r.delete(SCS, "", "local-path")
    await bootstrap(r)  # made again at the next start
    made = await r.get(SCS, "", "local-path")
    assert made["provisioner"] == "rancher.io/local-path" and st.is_default_class(made)
    assert made["volumeBindingMode"] == "WaitForFirstConsumer"
    assert made["reclaimPolicy"] == "Delete"
