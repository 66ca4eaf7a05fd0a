"""Object metadata rules shared by every kind."""

from __future__ import annotations

import pytest

from kubelite.registry.meta import validate_labels, validate_name, validate_object_meta
from kubelite.registry.meta_validation import dns1123_label_errors, dns1123_subdomain_errors


def _check(label: bool):  # type: ignore[no-untyped-def]
    return dns1123_label_errors if label else dns1123_subdomain_errors


@pytest.mark.parametrize(
    ("name", "label", "ok"),
    [
        ("web", True, True),
        ("web-1", True, True),
        ("a.b", True, False),
        ("a.b", False, True),
        ("Web", False, False),
        ("-web", False, False),
        ("x" * 63, True, True),
        ("x" * 64, True, False),
        ("x" * 253, False, True),
    ],
)
def test_names(name: str, label: bool, ok: bool) -> None:
    assert (validate_name(name, check=_check(label)) == []) is ok


def test_missing_name_message() -> None:
    [err] = validate_name("", check=_check(False))
    assert str(err) == "metadata.name: Required value: name or generateName is required"


def test_invalid_subdomain_message_is_the_api_servers() -> None:
    [err] = validate_name("Bad_Name", check=_check(False))
    assert err.message.startswith(
        'Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of'
    )


@pytest.mark.parametrize(
    ("labels", "ok"),
    [
        ({"app": "web"}, True),
        ({"example.com/app": "web"}, True),
        ({"app": ""}, True),
        ({"bad key": "x"}, False),
        ({"app": "bad value"}, False),
        ({"app": "x" * 64}, False),
        ({"/app": "x"}, False),
        (["not", "a", "map"], False),
    ],
)
def test_labels(labels: object, ok: bool) -> None:
    assert (validate_labels(labels) == []) is ok


def test_finalizers_must_be_strings() -> None:
    errs = validate_object_meta({"name": "x", "finalizers": [1]}, name_check=_check(False))
    assert [e.field for e in errs] == ["metadata.finalizers"]
