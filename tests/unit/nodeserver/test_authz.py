"""The node's server asks the API about each request as the kubelet does: which
``nodes/<subresource>`` a path is, the review it sends, its texts, and how long answers last."""

from __future__ import annotations

import pytest

from kubelite.nodeserver import authz as a

PATHS = [
    ("an exec over a WebSocket", "GET", "/exec/default/web/app", "get", "proxy"),
    ("an exec over SPDY", "POST", "/exec/default/web/app", "create", "proxy"),
    ("an attach", "POST", "/attach/default/web/app", "create", "proxy"),
    ("a port-forward", "GET", "/portForward/default/web", "get", "proxy"),
    ("a container's log", "GET", "/containerLogs/default/web/app", "get", "proxy"),
    ("the resource metrics", "GET", "/metrics/resource", "get", "metrics"),
    ("the metrics root", "GET", "/metrics", "get", "metrics"),
    ("a path that only starts like metrics", "GET", "/metricsfoo", "get", "proxy"),
    ("the stats", "GET", "/stats/summary", "get", "stats"),
    ("the node's log files", "GET", "/logs/syslog", "get", "log"),
    ("the health check", "GET", "/healthz", "get", "proxy"),
    ("a method without a verb", "OPTIONS", "/pods", "", "proxy"),
]


@pytest.mark.parametrize(("case", "method", "path", "verb", "sub"), PATHS,
                         ids=[p[0] for p in PATHS])  # fmt: skip
def test_a_request_is_a_verb_on_a_subresource_of_the_node(
    case: str, method: str, path: str, verb: str, sub: str
) -> None:
    assert a.attributes(method, path, "m1") == a.Attributes(verb, sub, "m1")


def test_the_review_names_the_user_and_the_nodes_subresource() -> None:
    user = a.User("kube-apiserver-kubelet-client", ("system:authenticated",))
    body = a.review(user, a.attributes("POST", "/exec/ns/p/c", "m1"))
    assert body["kind"] == "SubjectAccessReview"
    assert body["spec"] == {
        "user": "kube-apiserver-kubelet-client",
        "groups": ["system:authenticated"],
        "resourceAttributes": {"namespace": "", "verb": "create", "group": "", "version": "v1",
                               "resource": "nodes", "subresource": "proxy", "name": "m1"},
    }  # fmt: skip


def test_a_refusal_reads_as_the_kubelets() -> None:
    user = a.User("system:node:m2", ("system:nodes", "system:authenticated"))
    attrs = a.attributes("GET", "/containerLogs/default/web/app", "m1")
    assert a.forbidden_message(user, attrs) == (
        "Forbidden (user=system:node:m2, verb=get, resource=nodes, subresource=proxy)"
    )
    assert a.error_message(user, attrs) == (
        "Authorization error (user=system:node:m2, verb=get, resource=nodes, subresource=proxy)"
    )


def test_answers_are_kept_five_minutes_when_allowed_and_thirty_seconds_when_not() -> None:
    cache = a.DecisionCache()
    cache.put("yes", True, now=100.0)
    cache.put("no", False, now=100.0)
    assert cache.get("yes", 399.0) is True and cache.get("no", 129.0) is False
    assert cache.get("no", 130.0) is None
    assert cache.get("yes", 400.0) is None
    assert cache.get("never asked", 100.0) is None
