"""Subresources other than ``status``: a pod's binding, eviction, log, exec, attach and
portforward, a ServiceAccount's token, and the ``scale`` of replicated workloads (``scale``).

binding sets ``spec.nodeName`` once (the scheduler's write); eviction is a delete with the
Eviction's options; log, exec, attach and portforward are served by the node side through
``streams``; token issues a TokenRequest (``tokenrequest``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubelite.api import attach, execws, logs, portforward, scale, tokenrequest
from kubelite.api.bodies import read_object
from kubelite.api.context import ApiContext
from kubelite.api.errors import bad_request, method_not_allowed
from kubelite.api.paths import Target
from kubelite.api.respond import json_response
from kubelite.registry.pods import bind
from kubelite.registry.service import DeleteOptions


async def handle(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    sub, m = t.subresource, request.method
    if sub == "scale":
        return await scale.serve(ctx, request, t)
    if t.kind.plural == "serviceaccounts":
        if sub == "token" and m == "POST":
            return await tokenrequest.serve(ctx, request, t)
        raise method_not_allowed(m, f"{t.kind.plural}/{sub}")
    if sub == "log" and m == "GET":
        return await logs.serve(ctx, request, t)
    if sub == "exec" and m in ("GET", "POST"):
        return await execws.serve(ctx, request, t)
    if sub == "attach" and m in ("GET", "POST"):
        return await attach.serve(ctx, request, t)
    if sub == "portforward" and m in ("GET", "POST"):
        return await portforward.serve(ctx, request, t)
    if sub == "binding" and m == "POST":
        return await binding(ctx, request, t)
    if sub == "eviction" and m == "POST":
        return await eviction(ctx, request, t)
    raise method_not_allowed(m, f"{t.kind.plural}/{sub}")


async def binding(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    body = await read_object(request, "Binding")
    target = body.get("target") or {}
    node = target.get("name") if isinstance(target, dict) else None
    if not node:
        raise bad_request("binding target name is required")
    md = _mapping(body.get("metadata"))
    await bind(
        ctx.registry, t.namespace, t.name, str(node), uid=str(md.get("uid") or ""),
        resource_version=str(md.get("resourceVersion") or ""),
    )  # fmt: skip
    return json_response(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
        201,
    )


async def eviction(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    body = await read_object(request, "Eviction")
    opts_body = body.get("deleteOptions") or {}
    if not isinstance(opts_body, dict):
        opts_body = {}
    grace = opts_body.get("gracePeriodSeconds")
    if grace is not None and (not isinstance(grace, int) or isinstance(grace, bool)):
        raise bad_request("deleteOptions.gracePeriodSeconds must be an integer")
    pre = _mapping(opts_body.get("preconditions"))
    opts = DeleteOptions(
        grace_period=grace, uid=str(pre.get("uid") or "") or None,
        resource_version=str(pre.get("resourceVersion") or "") or None,
    )  # fmt: skip
    await ctx.registry.delete(t.kind, t.namespace, t.name, opts)
    return json_response(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201},
        201,
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
