"""The OpenAPI schema, in our own words, of kubelite.dev/v1alpha1 PodLifecycles (each pod's
lifecycle record, ``timeline.record``), so that ``kubectl explain podlifecycles.facts`` says
what a fact is. ``openapi_schemas.schemas_for`` takes the definitions (``definitions_for``)
and the kind's own properties (``properties_for``) from here."""

from __future__ import annotations

from typing import Any

from kubelite.timeline import record as rec

PREFIX = "io.k8s.api.kubelite.v1alpha1."
FACT = PREFIX + "LifecycleFact"
CONTAINER = PREFIX + "LifecycleContainer"
_REF = "#/components/schemas/"


def _p(type_: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "description": description, **extra}


def _list(name: str, description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"allOf": [{"$ref": _REF + name}], "default": {}},
        "description": description,
        "x-kubernetes-list-type": "atomic",
    }


_FACT_TYPES = ", ".join(rec.FACT_KEYS)

DEFINITIONS: dict[str, Any] = {
    CONTAINER: {
        "type": "object",
        "description": "A container of the pod, with where it comes from.",
        "properties": {
            "name": _p("string", "The container's name."),
            "kind": _p(
                "string",
                "init (a regular init container), sidecar (an init container with "
                "restartPolicy Always), app or ephemeral.",
                enum=list(rec.KIND_ORDER),
            ),
            "index": _p("integer", "The container's position in its own list of the spec."),
        },
        "required": ["name", "kind"],
    },
    FACT: {
        "type": "object",
        "description": (
            "One thing that happened to the pod or one of its containers, when the node saw "
            "it happen. Keys other than at, type and container depend on the type."
        ),
        "properties": {
            "at": _p(
                "integer", "When it happened: microseconds since the epoch (UTC).", format="int64"
            ),
            "type": _p("string", f"What happened: one of {_FACT_TYPES}."),
            "container": _p("string", "The container it happened to; absent for the pod's."),
            "attempt": _p("integer", "The container instance: its restart count."),
            "containerID": _p("string", "The runtime's ID of the container instance."),
            "exitCode": _p("integer", "The exit code of an exited container."),
            "reason": _p(
                "string",
                "Why: an exit's reason (Completed, Error, OOMKilled …), a kill's (PodDeletion, "
                "LivenessProbeFailed …), a phase's or a condition's reason.",
            ),
            "signal": _p("string", "The signal a process was sent, or died of (SIGTERM …)."),
            "message": _p("string", "The detail: a probe's output, an error's text."),
            "probe": _p("string", "Which probe: startup, readiness or liveness."),
            "result": _p("string", "A probe's result: success, failure, unknown, warning, error."),
            "count": _p("integer", "How many equal probe results in a row the fact stands for."),
            "last": _p(
                "integer",
                "When the last of count equal probe results came (microseconds since the epoch).",
                format="int64",
            ),
            "hook": _p("string", "Which lifecycle hook: postStart or preStop."),
            "outcome": _p("string", "How a hook ended: Succeeded, Failed or CutShort."),
            "gracePeriodSeconds": _p("integer", "The grace period a deletion or kill was given."),
            "seconds": _p("number", "How long a back-off wait lasts."),
            "phase": _p("string", "The pod's new phase."),
            "condition": _p("string", "The pod condition that changed."),
            "status": _p("string", "The condition's new status: True, False or Unknown."),
            "ready": _p("boolean", "Whether the container now counts as ready."),
            "image": _p("string", "The image being pulled."),
            "ip": _p("string", "The pod's IP in its new sandbox."),
        },
        "required": ["at", "type"],
    },
}

PROPERTIES: dict[str, Any] = {
    "podUID": _p("string", "The uid of the pod the record is about."),
    "nodeName": _p("string", "The node that ran the pod and keeps the record."),
    "containers": _list(CONTAINER, "The pod's containers, in the order the record draws them."),
    "facts": _list(
        FACT,
        f"What happened, oldest first; at most {rec.MAX_FACTS}, the oldest repeated probe "
        "results dropped first.",
    ),
    "droppedFacts": _p("integer", "How many facts were dropped to keep the record bounded."),
}


def properties_for(kind: str, group: str) -> tuple[dict[str, Any], list[str]]:
    if (group, kind) != (rec.GROUP, rec.KIND):
        return {}, []
    return PROPERTIES, []


def definitions_for(kind: str, group: str) -> dict[str, Any]:
    if (group, kind) != (rec.GROUP, rec.KIND):
        return {}
    return dict(DEFINITIONS)
