"""validate_object_meta and the name-syntax checks: API server paths and messages (VAL-1, VAL-3)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.registry.meta_validation import (
    config_key_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    port_name_errors,
    qualified_name_errors,
    validate_object_meta,
    validate_object_meta_update,
)

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
NAME_PART_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def errors(meta: Any, namespaced: bool = True, **kw: Any) -> list[str]:
    return [str(e) for e in validate_object_meta(meta, namespaced, **kw)]


CASES: list[tuple[str, dict[str, Any], bool, list[str]]] = [
    ("a plain namespaced name is valid", {"name": "web", "namespace": "default"}, True, []),
    (
        "name or generateName is required",
        {"namespace": "default"},
        True,
        ["metadata.name: Required value: name or generateName is required"],
    ),
    ("generateName alone is enough", {"generateName": "web-", "namespace": "d"}, True, []),
    (
        "pod names are DNS subdomains",
        {"name": "Web_1", "namespace": "default"},
        True,
        [f'metadata.name: Invalid value: "Web_1": {SUBDOMAIN_MSG}'],
    ),
    ("dots are fine in a subdomain", {"name": "web.v1", "namespace": "default"}, True, []),
    (
        "namespaced objects need a namespace",
        {"name": "web"},
        True,
        ["metadata.namespace: Required value"],
    ),
    (
        "cluster-scoped objects may not have one",
        {"name": "demo", "namespace": "default"},
        False,
        ["metadata.namespace: Forbidden: not allowed on this type"],
    ),
    (
        "label keys and values",
        {"name": "w", "namespace": "d", "labels": {"-bad": "ok", "good": "bad value"}},
        True,
        [
            f'metadata.labels: Invalid value: "-bad": {NAME_PART_MSG}',
            f'metadata.labels: Invalid value: "bad value": {LABEL_VALUE_MSG}',
        ],
    ),
    (
        "a prefixed label key with an empty prefix",
        {"name": "w", "namespace": "d", "labels": {"/app": "x"}},
        True,
        ['metadata.labels: Invalid value: "/app": prefix part must be non-empty'],
    ),
    (
        "a label value over 63 characters",
        {"name": "w", "namespace": "d", "labels": {"a": "x" * 64}},
        True,
        [f'metadata.labels: Invalid value: "{"x" * 64}": must be no more than 63 characters'],
    ),
    (
        "annotation keys may use upper case",
        {"name": "w", "namespace": "d", "annotations": {"Example.com/Note": "anything at all"}},
        True,
        [],
    ),
    (
        "annotations are limited to 256 KiB in total",
        {"name": "w", "namespace": "d", "annotations": {"a": "x" * (256 * 1024)}},
        True,
        ["metadata.annotations: Too long: may not be more than 262144 bytes"],
    ),
    (
        "finalizers must be qualified or standard",
        {"name": "w", "namespace": "d", "finalizers": ["e2e.example.com/hold", "kubernetes", "x"]},
        True,
        [
            'metadata.finalizers[2]: Invalid value: "x": name is neither a standard finalizer '
            "name nor is it fully qualified"
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "meta", "namespaced", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_validate_object_meta(
    name: str, meta: dict[str, Any], namespaced: bool, expected: list[str]
) -> None:
    assert errors(meta, namespaced) == expected


def test_namespace_names_use_the_label_rule() -> None:
    assert errors({"name": "a.b"}, False, name_check=dns1123_label_errors) == [
        f'metadata.name: Invalid value: "a.b": {LABEL_MSG}'
    ]


def test_metadata_must_be_an_object() -> None:
    assert errors(None) == ["metadata: Required value"]


def test_identity_fields_are_immutable() -> None:
    old = {"name": "a", "namespace": "d", "uid": "1", "labels": {"x": "1"}}
    new = {"name": "a", "namespace": "d", "uid": "2", "labels": {"x": "2"}}
    assert [str(e) for e in validate_object_meta_update(new, old)] == [
        'metadata.uid: Invalid value: "2": field is immutable'
    ]


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        (dns1123_label_errors, "a" * 64, ["must be no more than 63 characters"]),
        (dns1123_label_errors, "ok-1", []),
        (dns1123_subdomain_errors, "a" * 254, ["must be no more than 253 characters"]),
        (qualified_name_errors, "example.com/app", []),
        (
            qualified_name_errors,
            "a/b/c",
            [
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
                "must start and end with an alphanumeric character (e.g. 'MyName',  or "
                "'my.name',  or '123-abc', regex used for validation is "
                "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain "
                "prefix and '/' (e.g. 'example.com/MyName')"
            ],
        ),
        (qualified_name_errors, "Bad_Prefix/x", [f"prefix part {SUBDOMAIN_MSG}"]),
        (config_key_errors, "..data", ["must not start with '..'"]),
        (config_key_errors, "app.conf", []),
        (port_name_errors, "http-8080", []),
        (port_name_errors, "8080", ["must contain at least one letter (a-z)"]),
    ],
)
def test_name_syntax(check: Any, value: str, expected: list[str]) -> None:
    assert check(value) == expected
