"""Label and field selectors as the list and watch endpoints accept them.

Label selectors: ``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``,
joined by commas. Field selectors: ``f=v``, ``f==v``, ``f!=v`` over the fields a kind supports;
an unsupported field is a ``BadRequest`` with the API server's wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubelite.model.objects import Obj
from kubelite.registry.errors import BadRequest

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_SET_RE = re.compile(rf"^\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<vals>[^)]*)\)\s*$")
_EQ_RE = re.compile(rf"^\s*(?P<key>{_KEY})\s*(?P<op>==|!=|=)\s*(?P<val>[-A-Za-z0-9_.]*)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(?P<neg>!?)\s*(?P<key>{_KEY})\s*$")


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        has = self.key in labels
        v = labels.get(self.key)
        if self.op in ("=", "in"):
            return has and v in self.values
        if self.op in ("!=", "notin"):
            return not has or v not in self.values
        if self.op == "exists":
            return has
        return not has


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def parse_label_selector(text: str | None) -> list[Requirement]:
    if not text or not text.strip():
        return []
    reqs = []
    for part in _split_top(text):
        if m := _SET_RE.match(part):
            vals = tuple(v.strip() for v in m["vals"].split(",") if v.strip())
            reqs.append(Requirement(m["key"], m["op"], vals))
        elif m := _EQ_RE.match(part):
            op = "=" if m["op"] in ("=", "==") else "!="
            reqs.append(Requirement(m["key"], op, (m["val"],)))
        elif m := _EXISTS_RE.match(part):
            reqs.append(Requirement(m["key"], "!" if m["neg"] else "exists"))
        else:
            raise BadRequest(f"unable to parse requirement: {part.strip()!r}")
    return reqs


def labels_match(reqs: list[Requirement], obj: Obj) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    return all(r.matches(labels) for r in reqs)


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    field: str
    negate: bool
    value: str
    getter: Callable[[Obj], str]

    def matches(self, obj: Obj) -> bool:
        return (self.getter(obj) == self.value) != self.negate


def parse_field_selector(
    text: str | None, getters: dict[str, Callable[[Obj], str]]
) -> list[FieldRequirement]:
    if not text or not text.strip():
        return []
    reqs = []
    for part in text.split(","):
        if not part.strip():
            continue
        m = re.match(r"^\s*([^=!\s]+)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not m:
            raise BadRequest(f"invalid selector: '{text}'; can't understand '{part}'")
        name, op, value = m.group(1), m.group(2), m.group(3)
        getter = getters.get(name)
        if getter is None:
            raise BadRequest(f"field label not supported: {name}")
        reqs.append(FieldRequirement(name, op == "!=", value, getter))
    return reqs


def fields_match(reqs: list[FieldRequirement], obj: Obj) -> bool:
    return all(r.matches(obj) for r in reqs)


def path_getter(*path: str) -> Callable[[Obj], str]:
    """A getter for a dotted path; missing values read as the empty string."""

    def get(obj: Obj) -> str:
        cur: Any = obj
        for p in path:
            if not isinstance(cur, dict):
                return ""
            cur = cur.get(p)
        if cur is None:
            return ""
        if isinstance(cur, bool):
            return "true" if cur else "false"
        return str(cur)

    return get
