"""The API's limits and validation answered as kube-apiserver answers them (issue 11, item 5):
bodies too deep, numbers out of range, IDs, finalizers, owner references, ConfigMap size, bad
base64, delete options, stale or identity-changing patches, watch resourceVersions."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from kubelite.api.server import ApiServer
from kubelite.registry.pods import PODS
from tests.component.api.conftest import pod

PODS_URL = "/api/v1/namespaces/default/pods"
CM_URL = "/api/v1/namespaces/default/configmaps"
JSON = {"Content-Type": "application/json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


async def status_of(resp: Any) -> tuple[int, dict[str, Any]]:
    body = await resp.json()
    assert body["kind"] == "Status", body
    return resp.status, body


async def test_a_body_nested_a_hundred_thousand_deep_is_a_400_with_the_decoders_text(
    client: TestClient,
) -> None:
    deep = '{"apiVersion":"v1","kind":"Pod","metadata":' + "[" * 100_000 + "]" * 100_000 + "}"
    code, body = await status_of(await client.post(PODS_URL, data=deep, headers=JSON))
    assert (code, body["reason"]) == (400, "BadRequest")
    assert body["message"] == (
        "the object provided is unrecognized (must be of type Pod): couldn't get version/kind; "
        'json parse error: invalid character \'[\' exceeded max depth ({"apiVersion":"v1",'
        '"kind":"Pod ...)'
    )


@pytest.mark.parametrize(
    ("case", "headers", "prefix"),
    [
        ("a strategic merge patch", STRATEGIC, ""),
        ("a merge patch", MERGE, "error decoding patch: "),
        ("a JSON patch", JSON_PATCH, "error decoding patch: "),
    ],
)
async def test_a_deep_patch_is_a_400_worded_as_each_patcher_words_it(
    client: TestClient, case: str, headers: dict[str, str], prefix: str
) -> None:
    await client.post(PODS_URL, json=pod())
    deep = '{"metadata":' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}"
    code, body = await status_of(await client.patch(f"{PODS_URL}/web", data=deep, headers=headers))
    assert (code, body["message"]) == (400, prefix + "invalid character '{' exceeded max depth")


async def test_a_json_patch_that_nests_a_value_too_deep_is_invalid(client: TestClient) -> None:
    await client.post(PODS_URL, json=pod())
    value: Any = 1
    for _ in range(100):
        value = {"a": value}
    ops = [{"op": "add", "path": "/metadata/x", "value": value}]
    for _ in range(2):  # each add nests the value one level below the last
        ops.append({"op": "add", "path": "/metadata/x" + "/a" * 99, "value": value})
    code, body = await status_of(
        await client.patch(f"{PODS_URL}/web", data=json.dumps(ops), headers=JSON_PATCH)
    )
    assert (code, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "patch"
    assert body["message"].endswith(
        "couldn't get version/kind; json parse error: invalid character '{' exceeded max depth"
    )


async def test_a_json_patch_of_more_than_ten_thousand_operations_is_a_413(
    client: TestClient,
) -> None:
    await client.post(PODS_URL, json=pod())
    ops = [{"op": "add", "path": "/metadata/labels/x", "value": "y"}] * 10_001
    code, body = await status_of(
        await client.patch(f"{PODS_URL}/web", data=json.dumps(ops), headers=JSON_PATCH)
    )
    assert (code, body["message"]) == (
        413,
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, "
        "got 10001",
    )


async def test_a_body_over_three_mebibytes_is_a_413(client: TestClient) -> None:
    code, body = await status_of(
        await client.post(PODS_URL, data=io.BytesIO(b" " * (3 * 1024 * 1024 + 1)), headers=JSON)
    )
    assert (code, body["message"]) == (413, "Request entity too large: limit is 3145728")


@pytest.mark.parametrize(
    ("case", "spec", "message"),
    [
        (
            "a grace period beyond int64",
            {"terminationGracePeriodSeconds": 2**70},
            "json: cannot unmarshal number 1180591620717411303424 into Go struct field "
            "PodSpec.spec.terminationGracePeriodSeconds of type int64",
        ),
        (
            "a port beyond int32",
            {"containers": [{"name": "a", "image": "b", "ports": [{"containerPort": 2**31}]}]},
            "json: cannot unmarshal number 2147483648 into Go struct field "
            "ContainerPort.spec.containers.ports.containerPort of type int32",
        ),
        (
            "a fraction where an integer belongs",
            {"activeDeadlineSeconds": 1.5},
            "json: cannot unmarshal number 1.5 into Go struct field "
            "PodSpec.spec.activeDeadlineSeconds of type int64",
        ),
    ],
)
async def test_integers_out_of_their_go_type_are_refused_by_the_decoder(
    client: TestClient, case: str, spec: dict[str, Any], message: str
) -> None:
    code, body = await status_of(await client.post(PODS_URL, json=pod(**spec)))
    assert (code, body["message"]) == (
        400,
        f'Pod in version "v1" cannot be handled as a Pod: {message}',
    )


@pytest.mark.parametrize(
    ("case", "spec", "field", "value"),
    [
        ("a negative pod user", {"securityContext": {"runAsUser": -1}},
         "spec.securityContext.runAsUser", -1),
        ("a pod group past int32", {"securityContext": {"fsGroup": 2**40}},
         "spec.securityContext.fsGroup", 2**40),
        ("a supplemental group", {"securityContext": {"supplementalGroups": [0, -5]}},
         "spec.securityContext.supplementalGroups[1]", -5),
        ("a container user past int32",
         {"containers": [{"name": "a", "image": "b", "securityContext": {"runAsUser": 2**40}}]},
         "spec.containers[0].securityContext.runAsUser", 2**40),
    ],
)  # fmt: skip
async def test_user_and_group_ids_must_be_valid_unix_ids(
    client: TestClient, case: str, spec: dict[str, Any], field: str, value: int
) -> None:
    code, body = await status_of(await client.post(PODS_URL, json=pod(**spec)))
    assert code == 422
    assert body["message"] == (
        f'Pod "web" is invalid: {field}: Invalid value: {value}: must be between 0 and '
        "2147483647, inclusive"
    )


async def test_a_huge_grace_period_is_accepted_and_deleting_the_pod_still_works(
    client: TestClient, api: ApiServer
) -> None:
    resp = await client.post(PODS_URL, json=pod(terminationGracePeriodSeconds=300000000000))
    assert resp.status == 201
    bound = await api.registry.get(PODS, "default", "web")
    bound["spec"]["nodeName"] = "node"
    await api.registry.update(PODS, "default", "web", bound, subresource="binding")
    resp = await client.delete(f"{PODS_URL}/web")
    assert resp.status == 200, await resp.text()
    md = (await resp.json())["metadata"]
    assert md["deletionGracePeriodSeconds"] == 300000000000
    assert md["deletionTimestamp"][:4].isdigit()  # a date within ~292 years, as Go wraps it
    resp = await client.delete(f"{PODS_URL}/web", json={"gracePeriodSeconds": 0})
    assert resp.status == 200


async def test_a_quantity_too_large_for_a_float_is_kept_as_written(client: TestClient) -> None:
    body = json.dumps(pod(containers=[{"name": "a", "image": "b", "resources": {}}]))
    body = body.replace('"resources": {}', '"resources": {"limits": {"memory": 1e1000}}')
    resp = await client.post(PODS_URL, data=body, headers=JSON)
    assert resp.status == 201, await resp.text()
    limits = (await resp.json())["spec"]["containers"][0]["resources"]["limits"]
    assert limits == {"memory": "1e1000"}


async def test_an_invalid_finalizer_name_is_refused(client: TestClient) -> None:
    p = pod()
    p["metadata"]["finalizers"] = ["bad name!"]
    code, body = await status_of(await client.post(PODS_URL, json=p))
    assert code == 422
    assert body["message"].startswith(
        'Pod "web" is invalid: metadata.finalizers: Invalid value: "bad name!": name part must '
        "consist of alphanumeric characters"
    )


async def test_an_owner_reference_without_uid_is_refused(client: TestClient) -> None:
    p = pod()
    p["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Pod", "name": "x"}]
    code, body = await status_of(await client.post(PODS_URL, json=p))
    assert (code, body["message"]) == (
        422,
        'Pod "web" is invalid: metadata.ownerReferences[0].uid: Required value: must not be empty',
    )


async def test_a_configmap_over_one_mebibyte_is_too_long(client: TestClient) -> None:
    cm = {"metadata": {"name": "big"}, "data": {"a": "x" * (1024 * 1024 + 1)}}
    data = io.BytesIO(json.dumps(cm).encode())
    code, body = await status_of(await client.post(CM_URL, data=data, headers=JSON))
    assert (code, body["message"]) == (
        422,
        'ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes',
    )


async def test_bad_base64_in_binary_data_is_the_decoders_400(client: TestClient) -> None:
    cm = {"metadata": {"name": "bin"}, "binaryData": {"a": "ab!d"}}
    code, body = await status_of(await client.post(CM_URL, json=cm))
    assert (code, body["message"]) == (
        400,
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at '
        "input byte 2",
    )


async def test_an_unknown_propagation_policy_is_an_invalid_delete_options(
    client: TestClient,
) -> None:
    await client.post(PODS_URL, json=pod())
    code, body = await status_of(await client.delete(f"{PODS_URL}/web?propagationPolicy=Bogus"))
    assert (code, body["details"]["kind"], body["details"]["group"]) == (
        422,
        "DeleteOptions",
        "meta.k8s.io",
    )
    assert body["message"] == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Bogus": '
        'supported values: "Foreground", "Background", "Orphan", "nil"'
    )


@pytest.mark.parametrize("change", [{"labels": {"a": "b"}}, {}])
async def test_a_merge_patch_with_a_stale_resource_version_is_a_409(
    client: TestClient, change: dict[str, Any]
) -> None:
    created = await (await client.post(PODS_URL, json=pod())).json()
    await client.patch(f"{PODS_URL}/web", json={"metadata": {"labels": {"x": "y"}}}, headers=MERGE)
    stale = {"metadata": {"resourceVersion": created["metadata"]["resourceVersion"], **change}}
    code, body = await status_of(await client.patch(f"{PODS_URL}/web", json=stale, headers=MERGE))
    assert (code, body["reason"]) == (409, "Conflict")


async def test_a_patch_changing_the_uid_is_invalid(client: TestClient) -> None:
    await client.post(PODS_URL, json=pod())
    patch = {"metadata": {"uid": "xyz"}}
    code, body = await status_of(await client.patch(f"{PODS_URL}/web", json=patch, headers=MERGE))
    assert (code, body["message"]) == (
        422,
        'Pod "web" is invalid: metadata.uid: Invalid value: "xyz": field is immutable',
    )


async def test_a_replace_with_another_uid_fails_its_precondition(client: TestClient) -> None:
    created = await (await client.post(PODS_URL, json=pod())).json()
    created["metadata"]["uid"] = "xyz"
    code, body = await status_of(await client.put(f"{PODS_URL}/web", json=created))
    uid = (await (await client.get(f"{PODS_URL}/web")).json())["metadata"]["uid"]
    assert (code, body["message"]) == (
        409,
        'Operation cannot be fulfilled on pods "web": StorageError: invalid object, Code: 4, '
        "Key: /registry/pods/default/web, ResourceVersion: 0, AdditionalErrorMsg: "
        f"Precondition failed: UID in precondition: xyz, UID in object meta: {uid}",
    )


async def test_a_patch_without_a_resource_version_is_applied_again_after_a_race(
    client: TestClient, api: ApiServer
) -> None:
    await client.post(PODS_URL, json=pod())
    original_get = api.registry.get
    raced = False

    async def get_then_race(*args: Any, **kwargs: Any) -> Any:
        nonlocal raced
        got = await original_get(*args, **kwargs)
        if not raced:  # someone else writes between the patch's read and its write
            raced = True
            other = await original_get(*args, **kwargs)
            other["metadata"].setdefault("labels", {})["other"] = "1"
            await api.registry.update(PODS, "default", "web", other)
        return got

    api.registry.get = get_then_race  # type: ignore[method-assign]
    patch = {"metadata": {"labels": {"mine": "1"}}}
    resp = await client.patch(f"{PODS_URL}/web", json=patch, headers=MERGE)
    assert resp.status == 200, await resp.text()
    labels = (await resp.json())["metadata"]["labels"]
    assert labels["mine"] == "1" and labels["other"] == "1"


@pytest.mark.parametrize(
    ("rv", "reason"), [("-1", "invalid syntax"), ("99999999999999999999", "value out of range")]
)
async def test_a_watch_from_an_unparsable_resource_version_gets_the_watch_caches_answer(
    client: TestClient, rv: str, reason: str
) -> None:
    code, body = await status_of(await client.get(f"{PODS_URL}?watch=1&resourceVersion={rv}"))
    assert (code, "reason" in body) == (500, False)
    assert body["message"] == (
        f'resourceVersion: Invalid value: "{rv}": strconv.ParseUint: parsing "{rv}": {reason}'
    )


async def test_a_list_from_an_unparsable_resource_version_is_a_400(client: TestClient) -> None:
    code, body = await status_of(await client.get(f"{PODS_URL}?resourceVersion=-1"))
    assert (code, body["message"]) == (
        400,
        'invalid resource version: resourceVersion: Invalid value: "-1": strconv.ParseUint: '
        'parsing "-1": invalid syntax',
    )


async def test_the_server_keeps_serving_after_every_refusal(client: TestClient) -> None:
    deep = "[" * 50_000
    for _ in range(3):
        await client.post(PODS_URL, data=deep, headers=JSON)
    await asyncio.sleep(0)
    assert (await client.get(PODS_URL)).status == 200


async def test_an_apply_naming_a_stale_resource_version_is_a_409(client: TestClient) -> None:
    created = await (await client.post(PODS_URL, json=pod())).json()
    await client.patch(f"{PODS_URL}/web", json={"metadata": {"labels": {"x": "y"}}}, headers=MERGE)
    applied = pod()
    applied["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    resp = await client.patch(
        f"{PODS_URL}/web?fieldManager=me&force=true",
        data=json.dumps(applied),
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    code, body = await status_of(resp)
    assert (code, body["reason"]) == (409, "Conflict")
