"""The ``metrics.k8s.io/v1beta1`` API, served by kubelite itself as metrics-server serves it.

Read-only: ``nodes`` (NodeMetrics) and ``pods`` (PodMetrics, namespaced), ``get`` and
``list`` with label and field selectors. The objects are made on each request from the
pods and nodes in the registry and the nodes' samples (``metrics.MetricsSource`` for this
node, ``metrics.OtherNodes`` for the others: a pod's samples are found by uid, or by namespace
and name when its node's metrics text names it so); a pod or node without two samples yet is
left out of a list and is NotFound by name, in metrics-server's words
(``podmetrics.metrics.k8s.io "default/web" not found``). This is what ``kubectl top pod
[--containers]`` and ``kubectl top node`` read.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubelite.api.context import ApiContext, context_of
from kubelite.api.errors import ApiError, method_not_allowed, not_found_path
from kubelite.api.metrics import PodRef, Samples, Scrape, all_scrapes
from kubelite.api.metrics_usage import metrics_list, node_metrics, pod_metrics
from kubelite.api.params import selection
from kubelite.api.respond import json_response
from kubelite.model.objects import Obj
from kubelite.registry.nodes import NODES
from kubelite.registry.pods import PODS

GROUP, VERSION = "metrics.k8s.io", "v1beta1"
GROUP_VERSION = f"{GROUP}/{VERSION}"
PREFIX = f"/apis/{GROUP}/{VERSION}"
_RESOURCES = (("nodes", "NodeMetrics", False), ("pods", "PodMetrics", True))
VERBS = ["get", "list"]


def legacy_resources() -> list[dict[str, Any]]:
    """The group version's APIResourceList entries, as metrics-server lists them."""
    return [
        {"name": plural, "singularName": "", "namespaced": ns, "kind": kind, "verbs": VERBS}
        for plural, kind, ns in _RESOURCES
    ]


def aggregated_resources() -> list[dict[str, Any]]:
    """The same resources in the aggregated discovery's form."""
    return [
        {
            "resource": plural,
            "responseKind": {"group": GROUP, "version": VERSION, "kind": kind},
            "scope": "Namespaced" if ns else "Cluster",
            "singularResource": "",
            "verbs": VERBS,
        }
        for plural, kind, ns in _RESOURCES
    ]


def add_routes(router: web.UrlDispatcher) -> None:
    """Before the generic ``/apis/{group}/{version}/…`` route, which knows only stored kinds."""
    router.add_route("*", PREFIX + "/{tail:.+}", serve)


async def serve(request: web.Request) -> web.StreamResponse:
    parts = [p for p in request.match_info["tail"].split("/") if p]
    namespace: str | None = None
    if len(parts) >= 3 and parts[0] == "namespaces":
        namespace, parts = parts[1], parts[2:]
    if not parts or len(parts) > 2 or parts[0] not in ("nodes", "pods"):
        raise not_found_path()
    resource, name = parts[0], parts[1] if len(parts) > 1 else ""
    if resource == "nodes" and namespace is not None:
        raise not_found_path()
    if request.method not in ("GET", "HEAD"):
        raise method_not_allowed(request.method, resource)
    ctx = context_of(request)
    scrapes = await all_scrapes(request)
    if resource == "nodes":
        return await _nodes(ctx, request, scrapes, name)
    return await _pods(ctx, request, scrapes, namespace, name)


class _PodSamples:
    """Every scrape's pods, found by uid or, for a ref without one, by namespace and name."""

    def __init__(self, scrapes: list[Scrape]) -> None:
        self._by_uid: dict[str, dict[str, Samples]] = {}
        self._by_name: dict[tuple[str, str], dict[str, Samples]] = {}
        for scrape in scrapes:
            for ref, containers in scrape.pods.items():
                self._add(ref, dict(containers))

    def _add(self, ref: PodRef, containers: dict[str, Samples]) -> None:
        if ref.uid:
            self._by_uid[ref.uid] = containers
        else:
            self._by_name[(ref.namespace, ref.name)] = containers

    def of(self, pod: Obj) -> dict[str, Samples]:
        found = self._by_uid.get(_uid(pod))
        if found is not None:
            return found
        md = pod.get("metadata") or {}
        return self._by_name.get((str(md.get("namespace", "")), str(md.get("name", ""))), {})


async def _pods(
    ctx: ApiContext,
    request: web.Request,
    scrapes: list[Scrape],
    namespace: str | None,
    name: str,
) -> web.Response:
    now = ctx.clock.now()
    samples = _PodSamples(scrapes)
    if name:
        pod = await ctx.registry.get(PODS, namespace or "", name)
        found = pod_metrics(pod, samples.of(pod), now)
        if found is None:
            raise _not_found("podmetrics", f"{namespace}/{name}")
        return json_response(found)
    pods, _ = await ctx.registry.list(PODS, namespace, selection(request.query, PODS))
    pods.sort(key=lambda p: (p["metadata"].get("namespace", ""), p["metadata"]["name"]))
    items = [m for p in pods if (m := pod_metrics(p, samples.of(p), now)) is not None]
    return json_response(metrics_list("PodMetrics", items))


async def _nodes(
    ctx: ApiContext, request: web.Request, scrapes: list[Scrape], name: str
) -> web.Response:
    """Only the nodes samples were read on have metrics."""
    now = ctx.clock.now()
    by_node = {s.node_name: s.node for s in scrapes}

    def metrics(node: Obj) -> Obj | None:
        return node_metrics(node, by_node.get(node["metadata"]["name"]), now)

    if name:
        found = metrics(await ctx.registry.get(NODES, "", name))
        if found is None:
            raise _not_found("nodemetrics", name)
        return json_response(found)
    nodes, _ = await ctx.registry.list(NODES, None, selection(request.query, NODES))
    nodes.sort(key=lambda n: n["metadata"]["name"])
    items = [m for n in nodes if (m := metrics(n)) is not None]
    return json_response(metrics_list("NodeMetrics", items))


def _uid(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("uid", ""))


def _not_found(kind: str, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{kind}.{GROUP} "{name}" not found',
        {"name": name, "group": GROUP, "kind": kind},
    )
