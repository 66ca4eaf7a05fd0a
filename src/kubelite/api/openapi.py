"""OpenAPI v3 documents: enough for kubectl's ``fieldValidation`` probe (apply, create -f)
and for ``kubectl explain``.

Per group-version, every kind gets get/list/create/replace/patch/delete operations carrying
``x-kubernetes-group-version-kind``; every PATCH lists the ``fieldValidation`` query parameter
(kubectl stops at the first PATCH op it finds for a kind). The request body content types
deliberately leave out strategic-merge-patch, so client-side apply computes its patches from
kubectl's compiled-in types rather than from our partial schemas. Schemas and their field
descriptions come from ``registry.pod_schema`` for api/v1 and from
``openapi_schemas`` for the other groups. ``/openapi/v2`` is an empty document.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from aiohttp import web

from kubelite.api.errors import not_found_path
from kubelite.api.openapi_schemas import schemas_for
from kubelite.api.respond import json_response
from kubelite.registry import catalog, pod_schema
from kubelite.registry.resource import Kind
from kubelite.registry.schemas.operations import RESOURCES, api_v1_paths


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _q(name: str, type_: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": type_}, "uniqueItems": True}


_WRITE_PARAMS = [_q("dryRun"), _q("fieldManager"), _q("fieldValidation")]


def _ref(kind: Kind) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{schema_name(kind)}"}


def schema_name(kind: Kind) -> str:
    group = kind.group.split(".")[0] if kind.group else "core"
    return f"io.k8s.api.{group}.{kind.version}.{kind.kind}"


def _op(kind: Kind, action: str, op_id: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": op_id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": kind.group,
            "version": kind.version,
            "kind": kind.kind,
        },
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": _ref(kind)}}}
        },
    }
    if extra:
        op.update(extra)
    return op


def _patch_op(kind: Kind, op_id: str) -> dict[str, Any]:
    content = {
        t: {"schema": {"type": "object"}}
        for t in (
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
        )
    }
    return _op(
        kind,
        "patch",
        op_id,
        {
            "parameters": [*_WRITE_PARAMS, _q("force", "boolean")],
            "requestBody": {"content": content, "required": True},
        },
    )


def _paths(group: str, version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for k in catalog.ALL_KINDS:
        if (k.group, k.version) != (group, version):
            continue
        base = "/" + _gv_path(group, version)
        coll = (
            f"{base}/namespaces/{{namespace}}/{k.plural}" if k.namespaced else f"{base}/{k.plural}"
        )
        item = coll + "/{name}"
        body = {"requestBody": {"content": {"*/*": {"schema": _ref(k)}}, "required": True}}
        name = k.kind
        paths[coll] = {
            "get": _op(k, "list", f"list{name}"),
            "post": _op(k, "post", f"create{name}", {"parameters": _WRITE_PARAMS, **body}),
        }
        paths[item] = {
            "get": _op(k, "get", f"read{name}"),
            "put": _op(k, "put", f"replace{name}", {"parameters": _WRITE_PARAMS, **body}),
            "patch": _patch_op(k, f"patch{name}"),
            "delete": _op(k, "delete", f"delete{name}"),
        }
        for s in k.subresources:
            if s.name == "status":
                paths[f"{item}/status"] = {
                    "get": _op(k, "get", f"read{name}Status"),
                    "put": _op(
                        k, "put", f"replace{name}Status", {"parameters": _WRITE_PARAMS, **body}
                    ),
                    "patch": _patch_op(k, f"patch{name}Status"),
                }
    return paths


@cache
def document(group: str, version: str) -> bytes:
    kinds = [k for k in catalog.ALL_KINDS if (k.group, k.version) == (group, version)]
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.4"},
        "paths": _paths(group, version),
        "components": {"schemas": schemas_for(kinds, schema_name)},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _versions() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k in catalog.ALL_KINDS:
        if (k.group, k.version) not in out:
            out.append((k.group, k.version))
    return out


def _more_core_resources() -> tuple[tuple[str, str, bool, tuple[str, ...]], ...]:
    """core/v1 kinds the catalog serves beyond the schema module's own list (Services,
    Endpoints), in the form ``api_v1_paths`` takes."""
    listed = {plural for plural, *_ in RESOURCES}
    return tuple(
        (
            k.plural,
            k.kind,
            k.namespaced,
            tuple(s.name for s in k.subresources if s.name == "status"),
        )
        for k in catalog.ALL_KINDS
        if not k.group and k.plural not in listed
    )


@cache
def _core_document() -> bytes:
    """api/v1 comes from the registry's schema module (full core/v1 schemas)."""
    doc = pod_schema.openapi_v3_document("api/v1")
    extra = _more_core_resources()
    if extra:
        doc["paths"].update(api_v1_paths(extra))
    return json.dumps(doc, separators=(",", ":")).encode()


async def root(request: web.Request) -> web.Response:
    core = hashlib.sha512(_core_document()).hexdigest()[:64].upper()
    paths: dict[str, Any] = {"api/v1": {"serverRelativeURL": f"/openapi/v3/api/v1?hash={core}"}}
    for group, version in _versions():
        if not group:
            continue
        digest = hashlib.sha256(document(group, version)).hexdigest()[:16].upper()
        gv = _gv_path(group, version)
        paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest}"}
    return json_response({"paths": paths})


async def document_handler(request: web.Request) -> web.Response:
    path = request.match_info["path"].strip("/")
    if path == "api/v1":
        resp = web.Response(body=_core_document())
        resp.headers["Content-Type"] = "application/json"
        return resp
    for group, version in _versions():
        if path == _gv_path(group, version):
            resp = web.Response(body=document(group, version))
            resp.headers["Content-Type"] = "application/json"
            return resp
    raise not_found_path()


def _pb_field(number: int, payload: bytes) -> bytes:
    return bytes([(number << 3) | 2, len(payload)]) + payload


# An OpenAPI v2 document with no definitions, in the protobuf form kubectl asks for: with it,
# a manifest of an unknown kind fails at kubectl's resource mapping ("no matches for kind"),
# as against a real server, instead of at the schema download.
_EMPTY_V2 = _pb_field(1, b"2.0") + _pb_field(
    2, _pb_field(1, b"Kubernetes") + _pb_field(2, b"v1.32.4")
)


async def v2(request: web.Request) -> web.Response:
    resp = web.Response(body=_EMPTY_V2)
    resp.headers["Content-Type"] = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    return resp
