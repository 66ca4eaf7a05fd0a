"""What a request asks to do, read from its method, path and query alone, as the API server's
request-info filter does (before routing, so a request for a resource that does not exist is
authorized like any other).

``/api/v1/...`` and ``/apis/<group>/<version>/...`` with a resource are resource requests:
``[watch/]`` ``[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]``. The verb comes from the
method: GET is ``get`` with a name and ``list`` (``watch`` with ``?watch=true``) without, a
list or watch whose field selector pins ``metadata.name`` is about that name, POST ``create``,
PUT ``update``, PATCH ``patch``, DELETE ``delete`` (``deletecollection`` without a name).
``/api/v1/namespaces/<ns>`` is the namespace object in its own namespace, so a namespace's
viewers may read it. Everything else (``/api``, ``/apis/<group>/<version>``, ``/healthz``,
``/version``, ``/openapi/v3``) is a non-resource request whose verb is the lower-case method.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubelite.registry.rbac_rules import Attributes

_METHOD_VERBS = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}
_NAMESPACE_SUBRESOURCES = ("status", "finalize")


def _watch_requested(query: Mapping[str, str]) -> bool:
    value = query.get("watch")
    return value is not None and value.lower() not in ("false", "0")


def _name_from_field_selector(selector: str) -> str:
    """The name a ``metadata.name=X`` (or ``==``) requirement pins, if the selector has one."""
    for part in selector.split(","):
        key, sep, value = part.partition("==") if "==" in part else part.partition("=")
        if sep and not key.endswith("!") and key.strip() == "metadata.name":
            name = value.strip()
            if name and name not in (".", "..") and "/" not in name and "%" not in name:
                return name
    return ""


def request_attributes(method: str, path: str, query: Mapping[str, str]) -> Attributes:
    parts = [p for p in path.strip("/").split("/") if p]
    non_resource = Attributes(verb=method.lower(), resource_request=False, path=path)
    if len(parts) < 3 or parts[0] not in ("api", "apis"):
        return non_resource
    group = ""
    rest = parts[1:]
    if parts[0] == "apis":
        if len(rest) < 3:
            return non_resource
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]
    verb = _METHOD_VERBS.get(method.upper(), "")
    if rest and rest[0] == "watch":
        if len(rest) < 2:
            return Attributes(verb="watch", api_group=group, api_version=version)
        verb, rest = "watch", rest[1:]
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if not name and verb == "get":
        verb = "watch" if _watch_requested(query) else "list"
        name = _name_from_field_selector(query.get("fieldSelector", ""))
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(
        verb=verb,
        api_group=group,
        api_version=version,
        resource=resource,
        subresource=subresource,
        name=name,
        namespace=namespace,
    )
