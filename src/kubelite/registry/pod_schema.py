"""The OpenAPI v3 document kubectl reads for ``api/v1`` (explain, apply's fieldValidation probe),
plus the list-merge semantics strategic merge and server-side apply need.

The schemas come from ``schemas/core_v1.py``, a compact text format described at its top,
with descriptions written for kubelite. This module parses it once and builds:

* ``openapi_v3_document("api/v1")``: ``paths`` with the GVK and ``fieldValidation`` on every
  operation (kubectl-protocol §3.2) and ``components.schemas`` with ``$ref`` wrapped in ``allOf``
  as kubectl explain expects (§3.4);
* ``merge_keys()``: ``{"spec.containers": "name", "spec.containers[*].ports": "containerPort", …}``;
* ``list_semantics(kind)``: merge key, patch strategy, list type and map keys per list field;
* ``unknown_fields(kind, obj)``: paths of fields the schema does not know (strict decoding).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kubelite.registry.schemas.core_v1 import CORE_V1
from kubelite.registry.schemas.operations import CORE, META, REF, RESOURCES, api_v1_paths

QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
TIME = META + "Time"
MICRO_TIME = META + "MicroTime"
KUBE_VERSION = "v1.33.0"

_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "number": {"type": "number", "format": "double"},
    "byte": {"type": "string", "format": "byte"},
    "object": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
}
_BUILTIN_SCHEMAS: dict[str, dict[str, Any]] = {
    QUANTITY: {
        "type": "string",
        "description": "A fixed-point amount such as 500m, 2, 128Mi or 1e3, written as a string "
        "(a bare number is accepted too).",
    },
    INT_OR_STRING: {
        "type": "string",
        "format": "int-or-string",
        "x-kubernetes-int-or-string": True,
        "description": "Either a whole number or a string, such as a port number or port name.",
    },
    TIME: {
        "type": "string",
        "format": "date-time",
        "description": "A point in time, in RFC 3339 form with second precision.",
    },
    MICRO_TIME: {
        "type": "string",
        "format": "date-time",
        "description": "A point in time, in RFC 3339 form with microsecond precision.",
    },
}
_ATTRS = {
    "key": "x-kubernetes-patch-merge-key",
    "strategy": "x-kubernetes-patch-strategy",
    "list": "x-kubernetes-list-type",
    "maptype": "x-kubernetes-map-type",
}


@dataclass(frozen=True, slots=True)
class ListSemantics:
    """How a list field merges (strategic merge patch) and is owned (server-side apply)."""

    merge_key: str | None
    strategy: str | None  # "merge", "merge,retainKeys" or None (replace)
    list_type: str | None  # "atomic", "set", "map" or None (atomic)
    map_keys: tuple[str, ...]


# --- public API -------------------------------------------------------------------------------


def openapi_v3_document(
    group_version: str = "api/v1", *, advertise_strategic_merge: bool = False
) -> dict[str, Any]:
    """The document served at ``/openapi/v3/<group_version>`` (``api/v1`` or ``v1``).

    ``advertise_strategic_merge`` lists ``application/strategic-merge-patch+json`` on PATCH; off by
    default so that client-side apply computes patches from kubectl's compiled types
    (kubectl-protocol §3.3) instead of from this document.
    """
    if group_version not in ("api/v1", "v1"):
        raise KeyError(f"no OpenAPI document for {group_version!r}")
    return copy.deepcopy(_document(advertise_strategic_merge))


def openapi_v3_hash(group_version: str = "api/v1") -> str:
    """A stable hash of the document, for ``serverRelativeURL`` (``…/api/v1?hash=<hash>``)."""
    if group_version not in ("api/v1", "v1"):
        raise KeyError(f"no OpenAPI document for {group_version!r}")
    return _hash()


@lru_cache(maxsize=1)
def _hash() -> str:
    body = json.dumps(_document(False), sort_keys=True).encode()
    return hashlib.sha512(body).hexdigest()[:64].upper()


def openapi_v3_root() -> dict[str, Any]:
    """The ``/openapi/v3`` index (kubectl-protocol §3.4)."""
    url = f"/openapi/v3/api/v1?hash={openapi_v3_hash()}"
    return {"paths": {"api/v1": {"serverRelativeURL": url}}}


def component_schemas() -> dict[str, dict[str, Any]]:
    """Just ``components.schemas`` (full names → schema), to merge into another document."""
    return copy.deepcopy(_compiled())


def referenced_schemas(roots: list[str], own: dict[str, Any]) -> dict[str, Any]:
    """The core/v1 and meta/v1 definitions that ``roots`` name or refer to, directly or
    through one another, for a document of other definitions (``own``): a name ``own``
    defines is its own, and what it refers to is not followed."""
    core = component_schemas()
    out: dict[str, Any] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in out or name in own or name not in core:
            continue
        out[name] = core[name]
        pending += _refs(core[name])
    return out


def _refs(schema: Any) -> list[str]:
    """The definition names of every ``$ref`` in ``schema``."""
    found: list[str] = []
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF):
            found.append(ref[len(REF) :])
        for value in schema.values():
            found += _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            found += _refs(value)
    return found


def schema_name(kind: str) -> str:
    """``Pod`` → ``io.k8s.api.core.v1.Pod``."""
    return _full_name(kind)


def merge_keys() -> dict[str, str]:
    """Strategic-merge keys of every keyed list, by path across all kinds.

    Paths use ``[*]`` for list items: ``spec.containers[*].env`` → ``name``.
    """
    out: dict[str, str] = {}
    for _plural, kind, _ns, _subs in RESOURCES:
        for path, sem in list_semantics(kind).items():
            if sem.merge_key:
                out[path] = sem.merge_key
    return out


def list_semantics(kind: str) -> dict[str, ListSemantics]:
    """Every list field reachable from ``kind`` with its merge and ownership semantics."""
    return dict(_list_semantics(kind))


def unknown_fields(kind: str, obj: Any) -> list[str]:
    """Paths of fields ``obj`` sets that the schema of ``kind`` does not declare.

    The paths read like ``spec.containers[0].foo``, as in the API server's strict decoding
    error ``unknown field "spec.containers[0].foo"``.
    """
    schemas = _compiled()
    found: list[str] = []
    _walk_unknown(schemas, _full_name(kind), obj, "", found)
    return found


# --- parsing ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Field:
    name: str
    type: str
    required: bool
    attrs: dict[str, str]
    description: str


@dataclass(slots=True)
class _Definition:
    name: str
    header: dict[str, str]
    description: list[str]
    fields: list[_Field]
    scalar: str | None = None


def _parse(text: str) -> list[_Definition]:
    defs: list[_Definition] = []
    field_lines: list[str] = []

    def flush() -> None:
        if field_lines:
            defs[-1].fields.append(_parse_field(" ".join(field_lines)))
            field_lines.clear()

    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            flush()
            words = raw.split()
            header = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            scalar = next((w for w in words[1:] if "=" not in w), None)
            defs.append(_Definition(words[0], header, [], [], scalar))
        elif raw.startswith("  ."):
            flush()
            field_lines.append(raw.strip()[1:])
        elif field_lines:
            field_lines.append(raw.strip())
        else:
            defs[-1].description.append(raw.strip())
    flush()
    return defs


_HEAD_END = re.compile(r":(?: |$)")


def _parse_field(line: str) -> _Field:
    match = _HEAD_END.search(line)
    if match is None:
        raise ValueError(f"schema field without description: {line!r}")
    head, description = line[: match.start()], line[match.end() :]
    words = head.split()
    name, type_ = words[0], words[1]
    attrs = dict(w.split("=", 1) for w in words[2:])
    return _Field(name.rstrip("!"), type_, name.endswith("!"), attrs, description.strip())


# --- compiling --------------------------------------------------------------------------------


def _full_name(name: str) -> str:
    if name.startswith("io.k8s."):
        return name
    if name.startswith("meta."):
        return META + name[len("meta.") :]
    return {"Quantity": QUANTITY, "IntOrString": INT_OR_STRING, "Time": TIME}.get(
        name, MICRO_TIME if name == "MicroTime" else CORE + name
    )


def _type_schema(type_: str) -> dict[str, Any]:
    if type_.endswith("[]"):
        return {"type": "array", "items": _item_schema(type_[:-2])}
    if type_.startswith("map[") and type_.endswith("]"):
        return {"type": "object", "additionalProperties": _item_schema(type_[4:-1])}
    if type_ in _SCALARS:
        return dict(_SCALARS[type_])
    return {"allOf": [{"$ref": REF + _full_name(type_)}]}


def _item_schema(type_: str) -> dict[str, Any]:
    schema = _type_schema(type_)
    if "allOf" in schema and type_ not in ("Quantity", "IntOrString", "Time", "MicroTime"):
        schema["default"] = {}
    elif type_ in ("string", "byte"):
        schema["default"] = ""
    return schema


def _compile_field(field: _Field) -> dict[str, Any]:
    schema = _type_schema(field.type)
    schema["description"] = field.description
    for attr, value in field.attrs.items():
        if attr == "keys":
            schema["x-kubernetes-list-map-keys"] = value.split(",")
        elif attr == "enum":
            schema["enum"] = value.split(",")
        elif attr in _ATTRS:
            schema[_ATTRS[attr]] = value
        else:
            raise ValueError(f"unknown schema attribute {attr!r} on {field.name}")
    return schema


def _compile_definition(d: _Definition) -> dict[str, Any]:
    schema: dict[str, Any] = {"description": " ".join(d.description)}
    if d.scalar is not None:
        schema.update(_SCALARS[d.scalar])
    else:
        schema["type"] = "object"
        schema["properties"] = {f.name: _compile_field(f) for f in d.fields}
        required = sorted(f.name for f in d.fields if f.required)
        if required:
            schema["required"] = required
    if "gvk" in d.header:
        schema["x-kubernetes-group-version-kind"] = [
            {"group": "", "kind": d.header["gvk"], "version": "v1"}
        ]
    return schema


@lru_cache(maxsize=1)
def _compiled() -> dict[str, dict[str, Any]]:
    schemas = {k: dict(v) for k, v in _BUILTIN_SCHEMAS.items()}
    for d in _parse(CORE_V1):
        schemas[_full_name(d.name)] = _compile_definition(d)
    return schemas


@lru_cache(maxsize=2)
def _document(smp: bool) -> dict[str, Any]:
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBE_VERSION},
        "paths": api_v1_paths(RESOURCES, advertise_strategic_merge=smp),
        "components": {"schemas": copy.deepcopy(_compiled())},
    }


# --- walking ----------------------------------------------------------------------------------


def _resolve(schemas: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "allOf" in schema or "$ref" in schema:
        ref = schema["allOf"][0]["$ref"] if "allOf" in schema else schema["$ref"]
        schema = schemas[ref.removeprefix(REF)]
    return schema


@lru_cache(maxsize=16)
def _list_semantics(kind: str) -> tuple[tuple[str, ListSemantics], ...]:
    schemas = _compiled()
    out: list[tuple[str, ListSemantics]] = []
    _collect_lists(schemas, schemas[_full_name(kind)], "", out, depth=0)
    return tuple(out)


def _collect_lists(
    schemas: dict[str, Any],
    schema: dict[str, Any],
    path: str,
    out: list[tuple[str, ListSemantics]],
    depth: int,
) -> None:
    if depth > 12:
        return
    for name, prop in (schema.get("properties") or {}).items():
        at = f"{path}.{name}" if path else name
        if prop.get("type") == "array":
            out.append(
                (
                    at,
                    ListSemantics(
                        merge_key=prop.get("x-kubernetes-patch-merge-key"),
                        strategy=prop.get("x-kubernetes-patch-strategy"),
                        list_type=prop.get("x-kubernetes-list-type"),
                        map_keys=tuple(prop.get("x-kubernetes-list-map-keys") or ()),
                    ),
                )
            )
            item = _resolve(schemas, prop["items"])
            _collect_lists(schemas, item, at + "[*]", out, depth + 1)
        elif "allOf" in prop:
            _collect_lists(schemas, _resolve(schemas, prop), at, out, depth + 1)


def _walk_unknown(
    schemas: dict[str, Any], name_or_schema: Any, value: Any, path: str, found: list[str]
) -> None:
    schema = (
        schemas[name_or_schema]
        if isinstance(name_or_schema, str)
        else _resolve(schemas, name_or_schema)
    )
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        for key, item in value.items():
            at = f"{path}.{key}" if path else key
            if key not in props:
                found.append(at)
            else:
                _walk_unknown(schemas, props[key], item, at, found)
    elif isinstance(value, dict) and "additionalProperties" in schema:
        for key, item in value.items():
            _walk_unknown(schemas, schema["additionalProperties"], item, f"{path}[{key}]", found)
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _walk_unknown(schemas, schema["items"], item, f"{path}[{i}]", found)
