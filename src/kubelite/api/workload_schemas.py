"""OpenAPI schemas, described in our own words, for apps/v1 Deployments, ReplicaSets and
DaemonSets, so that ``kubectl explain deploy.spec.strategy`` or ``kubectl explain
ds.spec.updateStrategy`` work. The pod template's spec is core/v1's PodSpec, taken with what
it refers to from ``pod_schema`` (ReplicationControllers, being core/v1, are described with
the other core kinds in ``registry/schemas/core_v1.py``). ``openapi_schemas.schemas_for``
takes the definitions (``definitions_for``) and a kind's own properties (``properties_for``)
from here."""

from __future__ import annotations

from typing import Any

from kubelite.registry import pod_schema

APPS = "io.k8s.api.apps.v1."
CORE = "io.k8s.api.core.v1."
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_REF = "#/components/schemas/"
_INT = "integer"


def _p(type_: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "description": description, **extra}


def _ref(name: str, description: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": _REF + name}], "description": description}


def _list(name: str, description: str, key: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "array",
        "items": {"allOf": [{"$ref": _REF + name}], "default": {}},
        "description": description,
        "x-kubernetes-list-type": "map" if key else "atomic",
    }
    if key:
        out["x-kubernetes-list-map-keys"] = [key]
        out["x-kubernetes-patch-merge-key"] = key
        out["x-kubernetes-patch-strategy"] = "merge"
    return out


def _obj(description: str, props: dict[str, Any], required: list[str] | None = None) -> Any:
    out: dict[str, Any] = {"type": "object", "description": description, "properties": props}
    if required:
        out["required"] = required
    return out


def _count(description: str) -> dict[str, Any]:
    return _p(_INT, description, format="int32")


def _condition(owner: str) -> Any:
    return _obj(
        f"One observation of a {owner}.",
        {
            "type": _p("string", "The kind of observation (Available, Progressing …)."),
            "status": _p("string", "True, False or Unknown."),
            "lastUpdateTime": _ref(META + "Time", "When the controller last wrote it."),
            "lastTransitionTime": _ref(META + "Time", "When its status last changed."),
            "reason": _p("string", "A one-word reason, as the controller names it."),
            "message": _p("string", "A human-readable account."),
        },
        ["type", "status"],
    )


_TEMPLATE = _ref(CORE + "PodTemplateSpec", "The pods to make: their labels and spec.")
_SELECTOR = _ref(META + "LabelSelector", "Which pods belong to it. Cannot be changed.")
_MIN_READY = _count("Seconds a new pod must be ready before it counts as available.")
_HISTORY = _count("How many old revisions are kept for rolling back. Defaults to 10.")

WORKLOAD_DEFS: dict[str, Any] = {
    APPS + "DeploymentSpec": _obj(
        "What a Deployment keeps running, and how it replaces old pods with new ones.",
        {
            "replicas": _count("Pods wanted. Defaults to 1."),
            "selector": _SELECTOR,
            "template": _TEMPLATE,
            "strategy": _ref(APPS + "DeploymentStrategy", "How old pods give way to new."),
            "minReadySeconds": _MIN_READY,
            "revisionHistoryLimit": _HISTORY,
            "paused": _p("boolean", "A paused Deployment starts no rollout until resumed."),
            "progressDeadlineSeconds": _count(
                "Seconds a rollout may go without progress before the Progressing condition "
                "turns False with ProgressDeadlineExceeded. Defaults to 600."
            ),
        },
        ["selector", "template"],
    ),
    APPS + "DeploymentStrategy": _obj(
        "How a Deployment replaces its pods.",
        {
            "type": _p(
                "string",
                "RollingUpdate (the default) replaces a few at a time; Recreate removes every "
                "old pod before starting new ones.",
                enum=["Recreate", "RollingUpdate"],
            ),
            "rollingUpdate": _ref(
                APPS + "RollingUpdateDeployment", "Settings of a rolling update."
            ),
        },
    ),
    APPS + "RollingUpdateDeployment": _obj(
        "How far a rolling update may stray from the wanted count.",
        {
            "maxUnavailable": _ref(
                INT_OR_STRING,
                "Pods that may be unavailable during the update, a number or a percentage "
                "(rounded down). Defaults to 25%.",
            ),
            "maxSurge": _ref(
                INT_OR_STRING,
                "Pods that may exist above the wanted count, a number or a percentage "
                "(rounded up). Defaults to 25%.",
            ),
        },
    ),
    APPS + "DeploymentStatus": _obj(
        "How far the Deployment has come, as its controller last saw it.",
        {
            "observedGeneration": _p(_INT, "The generation observed.", format="int64"),
            "replicas": _count("Pods of all its ReplicaSets."),
            "updatedReplicas": _count("Pods of the current template."),
            "readyReplicas": _count("Ready pods."),
            "availableReplicas": _count("Pods ready for at least minReadySeconds."),
            "unavailableReplicas": _count("Pods still needed to reach the wanted count."),
            "conditions": _list(APPS + "DeploymentCondition", "Observations.", key="type"),
            "collisionCount": _count("Bumped when a new ReplicaSet's name was taken."),
        },
    ),
    APPS + "DeploymentCondition": _condition("Deployment"),
    APPS + "ReplicaSetSpec": _obj(
        "How many copies of a pod a ReplicaSet keeps.",
        {
            "replicas": _count("Pods wanted. Defaults to 1."),
            "minReadySeconds": _MIN_READY,
            "selector": _SELECTOR,
            "template": _TEMPLATE,
        },
        ["selector"],
    ),
    APPS + "ReplicaSetStatus": _obj(
        "What the ReplicaSet has, as its controller last saw it.",
        {
            "replicas": _count("Pods it has."),
            "fullyLabeledReplicas": _count("Pods carrying every label of the template."),
            "readyReplicas": _count("Ready pods."),
            "availableReplicas": _count("Pods ready for at least minReadySeconds."),
            "observedGeneration": _p(_INT, "The generation observed.", format="int64"),
            "conditions": _list(APPS + "ReplicaSetCondition", "Observations.", key="type"),
        },
        ["replicas"],
    ),
    APPS + "ReplicaSetCondition": _condition("ReplicaSet"),
    APPS + "DaemonSetSpec": _obj(
        "A pod to run on every node that the template's scheduling rules admit.",
        {
            "selector": _SELECTOR,
            "template": _TEMPLATE,
            "updateStrategy": _ref(APPS + "DaemonSetUpdateStrategy", "How pods are replaced."),
            "minReadySeconds": _MIN_READY,
            "revisionHistoryLimit": _HISTORY,
        },
        ["selector", "template"],
    ),
    APPS + "DaemonSetUpdateStrategy": _obj(
        "How a DaemonSet replaces its pods when the template changes.",
        {
            "type": _p(
                "string",
                "RollingUpdate (the default) replaces them a few nodes at a time; OnDelete "
                "only when someone deletes the old pod.",
                enum=["OnDelete", "RollingUpdate"],
            ),
            "rollingUpdate": _ref(APPS + "RollingUpdateDaemonSet", "Settings of a rolling update."),
        },
    ),
    APPS + "RollingUpdateDaemonSet": _obj(
        "How many nodes a DaemonSet update may touch at once.",
        {
            "maxUnavailable": _ref(
                INT_OR_STRING,
                "Nodes that may be without an available pod, a number or a percentage. "
                "Defaults to 1.",
            ),
            "maxSurge": _ref(
                INT_OR_STRING,
                "Nodes that may run the new pod beside the old one until it is available. "
                "Defaults to 0; only one of the two may be non-zero.",
            ),
        },
    ),
    APPS + "DaemonSetStatus": _obj(
        "Where the DaemonSet's pods run, as its controller last saw it.",
        {
            "currentNumberScheduled": _count("Nodes that should run the pod and do."),
            "numberMisscheduled": _count("Nodes that run the pod but should not."),
            "desiredNumberScheduled": _count("Nodes that should run the pod."),
            "numberReady": _count("Nodes whose pod is ready."),
            "observedGeneration": _p(_INT, "The generation observed.", format="int64"),
            "updatedNumberScheduled": _count("Nodes running the current template."),
            "numberAvailable": _count("Nodes whose pod is ready for minReadySeconds."),
            "numberUnavailable": _count("Nodes that should run an available pod and do not."),
            "collisionCount": _count("Bumped when a revision's name was taken."),
            "conditions": _list(APPS + "DaemonSetCondition", "Observations.", key="type"),
        },
        ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"],
    ),
    APPS + "DaemonSetCondition": _condition("DaemonSet"),
    CORE + "PodTemplateSpec": _obj(
        "A pod's labels and spec, from which pods are made.",
        {
            "metadata": _ref(META + "ObjectMeta", "The pods' labels and annotations."),
            "spec": _ref(CORE + "PodSpec", "The pods' spec."),
        },
    ),
}

_KINDS: dict[str, tuple[dict[str, Any], list[str]]] = {
    kind: (
        {
            "spec": _ref(APPS + f"{kind}Spec", f"What the {kind} should do."),
            "status": _ref(APPS + f"{kind}Status", f"What the {kind}'s controller last saw."),
        },
        [],
    )
    for kind in ("Deployment", "ReplicaSet", "DaemonSet")
}


def properties_for(kind: str, group: str) -> tuple[dict[str, Any], list[str]]:
    if group != "apps" or kind not in _KINDS:
        return {}, []
    return _KINDS[kind]


def definitions_for(kind: str, group: str) -> dict[str, Any]:
    """The apps definitions and the core/v1 ones the pod template refers to."""
    if group != "apps" or kind not in _KINDS:
        return {}
    roots = [
        CORE + "PodSpec",
        META + "Time",
        META + "ObjectMeta",
        META + "LabelSelector",
        INT_OR_STRING,
    ]
    return {**WORKLOAD_DEFS, **pod_schema.referenced_schemas(roots, WORKLOAD_DEFS)}
