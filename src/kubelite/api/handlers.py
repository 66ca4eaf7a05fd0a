"""One function per verb on a resource: get, list, create, update, patch, delete.

Each handler reads the request (``params``, ``bodies``), calls the registry, and renders the
result as JSON or as a Table. Errors are raised, never rendered here: the middleware in
``server.py`` turns them into Status bodies through ``errors.to_status``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubelite.api import apply, fieldvalidation, params, tables, typecheck
from kubelite.api.bodies import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    read_object,
    read_optional_json,
    read_patch,
)
from kubelite.api.context import ApiContext
from kubelite.api.errors import bad_request, method_not_allowed, not_found_path, success_body
from kubelite.api.patching import json_patch, merge_patch, strategic_merge
from kubelite.api.paths import Target
from kubelite.api.respond import json_response
from kubelite.registry.resource import Kind, Obj
from kubelite.registry.service import DeleteOptions
from kubelite.store.interface import NotFound


def _render(
    ctx: ApiContext, request: web.Request, kind: Kind, obj: Obj, status: int = 200
) -> web.Response:
    if tables.wants_table(request.headers.get("Accept", "")):
        body = tables.table(
            kind,
            [obj],
            ctx.clock.now(),
            resource_version=obj.get("metadata", {}).get("resourceVersion", ""),
            include=params.include_object(request.query),
        )
        return json_response(body, status, tables.TABLE_CONTENT_TYPE)
    return json_response(obj, status)


def _name_required(t: Target) -> None:
    if not t.name:
        raise method_not_allowed("", t.kind.plural)
    if t.all_namespaces:
        raise not_found_path()


# -- GET ---------------------------------------------------------------------------------------
async def get(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    _name_required(t)
    obj = await ctx.registry.get(t.kind, t.namespace, t.name)
    return _render(ctx, request, t.kind, obj)


async def list_(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    sel = params.selection(request.query, t.kind)
    ns = None if t.all_namespaces else t.namespace
    items, rev = await ctx.registry.list(t.kind, ns, sel)
    if tables.wants_table(request.headers.get("Accept", "")):
        body = tables.table(
            t.kind,
            items,
            ctx.clock.now(),
            resource_version=str(rev),
            include=params.include_object(request.query),
        )
        return json_response(body, 200, tables.TABLE_CONTENT_TYPE)
    return json_response(
        {
            "kind": f"{t.kind.kind}List",
            "apiVersion": t.kind.api_version,
            "metadata": {"resourceVersion": str(rev)},
            "items": items,
        }
    )


# -- POST --------------------------------------------------------------------------------------
async def create(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    if t.name:
        raise method_not_allowed("POST", t.kind.plural)
    if t.all_namespaces:
        raise method_not_allowed("POST", t.kind.plural)
    obj = await read_object(request)
    typecheck.check(t.kind, obj)
    fieldvalidation.check(request, t.kind, obj)
    created = await ctx.registry.create(
        t.kind, t.namespace, obj, dry_run=params.dry_run(request.query)
    )
    return _render(ctx, request, t.kind, created, 201)


# -- PUT ---------------------------------------------------------------------------------------
async def update(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    _name_required(t)
    obj = await read_object(request)
    typecheck.check(t.kind, obj)
    fieldvalidation.check(request, t.kind, obj)
    updated = await ctx.registry.update(
        t.kind,
        t.namespace,
        t.name,
        obj,
        subresource=t.subresource,
        dry_run=params.dry_run(request.query),
    )
    return _render(ctx, request, t.kind, updated)


# -- PATCH -------------------------------------------------------------------------------------
def patched(current: Obj, patch_type: str, patch: Any) -> Obj:
    if patch_type == JSON_PATCH:
        out = json_patch(current, patch)
    elif patch_type == MERGE_PATCH:
        out = merge_patch(current, patch)
    else:
        if not isinstance(patch, dict):
            raise bad_request("the patch must be an object")
        out = strategic_merge(current, patch)
    if not isinstance(out, dict):
        raise bad_request("the patch did not produce an object")
    return out


async def patch(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    _name_required(t)
    patch_type, body = await read_patch(request)
    dry = params.dry_run(request.query)
    if patch_type == APPLY_PATCH:
        manager = request.query.get("fieldManager", "")
        if not manager:
            raise bad_request("PATCH requests with an apply patch must set fieldManager")
        if isinstance(body, dict):
            typecheck.check(t.kind, body)
            fieldvalidation.check(request, t.kind, body)
        result, created = await apply.server_side_apply(
            ctx.registry,
            t,
            body,
            manager=manager,
            force=params.flag(request.query, "force"),
            dry_run=dry,
        )
        return _render(ctx, request, t.kind, result, 201 if created else 200)
    current = await ctx.registry.get(t.kind, t.namespace, t.name)
    new = patched(current, patch_type, body)
    typecheck.check(t.kind, new)
    fieldvalidation.check(request, t.kind, new, baseline=current)
    new.setdefault("metadata", {})
    if not isinstance(new["metadata"], dict):
        raise bad_request("metadata must be an object")
    if not new["metadata"].get("resourceVersion"):
        new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    updated = await ctx.registry.update(
        t.kind, t.namespace, t.name, new, subresource=t.subresource, dry_run=dry
    )
    return _render(ctx, request, t.kind, updated)


# -- DELETE ------------------------------------------------------------------------------------
async def delete_options(request: web.Request) -> tuple[DeleteOptions, bool]:
    """DeleteOptions from the body or (as the Python client sends them) the query, and
    whether this is a dry run."""
    body = await read_optional_json(request)
    q = request.query
    grace = body.get("gracePeriodSeconds", params.integer(q, "gracePeriodSeconds"))
    pre = body.get("preconditions") or {}
    if not isinstance(pre, dict):
        raise bad_request("preconditions must be an object")
    if grace is not None and (not isinstance(grace, int) or isinstance(grace, bool)):
        raise bad_request("gracePeriodSeconds must be an integer")
    opts = DeleteOptions(
        grace_period=grace,
        uid=pre.get("uid") or None,
        resource_version=pre.get("resourceVersion") or None,
        propagation=str(body.get("propagationPolicy") or q.get("propagationPolicy") or "") or None,
    )
    return opts, params.dry_run(q) or body.get("dryRun") == ["All"]


async def delete(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    if not t.name:
        return await delete_collection(ctx, request, t)
    _name_required(t)
    opts, dry = await delete_options(request)
    result = await ctx.registry.delete(t.kind, t.namespace, t.name, opts, dry_run=dry)
    if not result.removed or t.kind.returns_deleted_object:
        return _render(ctx, request, t.kind, result.object)
    md = result.object.get("metadata", {})
    details = {"name": t.name, "kind": t.kind.plural, "uid": md.get("uid", "")}
    if t.kind.group:
        details["group"] = t.kind.group
    return json_response(success_body(details))


async def delete_collection(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    if "deletecollection" not in t.kind.verbs:
        raise method_not_allowed("DELETE", t.kind.plural)
    opts, _ = await delete_options(request)
    sel = params.selection(request.query, t.kind)
    ns = None if t.all_namespaces else t.namespace
    items, rev = await ctx.registry.list(t.kind, ns, sel)
    for obj in items:
        md = obj["metadata"]
        try:
            await ctx.registry.delete(t.kind, md.get("namespace", ""), md["name"], opts)
        except NotFound:
            continue
    return json_response(
        {
            "kind": f"{t.kind.kind}List",
            "apiVersion": t.kind.api_version,
            "metadata": {"resourceVersion": str(rev)},
            "items": items,
        }
    )
