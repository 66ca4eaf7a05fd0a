"""Validation of ephemeral containers (VAL-21): the rules each one must meet wherever a pod spec
is validated, and what a write through the ``ephemeralcontainers`` subresource may change.

The API server checks ephemeral containers with an allowlist: every field of
``EphemeralContainerCommon`` that is not on it must keep its Go zero value, and each one that
does not is reported in the struct's field order. A list counts as set even when empty (Go's
``reflect.DeepEqual`` tells an empty slice from a nil one); ``resources`` is a struct, so
``{}`` (what kubectl sends) is its zero value; a pointer field (probes, lifecycle,
restartPolicy) is set by any value at all. Comparisons of existing containers use the API
server's semantic equality instead, where an empty list or map equals an absent one.
"""

from __future__ import annotations

import json
from typing import Any

from kubelite.model.fielderrors import FieldError, duplicate, forbidden
from kubelite.registry.container_validation import PodContext, validate_container_common
from kubelite.registry.volume_validation import not_found

EPHEMERAL_FORBIDDEN = "cannot be set for an Ephemeral Container"
STATIC_POD_FORBIDDEN = "static pods do not support ephemeral containers"

# EphemeralContainerCommon's fields in struct order, each with whether it is allowed and how
# its zero value looks: "list" (nil slice), "struct" (all fields zero), "pointer" (nil).
_FIELDS: tuple[tuple[str, bool, str], ...] = (
    ("name", True, "scalar"),
    ("image", True, "scalar"),
    ("command", True, "list"),
    ("args", True, "list"),
    ("workingDir", True, "scalar"),
    ("ports", False, "list"),
    ("envFrom", True, "list"),
    ("env", True, "list"),
    ("resources", False, "struct"),
    ("resizePolicy", False, "list"),
    ("restartPolicy", False, "pointer"),
    ("volumeMounts", True, "list"),
    ("volumeDevices", True, "list"),
    ("livenessProbe", False, "pointer"),
    ("readinessProbe", False, "pointer"),
    ("startupProbe", False, "pointer"),
    ("lifecycle", False, "pointer"),
    ("terminationMessagePath", True, "scalar"),
    ("terminationMessagePolicy", True, "scalar"),
    ("imagePullPolicy", True, "scalar"),
    ("securityContext", True, "pointer"),
    ("stdin", True, "scalar"),
    ("stdinOnce", True, "scalar"),
    ("tty", True, "scalar"),
)
FORBIDDEN_FIELDS = tuple(name for name, allowed, _ in _FIELDS if not allowed)


def _is_set(value: Any, shape: str) -> bool:
    """Whether a decoded value differs from its Go zero value (see the module docstring)."""
    if value is None:
        return False
    if shape == "struct":
        return isinstance(value, dict) and any(v is not None for v in value.values())
    if shape == "scalar":
        return value not in ("", 0, False)
    return True  # a list or a pointer: any value is one


def validate_ephemeral_containers(spec: dict[str, Any], ctx: PodContext) -> list[FieldError]:
    """The API server's validateEphemeralContainers: per container, the common container rules,
    a name unique across every container of the pod, a ``targetContainerName`` naming an
    app or init container, the allowlist, and no ``subPath``/``subPathExpr`` mounts."""
    errs: list[FieldError] = []
    others = {
        str(c.get("name"))
        for key in ("containers", "initContainers")
        for c in _dicts(spec.get(key))
    }
    names = set(others)
    for i, c in enumerate(_dicts(spec.get("ephemeralContainers"))):
        path = f"spec.ephemeralContainers[{i}]"
        errs += validate_container_common(c, path, ctx)
        name = c.get("name") or ""
        if name in names:
            errs.append(duplicate(f"{path}.name", name))
        else:
            names.add(name)
        target = c.get("targetContainerName")
        if target and target not in others:
            errs.append(not_found(f"{path}.targetContainerName", str(target)))
        for field, allowed, shape in _FIELDS:
            if not allowed and _is_set(c.get(field), shape):
                errs.append(forbidden(f"{path}.{field}", EPHEMERAL_FORBIDDEN))
        for j, mount in enumerate(_dicts(c.get("volumeMounts"))):
            for key in ("subPath", "subPathExpr"):
                if mount.get(key):
                    errs.append(forbidden(f"{path}.volumeMounts[{j}].{key}", EPHEMERAL_FORBIDDEN))
    return errs


def ephemeral_changes(new_spec: dict[str, Any], old_spec: dict[str, Any]) -> list[FieldError]:
    """Existing ephemeral containers may be neither removed nor changed (matched by name, as a
    patch need not keep their order); the API server's texts, each with its newline."""
    errs: list[FieldError] = []
    path = "spec.ephemeralContainers"
    by_name = {c.get("name"): c for c in _dicts(new_spec.get("ephemeralContainers"))}
    for kept in _dicts(old_spec.get("ephemeralContainers")):
        name = kept.get("name")
        what = f"existing ephemeral containers {json.dumps(name)} may not be"
        if name not in by_name:
            errs.append(forbidden(path, f"{what} removed\n"))
            continue
        old, new = semantic(kept), semantic(by_name[name])
        if new != old:
            changes = "\n".join(diff_lines(f"{path}[{json.dumps(name)}]", old, new))
            errs.append(forbidden(path, f"{what} changed\n{changes}"))
    return errs


def semantic(value: Any) -> Any:
    """``value`` as the API server's semantic equality sees it: absent, null, empty lists and
    empty maps are all the same (dropped)."""
    if isinstance(value, dict):
        out = {k: semantic(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [semantic(v) for v in value]
    return value


def diff_lines(path: str, old: Any, new: Any) -> list[str]:
    """Changed leaves as ``- path: old`` / ``+ path: new`` lines (kubelite's own compact format;
    the API server prints go-cmp's, which is unstable by design)."""
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in sorted(set(old) | set(new)):
            lines += diff_lines(f"{path}.{key}", old.get(key), new.get(key))
        return lines
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        lines = []
        for i, (o, n) in enumerate(zip(old, new, strict=True)):
            lines += diff_lines(f"{path}[{i}]", o, n)
        return lines
    if old == new:
        return []
    return [f"  - {path}: {_json(old)}", f"  + {path}: {_json(new)}"]


def _json(value: Any) -> str:
    return "<unset>" if value is None else json.dumps(value, separators=(",", ":"), sort_keys=True)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
