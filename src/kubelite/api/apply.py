"""Server-side apply (``application/apply-patch+yaml``): create the object if absent, else
merge the applied configuration into it.

Field ownership is kept minimal on purpose: the applied document is merged like a strategic
merge patch (maps merge, keyed lists merge by key, other lists are replaced), so the fields it
names take its values and nothing is removed. Conflicts between managers are not detected;
``force`` is accepted and has no further effect.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.errors import bad_request
from kubelite.api.patching import strategic_merge
from kubelite.api.paths import Target
from kubelite.registry.resource import Obj
from kubelite.registry.service import Registry
from kubelite.store.interface import NotFound


async def server_side_apply(
    registry: Registry, t: Target, applied: Any, *, force: bool, dry_run: bool
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
    try:
        current = await registry.get(t.kind, t.namespace, t.name)
    except NotFound:
        if t.subresource:
            raise
        return await registry.create(t.kind, t.namespace, applied, dry_run=dry_run), True
    merged = strategic_merge(
        current,
        {k: v for k, v in applied.items() if k != "status"} if not t.subresource else applied,
    )
    merged["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    updated = await registry.update(
        t.kind, t.namespace, t.name, merged, subresource=t.subresource, dry_run=dry_run
    )
    return updated, False
