"""Validation errors with a field path, as the API server reports them in a 422 Status.

``type`` is the Kubernetes cause type (``FieldValueRequired``, ``FieldValueInvalid``,
``FieldValueNotSupported``, ``FieldValueDuplicate``, ``FieldValueForbidden``,
``FieldValueTooLong``, ``FieldValueTypeInvalid``); ``message`` is the full text Kubernetes puts in
the cause (for example ``Required value`` or ``Invalid value: "x": must be ...``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
TYPE_INVALID = "FieldValueTypeInvalid"


@dataclass(frozen=True, slots=True)
class FieldError:
    type: str
    field: str  # e.g. "spec.initContainers[0].restartPolicy"
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


def required(field: str, detail: str = "") -> FieldError:
    return FieldError(REQUIRED, field, "Required value" + (f": {detail}" if detail else ""))


def invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError(INVALID, field, f"Invalid value: {_show(value)}: {detail}")


def not_supported(field: str, value: Any, supported: list[str]) -> FieldError:
    opts = ", ".join(json.dumps(s) for s in supported)
    msg = f"Unsupported value: {_show(value)}: supported values: {opts}"
    return FieldError(NOT_SUPPORTED, field, msg)


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError(DUPLICATE, field, f"Duplicate value: {_show(value)}")


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError(FORBIDDEN, field, f"Forbidden: {detail}")


def too_long(field: str, value: Any, limit: int) -> FieldError:
    return FieldError(TOO_LONG, field, f"Too long: may not be more than {limit} bytes")
