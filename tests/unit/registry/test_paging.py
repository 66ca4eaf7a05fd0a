"""Continue tokens as the API server encodes and checks them."""

from __future__ import annotations

import base64
import json

import pytest

from kubelite.registry.paging import BadContinue, Continuation, decode, encode


def raw_token(body: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def test_a_token_is_unpadded_base64url_json_with_version_revision_and_start() -> None:
    token = encode("web\x00", 42)
    assert "=" not in token
    padded = token + "=" * (-len(token) % 4)
    assert (
        base64.urlsafe_b64decode(padded) == b'{"v":"meta.k8s.io/v1","rv":42,"start":"web\\u0000"}'
    )
    assert decode(token) == Continuation("web\x00", 42)


def test_a_token_to_continue_at_the_current_revision_carries_minus_one() -> None:
    assert decode(encode("default/web\x00", -1)) == Continuation("default/web\x00", -1)


@pytest.mark.parametrize(
    ("case", "token", "message"),
    [
        ("not base64", "!!!", "continue key is not valid: illegal base64 data at input byte 0"),
        (
            "a revision of zero",
            raw_token({"v": "meta.k8s.io/v1", "rv": 0, "start": "a"}),
            "continue key is not valid: incorrect encoded start resourceVersion "
            "(version meta.k8s.io/v1)",
        ),
        (
            "an empty start key",
            raw_token({"v": "meta.k8s.io/v1", "rv": 3, "start": ""}),
            "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)",
        ),
        (
            "an unknown version",
            raw_token({"v": "v9", "rv": 3, "start": "a"}),
            "continue key is not valid: server does not recognize this encoded version v9",
        ),
        (
            "a start key climbing out of its collection",
            raw_token({"v": "meta.k8s.io/v1", "rv": 3, "start": "../secrets/x"}),
            "continue key is not valid: ../secrets/x",
        ),
    ],
)
def test_bad_tokens_are_refused_with_the_api_servers_text(
    case: str, token: str, message: str
) -> None:
    with pytest.raises(BadContinue) as err:
        decode(token)
    assert str(err.value) == message
