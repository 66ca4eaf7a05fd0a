"""The workload kinds' registry rules: defaulting, validation with the API server's causes,
kubectl's cells, the Scale view, and the finalizers a DELETE sets for the garbage
collector."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.registry.daemonsets import DAEMONSETS
from kubelite.registry.deployments import DEPLOYMENTS
from kubelite.registry.errors import Invalid, OperationConflict
from kubelite.registry.replicasets import REPLICASETS
from kubelite.registry.replicationcontrollers import REPLICATIONCONTROLLERS
from kubelite.registry.resource import Kind
from kubelite.registry.scale import apply_scale, scale_of
from kubelite.registry.service import gc_finalizers
from kubelite.registry.services import SERVICES

NOW = 1_700_000_000.0
TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "containers": [
            {"name": "nginx", "image": "nginx:1.25.3", "resources": {"limits": {"cpu": "1"}}}
        ]
    },
}


def workload(kind: str, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"template": copy.deepcopy(TEMPLATE), **spec},
    }
    if kind != "ReplicationController":
        body["spec"].setdefault("selector", {"matchLabels": {"app": "web"}})
    return body


def created(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    kind.prepare_create(out)
    return out


def messages(kind: Kind, obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in kind.validate(created(kind, obj))]


def test_a_deployment_gets_the_api_servers_defaults() -> None:
    d = created(DEPLOYMENTS, workload("Deployment"))
    spec = d["spec"]
    assert (spec["replicas"], spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (
        1,
        10,
        600,
    )
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert d["status"] == {}


def test_a_template_is_defaulted_as_a_pod_spec_but_not_as_a_pod() -> None:
    pod_spec = created(DEPLOYMENTS, workload("Deployment"))["spec"]["template"]["spec"]
    assert pod_spec == {
        "containers": [
            {
                "name": "nginx",
                "image": "nginx:1.25.3",
                "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "resources": {"limits": {"cpu": "1"}},
            }
        ],
        "restartPolicy": "Always",
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
    }


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        pytest.param(
            DEPLOYMENTS,
            workload("Deployment", replicas=-1),
            ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
            id="negative replicas",
        ),
        pytest.param(
            DEPLOYMENTS,
            workload("Deployment", selector={"matchLabels": {"app": "x"}}),
            [
                'spec.template.metadata.labels: Invalid value: map[string]string{"app":'
                '"web"}: `selector` does not match template `labels`'
            ],
            id="a selector that does not select the template",
        ),
        pytest.param(
            DEPLOYMENTS,
            workload("Deployment", selector={}),
            [
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]"
                "string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty "
                "selector is invalid for deployment"
            ],
            id="an empty selector",
        ),
        pytest.param(
            DEPLOYMENTS,
            {"metadata": {"name": "web"}, "spec": {"template": copy.deepcopy(TEMPLATE)}},
            ["spec.selector: Required value"],
            id="no selector",
        ),
        pytest.param(
            DEPLOYMENTS,
            workload(
                "Deployment",
                strategy={
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0},
                },
            ),
            [
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be "
                "0 when `maxSurge` is 0"
            ],
            id="no surge and no unavailability",
        ),
        pytest.param(
            DEPLOYMENTS,
            workload(
                "Deployment",
                strategy={
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "x%", "maxUnavailable": "150%"},
                },
            ),
            [
                'spec.strategy.rollingUpdate.maxSurge: Invalid value: "x%": a valid '
                "percent string must be a numeric string followed by an ending '%' (e.g. "
                "'1%',  or '93%', regex used for validation is '[0-9]+%')",
                'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must '
                "not be greater than 100%",
            ],
            id="bad percentages",
        ),
        pytest.param(
            DEPLOYMENTS,
            workload("Deployment", strategy={"type": "Recreate", "rollingUpdate": {}}),
            [
                "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy "
                "`type` is 'Recreate'"
            ],
            id="recreate with rolling parameters",
        ),
        pytest.param(
            DEPLOYMENTS,
            workload("Deployment", minReadySeconds=700),
            [
                "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than "
                "minReadySeconds"
            ],
            id="deadline not above minReadySeconds",
        ),
        pytest.param(
            REPLICASETS,
            workload("ReplicaSet", replicas=-2),
            ["spec.replicas: Invalid value: -2: must be greater than or equal to 0"],
            id="replicaset: negative replicas",
        ),
        pytest.param(
            REPLICATIONCONTROLLERS,
            workload("ReplicationController", selector={"app": "db"}),
            [
                'spec.template.metadata.labels: Invalid value: map[string]string{"app":'
                '"web"}: `selector` does not match template `labels`'
            ],
            id="rc: a selector that does not select the template",
        ),
        pytest.param(
            DAEMONSETS,
            workload(
                "DaemonSet",
                updateStrategy={
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1},
                },
            ),
            [
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be "
                "set when maxUnavailable is non-zero"
            ],
            id="daemonset: surge and unavailable",
        ),
    ],
)
def test_bad_workloads_get_the_api_servers_causes(
    kind: Kind, body: dict[str, Any], expected: list[str]
) -> None:
    assert messages(kind, body) == expected


def test_a_restart_policy_other_than_always_is_not_supported_in_a_replicated_template() -> None:
    body = workload("ReplicaSet")
    body["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert messages(REPLICASETS, body) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'
    ]


def test_a_pod_spec_error_is_reported_at_the_templates_path() -> None:
    body = workload("Deployment")
    body["spec"]["template"]["spec"]["containers"][0]["image"] = ""
    assert messages(DEPLOYMENTS, body) == ["spec.template.spec.containers[0].image: Required value"]


def test_an_apps_selector_never_changes_but_a_replication_controllers_may() -> None:
    old = created(DEPLOYMENTS, workload("Deployment"))
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "v": "2"}}
    new["spec"]["template"]["metadata"]["labels"]["v"] = "2"
    assert [str(e) for e in DEPLOYMENTS.validate_update(new, old)] == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":'
        '"web", "v":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is '
        "immutable"
    ]
    rc_old = created(REPLICATIONCONTROLLERS, workload("ReplicationController"))
    rc_new = copy.deepcopy(rc_old)
    rc_new["spec"]["selector"] = {"app": "web", "v": "2"}
    rc_new["spec"]["template"]["metadata"]["labels"]["v"] = "2"
    assert REPLICATIONCONTROLLERS.validate_update(rc_new, rc_old) == []


def test_a_replication_controller_takes_its_selector_and_labels_from_its_template() -> None:
    rc = created(REPLICATIONCONTROLLERS, workload("ReplicationController"))
    assert rc["spec"]["selector"] == {"app": "web"} and rc["metadata"]["labels"] == {"app": "web"}
    assert rc["spec"]["replicas"] == 1


def test_a_daemonset_counts_its_template_generations() -> None:
    ds = created(DAEMONSETS, workload("DaemonSet"))
    notes = ds["metadata"]["annotations"]
    assert notes == {"deprecated.daemonset.template.generation": "1"}
    assert ds["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    new = copy.deepcopy(ds)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    DAEMONSETS.prepare_update(new, ds, "")
    assert new["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"


def test_a_status_write_keeps_the_spec_and_labels_but_not_the_annotations() -> None:
    old = created(DEPLOYMENTS, workload("Deployment"))
    old["metadata"]["labels"] = {"team": "a"}
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 9
    new["metadata"]["labels"] = {"team": "b"}
    new["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    new["status"] = {"replicas": 1}
    DEPLOYMENTS.prepare_update(new, old, "status")
    assert new["spec"]["replicas"] == 1 and new["metadata"]["labels"] == {"team": "a"}
    assert new["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}


def test_a_deployments_generation_moves_with_its_annotations() -> None:
    old = created(DEPLOYMENTS, workload("Deployment"))
    new = copy.deepcopy(old)
    new["metadata"]["annotations"] = {"kubernetes.io/change-cause": "x"}
    assert DEPLOYMENTS.spec_changed(new, old) and not REPLICASETS.spec_changed(new, old)


@pytest.mark.parametrize(
    ("kind", "status", "cells"),
    [
        pytest.param(
            DEPLOYMENTS,
            {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1},
            ["web", "1/3", 2, 1, "0s", "nginx", "nginx:1.25.3", "app=web"],
            id="deployment: READY UP-TO-DATE AVAILABLE",
        ),
        pytest.param(
            REPLICASETS,
            {"replicas": 2, "readyReplicas": 1},
            ["web", 3, 2, 1, "0s", "nginx", "nginx:1.25.3", "app=web"],
            id="replicaset: DESIRED CURRENT READY",
        ),
        pytest.param(
            REPLICATIONCONTROLLERS,
            {"replicas": 3, "readyReplicas": 3},
            ["web", 3, 3, 3, "0s", "nginx", "nginx:1.25.3", "app=web"],
            id="replication controller",
        ),
        pytest.param(
            DAEMONSETS,
            {
                "desiredNumberScheduled": 1,
                "currentNumberScheduled": 1,
                "numberReady": 1,
                "updatedNumberScheduled": 1,
                "numberAvailable": 1,
            },
            ["web", 1, 1, 1, 1, 1, "<none>", "0s", "nginx", "nginx:1.25.3", "app=web"],
            id="daemonset",
        ),
    ],
)
def test_the_cells_are_kubectls(kind: Kind, status: dict[str, Any], cells: list[Any]) -> None:
    obj = created(kind, workload(kind.kind, replicas=3))
    obj["metadata"]["creationTimestamp"] = "2023-11-14T22:13:20Z"
    obj["status"] = status
    assert kind.cells(obj, NOW) == cells
    assert [c.name for c in kind.columns()][-3:] == ["Containers", "Images", "Selector"]


def test_the_scale_view_and_a_write_through_it() -> None:
    d = created(DEPLOYMENTS, workload("Deployment", replicas=2))
    d["metadata"].update(uid="u1", resourceVersion="7", creationTimestamp="2023-11-14T22:13:20Z")
    d["status"] = {"replicas": 2}
    assert scale_of(d) == {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "u1",
            "resourceVersion": "7",
            "creationTimestamp": "2023-11-14T22:13:20Z",
        },
        "spec": {"replicas": 2},
        "status": {"replicas": 2, "selector": "app=web"},
    }
    scaled = apply_scale(
        d, {"spec": {"replicas": 5}, "metadata": {"resourceVersion": "7"}}, "deployments.apps"
    )
    assert scaled["spec"]["replicas"] == 5 and scaled["metadata"]["resourceVersion"] == "7"
    with pytest.raises(Invalid) as bad:
        apply_scale(d, {"spec": {"replicas": -1}}, "deployments.apps")
    assert str(bad.value) == (
        'Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater '
        "than or equal to 0"
    )
    with pytest.raises(OperationConflict):
        apply_scale(d, {"spec": {"replicas": 1}, "metadata": {"uid": "other"}}, "deployments.apps")


@pytest.mark.parametrize(
    ("kind", "current", "policy", "expected"),
    [
        pytest.param(DEPLOYMENTS, [], None, [], id="default: background, no finalizer"),
        pytest.param(DEPLOYMENTS, [], "Background", [], id="background"),
        pytest.param(DEPLOYMENTS, [], "Foreground", ["foregroundDeletion"], id="foreground"),
        pytest.param(DEPLOYMENTS, ["x"], "Orphan", ["x", "orphan"], id="orphan, others kept"),
        pytest.param(
            REPLICATIONCONTROLLERS,
            [],
            None,
            ["orphan"],
            id="a replication controller orphans by default",
        ),
        pytest.param(REPLICATIONCONTROLLERS, [], "Background", [], id="unless asked otherwise"),
        pytest.param(
            DEPLOYMENTS,
            ["foregroundDeletion"],
            None,
            ["foregroundDeletion"],
            id="a finalizer already there decides",
        ),
        pytest.param(
            DEPLOYMENTS, ["foregroundDeletion"], "Background", [], id="a new policy replaces it"
        ),
        pytest.param(
            DEPLOYMENTS,
            ["orphan"],
            "Foreground",
            ["foregroundDeletion"],
            id="foreground replaces orphan",
        ),
        pytest.param(SERVICES, [], "Foreground", ["foregroundDeletion"], id="any kind"),
    ],
)
def test_a_delete_sets_the_garbage_collectors_finalizers(
    kind: Kind, current: list[str], policy: str | None, expected: list[str]
) -> None:
    assert gc_finalizers(kind, current, policy) == expected


def test_replicasets_and_replication_controllers_select_by_status_replicas() -> None:
    for kind in (REPLICASETS, REPLICATIONCONTROLLERS):
        obj = created(kind, workload(kind.kind))
        assert kind.field_getters()["status.replicas"](obj) == "0"
        obj["status"] = {"replicas": 2}
        assert kind.field_getters()["status.replicas"](obj) == "2"
