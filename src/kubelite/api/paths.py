"""Parsing a resource URL into what it names: kind, namespace, name, subresource.

``/api/v1/...`` is the core group, ``/apis/<group>/<version>/...`` the others. Under a version:
``<resource>[/<name>[/<sub>]]`` or ``namespaces/<ns>/<resource>[/<name>[/<sub>]]``; the
namespace's own subresources (``namespaces/<ns>/status``, ``/finalize``) are told apart from
namespaced collections by name.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelite.api.errors import not_found_path
from kubelite.registry import catalog
from kubelite.registry.resource import Kind

_NAMESPACE_SUBRESOURCES = {"status", "finalize"}


@dataclass(frozen=True, slots=True)
class Target:
    kind: Kind
    namespace: str  # "" for cluster-scoped kinds or all namespaces
    name: str = ""
    subresource: str = ""
    all_namespaces: bool = False


def parse(group: str, version: str, rest: list[str]) -> Target:
    rest = [p for p in rest if p]
    namespace = ""
    if (
        len(rest) >= 3
        and rest[0] == "namespaces"
        and not (len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES)
    ):
        namespace, rest = rest[1], rest[2:]
        scoped = True
    else:
        scoped = False
    if not rest or len(rest) > 3:
        raise not_found_path()
    kind = catalog.find(group, version, rest[0])
    if kind is None or (scoped and not kind.namespaced):
        raise not_found_path()
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    if sub and sub not in {s.name for s in kind.subresources}:
        raise not_found_path()
    return Target(
        kind=kind,
        namespace=namespace,
        name=name,
        subresource=sub,
        all_namespaces=kind.namespaced and not scoped,
    )
