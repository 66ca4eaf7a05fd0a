"""Schemas, with descriptions in our own words, for the groups other than core/v1
(whose schemas live in ``registry.pod_schema``): coordination.k8s.io Leases,
discovery.k8s.io EndpointSlices, and the RBAC kinds and reviews (``authz_schemas``), kubelite's
own PodLifecycles (``lifecycle_schemas``); a kind without its own entry gets metadata only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubelite.api import (
    authz_schemas,
    batch_schemas,
    lifecycle_schemas,
    storage_schemas,
    workload_schemas,
)
from kubelite.registry.resource import Kind

META_REF = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def _prop(type_: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "description": description, **extra}


def _ref(name: str, description: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "description": description}


def _array(item: dict[str, Any], description: str, list_type: str = "atomic") -> dict[str, Any]:
    return {
        "type": "array",
        "items": item,
        "description": description,
        "x-kubernetes-list-type": list_type,
    }


def _object(description: str, props: dict[str, Any], required: list[str] | None = None) -> Any:
    out: dict[str, Any] = {"type": "object", "description": description, "properties": props}
    if required:
        out["required"] = required
    return out


DISCOVERY = "io.k8s.api.discovery.v1."
OBJECT_REFERENCE = "io.k8s.api.core.v1.ObjectReference"
_REF_ITEM = "#/components/schemas/"


def _item(name: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": _REF_ITEM + name}], "default": {}}


ENDPOINT_SLICE_DEFS: dict[str, Any] = {
    DISCOVERY + "Endpoint": _object(
        "One endpoint of a slice: its addresses and state.",
        {
            "addresses": _array(
                {"type": "string", "default": ""},
                "The endpoint's addresses, of the slice's address type; consumers use the "
                "first one.",
                "set",
            ),
            "conditions": _ref(DISCOVERY + "EndpointConditions", "The endpoint's state."),
            "deprecatedTopology": _prop(
                "object",
                "Deprecated topology labels; use nodeName and zone.",
                additionalProperties={"type": "string", "default": ""},
            ),
            "hints": _ref(DISCOVERY + "EndpointHints", "Hints for topology-aware routing."),
            "hostname": _prop("string", "The endpoint's host name, as DNS publishes it."),
            "nodeName": _prop("string", "The node the endpoint runs on."),
            "targetRef": _ref(OBJECT_REFERENCE, "The object (usually a pod) behind the endpoint."),
            "zone": _prop("string", "The zone the endpoint runs in."),
        },
        ["addresses"],
    ),
    DISCOVERY + "EndpointConditions": _object(
        "The state of an endpoint.",
        {
            "ready": _prop(
                "boolean",
                "Whether the endpoint takes new traffic. Unset means ready. A terminating "
                "endpoint is never ready.",
            ),
            "serving": _prop(
                "boolean",
                "Whether the endpoint could take traffic, whether or not it is terminating.",
            ),
            "terminating": _prop("boolean", "Whether the endpoint is shutting down."),
        },
    ),
    DISCOVERY + "EndpointHints": _object(
        "Where an endpoint should preferably be used.",
        {
            "forNodes": _array(_item(DISCOVERY + "ForNode"), "Nodes that should use it."),
            "forZones": _array(_item(DISCOVERY + "ForZone"), "Zones that should use it."),
        },
    ),
    DISCOVERY + "ForNode": _object(
        "A node an endpoint is meant for.", {"name": _prop("string", "The node's name.")}, ["name"]
    ),
    DISCOVERY + "ForZone": _object(
        "A zone an endpoint is meant for.", {"name": _prop("string", "The zone's name.")}, ["name"]
    ),
    DISCOVERY + "EndpointPort": _object(
        "A port every endpoint of the slice serves.",
        {
            "appProtocol": _prop("string", "The application protocol spoken on the port."),
            "name": _prop("string", "The port's name, matching the service port's name."),
            "port": _prop("integer", "The port number; unset means every port.", format="int32"),
            "protocol": _prop(
                "string", "TCP, UDP or SCTP. Defaults to TCP.", enum=["SCTP", "TCP", "UDP"]
            ),
        },
    ),
    OBJECT_REFERENCE: _object(
        "A reference to another object.",
        {
            "apiVersion": _prop("string", "API version of the object."),
            "fieldPath": _prop("string", "A field inside the object."),
            "kind": _prop("string", "Kind of the object."),
            "name": _prop("string", "Name of the object."),
            "namespace": _prop("string", "Namespace of the object."),
            "resourceVersion": _prop("string", "The version of the object that was meant."),
            "uid": _prop("string", "UID of the object."),
        },
    ),
}

ENDPOINT_SLICE_PROPS: dict[str, Any] = {
    "addressType": _prop(
        "string",
        "What the addresses are: IPv4, IPv6 or FQDN. Cannot be changed.",
        enum=["FQDN", "IPv4", "IPv6"],
    ),
    "endpoints": _array(_item(DISCOVERY + "Endpoint"), "The endpoints of the slice, at most 1000."),
    "ports": _array(
        _item(DISCOVERY + "EndpointPort"), "The ports every endpoint of the slice serves."
    ),
}


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
        required: list[str] = []
        if k.kind == "Lease":
            spec_name = name_of(k) + "Spec"
            out[spec_name] = LEASE_SPEC
            props["spec"] = _ref(spec_name, "The lease's holder and timing.")
        if k.kind == "EndpointSlice":
            out.update(ENDPOINT_SLICE_DEFS)
            props.update(ENDPOINT_SLICE_PROPS)
            required = ["addressType", "endpoints"]
        own, own_required = authz_schemas.properties_for(k.kind)
        if own:
            out.update(authz_schemas.definitions_for(k.kind))
            props.update(own)
            required = own_required
        batch, _ = batch_schemas.properties_for(k.kind, k.group)
        if batch:
            out.update(batch_schemas.definitions_for(k.kind, k.group))
            props.update(batch)
        workload, _ = workload_schemas.properties_for(k.kind, k.group)
        if workload:
            out.update(workload_schemas.definitions_for(k.kind, k.group))
            props.update(workload)
        storage, storage_required = storage_schemas.properties_for(k.kind, k.group)
        if storage:
            out.update(storage_schemas.definitions_for(k.kind, k.group))
            props.update(storage)
            required = storage_required
        lifecycle, _ = lifecycle_schemas.properties_for(k.kind, k.group)
        if lifecycle:
            out.update(lifecycle_schemas.definitions_for(k.kind, k.group))
            props.update(lifecycle)
        out[name_of(k)] = {
            "type": "object",
            "description": k.description or k.kind,
            "properties": props,
            "x-kubernetes-group-version-kind": [
                {"group": k.group, "kind": k.kind, "version": k.version}
            ],
        }
        if required:
            out[name_of(k)]["required"] = required
    return out
