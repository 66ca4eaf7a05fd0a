"""Fuzzing the request-decoding path (issue 11, item 9), with Hypothesis, in bounded time.

Two targets: the decoders themselves (JSON and YAML bodies, type checking against the schema,
base64 of ``[]byte`` fields, continue tokens, quantities), fed arbitrary bytes and arbitrary JSON
documents, which may only return or raise their own error types; and the whole HTTP path of
create and the three patch types, fed pods with one field replaced by arbitrary JSON and
arbitrary patches, which must answer below 500, with a Status for every refusal. The example
counts keep the module within about a minute (``FUZZ_EXAMPLES`` scales them).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubelite.api import typecheck
from kubelite.api.bodies import Undecodable, parse_json, parse_yaml
from kubelite.api.errors import ApiError
from kubelite.api.server import ApiServer
from kubelite.model import gobase64
from kubelite.model.quantity import QuantityError, parse_quantity
from kubelite.registry import paging
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.configmaps import CONFIGMAPS
from kubelite.registry.pods import PODS
from kubelite.store.memory import MemoryStore

SCALE = float(os.environ.get("FUZZ_EXAMPLES", "1"))


def examples(n: int) -> int:
    return max(10, int(n * SCALE))


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
DECODE_ERRORS = (ApiError, Undecodable)


@settings(max_examples=examples(1500), deadline=None, database=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_decode_or_are_refused_with_a_status(raw: bytes) -> None:
    for parse in (parse_json, parse_yaml):
        try:
            parse(raw)
        except DECODE_ERRORS:
            pass


@settings(max_examples=examples(300), deadline=None, database=None)
@given(st.sampled_from("[{"), st.integers(min_value=1, max_value=30_000), st.binary(max_size=8))
def test_any_nesting_depth_decodes_or_is_a_nesting_error(
    opening: str, depth: int, tail: bytes
) -> None:
    closing = "]" if opening == "[" else "}"
    body = (opening + ('"k":' if opening == "{" else "")) * depth
    raw = body.encode() + b"1" + (closing * depth).encode() + tail
    try:
        parse_json(raw)
    except DECODE_ERRORS:
        pass


@settings(max_examples=examples(1000), deadline=None, database=None)
@given(JSON_VALUES)
def test_any_json_document_round_trips_through_the_decoder(value: Any) -> None:
    assert parse_json(json.dumps(value).encode()) == value


@settings(max_examples=examples(1000), deadline=None, database=None)
@given(st.dictionaries(st.sampled_from(["spec", "metadata", "status", "x"]), JSON_VALUES))
def test_type_checking_any_document_answers_a_400_or_nothing(doc: dict[str, Any]) -> None:
    for kind in (PODS, CONFIGMAPS):
        try:
            typecheck.check(kind, doc)
        except ApiError as err:
            assert err.code == 400


@settings(max_examples=examples(1000), deadline=None, database=None)
@given(st.text(max_size=64) | st.binary(max_size=48).map(lambda b: base64.b64encode(b).decode()))
def test_base64_decodes_or_names_a_byte_offset(text: str) -> None:
    try:
        gobase64.decode(text)
    except gobase64.CorruptInput as err:
        assert 0 <= err.offset <= len(text.encode())


@settings(max_examples=examples(1000), deadline=None, database=None)
@given(st.text(max_size=80))
def test_continue_tokens_decode_or_are_refused(token: str) -> None:
    try:
        paging.decode(token)
    except paging.BadContinue:
        pass


@settings(max_examples=examples(1000), deadline=None, database=None)
@given(st.from_regex(r"[+-]?[0-9.]{1,30}([eEinumkKMGTP]{0,2}[-+]?[0-9]{0,12})?", fullmatch=True))
def test_quantities_parse_or_are_refused_quickly(text: str) -> None:
    try:
        parse_quantity(text)
    except QuantityError:
        pass


# -- the HTTP path -------------------------------------------------------------------------------
PODS_URL = "/api/v1/namespaces/default/pods"
PATHS = [
    ("metadata",), ("metadata", "name"), ("metadata", "labels"), ("metadata", "finalizers"),
    ("metadata", "ownerReferences"), ("spec",), ("spec", "containers"),
    ("spec", "containers", 0), ("spec", "containers", 0, "ports"),
    ("spec", "containers", 0, "resources"), ("spec", "containers", 0, "securityContext"),
    ("spec", "securityContext"), ("spec", "terminationGracePeriodSeconds"), ("spec", "volumes"),
    ("spec", "initContainers"), ("spec", "activeDeadlineSeconds"), ("spec", "tolerations"),
]  # fmt: skip
PATCH_TYPES = [
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
]


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "x"}},
        "spec": {
            "containers": [{"name": "c", "image": "busybox", "ports": [{"containerPort": 80}]}]
        },
    }


def replaced(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(doc))
    cur = out
    for step in path[:-1]:
        cur = cur[step]
    cur[path[-1]] = value
    return out


@pytest.fixture(scope="module")
def counter() -> list[int]:
    return [0]


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    api = ApiServer(store=MemoryStore(), require_auth=False)
    await bootstrap(api.registry)
    async with TestClient(TestServer(api.app)) as c:
        yield c


async def assert_answer(resp: Any) -> None:
    assert resp.status < 500, await resp.text()
    if resp.status >= 400:
        body = await resp.json()
        assert body["kind"] == "Status" and body["code"] == resp.status


@settings(
    max_examples=examples(250),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(path=st.sampled_from(PATHS), value=JSON_VALUES)
async def test_a_pod_with_any_field_replaced_is_created_or_refused_with_a_status(
    client: TestClient, counter: list[int], path: tuple[Any, ...], value: Any
) -> None:
    counter[0] += 1
    body = replaced(pod(f"p{counter[0]}"), path, value)
    await assert_answer(await client.post(PODS_URL, json=body))


@settings(
    max_examples=examples(250),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ctype=st.sampled_from(PATCH_TYPES), patch=JSON_VALUES)
async def test_any_patch_is_applied_or_refused_with_a_status(
    client: TestClient, counter: list[int], ctype: str, patch: Any
) -> None:
    counter[0] += 1
    name = f"p{counter[0]}"
    assert (await client.post(PODS_URL, json=pod(name))).status == 201
    resp = await client.patch(
        f"{PODS_URL}/{name}", data=json.dumps(patch), headers={"Content-Type": ctype}
    )
    await assert_answer(resp)
