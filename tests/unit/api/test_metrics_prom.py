"""kubelite's /metrics labels, pod start latency, and the kubelet's /metrics/resource text."""

from __future__ import annotations

import pytest

from kubelite.api.authz_request import request_attributes
from kubelite.api.metrics import PodRef, Point, Samples, Scrape
from kubelite.api.metrics_podstart import PodStarts
from kubelite.api.metrics_prom import ServerMetrics, request_labels, resource_exposition


@pytest.mark.parametrize(
    ("case", "method", "path", "query", "ctype", "verb", "resource", "scope"),
    [
        ("a list", "GET", "/api/v1/namespaces/default/pods", {}, "", "LIST", "pods", "namespace"),
        ("a watch", "GET", "/api/v1/pods", {"watch": "true"}, "", "WATCH", "pods", "cluster"),
        ("a get", "GET", "/api/v1/namespaces/d/pods/web", {}, "", "GET", "pods", "resource"),
        ("a create", "POST", "/api/v1/namespaces/d/pods", {}, "", "POST", "pods", "namespace"),
        ("an apply", "PATCH", "/apis/apps/v1/namespaces/d/deployments/x", {},
         "application/apply-patch+yaml", "APPLY", "deployments", "resource"),
        ("an exec", "POST", "/api/v1/namespaces/d/pods/web/exec", {}, "", "CONNECT", "pods",
         "resource"),
        ("a delete of a collection", "DELETE", "/api/v1/namespaces/d/pods", {}, "", "DELETE",
         "pods", "namespace"),
        ("a non-resource path", "GET", "/version", {}, "", "GET", "", ""),
    ],
)  # fmt: skip
def test_requests_are_labelled_as_the_api_server_labels_them(
    case: str, method: str, path: str, query: dict, ctype: str, verb: str, resource: str,
    scope: str,
) -> None:  # fmt: skip
    labels = request_labels(request_attributes(method, path, query), ctype)
    assert (labels["verb"], labels["resource"], labels["scope"]) == (verb, resource, scope)


def test_requests_are_counted_by_code_and_timed() -> None:
    m = ServerMetrics()
    labels = request_labels(request_attributes("GET", "/api/v1/pods", {}))
    m.observe_request(labels, 200, 0.01)
    m.observe_request(labels, 500, 0.2)
    text = m.exposition().decode()
    assert 'apiserver_request_total{code="200",component="apiserver",group=""' in text
    assert 'code="500"' in text
    assert "apiserver_request_duration_seconds_bucket{" in text


def pod(uid: str, phase: str, created: str = "2023-11-14T22:13:20Z") -> dict:
    return {"metadata": {"uid": uid, "creationTimestamp": created}, "status": {"phase": phase}}


T = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def test_a_pods_start_is_observed_once_from_its_creation_to_running() -> None:
    starts = PodStarts()
    starts.seed([])
    assert starts.observe(pod("a", "Pending"), T + 1) is None
    assert starts.observe(pod("a", "Running"), T + 4.5) == 4.5
    assert starts.observe(pod("a", "Running"), T + 9) is None
    assert starts.running == 1
    starts.observe(pod("a", "Succeeded"), T + 10)
    assert starts.running == 0


def test_pods_running_before_the_watch_are_counted_but_their_start_was_not_seen() -> None:
    starts = PodStarts()
    starts.seed([pod("old", "Running"), pod("done", "Failed")])
    assert starts.running == 1
    assert starts.observe(pod("old", "Running"), T + 100) is None
    starts.forget(pod("old", "Running"))
    assert starts.running == 0


def test_the_resource_endpoint_speaks_the_kubelets_words_with_sample_times() -> None:
    p = Point(1_700_000_010.5, 1_700_000_000.0, 2_500_000_000, 8192)
    scrape = Scrape(
        node_name="n1",
        node=Samples(Point(1_700_000_010.0, 1_699_000_000.0, 90_000_000_000, 1 << 30)),
        pods={PodRef("default", "web", "u1"): {"nginx": Samples(p)}},
    )
    text = resource_exposition(scrape).decode()
    key = 'container="nginx",namespace="default",pod="web"'
    assert f"container_cpu_usage_seconds_total{{{key}}} 2.5 1700000010500" in text
    assert f"container_memory_working_set_bytes{{{key}}} 8192.0 1700000010500" in text
    assert f"container_start_time_seconds{{{key}}} 1.7e+09 1700000010500" in text
    assert 'pod_cpu_usage_seconds_total{namespace="default",pod="web"} 2.5' in text
    assert "node_cpu_usage_seconds_total 90.0 1700000010000" in text
    assert "# HELP node_memory_working_set_bytes [STABLE] Current working set of the node" in text
    assert "resource_scrape_error 0.0" in text


def test_a_failed_scrape_is_reported_as_a_scrape_error() -> None:
    assert "resource_scrape_error 1.0" in resource_exposition(None).decode()
