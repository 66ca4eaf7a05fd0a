"""default_pod fills in what the API server fills in (PR-3, TM-1, VAL-7/8/12/19, RES-1, VOL-9)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.registry.pod_defaults import (
    default_pod,
    image_pull_policy_for,
    prepare_pod_for_create,
)


def pod(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"containers": [{"name": "app", "image": "busybox:1.36"}]}
    base.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": base}


def test_pod_spec_defaults_match_a_real_api_server() -> None:
    spec = default_pod(pod())["spec"]
    assert spec["restartPolicy"] == "Always"
    assert spec["dnsPolicy"] == "ClusterFirst"
    assert spec["schedulerName"] == "default-scheduler"
    assert spec["securityContext"] == {}
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["enableServiceLinks"] is True
    assert spec["preemptionPolicy"] == "PreemptLowerPriority"
    assert spec["priority"] == 0
    # the name defaults in admission (create only), not on decode: mirror pods keep none
    assert "serviceAccountName" not in spec and "serviceAccount" not in spec
    assert spec["tolerations"] == [
        {
            "key": "node.kubernetes.io/not-ready",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
        {
            "key": "node.kubernetes.io/unreachable",
            "operator": "Exists",
            "effect": "NoExecute",
            "tolerationSeconds": 300,
        },
    ]
    assert "volumes" not in spec  # the token volume comes from admission, not defaulting


def test_container_defaults() -> None:
    c = default_pod(pod())["spec"]["containers"][0]
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"
    assert c["resources"] == {}


def test_explicit_values_are_kept() -> None:
    p = pod(restartPolicy="Never", terminationGracePeriodSeconds=5, serviceAccountName="robot")
    p["spec"]["containers"][0]["imagePullPolicy"] = "Never"
    spec = default_pod(p)["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["terminationGracePeriodSeconds"] == 5
    assert spec["serviceAccount"] == "robot"
    assert spec["containers"][0]["imagePullPolicy"] == "Never"


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ({"serviceAccount": "old"}, "old"),
        ({"serviceAccountName": "new", "serviceAccount": "old"}, "new"),
        ({"serviceAccountName": "new"}, "new"),
    ],
)
def test_the_deprecated_service_account_field_mirrors_the_name(
    given: dict[str, str], name: str
) -> None:
    spec = default_pod(pod(**given))["spec"]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == (name, name)


def test_negative_grace_period_is_treated_as_one() -> None:
    assert (
        default_pod(pod(terminationGracePeriodSeconds=-5))["spec"]["terminationGracePeriodSeconds"]
        == 1
    )


def test_existing_not_ready_toleration_is_not_duplicated() -> None:
    own = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}
    tolerations = default_pod(pod(tolerations=[own]))["spec"]["tolerations"]
    assert tolerations[0] == own
    assert [t["key"] for t in tolerations] == [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ]


def test_tolerate_everything_suppresses_default_tolerations() -> None:
    tolerations = default_pod(pod(tolerations=[{"operator": "Exists"}]))["spec"]["tolerations"]
    assert tolerations == [{"operator": "Exists"}]


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("busybox", "Always"),
        ("busybox:latest", "Always"),
        ("busybox:1.36", "IfNotPresent"),
        ("localhost:5000/busybox", "Always"),
        ("localhost:5000/busybox:1.36", "IfNotPresent"),
        ("localhost:5000/busybox:latest", "Always"),
        ("busybox@sha256:" + "a" * 64, "IfNotPresent"),
        ("busybox:1.36@sha256:" + "a" * 64, "IfNotPresent"),
        ("busybox:latest@sha256:" + "a" * 64, "Always"),
        ("registry.example:443/team/app", "Always"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert image_pull_policy_for(image) == policy


def test_probe_defaults_fill_zero_and_unset() -> None:
    p = pod()
    p["spec"]["containers"][0]["livenessProbe"] = {
        "httpGet": {"port": 8080},
        "periodSeconds": 0,
        "failureThreshold": 5,
    }
    probe = default_pod(p)["spec"]["containers"][0]["livenessProbe"]
    assert probe == {
        "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 5,
    }


def test_sidecar_and_init_containers_get_container_defaults() -> None:
    p = pod(initContainers=[{"name": "side", "image": "busybox", "restartPolicy": "Always"}])
    p["spec"]["initContainers"][0]["startupProbe"] = {"exec": {"command": ["true"]}}
    init = default_pod(p)["spec"]["initContainers"][0]
    assert init["imagePullPolicy"] == "Always"
    assert init["startupProbe"]["periodSeconds"] == 10
    assert init["terminationMessagePolicy"] == "File"


def test_lifecycle_http_get_gets_scheme_and_path() -> None:
    p = pod()
    p["spec"]["containers"][0]["lifecycle"] = {"preStop": {"httpGet": {"port": 80}}}
    hook = default_pod(p)["spec"]["containers"][0]["lifecycle"]["preStop"]["httpGet"]
    assert hook == {"port": 80, "path": "/", "scheme": "HTTP"}


def test_ports_default_to_tcp_and_host_network_copies_container_port() -> None:
    p = pod(hostNetwork=True)
    p["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    assert default_pod(p)["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP", "hostPort": 80}
    ]


def test_requests_default_from_limits_per_resource() -> None:
    p = pod()
    p["spec"]["containers"][0]["resources"] = {
        "limits": {"cpu": "1", "memory": "64Mi"},
        "requests": {"cpu": "250m"},
    }
    resources = default_pod(p)["spec"]["containers"][0]["resources"]
    assert resources["requests"] == {"cpu": "250m", "memory": "64Mi"}


def test_env_field_ref_gets_api_version() -> None:
    p = pod()
    p["spec"]["containers"][0]["env"] = [
        {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "C", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
    ]
    env = default_pod(p)["spec"]["containers"][0]["env"]
    assert env[0]["valueFrom"]["fieldRef"] == {"fieldPath": "metadata.name", "apiVersion": "v1"}
    assert env[1]["valueFrom"]["resourceFieldRef"]["divisor"] == "0"


def test_volume_defaults() -> None:
    p = pod(
        volumes=[
            {"name": "empty"},
            {"name": "cm", "configMap": {"name": "cfg"}},
            {"name": "sec", "secret": {"secretName": "s", "defaultMode": 256}},
            {
                "name": "dapi",
                "downwardAPI": {
                    "items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]
                },
            },
            {"name": "host", "hostPath": {"path": "/tmp"}},
            {"name": "proj", "projected": {"sources": []}},
        ]
    )
    volumes = default_pod(p)["spec"]["volumes"]
    assert volumes[0] == {"name": "empty", "emptyDir": {}}
    assert volumes[1]["configMap"]["defaultMode"] == 420
    assert volumes[2]["secret"]["defaultMode"] == 256
    assert volumes[3]["downwardAPI"]["defaultMode"] == 420
    assert volumes[3]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"] == "v1"
    assert volumes[4]["hostPath"]["type"] == ""
    assert volumes[5]["projected"]["defaultMode"] == 420


def test_default_pod_is_pure_and_idempotent() -> None:
    p = pod()
    before = copy.deepcopy(p)
    once = default_pod(p)
    assert p == before
    assert default_pod(once) == once


def test_prepare_for_create_resets_status_to_pending() -> None:
    p = pod()
    p["status"] = {"phase": "Running", "podIP": "10.0.0.1"}
    assert prepare_pod_for_create(p)["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_a_gated_pod_is_created_scheduling_gated() -> None:
    p = pod()
    p["spec"]["schedulingGates"] = [{"name": "example.com/quota"}]
    assert prepare_pod_for_create(p)["status"]["conditions"] == [
        {
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": None,
            "reason": "SchedulingGated",
            "message": "Scheduling is blocked due to non-empty scheduling gates",
        }
    ]


@pytest.mark.parametrize(
    ("resources", "qos"),
    [
        ({"limits": {"cpu": "1", "memory": "64Mi"}}, "Guaranteed"),  # RES-1: limits only
        ({"requests": {"cpu": "100m"}}, "Burstable"),
        ({"requests": {"cpu": "bogus"}}, None),
    ],
)
def test_prepare_for_create_sets_the_qos_class(resources: dict[str, Any], qos: str | None) -> None:
    p = pod()
    p["spec"]["containers"][0]["resources"] = resources
    assert prepare_pod_for_create(p)["status"].get("qosClass") == qos


def test_grpc_probe_service_defaults_to_empty() -> None:
    p = pod()
    p["spec"]["containers"][0]["readinessProbe"] = {"grpc": {"port": 9090}}
    probe = default_pod(p)["spec"]["containers"][0]["readinessProbe"]
    assert probe["grpc"] == {"port": 9090, "service": ""}
