"""The TokenRequest bodies ``kubectl create token`` sends (protobuf, bytes as kubectl 1.32
writes them), the request's defaults and the API server's validation texts."""

from __future__ import annotations

import pytest

from kubelite.api.errors import ApiError
from kubelite.api.protobuf import decode
from kubelite.api.tokenrequest import (
    BoundRef,
    TokenSpec,
    invalid_request,
    parse_spec,
    validate_seconds,
)

ENVELOPE = (
    b"k8s\x00" + bytes.fromhex("0a28") + b"\x0a\x18authentication.k8s.io/v1\x12\x0cTokenRequest"
)
META = bytes.fromhex("0a100a0012001a0022002a00320038004200")
TAIL = bytes.fromhex("1a040a0012001a002200")  # empty status, contentEncoding, contentType


def body(spec: bytes) -> bytes:
    raw = META + b"\x12" + bytes([len(spec)]) + spec + TAIL[:6]
    return ENVELOPE + b"\x12" + bytes([len(raw)]) + raw + TAIL[6:]


def test_a_bare_kubectl_create_token_decodes_to_an_empty_spec() -> None:
    got = decode(body(b""))
    assert got == {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "metadata": {},
        "spec": {},
    }
    assert parse_spec(got) == TokenSpec((), 3600, None)


def test_audiences_duration_and_the_bound_object_decode() -> None:
    spec = bytes.fromhex(
        "0a0261610a0262621a110a03506f64120276311a0278782202757520901c"
    )  # --audience=aa --audience=bb --bound-object-kind=Pod ... --duration=1h
    got = decode(body(spec))
    assert got["spec"] == {
        "audiences": ["aa", "bb"],
        "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "xx", "uid": "uu"},
        "expirationSeconds": 3600,
    }
    assert parse_spec(got) == TokenSpec(("aa", "bb"), 3600, BoundRef("Pod", "v1", "xx", "uu"))


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (599, "spec.expirationSeconds: Invalid value: 599: may not specify a duration less than "
              "10 minutes"),
        ((1 << 32) + 1, "spec.expirationSeconds: Invalid value: 4294967297: may not specify a "
                        "duration larger than 2^32 seconds"),
    ],
)  # fmt: skip
def test_lifetimes_out_of_range_are_refused_with_the_api_servers_text(
    seconds: int, message: str
) -> None:
    err = invalid_request("", validate_seconds(seconds))
    assert err.code == 422
    assert err.message == f'TokenRequest.authentication.k8s.io "" is invalid: {message}'
    assert err.details is not None
    assert (err.details["group"], err.details["kind"]) == ("authentication.k8s.io", "TokenRequest")


@pytest.mark.parametrize("seconds", [600, 3600, 3607, 1 << 32])
def test_lifetimes_in_range_are_accepted(seconds: int) -> None:
    assert validate_seconds(seconds) == []


@pytest.mark.parametrize(
    "spec",
    [{"expirationSeconds": "1h"}, {"audiences": "api"}, {"boundObjectRef": "pod"}, []],
)
def test_a_malformed_spec_is_a_bad_request(spec: object) -> None:
    with pytest.raises(ApiError) as caught:
        parse_spec({"spec": spec})
    assert caught.value.code == 400
