"""Validation of a Job's ``podFailurePolicy`` (the API server's rules and texts): at most 20
rules, each with an action and exactly one of ``onExitCodes`` (an operator, known container
names, 1 to 255 ordered distinct exit codes, no 0 with ``In``) or ``onPodConditions`` (up to 20
patterns of a condition type and a status)."""

from __future__ import annotations

import itertools
from typing import Any, TypeGuard

from kubelite.model.fielderrors import FieldError, duplicate, invalid, not_supported, required
from kubelite.registry.job_values import invalid_go, invalid_omitted, quoted_list, too_many
from kubelite.registry.meta_validation import qualified_name_errors

MAX_POD_FAILURE_RULES = 20
MAX_EXIT_CODE_VALUES = 255
MAX_CONDITION_PATTERNS = 20
POLICY_ACTIONS = ["Count", "FailIndex", "FailJob", "Ignore"]  # sorted, as the API server lists
EXIT_CODE_OPERATORS = ["In", "NotIn"]
CONDITION_STATUSES = ["False", "True", "Unknown"]


def validate_pod_failure_policy(spec: dict[str, Any], path: str) -> list[FieldError]:
    rules = spec["podFailurePolicy"].get("rules")
    rules = rules if isinstance(rules, list) else []
    errs: list[FieldError] = []
    if len(rules) > MAX_POD_FAILURE_RULES:
        errs.append(too_many(f"{path}.rules", len(rules), MAX_POD_FAILURE_RULES))
    tspec = (spec.get("template") or {}).get("spec") or {}
    names = {
        str(c.get("name"))
        for key in ("containers", "initContainers")
        for c in _dicts(tspec.get(key))
    }
    for i, rule in enumerate(rules):
        errs += _policy_rule(
            spec, rule if isinstance(rule, dict) else {}, f"{path}.rules[{i}]", names
        )
    return errs


def _policy_rule(
    spec: dict[str, Any], rule: dict[str, Any], path: str, names: set[str]
) -> list[FieldError]:
    errs: list[FieldError] = []
    action = rule.get("action")
    if not action:
        errs.append(required(f"{path}.action", f"valid values: {quoted_list(POLICY_ACTIONS)}"))
    elif action == "FailIndex":
        if spec.get("backoffLimitPerIndex") is None:
            detail = "requires the backoffLimitPerIndex to be set"
            errs.append(invalid(f"{path}.action", action, detail))
    elif action not in POLICY_ACTIONS:
        errs.append(not_supported(f"{path}.action", action, POLICY_ACTIONS))
    on_codes, on_conditions = rule.get("onExitCodes"), rule.get("onPodConditions")
    if isinstance(on_codes, dict):
        errs += _on_exit_codes(on_codes, f"{path}.onExitCodes", names)
    if isinstance(on_conditions, list) and on_conditions:
        errs += _on_conditions(on_conditions, f"{path}.onPodConditions")
    if isinstance(on_codes, dict) and on_conditions:
        detail = "specifying both OnExitCodes and OnPodConditions is not supported"
        errs.append(invalid_omitted(path, detail))
    if not isinstance(on_codes, dict) and not on_conditions:
        detail = "specifying one of OnExitCodes and OnPodConditions is required"
        errs.append(invalid_omitted(path, detail))
    return errs


def _on_exit_codes(req: dict[str, Any], path: str, names: set[str]) -> list[FieldError]:
    errs: list[FieldError] = []
    op = req.get("operator")
    if not op:
        detail = f"valid values: {quoted_list(EXIT_CODE_OPERATORS)}"
        errs.append(required(f"{path}.operator", detail))
    elif op not in EXIT_CODE_OPERATORS:
        errs.append(not_supported(f"{path}.operator", op, EXIT_CODE_OPERATORS))
    container = req.get("containerName")
    if container is not None and container not in names:
        detail = "must be one of the container or initContainer names in the pod template"
        errs.append(invalid(f"{path}.containerName", container, detail))
    values = req.get("values")
    codes = [v for v in values if _int(v)] if isinstance(values, list) else []
    if not codes:
        errs.append(invalid_go(f"{path}.values", codes, "at least one value is required"))
    elif len(codes) > MAX_EXIT_CODE_VALUES:
        errs.append(too_many(f"{path}.values", len(codes), MAX_EXIT_CODE_VALUES))
    seen: set[int] = set()
    for j, code in enumerate(codes):
        at = f"{path}.values[{j}]"
        if op == "In" and code == 0:
            errs.append(invalid(at, code, "must not be 0 for the In operator"))
        if code in seen:
            errs.append(duplicate(at, code))
        seen.add(code)
    if any(a > b for a, b in itertools.pairwise(codes)):
        errs.append(invalid_go(f"{path}.values", codes, "must be ordered"))
    return errs


def _on_conditions(patterns: list[Any], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if len(patterns) > MAX_CONDITION_PATTERNS:
        errs.append(too_many(path, len(patterns), MAX_CONDITION_PATTERNS))
    for j, pattern in enumerate(_dicts(patterns)):
        at = f"{path}[{j}]"
        kind = str(pattern.get("type") or "")
        errs += [invalid(f"{at}.type", kind, m) for m in qualified_name_errors(kind)]
        status = pattern.get("status")
        if not status:
            detail = f"valid values: {quoted_list(CONDITION_STATUSES)}"
            errs.append(required(f"{at}.status", detail))
        elif status not in CONDITION_STATUSES:
            errs.append(not_supported(f"{at}.status", status, CONDITION_STATUSES))
    return errs


def _int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
