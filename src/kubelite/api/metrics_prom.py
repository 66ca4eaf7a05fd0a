"""Prometheus text: kubelite's own ``/metrics`` and the kubelet's ``/metrics/resource``.

``/metrics`` carries, under the upstream components' names, what a user of one kubelite
wants to watch: every API request counted and timed by verb, group, version, resource,
subresource, scope and code (``apiserver_request_total``, ``apiserver_request_duration_
seconds``, the API server's verbs: ``LIST``, ``WATCH``, ``APPLY``, ``CONNECT`` …), how long pods
took from creation to running (``kubelet_pod_start_duration_seconds``) and how many run
(``kubelet_running_pods``). Each server has its own registry, so servers side by side (tests)
never share counters.

``/metrics/resource`` is the kubelet's resource-metrics endpoint, in its words: each running
container's and pod's cumulative CPU seconds and working set, the node's, and whether the
scrape failed, each stamped with the time of its sample. It is served at that path and, as
a cluster reaches it, through ``/api/v1/nodes/<node>/proxy/metrics/resource``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.metrics import Counter, Gauge, Histogram

from kubelite.api.metrics import Scrape
from kubelite.registry.rbac_rules import Attributes

REQUEST_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0,
                   4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0)  # fmt: skip
POD_START_BUCKETS = (0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360,
                     480, 600, 900, 1200, 1800, 2700, 3600)  # fmt: skip
_REQUEST_LABELS = ("verb", "group", "version", "resource", "subresource", "scope", "component")
_CONNECT_SUBRESOURCES = frozenset({"exec", "attach", "portforward", "proxy"})
_VERBS = {"get": "GET", "list": "LIST", "watch": "WATCH", "create": "POST", "update": "PUT",
          "patch": "PATCH", "delete": "DELETE", "deletecollection": "DELETE"}  # fmt: skip
APPLY_PATCH = "application/apply-patch+yaml"


def request_labels(attrs: Attributes, content_type: str = "") -> dict[str, str]:
    """The API server's labels for one request (its ``metrics.CleanVerb`` and scope)."""
    if not attrs.resource_request:
        verb = attrs.verb.upper()
        scope = ""
    else:
        verb = _VERBS.get(attrs.verb, attrs.verb.upper())
        if attrs.subresource in _CONNECT_SUBRESOURCES:
            verb = "CONNECT"
        elif verb == "PATCH" and content_type.startswith(APPLY_PATCH):
            verb = "APPLY"
        scope = "resource" if attrs.name else ("namespace" if attrs.namespace else "cluster")
    return {
        "verb": verb,
        "group": attrs.api_group,
        "version": attrs.api_version,
        "resource": attrs.resource,
        "subresource": attrs.subresource,
        "scope": scope,
        "component": "apiserver",
    }


class ServerMetrics:
    """kubelite's own metrics, on a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "apiserver_request",
            "Counter of apiserver requests broken out for each verb, dry run value, group, "
            "version, resource, scope, component, and HTTP response code.",
            [*_REQUEST_LABELS, "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, dry run value, group, "
            "version, resource, subresource, scope and component.",
            _REQUEST_LABELS,
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.pod_start = Histogram(
            "kubelet_pod_start_duration_seconds",
            "Duration in seconds from kubelet seeing a pod for the first time to the pod "
            "starting to run",
            buckets=POD_START_BUCKETS,
            registry=self.registry,
        )
        self.running_pods = Gauge(
            "kubelet_running_pods",
            "Number of pods that have a running pod sandbox",
            registry=self.registry,
        )

    def observe_request(self, labels: dict[str, str], code: int, seconds: float) -> None:
        self.requests.labels(**labels, code=str(code)).inc()
        self.latency.labels(**labels).observe(seconds)

    def exposition(self) -> bytes:
        return bytes(generate_latest(self.registry))


CONTENT_TYPE = CONTENT_TYPE_LATEST

# ---------------------------------------------------------------------------- /metrics/resource

_HELP = {
    "container_cpu_usage_seconds": "Cumulative cpu time consumed by the container in core-seconds",
    "container_memory_working_set_bytes": "Current working set of the container in bytes",
    "container_start_time_seconds": "Start time of the container since unix epoch in seconds",
    "node_cpu_usage_seconds": "Cumulative cpu time consumed by the node in core-seconds",
    "node_memory_working_set_bytes": "Current working set of the node in bytes",
    "pod_cpu_usage_seconds": "Cumulative cpu time consumed by the pod in core-seconds",
    "pod_memory_working_set_bytes": "Current working set of the pod in bytes",
    "resource_scrape_error": "1 if there was an error while getting container metrics, 0 otherwise",
}


def _family(name: str, labels: tuple[str, ...] = ()) -> Any:
    """A counter for cumulative CPU (exposed with ``_total``), a gauge for the rest."""
    doc = f"[STABLE] {_HELP[name]}"
    if name.endswith("cpu_usage_seconds"):
        return CounterMetricFamily(name, doc, labels=list(labels))
    return GaugeMetricFamily(name, doc, labels=list(labels))


class ResourceCollector:
    """One scrape's samples as the kubelet's resource metrics (``None``: the scrape failed)."""

    def __init__(self, scrape: Scrape | None) -> None:
        self._scrape = scrape

    def collect(self) -> Iterator[Metric]:
        scrape = self._scrape
        families = {n: _family(n, _labels(n)) for n in _HELP if n != "resource_scrape_error"}
        for ref, containers in (scrape.pods if scrape else {}).items():
            pod_cpu = pod_mem = 0
            newest = 0.0
            for name in sorted(containers):
                p = containers[name].last
                key = [name, ref.namespace, ref.name]
                families["container_cpu_usage_seconds"].add_metric(
                    key, p.cpu_ns / 1e9, timestamp=p.timestamp
                )
                families["container_memory_working_set_bytes"].add_metric(
                    key, p.memory_bytes, timestamp=p.timestamp
                )
                families["container_start_time_seconds"].add_metric(
                    key, p.start_time, timestamp=p.timestamp
                )
                pod_cpu, pod_mem = pod_cpu + p.cpu_ns, pod_mem + p.memory_bytes
                newest = max(newest, p.timestamp)
            pod_key = [ref.namespace, ref.name]
            families["pod_cpu_usage_seconds"].add_metric(pod_key, pod_cpu / 1e9, timestamp=newest)
            families["pod_memory_working_set_bytes"].add_metric(pod_key, pod_mem, timestamp=newest)
        if scrape is not None and scrape.node is not None:
            n = scrape.node.last
            families["node_cpu_usage_seconds"].add_metric([], n.cpu_ns / 1e9, timestamp=n.timestamp)
            families["node_memory_working_set_bytes"].add_metric(
                [], n.memory_bytes, timestamp=n.timestamp
            )
        failed = _family("resource_scrape_error")
        failed.add_metric([], 0 if scrape is not None else 1)
        yield from (families[name] for name in sorted(families))
        yield failed


def _labels(name: str) -> tuple[str, ...]:
    if name.startswith("container_"):
        return ("container", "namespace", "pod")
    if name.startswith("pod_"):
        return ("namespace", "pod")
    return ()


def resource_exposition(scrape: Scrape | None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ResourceCollector(scrape))
    return bytes(generate_latest(registry))
