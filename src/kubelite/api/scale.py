"""The ``scale`` subresource over HTTP: GET answers the object's autoscaling/v1 Scale, PUT
writes one, PATCH applies a patch (merge, JSON or strategic) to the current Scale and writes
the result. ``kubectl scale`` patches (``{"spec":{"replicas":N}}``), or reads and puts when
given ``--current-replicas`` or ``--resource-version``.

The view and the rules are ``registry.scale``; a write changes the object's
``spec.replicas`` through the registry's ordinary update (so ``generation`` moves and the
object's own validation runs). A patch that loses a race with another writer is applied
again to the new version, as the API server's update loop does.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubelite.api import params
from kubelite.api.bodies import APPLY_PATCH, read_object, read_patch
from kubelite.api.context import ApiContext
from kubelite.api.errors import method_not_allowed
from kubelite.api.handlers import MAX_PATCH_ATTEMPTS, patched
from kubelite.api.paths import Target
from kubelite.api.respond import json_response
from kubelite.registry import scale
from kubelite.store.interface import Conflict


async def serve(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    m = request.method
    if m == "GET":
        obj = await ctx.registry.get(t.kind, t.namespace, t.name)
        return json_response(scale.scale_of(obj))
    if m == "PUT":
        body = await read_object(request, scale.KIND)
        return json_response(await _write(ctx, request, t, body))
    if m == "PATCH":
        return json_response(await _patch(ctx, request, t))
    raise method_not_allowed(m, f"{t.kind.plural}/scale")


async def _write(ctx: ApiContext, request: web.Request, t: Target, body: Any) -> dict[str, Any]:
    current = await ctx.registry.get(t.kind, t.namespace, t.name)
    new = scale.apply_scale(current, body, t.kind.qualified)
    updated = await ctx.registry.update(
        t.kind, t.namespace, t.name, new, dry_run=params.dry_run(request.query)
    )
    return scale.scale_of(updated)


async def _patch(ctx: ApiContext, request: web.Request, t: Target) -> dict[str, Any]:
    patch_type, body = await read_patch(request)
    if patch_type == APPLY_PATCH:
        raise method_not_allowed("PATCH", f"{t.kind.plural}/scale")
    for attempt in range(1, MAX_PATCH_ATTEMPTS + 1):
        current = await ctx.registry.get(t.kind, t.namespace, t.name)
        view = scale.scale_of(current)
        wanted = patched(view, patch_type, body, scale.KIND)
        read_version = current["metadata"]["resourceVersion"]
        try:
            return await _write(ctx, request, t, wanted)
        except Conflict:
            named = (wanted.get("metadata") or {}).get("resourceVersion")
            if named != read_version or attempt == MAX_PATCH_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises
