"""Bootstrap tokens as the API server's authenticator, the bootstrap signer and the token
cleaner read them: the bearer token's form, the Secret's checks in upstream's order, expiry."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kubelite.model import bootstraptoken as bt

NOW = 1_700_000_000.0
TOKEN = bt.Token("abcdef", "0123456789abcdef")


def secret(**data: str) -> dict[str, Any]:
    base = {"token-id": "abcdef", "token-secret": "0123456789abcdef",
            "usage-bootstrap-authentication": "true"}  # fmt: skip
    base.update(data)
    return {
        "metadata": {"name": "bootstrap-token-abcdef", "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in base.items() if v},
    }


@pytest.mark.parametrize(
    ("case", "text", "expected"),
    [
        ("an id and a secret of the right lengths is a token", "abcdef.0123456789abcdef", TOKEN),
        ("upper case is not a bootstrap token", "ABCDEF.0123456789abcdef", None),
        ("a short secret is not a bootstrap token", "abcdef.0123456789", None),
        ("a service-account JWT is not a bootstrap token", "eyJhbGciOi.e30.sig", None),
        ("trailing text is not a bootstrap token", "abcdef.0123456789abcdef\n", None),
    ],
)
def test_a_bearer_token_is_a_bootstrap_token_only_in_its_exact_form(
    case: str, text: str, expected: bt.Token | None
) -> None:
    assert bt.parse_token(text) == expected


@pytest.mark.parametrize(
    ("case", "obj", "refusal"),
    [
        ("no secret refuses", None, "no secret of name bootstrap-token-abcdef"),
        ("another type refuses", {**secret(), "type": "Opaque"}, "has invalid type"),
        ("another secret refuses", secret(**{"token-secret": "ffffffffffffffff"}),
         "has invalid value for key token-secret."),
        ("a mismatched id refuses", secret(**{"token-id": "zzzzzz"}),
         "has invalid value for key token-id."),
        ("an expired token refuses", secret(expiration="2023-11-14T22:13:19Z"), "has expired."),
        ("an unparseable expiration refuses", secret(expiration="tomorrow"), "has expired."),
        ("a token not for authentication refuses",
         secret(**{"usage-bootstrap-authentication": "false"}),
         "not marked usage-bootstrap-authentication=true."),
        ("an extra group outside system:bootstrappers refuses",
         secret(**{"auth-extra-groups": "system:masters"}),
         "has invalid value for key auth-extra-groups"),
        ("a secret being deleted refuses",
         {**secret(), "metadata": {"name": "x", "deletionTimestamp": "2023-01-01T00:00:00Z"}},
         "is deleted and awaiting removal"),
    ],
)  # fmt: skip
def test_a_bootstrap_token_is_refused_when_its_secret_is_not_in_order(
    case: str, obj: dict[str, Any] | None, refusal: str
) -> None:
    result = bt.authenticate(TOKEN, obj, NOW)
    assert isinstance(result, bt.Refusal)
    assert result.reason.startswith(refusal)


def test_a_good_token_is_its_bootstrap_user_in_the_bootstrappers_and_extra_groups() -> None:
    groups = "system:bootstrappers:b,system:bootstrappers:a"
    obj = secret(expiration="2023-11-15T00:00:00Z", **{"auth-extra-groups": groups})
    assert bt.authenticate(TOKEN, obj, NOW) == bt.BootstrapUser(
        "system:bootstrap:abcdef",
        ("system:bootstrappers", "system:bootstrappers:a", "system:bootstrappers:b"),
    )


def test_a_token_expires_at_its_expiration_not_a_second_later() -> None:
    obj = secret(expiration="2023-11-14T22:13:20Z")  # NOW exactly
    assert bt.expired(obj, NOW)
    assert not bt.expired(obj, NOW - 1)
    assert not bt.expired(secret(), NOW + 10**9)  # no expiration: never


def test_the_secret_token_create_writes_authenticates_and_signs_until_it_expires() -> None:
    obj = bt.token_secret(TOKEN, now=NOW, ttl=3600)
    assert obj["metadata"] == {"name": "bootstrap-token-abcdef", "namespace": "kube-system"}
    assert bt.data_value(obj, "expiration") == "2023-11-14T23:13:20Z"
    user = bt.authenticate(TOKEN, obj, NOW)
    assert isinstance(user, bt.BootstrapUser)
    assert bt.NODE_TOKEN_GROUP in user.groups
    assert bt.signing_secret(obj, NOW) == TOKEN
    assert bt.signing_secret(obj, NOW + 3600) is None
    assert bt.data_value(bt.token_secret(TOKEN, now=NOW, ttl=0), "expiration") == ""


@pytest.mark.parametrize(
    ("case", "name", "expected"),
    [
        ("the name carries the id", "bootstrap-token-abcdef", "abcdef"),
        ("another prefix is not a token secret", "token-abcdef", None),
        ("a longer id is not a token secret", "bootstrap-token-abcdefg", None),
    ],
)
def test_the_token_id_is_read_from_the_secret_name(
    case: str, name: str, expected: str | None
) -> None:
    assert bt.id_from_secret_name(name) == expected


def test_new_tokens_are_random_and_well_formed() -> None:
    a, b = bt.new_token(), bt.new_token()
    assert a != b
    assert bt.parse_token(str(a)) == a
