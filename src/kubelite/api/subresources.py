"""Pod subresources other than ``status``: binding, eviction, log and exec.

binding sets ``spec.nodeName`` once (the scheduler's write); eviction is a delete with the
Eviction's options; log and exec are served by the node side through ``streams``.
"""

from __future__ import annotations

from aiohttp import web

from kubelite.api import execws, logs
from kubelite.api.bodies import read_object
from kubelite.api.context import ApiContext
from kubelite.api.errors import bad_request, method_not_allowed
from kubelite.api.paths import Target
from kubelite.api.respond import json_response
from kubelite.registry.pods import bind
from kubelite.registry.service import DeleteOptions


async def handle(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    sub, m = t.subresource, request.method
    if sub == "log" and m == "GET":
        return await logs.serve(ctx, request, t)
    if sub == "exec" and m in ("GET", "POST"):
        return await execws.serve(ctx, request, t)
    if sub == "binding" and m == "POST":
        return await binding(ctx, request, t)
    if sub == "eviction" and m == "POST":
        return await eviction(ctx, request, t)
    raise method_not_allowed(m, f"{t.kind.plural}/{sub}")


async def binding(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    body = await read_object(request)
    target = body.get("target") or {}
    node = target.get("name") if isinstance(target, dict) else None
    if not node:
        raise bad_request("binding target name is required")
    await bind(ctx.registry, t.namespace, t.name, str(node))
    return json_response(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
        201,
    )


async def eviction(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    body = await read_object(request)
    opts_body = body.get("deleteOptions") or {}
    grace = opts_body.get("gracePeriodSeconds") if isinstance(opts_body, dict) else None
    if grace is not None and (not isinstance(grace, int) or isinstance(grace, bool)):
        raise bad_request("deleteOptions.gracePeriodSeconds must be an integer")
    await ctx.registry.delete(t.kind, t.namespace, t.name, DeleteOptions(grace_period=grace))
    return json_response(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
        201,
    )
