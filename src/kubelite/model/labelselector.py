"""``metav1.LabelSelector`` as the workload controllers and their registry read it: does it
select a set of labels, and how ``labels.Selector.String()`` spells it (the SELECTOR column
of ``kubectl get deploy -o wide``, a Scale's ``status.selector``, the label selector a
controller lists with).

A selector that is absent (None) selects nothing and an empty one selects everything, as
``metav1.LabelSelectorAsSelector`` makes them. A malformed selector (an unknown operator,
``In`` without values) is ``InvalidSelector``: validation keeps such selectors out of the
store, so a controller meeting one skips the object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.model.objects import JSON

# matchExpressions operators and how ``Requirement.String()`` writes them
_SET_OPERATORS = {"In": "in", "NotIn": "notin"}
_EXISTENCE_OPERATORS = ("Exists", "DoesNotExist")


class InvalidSelector(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str  # "=" (matchLabels), "In", "NotIn", "Exists", "DoesNotExist"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, Any]) -> bool:
        present = self.key in labels
        value = str(labels[self.key]) if present else None
        if self.operator in ("=", "In"):
            return present and value in self.values
        if self.operator == "NotIn":
            return not present or value not in self.values
        if self.operator == "Exists":
            return present
        return not present

    def text(self) -> str:
        if self.operator == "=":
            return f"{self.key}={self.values[0]}"
        if self.operator == "Exists":
            return self.key
        if self.operator == "DoesNotExist":
            return f"!{self.key}"
        values = ",".join(sorted(set(self.values)))
        return f"{self.key} {_SET_OPERATORS[self.operator]} ({values})"


def requirements(selector: JSON) -> list[Requirement]:
    """The selector's requirements, sorted by key as ``labels.Selector`` keeps them."""
    reqs = [Requirement(str(k), "=", (str(v),)) for k, v in _mapping(selector, "matchLabels")]
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, Mapping):
            raise InvalidSelector("a matchExpressions entry is not an object")
        op, key = str(expr.get("operator") or ""), str(expr.get("key") or "")
        values = tuple(str(v) for v in expr.get("values") or ())
        if op in _SET_OPERATORS:
            if not values:
                raise InvalidSelector(f"for '{op}', 'NotIn' operators, values set can't be empty")
        elif op in _EXISTENCE_OPERATORS:
            if values:
                raise InvalidSelector(f"values set must be empty for {op}")
        else:
            raise InvalidSelector(f"{op!r} is not a valid label selector operator")
        reqs.append(Requirement(key, op, values))
    return sorted(reqs, key=lambda r: r.key)


def _mapping(selector: JSON, field: str) -> list[tuple[Any, Any]]:
    value = selector.get(field) or {}
    if not isinstance(value, Mapping):
        raise InvalidSelector(f"{field} is not an object")
    return list(value.items())


def matches(selector: JSON | None, labels: Mapping[str, Any] | None) -> bool:
    """Whether a LabelSelector selects ``labels`` (None selects nothing, {} everything).
    Raises ``InvalidSelector`` for a malformed selector."""
    if selector is None:
        return False
    return all(r.matches(labels or {}) for r in requirements(selector))


def selects(selector: JSON | None, obj: JSON) -> bool:
    """``matches`` on an object's labels; a malformed selector selects nothing."""
    try:
        return matches(selector, (obj.get("metadata") or {}).get("labels") or {})
    except InvalidSelector:
        return False


def is_empty(selector: JSON | None) -> bool:
    """A selector with no requirements (it selects everything)."""
    return (
        selector is not None
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    )


def to_string(selector: JSON | None) -> str:
    """``labels.Selector.String()``: requirements sorted by key, comma separated (``app=web``,
    ``tier in (a,b)``, ``!legacy``); "" for an empty or absent selector."""
    if selector is None:
        return ""
    return ",".join(r.text() for r in requirements(selector))


def set_to_string(labels: Mapping[str, Any] | None) -> str:
    """A label set as a selector (``labels.SelectorFromSet(set).String()``): the
    ReplicationController's selector, or ``kubectl``'s ``<none>``-less label text."""
    values = labels or {}
    return ",".join(f"{k}={values[k]}" for k in sorted(values))


def set_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, Any] | None) -> bool:
    """A map selector (ReplicationController's ``spec.selector``): every pair present; an
    empty one selects nothing (``labels.SelectorFromValidatedSet`` of an empty set is
    everything, but an RC with an empty selector never passes validation)."""
    if not selector:
        return False
    have = labels or {}
    return all(k in have and str(have[k]) == str(v) for k, v in selector.items())
