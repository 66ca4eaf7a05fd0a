"""The ``paths`` half of the api/v1 OpenAPI v3 document: one operation per verb for each
resource, each carrying ``x-kubernetes-group-version-kind``; every PATCH (subresources included)
lists the ``fieldValidation`` query parameter, which kubectl's apply/create look for before they
trust the server to validate (kubectl-protocol §3.2).
"""

from __future__ import annotations

import copy
from typing import Any

CORE = "io.k8s.api.core.v1."
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
REF = "#/components/schemas/"

# (plural, kind, namespaced, subresources) served under api/v1.
RESOURCES: tuple[tuple[str, str, bool, tuple[str, ...]], ...] = (
    ("pods", "Pod", True, ("status", "ephemeralcontainers")),
    ("configmaps", "ConfigMap", True, ()),
    ("secrets", "Secret", True, ()),
    ("events", "Event", True, ()),
    ("namespaces", "Namespace", False, ("status",)),
    ("nodes", "Node", False, ("status",)),
    ("serviceaccounts", "ServiceAccount", True, ()),
)


def _param(name: str, where: str = "query", type_: str = "string", **extra: Any) -> dict[str, Any]:
    p = {"name": name, "in": where, "schema": {"type": type_, "uniqueItems": True}, **extra}
    if where == "path":
        p["required"] = True
    return p


_WRITE_PARAMS = [
    _param("dryRun", description="'All' runs every stage of the request without storing it."),
    _param("fieldManager", description="Name of the client making the change."),
    _param(
        "fieldValidation",
        description="How unknown or duplicate fields are treated: Ignore, Warn or Strict.",
    ),
]
_PATCH_PARAMS = [
    *_WRITE_PARAMS,
    _param("force", type_="boolean", description="Take over conflicting fields (apply only)."),
]
_LIST_PARAMS = [
    _param("labelSelector", description="Only objects whose labels match."),
    _param("fieldSelector", description="Only objects whose fields match."),
    _param("limit", type_="integer", description="Most objects to return in one page."),
    _param("continue", description="Token of the page to fetch."),
    _param("resourceVersion", description="Read the collection at this version or later."),
    _param("watch", type_="boolean", description="Stream changes instead of listing."),
    _param("timeoutSeconds", type_="integer", description="End a watch after this long."),
]


def _ok(ref: str, *codes: str) -> dict[str, Any]:
    body = {"application/json": {"schema": {"$ref": REF + ref}}}
    responses = {code: {"description": "OK", "content": body} for code in ("200", *codes)}
    responses["401"] = {"description": "Unauthorized"}
    return responses


def _body(ref: str, types: list[str]) -> dict[str, Any]:
    return {"content": {t: {"schema": {"$ref": REF + ref}} for t in types}, "required": True}


def _operation(
    action: str, kind: str, op_id: str, ref: str, *, smp: bool, params: list[dict[str, Any]]
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": op_id,
        "tags": ["core_v1"],
        "description": f"{action} {kind}",
        "parameters": copy.deepcopy(params),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": "", "kind": kind, "version": "v1"},
    }
    if action in ("post", "put"):
        op["requestBody"] = _body(ref, ["*/*"])
        op["responses"] = _ok(ref, "201", "202")
    elif action == "patch":
        types = [
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
        ]
        if smp:
            types.append("application/strategic-merge-patch+json")
        op["requestBody"] = _body(META + "Patch", types)
        op["responses"] = _ok(ref, "201")
    elif action in ("delete", "deletecollection"):
        op["requestBody"] = _body(META + "DeleteOptions", ["*/*"])
        op["responses"] = _ok(META + "Status", "202")
    else:
        op["responses"] = _ok(ref)
    return op


def api_v1_paths(
    resources: tuple[tuple[str, str, bool, tuple[str, ...]], ...] = (),
    *,
    advertise_strategic_merge: bool = False,
) -> dict[str, Any]:
    """Paths for ``resources`` (default: ``RESOURCES``)."""
    smp = advertise_strategic_merge
    paths: dict[str, Any] = {}
    for plural, kind, namespaced, subs in resources or RESOURCES:
        ref, list_ref = CORE + kind, CORE + kind + "List"
        base = f"/api/v1/namespaces/{{namespace}}/{plural}" if namespaced else f"/api/v1/{plural}"
        scope = [_param("namespace", "path")] if namespaced else []
        title = kind
        suffix = "Namespaced" + title if namespaced else title
        paths[base] = {
            "parameters": scope,
            "get": _operation(
                "list", kind, f"listCoreV1{suffix}", list_ref, smp=smp, params=_LIST_PARAMS
            ),
            "post": _operation(
                "post", kind, f"createCoreV1{suffix}", ref, smp=smp, params=_WRITE_PARAMS
            ),
            "delete": _operation(
                "deletecollection",
                kind,
                f"deleteCoreV1Collection{suffix}",
                ref,
                smp=smp,
                params=_LIST_PARAMS,
            ),
        }
        if namespaced:
            paths[f"/api/v1/{plural}"] = {
                "get": _operation(
                    "list",
                    kind,
                    f"listCoreV1{title}ForAllNamespaces",
                    list_ref,
                    smp=smp,
                    params=_LIST_PARAMS,
                )
            }
        item = base + "/{name}"
        item_scope = [_param("name", "path"), *scope]
        paths[item] = {
            "parameters": item_scope,
            "get": _operation("get", kind, f"readCoreV1{suffix}", ref, smp=smp, params=[]),
            "put": _operation(
                "put", kind, f"replaceCoreV1{suffix}", ref, smp=smp, params=_WRITE_PARAMS
            ),
            "patch": _operation(
                "patch", kind, f"patchCoreV1{suffix}", ref, smp=smp, params=_PATCH_PARAMS
            ),
            "delete": _operation(
                "delete",
                kind,
                f"deleteCoreV1{suffix}",
                ref,
                smp=smp,
                params=[
                    _param("gracePeriodSeconds", type_="integer"),
                    _param("propagationPolicy"),
                    _WRITE_PARAMS[0],
                ],
            ),
        }
        for sub in subs:  # every PATCH for the kind carries fieldValidation (§3.2)
            cap = sub[0].upper() + sub[1:]
            paths[f"{item}/{sub}"] = {
                "parameters": item_scope,
                "get": _operation("get", kind, f"readCoreV1{suffix}{cap}", ref, smp=smp, params=[]),
                "put": _operation(
                    "put", kind, f"replaceCoreV1{suffix}{cap}", ref, smp=smp, params=_WRITE_PARAMS
                ),
                "patch": _operation(
                    "patch", kind, f"patchCoreV1{suffix}{cap}", ref, smp=smp, params=_PATCH_PARAMS
                ),
            }
    return paths
