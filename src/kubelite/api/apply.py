"""Server-side apply (``application/apply-patch+yaml``): create the object if absent, else
merge the applied configuration into it under field ownership (``managedfields``).

The applied document is merged like a strategic merge patch (maps merge, keyed lists merge by
key, other lists are replaced). Then the ownership rules run: conflicts with other Apply
managers are a 409 unless ``force``; fields this manager applied before and now omits are
removed unless someone else owns them.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.api import managedfields as mf
from kubelite.api.errors import ApiError, bad_request
from kubelite.api.patching import strategic_merge
from kubelite.api.paths import Target
from kubelite.model.objects import Obj
from kubelite.registry.service import Registry
from kubelite.store.interface import NotFound


def _conflict(
    kind_plural: str, name: str, found: list[tuple[str, mf.Path]], api_version: str
) -> ApiError:
    causes = [
        {
            "type": "FieldManagerConflict",
            "message": f'conflict with "{manager}" using {api_version}',
            "field": mf.display(path),
        }
        for manager, path in found
    ]
    n = len(causes)
    if n == 1:
        detail = f"{causes[0]['message']}: {causes[0]['field']}"
    else:
        by_manager: dict[str, list[str]] = {}
        for manager, path in found:
            by_manager.setdefault(manager, []).append(mf.display(path))
        detail = "\n".join(
            f'conflicts with "{m}" using {api_version}:\n' + "\n".join(f"- {f}" for f in fields)
            for m, fields in by_manager.items()
        )
    message = f"Apply failed with {n} conflict{'s' if n != 1 else ''}: {detail}"
    return ApiError(409, "Conflict", message, {"name": name, "kind": kind_plural, "causes": causes})


async def server_side_apply(
    registry: Registry,
    t: Target,
    applied: Any,
    *,
    manager: str,
    force: bool,
    dry_run: bool,
) -> tuple[Obj, bool]:
    """The stored result and whether it was created."""
    if not isinstance(applied, dict):
        raise bad_request("the applied configuration must be an object")
    md = applied.setdefault("metadata", {})
    if not isinstance(md, dict):
        raise bad_request("metadata must be an object")
    if md.get("name") and md["name"] != t.name:
        raise bad_request(
            f"the name of the object ({md['name']}) does not match the name on the URL ({t.name})"
        )
    md["name"] = t.name
    md.pop("managedFields", None)
    status_only = t.subresource == "status"
    mine = mf.field_set(applied, with_status=status_only)
    now = registry.clock.now()
    api_version = t.kind.api_version
    try:
        current = await registry.get(t.kind, t.namespace, t.name)
    except NotFound:
        if t.subresource:
            raise
        md["managedFields"] = mf.entries({manager: mine}, api_version, now, [])
        return await registry.create(t.kind, t.namespace, applied, dry_run=dry_run), True

    managers = mf.apply_managers(current)
    conflicts = [
        (other, path)
        for other, owned in sorted(managers.items())
        if other != manager
        for path in sorted(mine & owned)
        if mf.value_at(current, path) != mf.value_at(applied, path)
    ]
    if conflicts and not force:
        raise _conflict(t.kind.plural, t.name, conflicts, api_version)
    body = applied if status_only else {k: v for k, v in applied.items() if k != "status"}
    merged = strategic_merge(current, copy.deepcopy(body), t.kind.kind)
    others = set().union(*(p for m, p in managers.items() if m != manager)) if managers else set()
    for path in sorted(managers.get(manager, set()) - mine - others, key=len, reverse=True):
        mf.remove_path(merged, path)
    for other, path in conflicts:
        managers[other].discard(path)
    managers[manager] = mine
    keep = current["metadata"].get("managedFields") or []
    merged["metadata"]["managedFields"] = mf.entries(managers, api_version, now, keep)
    # A resourceVersion in the applied configuration is a precondition (a stale one is a 409).
    requested = md.get("resourceVersion")
    merged["metadata"]["resourceVersion"] = requested or current["metadata"]["resourceVersion"]
    updated = await registry.update(
        t.kind, t.namespace, t.name, merged, subresource=t.subresource, dry_run=dry_run
    )
    return updated, False
