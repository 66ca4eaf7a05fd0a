"""Type checking of decoded bodies against the core/v1 schemas, the API layer's stand-in for
Go's typed decoding: a string where a list belongs is a 400, before any validation runs.

The message follows the API server's decoding error, e.g. ``Pod in version "v1" cannot be
handled as a Pod: json: cannot unmarshal number into Go struct field Container.spec.containers.
name of type string``. ``null`` is accepted anywhere (it decodes to the zero value).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from kubelite.api.errors import bad_request
from kubelite.api.numbers import BigNumber
from kubelite.model import gobase64
from kubelite.registry import pod_schema
from kubelite.registry.resource import Kind

REF = "#/components/schemas/"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
# What Go's decoder fits into each integer type; a number outside is "cannot unmarshal number".
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class _Mismatch(Exception):
    def __init__(self, got: str, owner: str, path: str, want: str) -> None:
        super().__init__(got)
        self.got, self.owner, self.path, self.want = got, owner, path, want


class _NotBase64(Exception):
    """A ``[]byte`` field whose text is not base64 (Go's decoder stops at ``offset``)."""

    def __init__(self, offset: int) -> None:
        super().__init__(offset)
        self.offset = offset


@cache
def _schemas() -> dict[str, Any]:
    return pod_schema.component_schemas()


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | BigNumber):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _ref_name(schema: dict[str, Any]) -> str | None:
    if "allOf" in schema:
        return str(schema["allOf"][0]["$ref"]).removeprefix(REF)
    if "$ref" in schema:
        return str(schema["$ref"]).removeprefix(REF)
    return None


def _go_type(schema: dict[str, Any]) -> str:
    name = _ref_name(schema)
    if name is not None:
        short = name.rsplit(".", 1)[-1]
        return {"Quantity": "resource.Quantity", "IntOrString": "intstr.IntOrString"}.get(
            short, f"v1.{short}"
        )
    t = schema.get("type")
    if t == "array":
        return "[]" + _go_type(schema.get("items") or {})
    if t == "object" and "additionalProperties" in schema:
        return "map[string]" + _go_type(schema["additionalProperties"])
    if t == "integer":
        return "int64" if schema.get("format") == "int64" else "int32"
    if t == "string" and schema.get("format") == "byte":
        return "[]uint8"
    return {"number": "float64", "boolean": "bool"}.get(str(t), str(t))


def _check_integer(schema: dict[str, Any], value: Any, owner: str, path: str) -> None:
    """An integer field takes a whole number in its Go type's range; anything else is the
    decoder's ``cannot unmarshal number <literal>`` (or the JSON type's name)."""
    if isinstance(value, bool) or not isinstance(value, int | float | BigNumber):
        raise _Mismatch(_json_type(value), owner, path, _go_type(schema))
    low, high = _INT_RANGES["int64" if schema.get("format") == "int64" else "int32"]
    if isinstance(value, int) and low <= value <= high:
        return
    literal = str(value) if isinstance(value, int | BigNumber) else repr(value)
    raise _Mismatch(f"number {literal}", owner, path, _go_type(schema))


def _check_scalar(schema: dict[str, Any], value: Any, owner: str, path: str) -> None:
    t = schema.get("type")
    if t == "integer":
        _check_integer(schema, value, owner, path)
        return
    ok = {
        "string": isinstance(value, str) and not isinstance(value, BigNumber),
        "number": isinstance(value, int | float | BigNumber) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }.get(str(t), True)
    if not ok:
        raise _Mismatch(_json_type(value), owner, path, _go_type(schema))
    if t == "string" and schema.get("format") == "byte":
        try:
            gobase64.decode(value)
        except gobase64.CorruptInput as exc:
            raise _NotBase64(exc.offset) from None


def _check(schema: dict[str, Any], value: Any, owner: str, path: str) -> None:
    if value is None:
        return
    name = _ref_name(schema)
    if name is not None:
        if (
            name == _QUANTITY
            and isinstance(value, str | int | float)
            and not isinstance(value, bool)
        ):
            return  # a number's digits are read as a quantity (``1e3``), as Go's decoder does
        if name == _INT_OR_STRING and isinstance(value, str | int) and not isinstance(value, bool):
            return
        target = _schemas().get(name)
        if target is None:
            return
        if name in (_QUANTITY, _INT_OR_STRING):
            raise _Mismatch(_json_type(value), owner, path, _go_type(schema))
        _check(target, value, name.rsplit(".", 1)[-1], path)
        return
    _check_scalar(schema, value, owner, path)
    if isinstance(value, dict):
        props = schema.get("properties")
        if props is not None:
            for key, item in value.items():
                if key in props:
                    _check(props[key], item, owner, f"{path}.{key}" if path else key)
        elif isinstance(schema.get("additionalProperties"), dict):
            for item in value.values():
                _check(schema["additionalProperties"], item, owner, path)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _check(schema["items"], item, owner, path)


def check(kind: Kind, obj: Any) -> None:
    """Raise a 400 if ``obj`` has a value of the wrong JSON type for its field."""
    if kind.group:
        return
    root = _schemas().get(f"io.k8s.api.core.v1.{kind.kind}")
    if root is None:
        return
    prefix = f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
    try:
        _check(root, obj, kind.kind, "")
    except _Mismatch as m:
        raise bad_request(
            f"{prefix}json: cannot unmarshal {m.got} into Go struct field {m.owner}.{m.path} of "
            f"type {m.want}"
        ) from None
    except _NotBase64 as b:
        raise bad_request(f"{prefix}illegal base64 data at input byte {b.offset}") from None
