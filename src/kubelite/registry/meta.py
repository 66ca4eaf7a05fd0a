"""Object metadata rules shared by every kind: names, labels, annotations, system fields.

The messages are the API server's own wording (``Invalid value: "X": a lowercase RFC 1123 …``),
because kubectl prints them verbatim.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from kubelite.clock import rfc3339
from kubelite.model.fielderrors import INVALID, FieldError, invalid, required, too_long
from kubelite.registry.meta_validation import dns1123_subdomain_errors

_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QNAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_QNAME_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
TOTAL_ANNOTATION_BYTES = 256 * 1024


def qualified_name_errors(value: str) -> list[str]:
    """A label or annotation key: optional ``prefix/`` (a DNS subdomain) and a name part."""
    prefix, _, name = value.rpartition("/")
    out = []
    if "/" in value and not prefix:
        out.append("prefix part must be non-empty")
    elif prefix:
        out += ["prefix part " + m for m in dns1123_subdomain_errors(prefix)]
    if not name:
        out.append("name part must be non-empty")
    else:
        if len(name) > 63:
            out.append("name part must be no more than 63 characters")
        if not _QNAME_RE.match(name):
            out.append(_QNAME_MSG)
    return out


NameCheck = Callable[[str], list[str]]


def validate_name(name: Any, *, check: NameCheck, path: str = "metadata.name") -> list[FieldError]:
    """A name by its kind's own rule (``Kind.name_errors``)."""
    if not name:
        return [required(path, "name or generateName is required")]
    if not isinstance(name, str):
        return [invalid(path, name, "must be a string")]
    return [invalid(path, name, m) for m in check(name)]


def validate_labels(labels: Any, path: str = "metadata.labels") -> list[FieldError]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [invalid(path, labels, "must be a map of string to string")]
    errs = []
    for k, v in labels.items():
        errs += [invalid(path, k, m) for m in qualified_name_errors(str(k))]
        if not isinstance(v, str):
            errs.append(invalid(f"{path}", v, "must be a string"))
            continue
        if len(v) > 63:
            errs.append(invalid(path, v, "must be no more than 63 characters"))
        if not _LABEL_VALUE_RE.match(v):
            errs.append(invalid(path, v, _LABEL_VALUE_MSG))
    return errs


def validate_annotations(ann: Any, path: str = "metadata.annotations") -> list[FieldError]:
    if ann is None:
        return []
    if not isinstance(ann, dict):
        return [invalid(path, ann, "must be a map of string to string")]
    errs = []
    total = 0
    for k, v in ann.items():
        errs += [invalid(path, k, m) for m in qualified_name_errors(str(k))]
        if not isinstance(v, str):
            errs.append(invalid(path, v, "must be a string"))
            continue
        total += len(k) + len(v)
    if total > TOTAL_ANNOTATION_BYTES:
        errs.append(too_long(path, "", TOTAL_ANNOTATION_BYTES))
    return errs


def validate_object_meta(meta: dict[str, Any], *, name_check: NameCheck) -> list[FieldError]:
    """Name (by the kind's rule), labels, annotations, owner references and finalizers."""
    errs = validate_name(meta.get("name"), check=name_check)
    errs += validate_labels(meta.get("labels"))
    errs += validate_annotations(meta.get("annotations"))
    errs += validate_owner_references(meta.get("ownerReferences"))
    fin = meta.get("finalizers")
    if fin is not None and not (isinstance(fin, list) and all(isinstance(f, str) for f in fin)):
        errs.append(invalid("metadata.finalizers", fin, "must be a list of strings"))
    else:
        errs += validate_finalizers(fin or [])
    return errs


ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"


def validate_finalizers(
    finalizers: list[str], path: str = "metadata.finalizers"
) -> list[FieldError]:
    """Each a qualified name (reported at the list's path, as the API server does), and not
    both ``orphan`` and ``foregroundDeletion``."""
    errs = [invalid(path, f, msg) for f in finalizers for msg in qualified_name_errors(f)]
    if ORPHAN_FINALIZER in finalizers and FOREGROUND_FINALIZER in finalizers:
        errs.append(
            invalid(
                path,
                finalizers,
                f"finalizer {ORPHAN_FINALIZER} and {FOREGROUND_FINALIZER} cannot be both set",
            )
        )
    return errs


def validate_owner_references(
    refs: Any, path: str = "metadata.ownerReferences"
) -> list[FieldError]:
    """Each names its owner fully (apiVersion, kind, name, uid); at most one is the
    controller. An Event is never an owner."""
    if not isinstance(refs, list):
        return []
    errs: list[FieldError] = []
    controller = ""
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict):
            continue
        at = f"{path}[{i}]"
        api_version = str(ref.get("apiVersion") or "")
        if not api_version:
            errs.append(required(f"{at}.apiVersion", "must not be empty"))
        elif not _group_version_ok(api_version):
            errs.append(
                invalid(f"{at}.apiVersion", api_version, "must be <group>/<version> or <version>")
            )
        for field in ("kind", "name", "uid"):
            if not ref.get(field):
                errs.append(required(f"{at}.{field}", "must not be empty"))
        if api_version == "v1" and ref.get("kind") == "Event":
            detail = "/v1, Kind=Event is disallowed from being an owner"
            shown = _go_owner_reference(ref)
            errs.append(FieldError(INVALID, at, f"Invalid value: {shown}: {detail}"))
        if ref.get("controller") is True:
            name = f"{ref.get('kind', '')}/{ref.get('name', '')}"
            if controller:
                detail = (
                    'Only one reference can have Controller set to true. Found "true" in '
                    f"references for {controller} and {name}"
                )
                shown = (
                    "[]v1.OwnerReference{"
                    + ", ".join(_go_owner_reference(r) for r in refs if isinstance(r, dict))
                    + "}"
                )
                errs.append(FieldError(INVALID, path, f"Invalid value: {shown}: {detail}"))
            else:
                controller = name
    return errs


def _group_version_ok(api_version: str) -> bool:
    """``schema.ParseGroupVersion``: ``<version>`` or ``<group>/<version>``, both non-empty."""
    parts = api_version.split("/")
    return len(parts) == 1 or (len(parts) == 2 and bool(parts[1]))


def _go_owner_reference(ref: dict[str, Any]) -> str:
    """How Go prints the OwnerReference value in that message (``%#v``)."""

    def ptr(key: str) -> str:
        return "(*bool)(nil)" if ref.get(key) is None else f"&{str(ref[key]).lower()}"

    return (
        f'v1.OwnerReference{{APIVersion:"{ref.get("apiVersion", "")}", '
        f'Kind:"{ref.get("kind", "")}", Name:"{ref.get("name", "")}", '
        f'UID:"{ref.get("uid", "")}", Controller:{ptr("controller")}, '
        f"BlockOwnerDeletion:{ptr('blockOwnerDeletion')}}}"
    )


def generate_name(base: str) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return base[:58] + "".join(secrets.choice(alphabet) for _ in range(5))


def stamp_new(meta: dict[str, Any], now: float) -> None:
    """System fields of a freshly created object; anything the client sent for them is replaced."""
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = rfc3339(now)
    meta["generation"] = 1
    for f in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion", "selfLink"):
        meta.pop(f, None)


SYSTEM_FIELDS = (
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "namespace",
    "name",
)


def carry_system_fields(new_meta: dict[str, Any], old_meta: dict[str, Any]) -> None:
    """On update, fields only the server sets keep their stored values."""
    if "managedFields" not in new_meta and "managedFields" in old_meta:
        new_meta["managedFields"] = old_meta["managedFields"]
    for f in SYSTEM_FIELDS:
        if f in old_meta:
            new_meta[f] = old_meta[f]
        else:
            new_meta.pop(f, None)
