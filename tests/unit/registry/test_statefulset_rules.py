"""StatefulSets and ControllerRevisions in the registry: the API server's defaults, its causes
(an unknown podManagementPolicy, a selector that misses the template, negative replicas), the
fields an update may change, and ``kubectl get sts,controllerrevisions`` cells."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.clock import ManualClock
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.controllerrevisions import CONTROLLERREVISIONS as REVS
from kubelite.registry.errors import Invalid
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.service import Registry
from kubelite.registry.statefulsets import STATEFULSETS as STS
from kubelite.store.memory import MemoryStore

NOW = 1_700_000_000.0


@pytest.fixture
async def reg() -> Registry:
    r = Registry(store=MemoryStore(), clock=ManualClock(NOW), kinds=ALL_KINDS)
    await r.create(NAMESPACES, "", {"metadata": {"name": "default"}})
    return r


def sts(name: str = "db", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "serviceName": "db",
        "selector": {"matchLabels": {"app": "db"}},
        "template": {
            "metadata": {"labels": {"app": "db"}},
            "spec": {"containers": [{"name": "db", "image": "busybox:1.36"}]},
        },
        "volumeClaimTemplates": [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "64Mi"}},
                },
            }
        ],
        **spec,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": body,
    }


async def test_a_statefulset_gets_the_api_servers_defaults(reg: Registry) -> None:
    made = await reg.create(STS, "default", sts())
    spec = made["spec"]
    assert spec["podManagementPolicy"] == "OrderedReady"
    assert spec["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert spec["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert (spec["replicas"], spec["revisionHistoryLimit"]) == (1, 10)
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    vct = spec["volumeClaimTemplates"][0]
    assert (vct["apiVersion"], vct["kind"]) == ("v1", "PersistentVolumeClaim")
    assert vct["spec"]["volumeMode"] == "Filesystem" and vct["status"] == {"phase": "Pending"}
    assert made["status"] == {} and made["metadata"]["generation"] == 1


async def test_on_delete_gets_no_rolling_update_defaults(reg: Registry) -> None:
    made = await reg.create(STS, "default", sts(updateStrategy={"type": "OnDelete"}))
    assert made["spec"]["updateStrategy"] == {"type": "OnDelete"}


CAUSES = [
    (
        "an unknown pod management policy",
        {"podManagementPolicy": "Sometimes"},
        [
            "spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or "
            "'Parallel'"
        ],
    ),
    (
        "negative replicas",
        {"replicas": -1},
        ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
    ),
    (
        "a selector that misses the template",
        {"selector": {"matchLabels": {"app": "web"}}},
        [
            'spec.template.metadata.labels: Invalid value: map[string]string{"app":"db"}: '
            "`selector` does not match template `labels`"
        ],
    ),
    (
        "an unknown update strategy",
        {"updateStrategy": {"type": "Sometimes"}},
        [
            'spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:"Sometimes", '
            "RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}: must be 'RollingUpdate' "
            "or 'OnDelete'"
        ],
    ),
    (
        "an unknown retention policy",
        {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Keep", "whenScaled": "Retain"}},
        [
            'spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": '
            'supported values: "Delete", "Retain"'
        ],
    ),
    (
        "a negative partition",
        {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": -2}}},
        [
            "spec.updateStrategy.rollingUpdate.partition: Invalid value: -2: must be greater "
            "than or equal to 0"
        ],
    ),
]


@pytest.mark.parametrize(("case", "spec", "expected"), CAUSES, ids=[c[0] for c in CAUSES])
async def test_a_bad_statefulset_is_refused_with_the_api_servers_cause(
    reg: Registry, case: str, spec: dict[str, Any], expected: list[str]
) -> None:
    with pytest.raises(Invalid) as err:
        await reg.create(STS, "default", sts(**spec))
    assert [str(c) for c in err.value.causes] == expected


async def test_only_the_updatable_fields_may_change(reg: Registry) -> None:
    made = await reg.create(STS, "default", sts())
    made["spec"]["replicas"] = 3
    made["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.37"
    updated = await reg.update(STS, "default", "db", made)
    assert updated["metadata"]["generation"] == 2
    updated["spec"]["serviceName"] = "other"
    with pytest.raises(Invalid) as err:
        await reg.update(STS, "default", "db", updated)
    assert [str(c) for c in err.value.causes] == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
        "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
        "'minReadySeconds' are forbidden"
    ]


async def test_the_statefulset_columns_are_kubectls(reg: Registry) -> None:
    made = await reg.create(STS, "default", sts(replicas=3))
    made = await reg.update(
        STS, "default", "db", {**made, "status": {"readyReplicas": 2}}, subresource="status"
    )
    assert STS.cells(made, NOW + 3600) == ["db", "2/3", "60m", "db", "busybox:1.36"]
    assert [c.name for c in STS.columns()] == ["Name", "Ready", "Age", "Containers", "Images"]


async def test_a_revisions_data_is_mandatory_and_immutable(reg: Registry) -> None:
    owner = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "db",
        "uid": "u",
        "controller": True,
    }
    rev = {
        "metadata": {"name": "db-7c9d", "ownerReferences": [owner]},
        "data": {"spec": {"template": {}}},
        "revision": 1,
    }
    made = await reg.create(REVS, "default", rev)
    assert REVS.cells(made, NOW) == ["db-7c9d", "statefulset.apps/db", 1, "0s"]
    made["revision"] = 3
    assert (await reg.update(REVS, "default", "db-7c9d", made))["revision"] == 3
    made = await reg.get(REVS, "default", "db-7c9d")
    made["data"] = {"other": True}
    with pytest.raises(Invalid) as err:
        await reg.update(REVS, "default", "db-7c9d", made)
    assert err.value.causes[0].field == "data"
    with pytest.raises(Invalid) as err:
        await reg.create(REVS, "default", {"metadata": {"name": "x"}, "revision": -1})
    assert [str(c) for c in err.value.causes] == [
        "data: Required value: data is mandatory",
        "revision: Invalid value: -1: must be greater than or equal to 0",
    ]
