"""OpenAPI schemas, described in our own words, for storage.k8s.io/v1 StorageClasses and the
apps/v1 StatefulSets and ControllerRevisions, so that ``kubectl explain sc``, ``kubectl
explain sts.spec.volumeClaimTemplates`` work. The pod template and the claim templates are
core/v1's PodTemplateSpec and PersistentVolumeClaim, taken with what they refer to from
``pod_schema``. ``openapi_schemas.schemas_for`` takes the definitions (``definitions_for``)
and a kind's own properties (``properties_for``) from here."""

from __future__ import annotations

from typing import Any

from kubelite.registry import pod_schema

APPS = "io.k8s.api.apps.v1."
CORE = "io.k8s.api.core.v1."
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
RUNTIME = "io.k8s.apimachinery.pkg.runtime.RawExtension"
_REF = "#/components/schemas/"
_INT = "integer"


def _p(type_: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "description": description, **extra}


def _ref(name: str, description: str) -> dict[str, Any]:
    return {"allOf": [{"$ref": _REF + name}], "description": description}


def _list(name: str, description: str) -> dict[str, Any]:
    item = {"allOf": [{"$ref": _REF + name}], "default": {}}
    return {
        "type": "array",
        "items": item,
        "description": description,
        "x-kubernetes-list-type": "atomic",
    }


def _obj(description: str, props: dict[str, Any], required: list[str] | None = None) -> Any:
    out: dict[str, Any] = {"type": "object", "description": description, "properties": props}
    if required:
        out["required"] = required
    return out


def _strings(description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "default": ""},
        "description": description,
        "x-kubernetes-list-type": "atomic",
    }


APPS_DEFS: dict[str, Any] = {
    APPS + "StatefulSetSpec": _obj(
        "What a StatefulSet keeps: pods with stable names and storage, made and updated in order.",
        {
            "replicas": _p(_INT, "How many pods. Defaults to 1.", format="int32"),
            "selector": _ref(
                META + "LabelSelector",
                "The pods the set owns; must match the template's labels. Cannot be changed.",
            ),
            "template": _ref(
                CORE + "PodTemplateSpec",
                "What each pod runs. Pods are named <set>-<ordinal>, with that name as host name.",
            ),
            "volumeClaimTemplates": _list(
                CORE + "PersistentVolumeClaim",
                "Claims each pod gets, named <template>-<set>-<ordinal> "
                "and mounted as the template's volume; kept when "
                "the pod goes. Cannot be changed.",
            ),
            "serviceName": _p(
                "string",
                "The headless Service that gives each pod a DNS name "
                "<pod>.<service>.<namespace>.svc.",
            ),
            "podManagementPolicy": _p(
                "string",
                "OrderedReady (default): one pod at a time, "
                "each waiting for the one before to be ready; Parallel: "
                "all at once. Cannot be changed.",
                enum=["OrderedReady", "Parallel"],
            ),
            "updateStrategy": _ref(
                APPS + "StatefulSetUpdateStrategy",
                "How pods are replaced when the template changes.",
            ),
            "revisionHistoryLimit": _p(_INT, "Old revisions kept. Defaults to 10.", format="int32"),
            "minReadySeconds": _p(
                _INT, "Seconds a pod must be ready before it counts as available.", format="int32"
            ),
            "persistentVolumeClaimRetentionPolicy": _ref(
                APPS + "StatefulSetPersistentVolumeClaimRetentionPolicy",
                "Whether claims go when the set is deleted or scaled down.",
            ),
            "ordinals": _ref(
                APPS + "StatefulSetOrdinals", "The ordinals the pods are numbered from."
            ),
        },
        ["selector", "template"],
    ),
    APPS + "StatefulSetUpdateStrategy": _obj(
        "How pods are replaced when the template changes.",
        {
            "type": _p(
                "string",
                "RollingUpdate (default): one pod at a time, highest ordinal "
                "first; OnDelete: only pods someone deletes.",
                enum=["OnDelete", "RollingUpdate"],
            ),
            "rollingUpdate": _ref(
                APPS + "RollingUpdateStatefulSetStrategy", "Settings of a rolling update."
            ),
        },
    ),
    APPS + "RollingUpdateStatefulSetStrategy": _obj(
        "Settings of a rolling update.",
        {
            "partition": _p(
                _INT,
                "Pods with an ordinal below it keep the old template. Defaults to 0.",
                format="int32",
            ),
            "maxUnavailable": _p(
                "string",
                "Pods that may be down during the update (not used).",
                format="int-or-string",
                **{"x-kubernetes-int-or-string": True},
            ),
        },
    ),
    APPS + "StatefulSetPersistentVolumeClaimRetentionPolicy": _obj(
        "What becomes of the claims from volumeClaimTemplates.",
        {
            "whenDeleted": _p(
                "string",
                "Retain (default) or Delete, when the set is deleted.",
                enum=["Delete", "Retain"],
            ),
            "whenScaled": _p(
                "string",
                "Retain (default) or Delete, when the set is scaled down.",
                enum=["Delete", "Retain"],
            ),
        },
    ),
    APPS + "StatefulSetOrdinals": _obj(
        "Where the pods' numbering starts.",
        {"start": _p(_INT, "The first ordinal. Defaults to 0.", format="int32")},
    ),
    APPS + "StatefulSetStatus": _obj(
        "How far the StatefulSet has come.",
        {
            "observedGeneration": _p(_INT, "The generation last acted on.", format="int64"),
            "replicas": _p(_INT, "Pods made.", format="int32"),
            "readyReplicas": _p(_INT, "Pods ready.", format="int32"),
            "availableReplicas": _p(_INT, "Pods ready for minReadySeconds.", format="int32"),
            "currentReplicas": _p(_INT, "Pods at currentRevision.", format="int32"),
            "updatedReplicas": _p(_INT, "Pods at updateRevision.", format="int32"),
            "currentRevision": _p("string", "The revision of the pods below the partition."),
            "updateRevision": _p("string", "The revision of the template now."),
            "collisionCount": _p(
                _INT, "Name collisions of revisions, mixed into their hash.", format="int32"
            ),
            "conditions": _list(APPS + "StatefulSetCondition", "Observations of the set."),
        },
    ),
    APPS + "StatefulSetCondition": _obj(
        "One observation of a StatefulSet.",
        {
            "type": _p("string", "The kind of condition."),
            "status": _p("string", "True, False or Unknown."),
            "lastTransitionTime": _ref(META + "Time", "When it last changed."),
            "reason": _p("string", "A one-word reason."),
            "message": _p("string", "A human-readable account."),
        },
        ["type", "status"],
    ),
    CORE + "PodTemplateSpec": _obj(
        "A pod's labels and spec, from which pods are made.",
        {
            "metadata": _ref(META + "ObjectMeta", "The pods' labels and annotations."),
            "spec": _ref(CORE + "PodSpec", "The pods' spec."),
        },
    ),
    RUNTIME: {
        "type": "object",
        "description": "Any object, kept as written.",
        "x-kubernetes-preserve-unknown-fields": True,
    },
    META + "LabelSelector": _obj(
        "A query over labels; all its requirements must hold.",
        {
            "matchLabels": _p(
                "object", "Labels that must be equal.", additionalProperties={"type": "string"}
            ),
            "matchExpressions": _list(META + "LabelSelectorRequirement", "Set requirements."),
        },
    ),
    META + "LabelSelectorRequirement": _obj(
        "A key In, NotIn, Exists or DoesNotExist over values.",
        {
            "key": _p("string", "The label."),
            "operator": _p("string", "In, NotIn, Exists or DoesNotExist."),
            "values": _strings("Values."),
        },
        ["key", "operator"],
    ),
}

_KINDS: dict[tuple[str, str], dict[str, Any]] = {
    ("apps", "StatefulSet"): {
        "spec": _ref(APPS + "StatefulSetSpec", "What the set keeps."),
        "status": _ref(APPS + "StatefulSetStatus", "How far it has come."),
    },
    ("apps", "ControllerRevision"): {
        "data": _ref(
            RUNTIME,
            "The state the revision restores (for a StatefulSet, a patch "
            "putting its pod template back). Cannot be changed.",
        ),
        "revision": _p(_INT, "The revision's number; the highest is the newest.", format="int64"),
    },
    ("storage.k8s.io", "StorageClass"): {
        "provisioner": _p(
            "string",
            "What makes the volumes of this class "
            "(rancher.io/local-path for kubelite's local-path). Cannot be "
            "changed.",
        ),
        "parameters": _p(
            "object",
            "Settings for the provisioner. Cannot be changed.",
            additionalProperties={"type": "string"},
        ),
        "reclaimPolicy": _p(
            "string",
            "What becomes of a volume once its claim goes: Delete "
            "(default) or Retain. Cannot be changed.",
            enum=["Delete", "Retain"],
        ),
        "volumeBindingMode": _p(
            "string",
            "Immediate (default): claims are bound at once; "
            "WaitForFirstConsumer: once a pod using them is scheduled.",
            enum=["Immediate", "WaitForFirstConsumer"],
        ),
        "allowVolumeExpansion": _p("boolean", "Whether claims of the class may grow."),
        "mountOptions": _strings("Mount options of the volumes made."),
        "allowedTopologies": {
            "type": "array",
            "items": {"type": "object"},
            "description": "Where volumes may be made.",
            "x-kubernetes-list-type": "atomic",
        },
    },
}
_REQUIRED = {
    ("storage.k8s.io", "StorageClass"): ["provisioner"],
    ("apps", "ControllerRevision"): ["revision"],
}


def properties_for(kind: str, group: str) -> tuple[dict[str, Any], list[str]]:
    props = _KINDS.get((group, kind))
    if props is None:
        return {}, []
    return props, _REQUIRED.get((group, kind), [])


def definitions_for(kind: str, group: str) -> dict[str, Any]:
    """The definitions a kind refers to, with the core/v1 ones the templates need."""
    if (group, kind) not in (("apps", "StatefulSet"), ("apps", "ControllerRevision")):
        return {}
    roots = [CORE + "PodSpec", CORE + "PersistentVolumeClaim", META + "ObjectMeta", META + "Time"]
    return {**APPS_DEFS, **pod_schema.referenced_schemas(roots, APPS_DEFS)}
