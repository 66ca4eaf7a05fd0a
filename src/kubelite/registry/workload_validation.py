"""Validation rules the apps/v1 kinds (Deployment, ReplicaSet, DaemonSet) and the
ReplicationController share, with the API server's field paths and texts.

Where the API server prints a value with Go's ``%#v`` (a template's labels, a selector that
may not change) the value is spelled here as Go spells it, e.g. ``map[string]string{"app":
"web"}`` and ``v1.LabelSelector{MatchLabels:map[string]string{"app":"web"},
MatchExpressions:[]v1.LabelSelectorRequirement(nil)}``, so the 422's causes read exactly as a
cluster's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from kubelite.model import labelselector
from kubelite.model.fielderrors import (
    INVALID,
    FieldError,
    invalid,
    not_supported,
    required,
)
from kubelite.registry.meta_validation import check, label_value_errors
from kubelite.registry.podtemplates import template_labels, validate_template
from kubelite.registry.rbac import selector_errors

NONNEGATIVE = "must be greater than or equal to 0"
IMMUTABLE = "field is immutable"
SELECTOR_MISMATCH = "`selector` does not match template `labels`"
PERCENT = re.compile(r"^[0-9]+%$")
PERCENT_MESSAGE = (
    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  "
    "or '93%', regex used for validation is '[0-9]+%')"
)


# -- Go's spelling of values -----------------------------------------------------------------
def go_string_map(value: Any) -> str:
    """``%#v`` of a ``map[string]string``: keys sorted, ``(nil)`` when empty or absent."""
    if not isinstance(value, Mapping):
        return "map[string]string(nil)"
    if not value:
        return "map[string]string{}"
    pairs = ", ".join(f"{json.dumps(str(k))}:{json.dumps(str(value[k]))}" for k in sorted(value))
    return "map[string]string{" + pairs + "}"


def go_label_selector(selector: Any) -> str:
    """``%#v`` of a ``metav1.LabelSelector``."""
    sel = selector if isinstance(selector, Mapping) else {}
    exprs = [e for e in sel.get("matchExpressions") or [] if isinstance(e, Mapping)]
    if exprs:
        items = ", ".join(
            "v1.LabelSelectorRequirement{"
            f"Key:{json.dumps(str(e.get('key') or ''))}, "
            f"Operator:{json.dumps(str(e.get('operator') or ''))}, "
            f"Values:{_go_strings(e.get('values'))}}}"
            for e in exprs
        )
        expressions = "[]v1.LabelSelectorRequirement{" + items + "}"
    else:
        expressions = "[]v1.LabelSelectorRequirement(nil)"
    return (
        f"v1.LabelSelector{{MatchLabels:{go_string_map(sel.get('matchLabels'))}, "
        f"MatchExpressions:{expressions}}}"
    )


def _go_strings(values: Any) -> str:
    if not values:
        return "[]string(nil)"
    return "[]string{" + ", ".join(json.dumps(str(v)) for v in values) + "}"


def go_invalid(field: str, shown: str, detail: str) -> FieldError:
    """An Invalid cause whose value is already spelled as Go prints it."""
    return FieldError(INVALID, field, f"Invalid value: {shown}: {detail}")


# -- numbers ---------------------------------------------------------------------------------
def nonnegative(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [invalid(path, value, NONNEGATIVE)]
    return []


def int_or_percent_value(value: Any) -> tuple[int, bool]:
    """The number in an IntOrString and whether it is a percentage (``25%`` → 25, True)."""
    if isinstance(value, str):
        digits = value[:-1] if value.endswith("%") else value
        return (int(digits), True) if digits.isdigit() else (0, value.endswith("%"))
    if isinstance(value, int) and not isinstance(value, bool):
        return value, False
    return 0, False


def positive_int_or_percent(value: Any, path: str) -> list[FieldError]:
    """``ValidatePositiveIntOrPercent``: a non-negative integer or a ``N%`` string."""
    if value is None:
        return []
    if isinstance(value, str):
        return [] if PERCENT.match(value) else [invalid(path, value, PERCENT_MESSAGE)]
    return nonnegative(value, path)


def not_more_than_100_percent(value: Any, path: str) -> list[FieldError]:
    number, percent = int_or_percent_value(value)
    if percent and number > 100:
        return [invalid(path, value, "must not be greater than 100%")]
    return []


# -- selectors and templates -----------------------------------------------------------------
def label_selector_errors(selector: Any, path: str) -> list[FieldError]:
    """``ValidateLabelSelector`` (values must be valid label values)."""
    if not isinstance(selector, dict):
        return []
    errs = selector_errors(selector, path)
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        if not isinstance(expr, dict):
            continue
        for j, value in enumerate(expr.get("values") or []):
            at = f"{path}.matchExpressions[{i}].values[{j}]"
            errs += check(at, value, label_value_errors(str(value)))
    return errs


def required_selector_errors(spec: Mapping[str, Any], kind_word: str) -> list[FieldError]:
    """``spec.selector`` must be present, valid and not empty (``empty selector is invalid
    for <kind_word>``)."""
    selector = spec.get("selector")
    if selector is None:
        return [required("spec.selector", "")]
    if not isinstance(selector, dict):
        return [invalid("spec.selector", selector, "invalid label selector")]
    errs = label_selector_errors(selector, "spec.selector")
    if labelselector.is_empty(selector):
        errs.append(
            go_invalid(
                "spec.selector",
                go_label_selector(selector),
                f"empty selector is invalid for {kind_word}",
            )
        )
    return errs


def template_matches_selector(selector: Any, template: Any, path: str) -> list[FieldError]:
    """The template's labels must be selected by a non-empty selector."""
    if not isinstance(selector, dict) or labelselector.is_empty(selector):
        return []
    try:
        selected = labelselector.matches(selector, template_labels(template))
    except labelselector.InvalidSelector:
        return []
    if selected:
        return []
    labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
    return [go_invalid(f"{path}.metadata.labels", go_string_map(labels), SELECTOR_MISMATCH)]


def replica_template_errors(template: Any, path: str, owner: str) -> list[FieldError]:
    """What every replicated pod template must be: a valid template, restartPolicy Always, no
    activeDeadlineSeconds (``owner`` names the kind in that message)."""
    errs = validate_template(template, path)
    if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        return errs
    spec = template["spec"]
    policy = spec.get("restartPolicy")
    if policy != "Always":
        errs.append(not_supported(f"{path}.spec.restartPolicy", policy, ["Always"]))
    if spec.get("activeDeadlineSeconds") is not None:
        detail = f"activeDeadlineSeconds in {owner} is not Supported"
        errs.append(invalid(f"{path}.spec.activeDeadlineSeconds", spec["activeDeadlineSeconds"],
                            detail))  # fmt: skip
    return errs


def immutable_selector(new: Any, old: Any) -> list[FieldError]:
    if new == old:
        return []
    return [go_invalid("spec.selector", go_label_selector(new), IMMUTABLE)]


def spec_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}
