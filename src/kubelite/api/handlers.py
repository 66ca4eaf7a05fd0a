"""One function per verb on a resource: get, list, create, update, patch, delete.

Each handler reads the request (``params``, ``bodies``), calls the registry, and renders the
result as JSON or as a Table. Errors are raised, never rendered here: the middleware in
``server.py`` turns them into Status bodies through ``errors.to_status``.
"""

from __future__ import annotations

import json
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
from kubelite.api.errors import (
    ApiError,
    bad_request,
    method_not_allowed,
    not_found_path,
    success_body,
)
from kubelite.api.nesting import value_depth_error
from kubelite.api.patching import json_patch, merge_patch, strategic_merge
from kubelite.api.paths import Target
from kubelite.api.respond import dumps, json_response
from kubelite.model.fielderrors import invalid, not_supported
from kubelite.model.objects import Obj
from kubelite.registry.errors import Invalid
from kubelite.registry.resource import Kind
from kubelite.registry.service import DeleteOptions
from kubelite.store.interface import Conflict, NotFound

MAX_JSON_PATCH_OPS = 10_000  # the API server's maxJSONPatchOperations
MAX_PATCH_ATTEMPTS = 32  # a patch re-applied after this many lost races answers the 409
PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")


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
    q = request.query
    sel = params.selection(q, t.kind)
    ns = None if t.all_namespaces else t.namespace
    page = await ctx.registry.list_page(
        t.kind,
        ns,
        sel,
        limit=max(0, params.integer(q, "limit") or 0),
        continue_token=q.get("continue", ""),
        resource_version=q.get("resourceVersion", ""),
    )
    md: dict[str, Any] = {"resourceVersion": str(page.revision)}
    if page.continue_token:
        md["continue"] = page.continue_token
    if page.remaining is not None:
        md["remainingItemCount"] = page.remaining
    if tables.wants_table(request.headers.get("Accept", "")):
        body = tables.table(
            t.kind,
            page.parsed(),
            ctx.clock.now(),
            resource_version=str(page.revision),
            include=params.include_object(q),
            list_meta=md,
        )
        return json_response(body, 200, tables.TABLE_CONTENT_TYPE)
    # The objects go out as the store keeps them, without being parsed and encoded again.
    head = f'{{"kind":"{t.kind.kind}List","apiVersion":"{t.kind.api_version}","metadata":'
    text = head + dumps(md) + ',"items":[' + ",".join(page.texts) + "]}"
    resp = web.Response(status=200, text=text)
    resp.headers["Content-Type"] = "application/json"
    return resp


# -- POST --------------------------------------------------------------------------------------
async def create(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    if t.name:
        raise method_not_allowed("POST", t.kind.plural)
    if t.all_namespaces:
        raise method_not_allowed("POST", t.kind.plural)
    obj = await read_object(request, t.kind.kind)
    typecheck.check(t.kind, obj)
    fieldvalidation.check(request, t.kind, obj)
    created = await ctx.registry.create(
        t.kind, t.namespace, obj, dry_run=params.dry_run(request.query)
    )
    return _render(ctx, request, t.kind, created, 201)


# -- PUT ---------------------------------------------------------------------------------------
async def update(ctx: ApiContext, request: web.Request, t: Target) -> web.StreamResponse:
    _name_required(t)
    obj = await read_object(request, t.kind.kind)
    typecheck.check(t.kind, obj)
    fieldvalidation.check(request, t.kind, obj)
    md = obj.get("metadata")
    updated = await ctx.registry.update(
        t.kind,
        t.namespace,
        t.name,
        obj,
        subresource=t.subresource,
        dry_run=params.dry_run(request.query),
        expected_uid=str(md.get("uid") or "") or None if isinstance(md, dict) else None,
    )
    return _render(ctx, request, t.kind, updated)


# -- PATCH -------------------------------------------------------------------------------------
def patched(current: Obj, patch_type: str, patch: Any, kind: str = "") -> Obj:
    if patch_type == JSON_PATCH:
        out = json_patch(current, patch)
    elif patch_type == MERGE_PATCH:
        out = merge_patch(current, patch)
    else:
        if not isinstance(patch, dict):
            raise bad_request("the patch must be an object")
        out = strategic_merge(current, patch, kind)
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
    if patch_type == JSON_PATCH and isinstance(body, list) and len(body) > MAX_JSON_PATCH_OPS:
        raise ApiError(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: The allowed maximum operations in a JSON patch is "
            f"{MAX_JSON_PATCH_OPS}, got {len(body)}",
        )
    for attempt in range(1, MAX_PATCH_ATTEMPTS + 1):
        current = await ctx.registry.get(t.kind, t.namespace, t.name)
        new = _patched_object(request, t, current, patch_type, body)
        read_version = current["metadata"]["resourceVersion"]
        try:
            updated = await ctx.registry.update(
                t.kind, t.namespace, t.name, new, subresource=t.subresource, dry_run=dry
            )
        except Conflict:
            # Applied to a version someone has since replaced: apply it again to the new one,
            # as the API server's update loop does; a version the patch names stays a 409.
            if new["metadata"].get("resourceVersion") != read_version or (
                attempt == MAX_PATCH_ATTEMPTS
            ):
                raise
            continue
        return _render(ctx, request, t.kind, updated)
    raise AssertionError("unreachable")  # the loop returns or raises


def _patched_object(
    request: web.Request, t: Target, current: Obj, patch_type: str, body: Any
) -> Obj:
    """``current`` with the patch applied and checked as a decoded body would be; its
    ``resourceVersion`` is the patch's own if it sets one, else the one it was applied to."""
    new = patched(current, patch_type, body, t.kind.kind)
    too_deep = value_depth_error(new)
    if too_deep is not None:  # a JSON patch can nest a value inside another
        text = json.dumps(new, separators=(",", ":"))
        detail = f"couldn't get version/kind; json parse error: {too_deep}"
        raise Invalid("", "", [invalid("patch", text, detail)])
    typecheck.check(t.kind, new)
    fieldvalidation.check(request, t.kind, new, baseline=current)
    md = new.setdefault("metadata", {})
    if not isinstance(md, dict):
        raise bad_request("metadata must be an object")
    if not md.get("resourceVersion"):
        md["resourceVersion"] = current["metadata"]["resourceVersion"]
    return new


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
    propagation = body.get("propagationPolicy", q.get("propagationPolicy"))
    if propagation is not None and propagation not in PROPAGATION_POLICIES:
        supported = [*PROPAGATION_POLICIES, "nil"]
        cause = not_supported("propagationPolicy", propagation, supported)
        raise Invalid("DeleteOptions", "", [cause], group="meta.k8s.io")
    opts = DeleteOptions(
        grace_period=grace,
        uid=pre.get("uid") or None,
        resource_version=pre.get("resourceVersion") or None,
        propagation=propagation,
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
