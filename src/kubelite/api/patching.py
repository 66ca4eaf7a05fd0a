"""The three PATCH formats: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
strategic merge patch (Kubernetes' own, with list merge keys per field).

All functions are pure: they take the current object and the patch and return a new object,
raising ``PatchError`` (a 422/400 for the caller) when the patch cannot be applied.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.registry.errors import BadRequest


class PatchError(BadRequest):
    pass


# -- JSON merge patch ------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# -- JSON patch ------------------------------------------------------------------------------
def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer: {path!r}")
    return [_unescape(t) for t in path[1:].split("/")]


def _index(container: list[Any], token: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"invalid array index: {token!r}")
    i = int(token)
    if i > len(container) or (i == len(container) and not allow_end):
        raise PatchError(f"array index out of bounds: {i}")
    return i


def _parent(doc: Any, tokens: list[str]) -> Any:
    cur = doc
    for t in tokens[:-1]:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchError(f"path not found: {t!r}")
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_index(cur, t, allow_end=False)]
        else:
            raise PatchError(f"cannot traverse into a scalar at {t!r}")
    return cur


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"path {path!r} does not exist")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, allow_end=False)]
    raise PatchError(f"path {path!r} does not exist")


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, allow_end=True), value)
    else:
        raise PatchError(f"cannot add to a scalar at {path!r}")
    return doc


def _remove(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError(f"unable to remove nonexistent key: {last}: missing value")
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last, allow_end=False)]
    else:
        raise PatchError(f"cannot remove from a scalar at {path!r}")
    return doc


def _replace(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    _get(doc, path)  # the target must exist
    if not tokens:
        return value
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    else:
        parent[_index(parent, last, allow_end=False)] = value
    return doc


def json_patch(target: Any, ops: Any) -> Any:
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], str(op["path"])
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"missing value for {kind} operation")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            doc = _replace(doc, path, copy.deepcopy(op["value"]))
        elif kind in ("move", "copy"):
            value = copy.deepcopy(_get(doc, str(op.get("from", ""))))
            if kind == "move":
                doc = _remove(doc, str(op["from"]))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise PatchError(f"testing value {path} failed")
        else:
            raise PatchError(f"unexpected op: {kind}")
    return doc


# -- strategic merge patch -------------------------------------------------------------------
# List fields merged by key (the patchMergeKey of core/v1 types, which never give one field
# name two different keys in the kinds served here); other lists are replaced.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "imagePullSecrets": "name",
    "resourceClaims": "name",
    "schedulingGates": "name",
    "secrets": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "addresses": "type",
    "podIPs": "ip",
    "hostIPs": "ip",
}
# Kinds whose list of that name merges otherwise: a Service's ports merge by port number;
# Endpoints' and EndpointSlices' lists are atomic (None: replaced whole).
KIND_MERGE_KEYS: dict[str, dict[str, str | None]] = {
    "Service": {"ports": "port"},
    "EndpointSlice": {"ports": None, "endpoints": None, "conditions": None},
    "Endpoints": {"ports": None, "addresses": None},
}
# Lists of scalars merged as sets.
MERGE_SCALARS = {"finalizers", "podCIDRs"}

Keys = dict[str, str | None]

_DIRECTIVE = "$patch"
_ORDER = "$setElementOrder/"
_DELETE_PRIM = "$deleteFromPrimitiveList/"
_RETAIN = "$retainKeys"


def strategic_merge(original: Any, patch: Any, kind: str = "") -> Any:
    """Apply a strategic merge patch to an object of ``kind`` (its lists' merge keys)."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be an object")
    base = original if isinstance(original, dict) else {}
    keys: Keys = {**MERGE_KEYS, **KIND_MERGE_KEYS.get(kind, {})}
    return _merge_map(copy.deepcopy(base), patch, keys)


def _merge_map(orig: dict[str, Any], patch: dict[str, Any], keys: Keys) -> dict[str, Any]:
    directive = patch.get(_DIRECTIVE)
    if directive == "replace":
        replaced: dict[str, Any] = _strip({k: v for k, v in patch.items() if k != _DIRECTIVE})
        return replaced
    if directive not in (None, "merge"):
        raise PatchError(f"unknown patch type: {directive!r} in map")
    retain = patch.get(_RETAIN)
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key in (_DIRECTIVE, _RETAIN):
            continue
        if key.startswith(_ORDER):
            orders[key[len(_ORDER) :]] = value if isinstance(value, list) else []
        elif key.startswith(_DELETE_PRIM):
            field = key[len(_DELETE_PRIM) :]
            drop = value if isinstance(value, list) else []
            if isinstance(orig.get(field), list):
                orig[field] = [v for v in orig[field] if v not in drop]
        elif value is None:
            orig.pop(key, None)
        elif isinstance(value, dict):
            cur = orig.get(key)
            orig[key] = _merge_map(cur if isinstance(cur, dict) else {}, value, keys)
        elif isinstance(value, list):
            orig[key] = _merge_list(key, orig.get(key), value, keys)
        else:
            orig[key] = copy.deepcopy(value)
    for field, order in orders.items():
        if isinstance(orig.get(field), list):
            orig[field] = _reorder(field, orig[field], order, keys)
    if isinstance(retain, list):
        keep = set(retain)
        orig = {k: v for k, v in orig.items() if k in keep}
    return orig


def _merge_list(field: str, orig: Any, patch: list[Any], keys: Keys) -> list[Any]:
    current = list(orig) if isinstance(orig, list) else []
    key = keys.get(field)
    if any(isinstance(p, dict) and p.get(_DIRECTIVE) == "replace" for p in patch):
        return [_strip(p) for p in patch if not (isinstance(p, dict) and _DIRECTIVE in p)]
    if field in MERGE_SCALARS and all(not isinstance(p, dict) for p in patch):
        return current + [p for p in patch if p not in current]
    if key is None or not all(isinstance(p, dict) for p in patch):
        return [_strip(p) for p in patch]
    for item in patch:
        idx = next(
            (
                i
                for i, c in enumerate(current)
                if isinstance(c, dict) and c.get(key) == item.get(key)
            ),
            None,
        )
        if item.get(_DIRECTIVE) == "delete":
            if idx is not None:
                del current[idx]
            continue
        if idx is None:
            current.append(_strip(item))
        else:
            current[idx] = _merge_map(current[idx], item, keys)
    return current


def _reorder(field: str, items: list[Any], order: list[Any], keys: Keys) -> list[Any]:
    key = keys.get(field)

    def ident(v: Any) -> Any:
        return v.get(key) if key and isinstance(v, dict) else v

    wanted = [ident(o) for o in order]
    rank = {w: i for i, w in enumerate(wanted) if isinstance(w, str | int)}
    listed = [v for v in items if ident(v) in rank]
    rest = [v for v in items if ident(v) not in rank]
    return sorted(listed, key=lambda v: rank[ident(v)]) + rest


def _strip(value: Any) -> Any:
    """Drop patch directives from a value that is inserted as a whole."""
    if isinstance(value, dict):
        return {
            k: _strip(v)
            for k, v in value.items()
            if k != _DIRECTIVE
            and k != _RETAIN
            and not k.startswith((_ORDER, _DELETE_PRIM))
            and v is not None
        }
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
