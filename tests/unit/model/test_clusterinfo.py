"""The cluster-info ConfigMap and its detached JWS signatures, checked against the test
vectors cluster-bootstrap publishes for its ``jws`` package."""

from __future__ import annotations

import pytest

from kubelite.model import clusterinfo as ci
from kubelite.model.bootstraptoken import Token

CONTENT = "Hello from the other side. I must have called a thousand times."
JOSHUA = Token("joshua", "my voice is my passcode")


@pytest.mark.parametrize(
    ("case", "content", "token", "expected"),
    [
        ("content and secret", CONTENT, JOSHUA,
         "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8"),
        ("empty content", "", JOSHUA,
         "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk"),
        ("an empty secret is padded like any other", CONTENT, Token("joshua", ""),
         "eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8"),
    ],
)  # fmt: skip
def test_the_signature_is_cluster_bootstraps_byte_for_byte(
    case: str, content: str, token: Token, expected: str
) -> None:
    assert ci.detached_signature(content, token) == expected
    assert ci.signature_valid(expected, content, token)
    assert not ci.signature_valid(expected + "foo", content, token)


def test_signing_adds_one_signature_per_token_and_drops_stale_ones() -> None:
    cm = ci.config_map("https://10.0.0.1:6443", b"PEM")
    t1, t2 = Token("aaaaaa", "1" * 16), Token("bbbbbb", "2" * 16)
    data = ci.signed_data({**cm["data"], "jws-kubeconfig-cccccc": "old"}, {"aaaaaa": t1})
    assert data is not None
    assert set(data) == {"kubeconfig", "jws-kubeconfig-aaaaaa"}
    assert ci.signed_data(data, {"aaaaaa": t1}) is None  # nothing to write
    both = ci.signed_data(data, {"aaaaaa": t1, "bbbbbb": t2})
    assert both is not None and "jws-kubeconfig-bbbbbb" in both


def test_a_node_trusts_the_kubeconfig_only_with_a_good_signature_of_its_token() -> None:
    cm = ci.config_map("https://10.0.0.1:6443", b"-----BEGIN CERTIFICATE-----\n")
    token = Token("aaaaaa", "1" * 16)
    signed = {**cm, "data": ci.signed_data(cm["data"], {"aaaaaa": token})}
    content = ci.verified_content(signed, token)
    assert ci.cluster_of(content) == ("https://10.0.0.1:6443", b"-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(ci.DiscoveryError, match="token id 'bbbbbb' is invalid"):
        ci.verified_content(signed, Token("bbbbbb", "1" * 16))
    with pytest.raises(ci.DiscoveryError, match="can't trust this API Server"):
        ci.verified_content(signed, Token("aaaaaa", "2" * 16))
    with pytest.raises(ci.DiscoveryError, match="isn't set up for token bootstrapping"):
        ci.verified_content({"data": {}}, token)
