"""Table output (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``) for every kind.

Columns and cells come from each kind (``Kind.columns``/``Kind.cells``); this module builds the
``meta.k8s.io/v1`` Table around them. Rows carry ``PartialObjectMetadata`` (or the whole object
with ``includeObject=Object``): kubectl takes NAMESPACE, labels and sorting from it.
"""

from __future__ import annotations

from typing import Any

from kubelite.model.objects import Obj
from kubelite.registry.resource import Kind

TABLE_CONTENT_TYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def wants_table(accept: str) -> bool:
    return any(
        "as=Table" in part.replace(" ", "") and "g=meta.k8s.io" in part
        for part in accept.split(",")
    )


def _partial(obj: Obj) -> dict[str, Any]:
    md = {k: v for k, v in obj.get("metadata", {}).items() if k != "managedFields"}
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": md}


def column_definitions(kind: Kind) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "type": c.type,
            "format": c.format,
            "description": c.description,
            "priority": c.priority,
        }
        for c in kind.columns()
    ]


def row(kind: Kind, obj: Obj, now: float, include: str = "Metadata") -> dict[str, Any]:
    out: dict[str, Any] = {"cells": kind.cells(obj, now)}
    if include == "Object":
        out["object"] = obj
    elif include != "None":
        out["object"] = _partial(obj)
    return out


def table(
    kind: Kind,
    items: list[Obj],
    now: float,
    *,
    resource_version: str = "",
    include: str = "Metadata",
    headers: bool = True,
    list_meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``list_meta`` is a list's metadata (its continue token and remaining count)."""
    md: dict[str, Any] = dict(list_meta or {})
    if resource_version:
        md["resourceVersion"] = resource_version
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": md,
        "columnDefinitions": column_definitions(kind) if headers else None,
        "rows": [row(kind, o, now, include) for o in items],
    }
