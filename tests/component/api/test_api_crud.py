"""Create, get, list, update, patch and delete through HTTP, with Kubernetes' status codes."""

from __future__ import annotations

import io
import json

from aiohttp.test_utils import TestClient

from tests.component.api.conftest import pod

PODS = "/api/v1/namespaces/default/pods"


async def test_create_then_get(client: TestClient) -> None:
    r = await client.post(PODS, json=pod())
    assert r.status == 201
    created = await r.json()
    assert created["metadata"]["uid"] and created["status"]["phase"] == "Pending"
    assert created["spec"]["restartPolicy"] == "Always"  # defaulted
    r = await client.get(f"{PODS}/web")
    assert (await r.json())["metadata"]["uid"] == created["metadata"]["uid"]


async def test_create_twice_is_409_already_exists(client: TestClient) -> None:
    await client.post(PODS, json=pod())
    r = await client.post(PODS, json=pod())
    body = await r.json()
    assert (r.status, body["reason"], body["message"]) == (
        409,
        "AlreadyExists",
        'pods "web" already exists',
    )


async def test_missing_namespace_is_404(client: TestClient) -> None:
    r = await client.post("/api/v1/namespaces/demo/pods", json=pod())
    body = await r.json()
    assert (r.status, body["message"]) == (404, 'namespaces "demo" not found')


async def test_invalid_pod_is_422_with_causes(client: TestClient) -> None:
    bad = pod("Bad_Name")
    r = await client.post(PODS, json=bad)
    body = await r.json()
    assert r.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["kind"] == "Pod"
    assert body["details"]["causes"][0]["field"] == "metadata.name"


async def test_an_invalid_object_of_a_named_group_is_named_by_its_group_kind(
    client: TestClient,
) -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "reader"}, "rules": [{}]}  # fmt: skip
    r = await client.post("/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", json=role)
    body = await r.json()
    assert r.status == 422
    assert body["message"].startswith('Role.rbac.authorization.k8s.io "reader" is invalid: ')
    assert (body["details"]["group"], body["details"]["kind"]) == (
        "rbac.authorization.k8s.io",
        "Role",
    )


async def test_malformed_json_is_400(client: TestClient) -> None:
    r = await client.post(PODS, data=b"{nope", headers={"Content-Type": "application/json"})
    assert r.status == 400 and (await r.json())["kind"] == "Status"


async def test_huge_body_is_413(client: TestClient) -> None:
    big = json.dumps(pod() | {"x": "a" * (3 * 1024 * 1024 + 10)})
    r = await client.post(
        PODS, data=io.BytesIO(big.encode()), headers={"Content-Type": "application/json"}
    )
    assert r.status == 413 and (await r.json())["reason"] == "RequestEntityTooLarge"


async def test_unknown_media_type_is_415(client: TestClient) -> None:
    r = await client.post(PODS, data=b"x", headers={"Content-Type": "text/csv"})
    assert r.status == 415


async def test_unknown_paths_are_404_status(client: TestClient) -> None:
    for path in ("/api/v1/widgets", "/apis/nope/v1/x", "/nothing"):
        r = await client.get(path)
        assert r.status == 404 and (await r.json())["kind"] == "Status"


async def test_list_with_label_and_field_selectors(client: TestClient) -> None:
    for n in ("a", "b"):
        await client.post(PODS, json=pod(n))
    r = await client.get(PODS, params={"labelSelector": "app=b"})
    body = await r.json()
    assert body["kind"] == "PodList"
    assert [p["metadata"]["name"] for p in body["items"]] == ["b"]
    r = await client.get("/api/v1/pods", params={"fieldSelector": "metadata.name=a"})
    assert [p["metadata"]["name"] for p in (await r.json())["items"]] == ["a"]
    r = await client.get(PODS, params={"fieldSelector": "spec.bogus=1"})
    assert r.status == 400


async def test_put_with_stale_resource_version_is_409_conflict(client: TestClient) -> None:
    created = await (await client.post(PODS, json=pod())).json()
    created["metadata"]["labels"]["v"] = "1"
    assert (await client.put(f"{PODS}/web", json=created)).status == 200
    created["metadata"]["labels"]["v"] = "2"
    r = await client.put(f"{PODS}/web", json=created)
    body = await r.json()
    assert r.status == 409 and body["reason"] == "Conflict"
    assert body["message"].startswith('Operation cannot be fulfilled on pods "web"')


async def test_patch_types(client: TestClient) -> None:
    await client.post(PODS, json=pod())
    cases = [
        (
            "application/json-patch+json",
            [{"op": "replace", "path": "/spec/containers/0/image", "value": "busybox:1.37"}],
        ),
        ("application/merge-patch+json", {"metadata": {"labels": {"m": "1"}}}),
        (
            "application/strategic-merge-patch+json",
            {"spec": {"containers": [{"name": "app", "image": "busybox:1.35"}]}},
        ),
    ]
    for ctype, body in cases:
        r = await client.patch(
            f"{PODS}/web", data=json.dumps(body), headers={"Content-Type": ctype}
        )
        assert r.status == 200, await r.text()
    got = await (await client.get(f"{PODS}/web")).json()
    assert got["spec"]["containers"][0]["image"] == "busybox:1.35"
    assert got["metadata"]["labels"]["m"] == "1"


async def test_spec_changes_other_than_image_are_forbidden(client: TestClient) -> None:
    await client.post(PODS, json=pod())
    r = await client.patch(
        f"{PODS}/web",
        data=json.dumps({"spec": {"restartPolicy": "Never"}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    body = await r.json()
    assert r.status == 422
    assert "pod updates may not change fields" in body["message"]


async def test_status_subresource_changes_only_status(client: TestClient) -> None:
    await client.post(PODS, json=pod())
    patch = {"status": {"phase": "Running"}, "metadata": {"labels": {"ignored": "1"}}}
    r = await client.patch(
        f"{PODS}/web/status",
        data=json.dumps(patch),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status == 200
    got = await (await client.get(f"{PODS}/web")).json()
    assert got["status"]["phase"] == "Running" and "ignored" not in got["metadata"]["labels"]
    # and the main resource cannot change status
    got["status"]["phase"] = "Failed"
    await client.put(f"{PODS}/web", json=got)
    assert (await (await client.get(f"{PODS}/web")).json())["status"]["phase"] == "Running"


async def test_server_side_apply_creates_then_merges(client: TestClient) -> None:
    headers = {"Content-Type": "application/apply-patch+yaml"}
    url = f"{PODS}/web?fieldManager=kubectl&force=false"
    r = await client.patch(url, data=json.dumps(pod()), headers=headers)
    assert r.status == 201
    applied = pod()
    applied["metadata"]["labels"]["extra"] = "1"
    r = await client.patch(url, data=json.dumps(applied), headers=headers)
    assert r.status == 200
    assert (await r.json())["metadata"]["labels"]["extra"] == "1"


async def test_field_validation_strict_warn_ignore(client: TestClient) -> None:
    bad = pod("fv")
    bad["spec"]["foo"] = 1
    r = await client.post(f"{PODS}?fieldValidation=Strict", json=bad)
    body = await r.json()
    assert r.status == 400
    assert body["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
        'unknown field "spec.foo"'
    )
    r = await client.post(f"{PODS}?fieldValidation=Warn", json=bad)
    assert r.status == 201
    assert r.headers.getall("Warning") == ['299 - "unknown field \\"spec.foo\\""']
    assert "foo" not in (await r.json())["spec"]
    bad["metadata"]["name"] = "fv2"
    r = await client.post(f"{PODS}?fieldValidation=Ignore", json=bad)
    assert r.status == 201 and "Warning" not in r.headers


async def test_wrongly_typed_fields_are_a_decoding_400(client: TestClient) -> None:
    bad = pod("typed")
    bad["spec"]["containers"][0]["name"] = 5
    r = await client.post(PODS, json=bad)
    body = await r.json()
    assert r.status == 400
    assert body["message"] == (
        'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into '
        "Go struct field Container.spec.containers.name of type string"
    )
    ok = pod("typed")
    ok["spec"]["containers"][0]["resources"] = {"limits": {"cpu": 1, "memory": "64Mi"}}
    ok["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    assert (await client.post(PODS, json=ok)).status == 201


async def test_server_side_apply_ownership(client: TestClient) -> None:
    headers = {"Content-Type": "application/apply-patch+yaml"}

    async def apply(manager: str, body: dict, force: bool = False):
        url = f"{PODS}/ssa?fieldManager={manager}&force={'true' if force else 'false'}"
        return await client.patch(url, data=json.dumps(body), headers=headers)

    first = pod("ssa")
    first["metadata"]["labels"] = {"a": "1", "gone": "x"}
    assert (await apply("one", first)).status == 201
    other = pod("ssa")
    other["metadata"]["labels"] = {}
    other["spec"]["containers"][0]["image"] = "busybox:1.37"
    r = await apply("two", other)
    body = await r.json()
    assert r.status == 409
    assert body["message"] == (
        'Apply failed with 1 conflict: conflict with "one" using v1: '
        '.spec.containers[name="app"].image'
    )
    assert body["details"]["causes"][0]["type"] == "FieldManagerConflict"
    assert (await apply("two", other, force=True)).status == 200
    assert (await apply("one", first)).status == 409  # "two" owns the image now
    # "one" now applies only a label: "gone", which only it owned, is removed
    r = await apply(
        "one",
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ssa", "labels": {"a": "1"}}},
    )
    got = await r.json()
    assert got["metadata"]["labels"] == {"a": "1"}
    assert got["spec"]["containers"][0]["image"] == "busybox:1.37"
    managers = {e["manager"] for e in got["metadata"]["managedFields"]}
    assert managers == {"one", "two"}


async def test_events_through_both_apis_are_the_same_objects(client: TestClient) -> None:
    new = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "e1"},
        "regarding": {"kind": "Pod", "name": "web"},
        "note": "hello",
        "reason": "Tested",
        "type": "Normal",
        "eventTime": "2025-01-01T00:00:00.000000Z",
        "reportingController": "me",
        "reportingInstance": "me-1",
        "action": "Test",
    }
    r = await client.post("/apis/events.k8s.io/v1/namespaces/default/events", json=new)
    assert r.status == 201, await r.text()
    assert (await r.json())["note"] == "hello"
    core = await (await client.get("/api/v1/namespaces/default/events/e1")).json()
    assert core["message"] == "hello" and core["involvedObject"]["name"] == "web"
    r = await client.get(
        "/apis/events.k8s.io/v1/namespaces/default/events",
        params={"fieldSelector": "regarding.name=web"},
    )
    assert [e["note"] for e in (await r.json())["items"]] == ["hello"]
