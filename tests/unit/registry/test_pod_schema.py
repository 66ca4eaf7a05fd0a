"""The api/v1 OpenAPI v3 document: well-formed, every $ref resolves, kubectl can use it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kubelite.registry.pod_schema import (
    ListSemantics,
    component_schemas,
    list_semantics,
    merge_keys,
    openapi_v3_document,
    openapi_v3_hash,
    openapi_v3_root,
    schema_name,
    unknown_fields,
)

DOC = openapi_v3_document("api/v1")
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]
KINDS = ["Pod", "ConfigMap", "Secret", "Namespace", "Event", "Node", "ServiceAccount"]


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "allOf" in schema:
        schema = SCHEMAS[schema["allOf"][0]["$ref"].removeprefix("#/components/schemas/")]
    return schema


def explain(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Walk ``pod.spec.containers`` the way kubectl explain does: (field schema, its type)."""
    kind, *fields = path.split(".")
    schema = SCHEMAS[schema_name(kind.capitalize())]
    field: dict[str, Any] = schema
    for name in fields:
        field = schema["properties"][name]
        target = field["items"] if field.get("type") == "array" else field
        schema = resolve(target)
    return field, schema


def test_document_is_json_and_openapi_3() -> None:
    assert json.loads(json.dumps(DOC)) == DOC
    assert DOC["openapi"].startswith("3.0")
    assert openapi_v3_document("v1") == DOC


def test_unknown_group_version_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        openapi_v3_document("apis/apps/v1")


def test_every_ref_resolves() -> None:
    for ref in refs(DOC):
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in SCHEMAS, ref


def test_every_definition_and_property_has_a_description() -> None:
    for name, schema in SCHEMAS.items():
        assert schema.get("description"), name
        for prop, body in (schema.get("properties") or {}).items():
            assert body.get("description"), f"{name}.{prop}"


def test_required_fields_are_declared_properties() -> None:
    for name, schema in SCHEMAS.items():
        for field in schema.get("required", []):
            assert field in schema["properties"], f"{name}.{field}"


@pytest.mark.parametrize("kind", KINDS)
def test_kinds_carry_their_gvk(kind: str) -> None:
    assert SCHEMAS[schema_name(kind)]["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": kind, "version": "v1"}
    ]


def test_every_patch_operation_has_gvk_and_field_validation() -> None:
    """kubectl-protocol §3.2: the first PATCH op for a GVK decides, so all must qualify."""
    patched = set()
    for path, item in DOC["paths"].items():
        op = item.get("patch")
        if op is None:
            continue
        names = {p["name"] for p in op["parameters"] if p["in"] == "query"}
        assert "fieldValidation" in names, path
        patched.add(op["x-kubernetes-group-version-kind"]["kind"])
        content = op["requestBody"]["content"]
        assert "application/strategic-merge-patch+json" not in content  # §3.3
        assert "application/apply-patch+yaml" in content
    assert patched == set(KINDS)
    assert "/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers" in DOC["paths"]


def test_strategic_merge_can_be_advertised() -> None:
    doc = openapi_v3_document(advertise_strategic_merge=True)
    op = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert "application/strategic-merge-patch+json" in op["requestBody"]["content"]


def test_root_index_points_at_the_hashed_document() -> None:
    url = openapi_v3_root()["paths"]["api/v1"]["serverRelativeURL"]
    assert url == f"/openapi/v3/api/v1?hash={openapi_v3_hash()}"


def test_explain_pod_spec_init_containers() -> None:
    field, container = explain("pod.spec.initContainers")
    assert field["type"] == "array"
    assert "sidecar" in field["description"]
    assert container["description"]
    assert container["required"] == ["name"]
    assert {"image", "restartPolicy", "livenessProbe", "lifecycle"} <= set(container["properties"])


def test_explain_pod_spec_containers_liveness_probe() -> None:
    field, probe = explain("pod.spec.containers.livenessProbe")
    assert "restarted" in field["description"]
    assert set(probe["properties"]) == {
        "exec",
        "failureThreshold",
        "grpc",
        "httpGet",
        "initialDelaySeconds",
        "periodSeconds",
        "successThreshold",
        "tcpSocket",
        "terminationGracePeriodSeconds",
        "timeoutSeconds",
    }
    port = explain("pod.spec.containers.livenessProbe.httpGet.port")[1]
    assert port["x-kubernetes-int-or-string"] is True


def test_merge_keys_for_strategic_merge() -> None:
    keys = merge_keys()
    assert keys["spec.containers"] == "name"
    assert keys["spec.initContainers"] == "name"
    assert keys["spec.containers[*].ports"] == "containerPort"
    assert keys["spec.containers[*].env"] == "name"
    assert keys["spec.containers[*].volumeMounts"] == "mountPath"
    assert keys["spec.volumes"] == "name"
    assert keys["status.conditions"] == "type"
    assert keys["metadata.ownerReferences"] == "uid"
    assert "spec.tolerations" not in keys  # replaced as a whole


def test_list_semantics_for_server_side_apply() -> None:
    pod = list_semantics("Pod")
    assert pod["spec.containers[*].ports"] == ListSemantics(
        "containerPort", "merge", "map", ("containerPort", "protocol")
    )
    assert pod["spec.volumes"].strategy == "merge,retainKeys"
    assert pod["metadata.finalizers"] == ListSemantics(None, "merge", "set", ())
    assert pod["spec.tolerations"].list_type == "atomic"


def test_unknown_fields_are_reported_with_their_paths() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"a": "b"}, "bogus": 1},
        "spec": {
            "containers": [
                {"name": "a", "image": "x", "resources": {"limits": {"cpu": "1"}}, "foo": 2},
            ],
            "affinity": {"anything": {"goes": True}},
            "nodeSelektor": {},
        },
    }
    assert unknown_fields("Pod", pod) == [
        "metadata.bogus",
        "spec.containers[0].foo",
        "spec.nodeSelektor",
    ]
    assert unknown_fields("ConfigMap", {"data": {"k": "v"}, "dta": {}}) == ["dta"]


def test_document_is_cached_but_callers_get_their_own_copy() -> None:
    doc = openapi_v3_document()
    doc["paths"].clear()
    assert openapi_v3_document()["paths"]


def test_component_schemas_match_the_document() -> None:
    assert component_schemas() == SCHEMAS
