"""Schemas, with descriptions in our own words, for the groups other than core/v1
(whose schemas live in ``registry.pod_schema``): today only coordination.k8s.io Leases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelite.registry.resource import Kind

META_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def _prop(type_: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "description": description, **extra}


def _ref(name: str, description: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "description": description}


LEASE_SPEC = {
    "type": "object",
    "description": "Who holds the lease and for how long.",
    "properties": {
        "holderIdentity": _prop("string", "Identity of the current holder."),
        "leaseDurationSeconds": _prop(
            "integer", "Seconds the holder keeps the lease without renewing it."
        ),
        "acquireTime": _prop(
            "string", "When the current holder took the lease.", format="date-time"
        ),
        "renewTime": _prop("string", "When the holder last renewed the lease.", format="date-time"),
        "leaseTransitions": _prop("integer", "How often the lease changed hands."),
    },
}

META = {
    "type": "object",
    "description": "Standard metadata every persisted object has.",
    "properties": {
        "name": _prop("string", "Unique name within the namespace."),
        "namespace": _prop("string", "The namespace the object lives in."),
        "labels": _prop(
            "object",
            "Key/value pairs for selecting objects.",
            additionalProperties={"type": "string"},
        ),
        "annotations": _prop(
            "object",
            "Non-identifying key/value data for tools.",
            additionalProperties={"type": "string"},
        ),
        "uid": _prop("string", "Identifier the server assigns."),
        "resourceVersion": _prop("string", "Opaque version for concurrency and watches."),
        "creationTimestamp": _prop("string", "When the object was created.", format="date-time"),
    },
}


def schemas_for(kinds: list[Kind], name_of: Callable[[Kind], str]) -> dict[str, Any]:
    out: dict[str, Any] = {META_REF: META}
    for k in kinds:
        props: dict[str, Any] = {
            "apiVersion": _prop("string", "The versioned schema of this object."),
            "kind": _prop("string", "The type of this object."),
            "metadata": _ref(META_REF, "Standard object metadata."),
        }
        if k.kind == "Lease":
            spec_name = name_of(k) + "Spec"
            out[spec_name] = LEASE_SPEC
            props["spec"] = _ref(spec_name, "The lease's holder and timing.")
        out[name_of(k)] = {
            "type": "object",
            "description": k.description or k.kind,
            "properties": props,
            "x-kubernetes-group-version-kind": [
                {"group": k.group, "kind": k.kind, "version": k.version}
            ],
        }
    return out
