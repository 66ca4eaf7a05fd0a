"""Discovery documents: ``/version``, ``/api``, ``/apis``, ``/api/v1``, ``/apis/<g>/<v>``.

Both forms are served: the legacy ``APIVersions``/``APIGroupList``/``APIResourceList``, and
the aggregated ``APIGroupDiscoveryList`` when the Accept header asks for it (kubectl 1.32
does; client-go decides by the response Content-Type, so that must match exactly). The Python
DynamicClient uses the legacy form.

Besides the stored kinds of the catalog, the ``metrics.k8s.io/v1beta1`` group that kubelite
serves itself (``metrics_api``) is listed last, as an aggregated API (metrics-server's) is.
Each kind's names, scope, verbs, short names and categories are the ones a 1.32 cluster
lists, which is what ``kubectl api-resources`` and ``kubectl get all`` read.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubelite import __version__
from kubelite.api import metrics_api
from kubelite.api.errors import not_found_path
from kubelite.api.respond import json_response
from kubelite.registry import catalog
from kubelite.registry.resource import Kind

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4-kubelite",
    "gitCommit": "",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23",
    "compiler": "gc",
    "platform": "linux/amd64",
    "kubeliteVersion": __version__,
}


def _aggregated_type(accept: str) -> str | None:
    compact = accept.replace(" ", "")
    for part in compact.split(","):
        if "as=APIGroupDiscoveryList" in part and "g=apidiscovery.k8s.io" in part:
            return AGGREGATED_V2 if "v=v2;" in part + ";" else AGGREGATED_V2BETA1
    return None


def _kinds(group: str) -> list[Kind]:
    return [k for k in catalog.ALL_KINDS if k.group == group]


def _legacy_resource(k: Kind) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": k.plural,
        "singularName": k.singular,
        "namespaced": k.namespaced,
        "kind": k.kind,
        "verbs": list(k.verbs),
    }
    if k.short_names:
        main["shortNames"] = list(k.short_names)
    if k.categories:
        main["categories"] = list(k.categories)
    subs = [
        {
            "name": f"{k.plural}/{s.name}",
            "singularName": "",
            "namespaced": k.namespaced,
            "kind": s.kind,
            "verbs": list(s.verbs),
            **({"group": s.group, "version": s.version} if s.group else {}),
        }
        for s in k.subresources
    ]
    return [main, *subs]


def served_groups() -> dict[str, list[str]]:
    """Every non-core group and its versions: the catalog's, then the metrics API."""
    return {**catalog.groups(), metrics_api.GROUP: [metrics_api.VERSION]}


def resource_list(group: str, version: str) -> dict[str, Any]:
    gv = f"{group}/{version}" if group else version
    if group == metrics_api.GROUP:
        resources = metrics_api.legacy_resources()
    else:
        resources = [r for k in _kinds(group) if k.version == version for r in _legacy_resource(k)]
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }


def _aggregated_resource(k: Kind) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource": k.plural,
        "responseKind": {"group": k.group, "version": k.version, "kind": k.kind},
        "scope": "Namespaced" if k.namespaced else "Cluster",
        "singularResource": k.singular,
        "verbs": list(k.verbs),
    }
    if k.short_names:
        out["shortNames"] = list(k.short_names)
    if k.categories:
        out["categories"] = list(k.categories)
    if k.subresources:
        out["subresources"] = [
            {
                "subresource": s.name,
                "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
                "verbs": list(s.verbs),
            }
            for s in k.subresources
        ]
    return out


def _aggregated_group(group: str) -> dict[str, Any]:
    versions: dict[str, list[dict[str, Any]]] = {}
    for k in _kinds(group):
        versions.setdefault(k.version, []).append(_aggregated_resource(k))
    if group == metrics_api.GROUP:
        versions[metrics_api.VERSION] = metrics_api.aggregated_resources()
    md: dict[str, Any] = {"creationTimestamp": None}
    if group:
        md["name"] = group
    return {
        "metadata": md,
        "versions": [
            {"version": v, "freshness": "Current", "resources": rs} for v, rs in versions.items()
        ],
    }


def _aggregated(items: list[dict[str, Any]], content_type: str) -> web.Response:
    body = {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/"
        + ("v2" if content_type == AGGREGATED_V2 else "v2beta1"),
        "metadata": {},
        "items": items,
    }
    return json_response(body, 200, content_type)


async def version(request: web.Request) -> web.Response:
    return json_response(VERSION_INFO)


async def api_root(request: web.Request) -> web.Response:
    ct = _aggregated_type(request.headers.get("Accept", ""))
    if ct:
        return _aggregated([_aggregated_group("")], ct)
    host = request.host or "127.0.0.1"
    return json_response(
        {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
        }
    )


async def apis_root(request: web.Request) -> web.Response:
    ct = _aggregated_type(request.headers.get("Accept", ""))
    if ct:
        return _aggregated([_aggregated_group(g) for g in served_groups()], ct)
    return json_response(
        {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [_group(g) for g in served_groups()],
        }
    )


def _group(group: str) -> dict[str, Any]:
    versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in served_groups()[group]]
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


async def core_v1(request: web.Request) -> web.Response:
    return json_response(resource_list("", "v1"))


async def group_info(request: web.Request) -> web.Response:
    group = request.match_info["group"]
    if group not in served_groups():
        raise not_found_path()
    return json_response({"kind": "APIGroup", "apiVersion": "v1", **_group(group)})


async def group_version(request: web.Request) -> web.Response:
    group, ver = request.match_info["group"], request.match_info["version"]
    if ver not in served_groups().get(group, []):
        raise not_found_path()
    return json_response(resource_list(group, ver))
