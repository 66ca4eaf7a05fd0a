"""Field ownership for server-side apply: ``metadata.managedFields`` in the FieldsV1 format.

Each Apply manager owns the set of leaf fields its last applied document named. A leaf path is
a tuple of FieldsV1 keys: ``f:<field>`` for map fields and ``k:{"name":"app"}`` for an entry of
a list merged by key; other lists count as one leaf. Only Apply managers are tracked (plain
updates are not recorded), which is enough for the rules that matter to users:

* applying a value that another Apply manager set differently is a conflict (409) unless
  ``force``, which moves the field to the new manager;
* a field a manager applied before and now leaves out is removed, unless another manager
  still owns it.
"""

from __future__ import annotations

import json
from typing import Any

from kubelite.api.patching import MERGE_KEYS
from kubelite.clock import rfc3339

Path = tuple[str, ...]
_MISSING = object()
_UNTRACKED_META = {
    "name",
    "namespace",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
}


def _item_key(field: str, item: Any) -> str | None:
    key = MERGE_KEYS.get(field)
    if key is None or not isinstance(item, dict) or key not in item:
        return None
    return "k:" + json.dumps({key: item[key]}, separators=(",", ":"))


def _walk(value: Any, field: str, prefix: Path, out: set[Path]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _walk(v, k, (*prefix, f"f:{k}"), out)
    elif isinstance(value, list) and value and all(_item_key(field, i) for i in value):
        for item in value:
            key = _item_key(field, item)
            assert key is not None
            _walk(item, field, (*prefix, key), out)
    else:
        out.add(prefix)


def field_set(obj: dict[str, Any], *, with_status: bool = False) -> set[Path]:
    """Leaf paths an applied document names (identity and server-owned fields excluded)."""
    out: set[Path] = set()
    for k, v in obj.items():
        if k in ("apiVersion", "kind") or (k == "status" and not with_status):
            continue
        if k == "metadata" and isinstance(v, dict):
            for mk, mv in v.items():
                if mk not in _UNTRACKED_META:
                    _walk(mv, mk, ("f:metadata", f"f:{mk}"), out)
            continue
        _walk(v, k, (f"f:{k}",), out)
    return out


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        cur = root
        for part in path:
            cur = cur.setdefault(part, {})
    return root


def from_fields_v1(tree: Any, prefix: Path = ()) -> set[Path]:
    if not isinstance(tree, dict):
        return set()
    children = {k: v for k, v in tree.items() if k != "."}
    if not children:
        return {prefix} if prefix else set()
    out: set[Path] = set()
    for k, v in children.items():
        out |= from_fields_v1(v, (*prefix, k))
    return out


def _step(value: Any, part: str) -> Any:
    if part.startswith("f:"):
        return value.get(part[2:], _MISSING) if isinstance(value, dict) else _MISSING
    if part.startswith("k:") and isinstance(value, list):
        want = json.loads(part[2:])
        for item in value:
            if isinstance(item, dict) and all(item.get(k) == v for k, v in want.items()):
                return item
    return _MISSING


def value_at(obj: Any, path: Path) -> Any:
    cur = obj
    for part in path:
        cur = _step(cur, part)
        if cur is _MISSING:
            return _MISSING
    return cur


def remove_path(obj: Any, path: Path) -> None:
    parent = value_at(obj, path[:-1])
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif last.startswith("k:") and isinstance(parent, list):
        target = _step(parent, last)
        if target is not _MISSING:
            parent.remove(target)


def display(path: Path) -> str:
    """How a conflict names a field: ``.spec.containers[name="app"].image``."""
    out = ""
    for part in path:
        if part.startswith("f:"):
            out += "." + part[2:]
        else:
            key = json.loads(part[2:])
            out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in key.items()) + "]"
    return out


def apply_managers(obj: dict[str, Any]) -> dict[str, set[Path]]:
    out: dict[str, set[Path]] = {}
    for entry in obj.get("metadata", {}).get("managedFields") or []:
        if isinstance(entry, dict) and entry.get("operation") == "Apply":
            out[str(entry.get("manager", ""))] = from_fields_v1(entry.get("fieldsV1"))
    return out


def entries(
    managers: dict[str, set[Path]], api_version: str, now: float, keep: list[Any]
) -> list[dict[str, Any]]:
    """managedFields: the non-Apply entries kept as they were, then one per Apply manager."""
    out = [e for e in keep if isinstance(e, dict) and e.get("operation") != "Apply"]
    for manager, paths in sorted(managers.items()):
        if paths:
            out.append(
                {
                    "manager": manager,
                    "operation": "Apply",
                    "apiVersion": api_version,
                    "time": rfc3339(now),
                    "fieldsType": "FieldsV1",
                    "fieldsV1": to_fields_v1(paths),
                }
            )
    return out
