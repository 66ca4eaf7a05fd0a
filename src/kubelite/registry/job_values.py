"""How the API server prints values in the causes of batch/v1 validation errors: Go's ``%#v``
of label maps, selectors and lists of exit codes, ``%q`` of string lists, and the causes whose
value is left out or that count items."""

from __future__ import annotations

import json
from typing import Any

from kubelite.model.fielderrors import INVALID, FieldError


def go_value(value: Any) -> str:
    """``%#v`` of the values the job rules print: string maps, int32 lists, selectors."""
    if isinstance(value, dict) and ("matchLabels" in value or "matchExpressions" in value):
        return _go_selector(value)
    if isinstance(value, dict) or value is None:
        return _go_map(value)
    if isinstance(value, list):
        return "[]int32{" + ", ".join(str(v) for v in value) + "}"
    return json.dumps(value)


def _go_map(value: Any) -> str:
    if not isinstance(value, dict):
        return "map[string]string(nil)"
    items = ", ".join(f"{json.dumps(str(k))}:{json.dumps(str(value[k]))}" for k in sorted(value))
    return "map[string]string{" + items + "}"


def _go_selector(sel: dict[str, Any]) -> str:
    exprs = sel.get("matchExpressions")
    if isinstance(exprs, list) and exprs:
        parts = []
        for e in _dicts(exprs):
            values = e.get("values")
            vals = (
                "[]string{" + ", ".join(json.dumps(str(v)) for v in values) + "}"
                if isinstance(values, list)
                else "[]string(nil)"
            )
            parts.append(
                f"v1.LabelSelectorRequirement{{Key:{json.dumps(str(e.get('key') or ''))}, "
                f"Operator:{json.dumps(str(e.get('operator') or ''))}, Values:{vals}}}"
            )
        text = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    else:
        text = "[]v1.LabelSelectorRequirement(nil)"
    return (
        f"v1.LabelSelector{{MatchLabels:{_go_map(sel.get('matchLabels'))}, "
        f"MatchExpressions:{text}}}"
    )


def invalid_go(field: str, value: Any, detail: str) -> FieldError:
    return FieldError(INVALID, field, f"Invalid value: {go_value(value)}: {detail}")


def invalid_omitted(field: str, detail: str) -> FieldError:
    """An ``Invalid value`` whose value the API server leaves out."""
    return FieldError(INVALID, field, f"Invalid value: {detail}")


def too_many(field: str, count: int, limit: int) -> FieldError:
    return FieldError(
        "FieldValueTooMany", field, f"Too many: {count}: must have at most {limit} items"
    )


def quoted_list(values: list[str]) -> str:
    """Go's ``%q`` of a []string: ``["a" "b"]``."""
    return "[" + " ".join(json.dumps(v) for v in values) + "]"


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
