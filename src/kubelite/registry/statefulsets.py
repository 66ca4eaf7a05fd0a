"""StatefulSets (apps/v1): pods with stable names (``<set>-<ordinal>``), stable storage
(``volumeClaimTemplates``) and ordered rollouts, kept by ``controllers.statefulset``.

Defaulting is the API server's (``SetDefaults_StatefulSet``): ``podManagementPolicy:
OrderedReady``, ``updateStrategy: RollingUpdate`` with ``partition: 0``, ``replicas: 1``,
``revisionHistoryLimit: 10``, ``persistentVolumeClaimRetentionPolicy`` Retain/Retain, the
template's pod spec, and each claim template's ``volumeMode`` and ``Pending`` status.
Validation is ``ValidateStatefulSetSpec`` with its field paths and words (an unknown
``podManagementPolicy`` is ``must be 'OrderedReady' or 'Parallel'``); as upstream, only the
template's labels and annotations are checked, not its pod spec (its mounts may name claim
templates). After creation only replicas, ordinals, template, updateStrategy,
persistentVolumeClaimRetentionPolicy, minReadySeconds and revisionHistoryLimit may change.
``kubectl get sts`` shows READY and AGE (CONTAINERS and IMAGES with ``-o wide``); ``status``
and ``scale`` are subresources.
"""

from __future__ import annotations

import json
from typing import Any

from kubelite.model import labelselector
from kubelite.model.fielderrors import FieldError, forbidden, invalid, not_supported, required
from kubelite.model.objects import Obj
from kubelite.registry.meta_validation import validate_annotations, validate_labels
from kubelite.registry.podtemplates import default_template
from kubelite.registry.resource import AGE_COLUMN, Column, age_of
from kubelite.registry.workload_validation import (
    go_invalid,
    go_label_selector,
    label_selector_errors,
    nonnegative,
    spec_of,
    template_matches_selector,
)
from kubelite.registry.workloads import (
    WorkloadKind,
    containers_and_images,
    count,
    status_and_scale,
    status_of,
)

ORDERED_READY = "OrderedReady"
PARALLEL = "Parallel"
ROLLING_UPDATE = "RollingUpdate"
ON_DELETE = "OnDelete"
RETENTION_POLICIES = ["Delete", "Retain"]
UPDATABLE = (
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
    "revisionHistoryLimit",
)
FORBIDDEN_UPDATE = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
    "forbidden"
)


def default_claim_template(template: Any) -> None:
    if not isinstance(template, dict):
        return
    template.setdefault("apiVersion", "v1")
    template.setdefault("kind", "PersistentVolumeClaim")
    spec = template.get("spec")
    if isinstance(spec, dict) and spec.get("volumeMode") is None:
        spec["volumeMode"] = "Filesystem"
    status = template.get("status")
    if not isinstance(status, dict) or not status.get("phase"):
        template["status"] = {**(status if isinstance(status, dict) else {}), "phase": "Pending"}


def default_statefulset(obj: Obj) -> None:
    spec = spec_of(obj)
    obj["spec"] = spec
    spec.setdefault("podManagementPolicy", ORDERED_READY)
    strategy = spec.get("updateStrategy")
    if not isinstance(strategy, dict):
        strategy = spec["updateStrategy"] = {}
    if not strategy.get("type"):
        strategy["type"] = ROLLING_UPDATE
        if strategy.get("rollingUpdate") is None:
            strategy["rollingUpdate"] = {}
    rolling = strategy.get("rollingUpdate")
    if strategy["type"] == ROLLING_UPDATE and isinstance(rolling, dict):
        rolling.setdefault("partition", 0)
    retention = spec.get("persistentVolumeClaimRetentionPolicy")
    if not isinstance(retention, dict):
        retention = spec["persistentVolumeClaimRetentionPolicy"] = {}
    retention.setdefault("whenDeleted", "Retain")
    retention.setdefault("whenScaled", "Retain")
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    default_template(spec.get("template"))
    for template in spec.get("volumeClaimTemplates") or []:
        default_claim_template(template)


def _strategy_errors(strategy: Any) -> list[FieldError]:
    path = "spec.updateStrategy"
    if not isinstance(strategy, dict):
        return [required(path, "")]
    kind, rolling = strategy.get("type"), strategy.get("rollingUpdate")
    if not kind:
        return [required(path, "")]
    if kind == ON_DELETE:
        if rolling is not None:
            detail = f"only allowed for updateStrategy '{ROLLING_UPDATE}'"
            return [invalid(f"{path}.rollingUpdate", rolling, detail)]
        return []
    if kind == ROLLING_UPDATE:
        if isinstance(rolling, dict):
            return nonnegative(rolling.get("partition"), f"{path}.rollingUpdate.partition")
        return []
    shown = (
        f"apps.StatefulSetUpdateStrategy{{Type:{json.dumps(str(kind))}, "
        f"RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}}"
    )
    return [go_invalid(path, shown, f"must be '{ROLLING_UPDATE}' or '{ON_DELETE}'")]


def _retention_errors(policy: Any) -> list[FieldError]:
    path = "spec.persistentVolumeClaimRetentionPolicy"
    if not isinstance(policy, dict):
        return []
    errs: list[FieldError] = []
    for key in ("whenDeleted", "whenScaled"):
        value = policy.get(key)
        if value not in RETENTION_POLICIES:
            errs.append(not_supported(f"{path}.{key}", value, RETENTION_POLICIES))
    return errs


def _template_errors(spec: dict[str, Any]) -> list[FieldError]:
    template = spec.get("template")
    if not isinstance(template, dict):
        return [required("spec.template", "")]
    meta = template.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    errs = template_matches_selector(spec.get("selector"), template, "spec.template")
    errs += validate_labels(meta.get("labels"), "spec.template.labels")
    errs += validate_annotations(meta.get("annotations"), "spec.template.annotations")
    pod_spec = template.get("spec")
    pod_spec = pod_spec if isinstance(pod_spec, dict) else {}
    policy = pod_spec.get("restartPolicy")
    if policy != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", policy, ["Always"]))
    if pod_spec.get("activeDeadlineSeconds") is not None:
        errs.append(
            forbidden(
                "spec.template.spec.activeDeadlineSeconds",
                "activeDeadlineSeconds in StatefulSet is not Supported",
            )
        )
    return errs


def validate_statefulset(obj: Obj) -> list[FieldError]:
    spec = spec_of(obj)
    errs: list[FieldError] = []
    policy = spec.get("podManagementPolicy")
    if not policy:
        errs.append(required("spec.podManagementPolicy", ""))
    elif policy not in (ORDERED_READY, PARALLEL):
        errs.append(
            invalid(
                "spec.podManagementPolicy", policy, f"must be '{ORDERED_READY}' or '{PARALLEL}'"
            )
        )
    errs += _strategy_errors(spec.get("updateStrategy"))
    errs += _retention_errors(spec.get("persistentVolumeClaimRetentionPolicy"))
    errs += nonnegative(spec.get("replicas"), "spec.replicas")
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    ordinals = spec.get("ordinals")
    if isinstance(ordinals, dict):
        errs += nonnegative(ordinals.get("start"), "spec.ordinals.start")
    selector = spec.get("selector")
    if selector is None:
        errs.append(required("spec.selector", ""))
    elif isinstance(selector, dict):
        errs += label_selector_errors(selector, "spec.selector")
        if labelselector.is_empty(selector):
            errs.append(
                go_invalid(
                    "spec.selector",
                    go_label_selector(selector),
                    "empty selector is invalid for statefulset",
                )
            )
    return errs + _template_errors(spec)


def validate_statefulset_update(new: Obj, old: Obj) -> list[FieldError]:
    fixed_new = {k: v for k, v in spec_of(new).items() if k not in UPDATABLE}
    fixed_old = {k: v for k, v in spec_of(old).items() if k not in UPDATABLE}
    if json.dumps(fixed_new, sort_keys=True) != json.dumps(fixed_old, sort_keys=True):
        return [forbidden("spec", FORBIDDEN_UPDATE)]
    return []


def validate_statefulset_status(obj: Obj) -> list[FieldError]:
    status = status_of(obj)
    errs: list[FieldError] = []
    for key in (
        "replicas",
        "readyReplicas",
        "currentReplicas",
        "updatedReplicas",
        "availableReplicas",
        "observedGeneration",
    ):
        errs += nonnegative(status.get(key), f"status.{key}")
    return errs


class StatefulSetKind(WorkloadKind):
    def default(self, obj: Obj) -> None:
        default_statefulset(obj)

    def validate_spec(self, obj: Obj) -> list[FieldError]:
        return validate_statefulset(obj)

    def validate_spec_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return validate_statefulset_update(new, old)

    def validate_status(self, obj: Obj) -> list[FieldError]:
        return validate_statefulset_status(obj)

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the StatefulSet."),
            Column("Ready", description="Number of the pod with ready state"),
            AGE_COLUMN,
            Column(
                "Containers", priority=1, description="Names of each container in the template."
            ),
            Column(
                "Images",
                priority=1,
                description="Images referenced by each container in the template.",
            ),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        names, images = containers_and_images(obj)
        ready = count(status_of(obj).get("readyReplicas"))
        desired = count(spec_of(obj).get("replicas"))
        return [obj["metadata"]["name"], f"{ready}/{desired}", age_of(obj, now), names, images]


STATEFULSETS = StatefulSetKind(
    group="apps",
    version="v1",
    kind="StatefulSet",
    plural="statefulsets",
    singular="statefulset",
    short_names=("sts",),
    categories=("all",),
    tracks_generation=True,
    description="Pods with stable names and storage, started and updated in order.",
    subresources=status_and_scale("StatefulSet"),
)
