"""What a request to the node's server asks for, as the kubelet words it for its authorizer,
and the cache of the answers. PURE.

A request is ``verb`` on ``nodes/<subresource>`` named after this node (the kubelet's
``GetRequestAttributes``): the verb from the HTTP method, the subresource ``stats`` under
``/stats``, ``metrics`` under ``/metrics``, ``log`` under ``/logs``, ``proxy`` for everything
else (``/exec``, ``/attach``, ``/portForward``, ``/containerLogs``, ``/pods``, ``/healthz``).
The API decides through a SubjectAccessReview (the kubelet's webhook authorization mode);
its answers are kept for 5 minutes when allowed and 30 seconds when not, the kubelet's
``--authorization-webhook-cache-*-ttl`` defaults.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ALLOWED_TTL = 300.0
DENIED_TTL = 30.0
CACHE_ENTRIES = 1024
_VERBS = {"POST": "create", "GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_SUBRESOURCES = (("/stats/", "stats"), ("/metrics", "metrics"), ("/logs/", "log"))
UNAUTHORIZED = "Unauthorized"


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated client: a certificate's common name and organizations."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Attributes:
    verb: str
    subresource: str
    node: str
    resource: str = "nodes"


def is_subpath(path: str, prefix: str) -> bool:
    """``path`` is ``prefix`` (without its trailing slash) or below it."""
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def attributes(method: str, path: str, node: str) -> Attributes:
    subresource = "proxy"
    for prefix, name in _SUBRESOURCES:
        if is_subpath(path, prefix):
            subresource = name
            break
    return Attributes(_VERBS.get(method.upper(), ""), subresource, node)


def review(user: User, attrs: Attributes) -> dict[str, Any]:
    """The SubjectAccessReview the kubelet's webhook authorizer sends."""
    spec: dict[str, Any] = {
        "user": user.name,
        "groups": list(user.groups),
        "resourceAttributes": {
            "namespace": "", "verb": attrs.verb, "group": "", "version": "v1",
            "resource": attrs.resource, "subresource": attrs.subresource, "name": attrs.node,
        },
    }  # fmt: skip
    if user.uid:
        spec["uid"] = user.uid
    if user.extra:
        spec["extra"] = {k: list(v) for k, v in user.extra.items()}
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}


def _words(user: User, attrs: Attributes) -> str:
    return (
        f"(user={user.name}, verb={attrs.verb}, resource={attrs.resource}, "
        f"subresource={attrs.subresource})"
    )


def forbidden_message(user: User, attrs: Attributes) -> str:
    return f"Forbidden {_words(user, attrs)}"


def error_message(user: User, attrs: Attributes) -> str:
    """When the API could not be asked."""
    return f"Authorization error {_words(user, attrs)}"


def cache_key(body: Mapping[str, Any]) -> str:
    return json.dumps(body["spec"], sort_keys=True)


@dataclass(slots=True)
class DecisionCache:
    """Answers by review, each until its deadline (monotonic seconds)."""

    allowed_ttl: float = ALLOWED_TTL
    denied_ttl: float = DENIED_TTL
    entries: dict[str, tuple[float, bool]] = field(default_factory=dict)

    def get(self, key: str, now: float) -> bool | None:
        hit = self.entries.get(key)
        if hit is None:
            return None
        if hit[0] <= now:
            del self.entries[key]
            return None
        return hit[1]

    def put(self, key: str, allowed: bool, now: float) -> None:
        if len(self.entries) >= CACHE_ENTRIES:
            self.entries = {k: v for k, v in self.entries.items() if v[0] > now}
            if len(self.entries) >= CACHE_ENTRIES:
                self.entries.clear()
        self.entries[key] = (now + (self.allowed_ttl if allowed else self.denied_ttl), allowed)
