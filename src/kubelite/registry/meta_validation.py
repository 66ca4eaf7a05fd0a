"""Name syntax and ``metadata`` validation shared by every kind (pods, configmaps, secrets, …).

The ``*_errors`` functions return the bare detail messages the API server uses (one string per
broken rule, VAL-1); callers wrap each in a ``FieldError`` at the right path. The message texts are
the user-visible Kubernetes ones, so they are byte-exact, including the double space between
examples (VAL-3).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kubelite.model.fielderrors import FieldError, forbidden, invalid, required, too_long

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
ANNOTATIONS_TOTAL_MAX = 256 * 1024
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})

_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _LABEL_FMT + r"(\." + _LABEL_FMT + ")*"
_QUALIFIED_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _QUALIFIED_FMT + ")?"
_ENV_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_HEADER_FMT = "[-A-Za-z0-9]+"

_QUALIFIED_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)

NameCheck = Callable[[str], list[str]]


def max_len_message(limit: int) -> str:
    return f"must be no more than {limit} characters"


def regex_message(message: str, fmt: str, *examples: str) -> str:
    """``<message> (e.g. 'a',  or 'b', regex used for validation is '<fmt>')``."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    shown = ",  or ".join(f"'{e}'" for e in examples)
    return f"{message} (e.g. {shown}, regex used for validation is '{fmt}')"


def _full(fmt: str) -> re.Pattern[str]:
    return re.compile(f"^(?:{fmt})$")


_LABEL_RE = _full(_LABEL_FMT)
_SUBDOMAIN_RE = _full(_SUBDOMAIN_FMT)
_QUALIFIED_RE = _full(_QUALIFIED_FMT)
_LABEL_VALUE_RE = _full(_LABEL_VALUE_FMT)
_ENV_RE = _full(_ENV_FMT)
_CONFIG_KEY_RE = _full(_CONFIG_KEY_FMT)
_HEADER_RE = _full(_HEADER_FMT)
_PORT_NAME_CHARS_RE = re.compile(r"^[-a-z0-9]+$")
_HAS_LETTER_RE = re.compile(r"[a-z]")


def dns1123_label_errors(value: str) -> list[str]:
    """VAL-3: container, volume and namespace names."""
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(max_len_message(DNS1123_LABEL_MAX))
    if not _LABEL_RE.match(value):
        errs.append(
            regex_message(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
                "or '-', and must start and end with an alphanumeric character",
                _LABEL_FMT,
                "my-name",
                "123-abc",
            )
        )
    return errs


def dns1123_subdomain_errors(value: str) -> list[str]:
    """Names of pods, configmaps and secrets."""
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_message(DNS1123_SUBDOMAIN_MAX))
    if not _SUBDOMAIN_RE.match(value):
        errs.append(
            regex_message(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.', and must start and end with an alphanumeric character",
                _SUBDOMAIN_FMT,
                "example.com",
            )
        )
    return errs


def qualified_name_errors(value: str) -> list[str]:
    """Label and annotation keys, finalizers: ``[prefix/]name``."""
    parts = value.split("/")
    if len(parts) > 2:
        return [
            "a qualified name "
            + regex_message(_QUALIFIED_MSG, _QUALIFIED_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    errs: list[str] = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain_errors(prefix))
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > QUALIFIED_NAME_MAX:
        errs.append("name part " + max_len_message(QUALIFIED_NAME_MAX))
    if not _QUALIFIED_RE.match(name):
        errs.append(
            "name part "
            + regex_message(_QUALIFIED_MSG, _QUALIFIED_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def label_value_errors(value: str) -> list[str]:
    errs = []
    if len(value) > LABEL_VALUE_MAX:
        errs.append(max_len_message(LABEL_VALUE_MAX))
    if not _LABEL_VALUE_RE.match(value):
        errs.append(
            regex_message(
                "a valid label must be an empty string or consist of alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character",
                _LABEL_VALUE_FMT,
                "MyValue",
                "my_value",
                "12345",
            )
        )
    return errs


def env_var_name_errors(value: str, *, relaxed: bool = True) -> list[str]:
    """VAL-16: relaxed (v1.32+ default) allows any printable ASCII but ``=``."""
    if relaxed:
        if any(not (32 <= ord(ch) <= 126) or ch == "=" for ch in value):
            return [
                "a valid environment variable name must consist only of printable ASCII "
                "characters other than '='"
            ]
        return []
    if _ENV_RE.match(value):
        return []
    return [
        regex_message(
            "a valid environment variable name must consist of alphabetic characters, digits, "
            "'_', '-', or '.', and must not start with a digit",
            _ENV_FMT,
            "my.env-name",
            "MY_ENV.NAME",
            "MyEnvName1",
        )
    ]


def config_key_errors(value: str) -> list[str]:
    """Keys of configmaps and secrets, and ``configMapKeyRef.key``/``secretKeyRef.key``."""
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_message(DNS1123_SUBDOMAIN_MAX))
    if not _CONFIG_KEY_RE.match(value):
        errs.append(
            regex_message(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                _CONFIG_KEY_FMT,
                "key.name",
                "KEY_NAME",
                "key-name",
            )
        )
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def port_name_errors(value: str) -> list[str]:
    """VAL-12: an IANA service name."""
    errs = []
    if len(value) > 15:
        errs.append(max_len_message(15))
    if not _PORT_NAME_CHARS_RE.match(value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _HAS_LETTER_RE.search(value):
        errs.append("must contain at least one letter (a-z)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens (-)")
    if value.startswith("-") or value.endswith("-"):
        errs.append("must not begin or end with a hyphen (-)")
    return errs


def http_header_name_errors(value: str) -> list[str]:
    if _HEADER_RE.match(value):
        return []
    return [
        regex_message(
            "a valid HTTP header must consist of alphanumeric characters or '-'",
            _HEADER_FMT,
            "X-Header-Name",
        )
    ]


def check(path: str, value: str, messages: list[str]) -> list[FieldError]:
    """One ``Invalid value`` error per message (the API server reports them separately)."""
    return [invalid(path, value, m) for m in messages]


def validate_object_meta(
    meta: Any, namespaced: bool, *, name_check: NameCheck = dns1123_subdomain_errors
) -> list[FieldError]:
    """Create-time ``metadata`` rules. ``name_check`` is the kind's name syntax (namespaces use
    ``dns1123_label_errors``; pods, configmaps and secrets the default subdomain rule)."""
    if not isinstance(meta, dict):
        return [required("metadata")]
    errs: list[FieldError] = []
    name = meta.get("name") or ""
    generate = meta.get("generateName") or ""
    if generate:
        # A prefix may end with "-": the random suffix makes the name valid.
        errs += check("metadata.generateName", generate, name_check(generate.rstrip("-") or "a"))
    if name:
        errs += check("metadata.name", name, name_check(name))
    elif not generate:
        errs.append(required("metadata.name", "name or generateName is required"))
    namespace = meta.get("namespace") or ""
    if namespaced:
        if not namespace:
            errs.append(required("metadata.namespace"))
        else:
            errs += check("metadata.namespace", namespace, dns1123_label_errors(namespace))
    elif namespace:
        errs.append(forbidden("metadata.namespace", "not allowed on this type"))
    errs += validate_labels(meta.get("labels"), "metadata.labels")
    errs += validate_annotations(meta.get("annotations"), "metadata.annotations")
    errs += validate_finalizers(meta.get("finalizers"), "metadata.finalizers")
    return errs


def validate_object_meta_update(new: Any, old: Any) -> list[FieldError]:
    """Identity fields never change; the rest is checked as on create by the caller."""
    if not isinstance(new, dict) or not isinstance(old, dict):
        return []
    errs = []
    for field in ("name", "namespace", "uid", "creationTimestamp"):
        if old.get(field) and new.get(field) != old.get(field):
            errs.append(invalid(f"metadata.{field}", new.get(field), "field is immutable"))
    return errs


def validate_labels(labels: Any, path: str) -> list[FieldError]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [invalid(path, labels, "must be a map of string keys to string values")]
    errs: list[FieldError] = []
    for key, value in labels.items():
        errs += check(path, key, qualified_name_errors(str(key)))
        if not isinstance(value, str):
            errs.append(invalid(path, value, "must be a string"))
        else:
            errs += check(path, value, label_value_errors(value))
    return errs


def validate_annotations(annotations: Any, path: str) -> list[FieldError]:
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [invalid(path, annotations, "must be a map of string keys to string values")]
    errs: list[FieldError] = []
    total = 0
    for key, value in annotations.items():
        errs += check(path, key, qualified_name_errors(str(key).lower()))
        total += len(str(key)) + len(str(value))
    if total > ANNOTATIONS_TOTAL_MAX:
        errs.append(too_long(path, "", ANNOTATIONS_TOTAL_MAX))
    return errs


def validate_finalizers(finalizers: Any, path: str) -> list[FieldError]:
    if not isinstance(finalizers, list):
        return []
    errs: list[FieldError] = []
    for i, name in enumerate(finalizers):
        at = f"{path}[{i}]"
        messages = qualified_name_errors(str(name))
        if messages:
            errs += check(at, name, messages)
        elif "/" not in name and name not in STANDARD_FINALIZERS:
            errs.append(
                invalid(
                    at, name, "name is neither a standard finalizer name nor is it fully qualified"
                )
            )
    return errs
