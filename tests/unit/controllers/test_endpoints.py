"""The endpoint controllers' decisions: which pods are endpoints, with which ports and
conditions, in Endpoints subsets and in EndpointSlices."""

from __future__ import annotations

from typing import Any

from kubelite.controllers.endpoints import desired_endpoints
from kubelite.controllers.endpointslices import CONTROLLER, MAX_ENDPOINTS, desired_changes
from kubelite.model.service import ServiceView


def service(**spec: Any) -> ServiceView:
    body = {
        "selector": {"app": "db"},
        "clusterIP": "10.96.0.20",
        "ports": [{"name": "sql", "port": 5432, "targetPort": "sql", "protocol": "TCP"}],
    }
    body.update(spec)
    return ServiceView.of(
        {
            "metadata": {
                "namespace": "shop",
                "name": "db",
                "uid": "s1",
                "labels": {"tier": "data"},
            },
            "spec": body,
        }
    )


def pod(
    name: str,
    ip: str,
    *,
    ready: bool = True,
    labels: dict[str, str] | None = None,
    deleting: bool = False,
    phase: str = "Running",
    port_name: str = "sql",
    **spec: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "namespace": "shop",
        "name": name,
        "uid": f"u-{name}",
        "labels": labels or {"app": "db"},
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {
                    "name": "c",
                    "ports": [{"name": port_name, "containerPort": 5433, "protocol": "TCP"}],
                }
            ],
            **spec,
        },
        "status": {
            "phase": phase,
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def test_ready_and_not_ready_pods_fill_addresses_and_not_ready_addresses() -> None:
    pods = [
        pod("b", "10.244.0.10"),
        pod("a", "10.244.0.9", ready=False),
        pod("x", "10.244.0.8", labels={"app": "web"}),
    ]
    eps = desired_endpoints(service(), pods)
    assert eps is not None
    assert eps["metadata"] == {"name": "db", "namespace": "shop", "labels": {"tier": "data"}}
    (subset,) = eps["subsets"]
    assert [a["ip"] for a in subset["addresses"]] == ["10.244.0.10"]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["10.244.0.9"]
    assert subset["ports"] == [{"port": 5433, "protocol": "TCP", "name": "sql"}]
    assert subset["addresses"][0]["targetRef"] == {
        "kind": "Pod",
        "namespace": "shop",
        "name": "b",
        "uid": "u-b",
    }


def test_pods_without_an_ip_terminal_or_being_deleted_are_not_endpoints() -> None:
    pods = [
        pod("a", ""),
        pod("b", "10.244.0.2", phase="Succeeded"),
        pod("c", "10.244.0.3", deleting=True),
    ]
    eps = desired_endpoints(service(), pods)
    assert eps is not None and eps["subsets"] == []


def test_a_pod_without_the_named_target_port_serves_nothing() -> None:
    eps = desired_endpoints(service(), [pod("a", "10.244.0.2", port_name="other")])
    assert eps is not None and eps["subsets"] == []


def test_a_service_without_a_selector_is_not_managed() -> None:
    assert desired_endpoints(service(selector=None), [pod("a", "10.244.0.2")]) is None
    assert desired_changes(service(selector=None), [pod("a", "10.244.0.2")], []).empty


def test_publish_not_ready_addresses_makes_every_pod_ready() -> None:
    eps = desired_endpoints(
        service(publishNotReadyAddresses=True), [pod("a", "10.244.0.2", ready=False)]
    )
    assert eps is not None and [a["ip"] for a in eps["subsets"][0]["addresses"]] == ["10.244.0.2"]


def test_a_headless_service_member_with_the_subdomain_gets_its_hostname() -> None:
    svc = service(clusterIP="None")
    eps = desired_endpoints(svc, [pod("a", "10.244.0.2", hostname="db-0", subdomain="db")])
    assert eps is not None
    assert eps["metadata"]["labels"]["service.kubernetes.io/headless"] == ""
    assert eps["subsets"][0]["addresses"][0]["hostname"] == "db-0"


def test_a_new_service_gets_one_slice_with_conditions_and_owner() -> None:
    pods = [pod("a", "10.244.0.2"), pod("b", "10.244.0.3", deleting=True)]
    changes = desired_changes(service(), pods, [])
    (made,) = changes.create
    assert made["metadata"]["generateName"] == "db-"
    assert made["metadata"]["labels"] == {
        "tier": "data",
        "kubernetes.io/service-name": "db",
        "endpointslice.kubernetes.io/managed-by": CONTROLLER,
    }
    assert made["metadata"]["ownerReferences"][0]["uid"] == "s1"
    assert made["ports"] == [{"name": "sql", "port": 5433, "protocol": "TCP"}]
    assert [e["conditions"] for e in made["endpoints"]] == [
        {"ready": True, "serving": True, "terminating": False},
        {"ready": False, "serving": True, "terminating": True},
    ]


def test_a_service_with_no_endpoints_keeps_one_empty_placeholder_slice() -> None:
    (made,) = desired_changes(service(), [], []).create
    assert made["endpoints"] == [] and made["ports"] == []


def _as_existing(obj: dict[str, Any], name: str) -> dict[str, Any]:
    meta = {**obj["metadata"], "name": name, "resourceVersion": "7"}
    meta.pop("generateName", None)
    return {**obj, "metadata": meta}


def test_an_unchanged_slice_is_left_alone_and_a_changed_one_updated_in_place() -> None:
    made = desired_changes(service(), [pod("a", "10.244.0.2")], []).create[0]
    existing = [_as_existing(made, "db-abcde")]
    assert desired_changes(service(), [pod("a", "10.244.0.2")], existing).empty
    changes = desired_changes(service(), [pod("a", "10.244.0.2"), pod("b", "10.244.0.3")], existing)
    (updated,) = changes.update
    assert updated["metadata"]["name"] == "db-abcde"
    assert [e["addresses"] for e in updated["endpoints"]] == [["10.244.0.2"], ["10.244.0.3"]]
    assert not changes.create and not changes.delete


def test_more_than_a_hundred_endpoints_take_several_slices_and_extra_slices_go() -> None:
    pods = [pod(f"p{i}", f"10.244.{i // 250}.{i % 250 + 1}") for i in range(MAX_ENDPOINTS + 1)]
    changes = desired_changes(service(), pods, [])
    assert [len(s["endpoints"]) for s in changes.create] == [MAX_ENDPOINTS, 1]
    existing = [_as_existing(s, f"db-{i}") for i, s in enumerate(changes.create)]
    shrink = desired_changes(service(), pods[:1], existing)
    assert shrink.delete == ["db-1"] and len(shrink.update) == 1
