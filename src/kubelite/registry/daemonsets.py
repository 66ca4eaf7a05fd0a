"""apps/v1 DaemonSets: RollingUpdate (one unavailable, no surge) by default, ten revisions
kept, the template generation (``deprecated.daemonset.template.generation``: 1 at create,
one more at each template change), a selector that never changes, the ``status``
subresource, and ``kubectl get ds``'s columns: DESIRED, CURRENT, READY, UP-TO-DATE,
AVAILABLE, NODE SELECTOR, AGE (wide: CONTAINERS, IMAGES, SELECTOR).
"""

from __future__ import annotations

from typing import Any

from kubelite.model.fielderrors import FieldError, invalid, not_supported, required
from kubelite.model.objects import Obj
from kubelite.registry.podtemplates import default_template, template_spec
from kubelite.registry.resource import AGE_COLUMN, Column, Subresource, age_of
from kubelite.registry.workload_validation import (
    go_invalid,
    go_label_selector,
    immutable_selector,
    int_or_percent_value,
    label_selector_errors,
    nonnegative,
    not_more_than_100_percent,
    positive_int_or_percent,
    replica_template_errors,
    spec_of,
    template_matches_selector,
)
from kubelite.registry.workloads import (
    WorkloadKind,
    containers_and_images,
    count,
    selector_cell,
    status_of,
)

ROLLING_UPDATE = "RollingUpdate"
ON_DELETE = "OnDelete"
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"
STATUS_COUNTS = (
    "currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady",
    "updatedNumberScheduled", "numberAvailable", "numberUnavailable",
)  # fmt: skip


def default_daemonset(obj: Obj) -> None:
    spec = obj["spec"]
    strategy = spec.get("updateStrategy")
    if not isinstance(strategy, dict):
        strategy = spec["updateStrategy"] = {}
    if not strategy.get("type"):
        strategy["type"] = ROLLING_UPDATE
    if strategy["type"] == ROLLING_UPDATE:
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            rolling = strategy["rollingUpdate"] = {}
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = 1
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = 0
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    default_template(spec.get("template"))


def validate_daemonset(obj: Obj) -> list[FieldError]:
    spec = spec_of(obj)
    selector, template = spec.get("selector"), spec.get("template")
    errs = label_selector_errors(selector, "spec.selector")
    if selector is None:
        errs.append(required("spec.selector", ""))
    errs += template_matches_selector(selector, template, "spec.template")
    if (
        isinstance(selector, dict)
        and not selector.get("matchLabels")
        and not selector.get("matchExpressions")
    ):
        shown = go_label_selector(selector)
        errs.append(go_invalid("spec.selector", shown, "empty selector is invalid for daemonset"))
    errs += replica_template_errors(template, "spec.template", "DaemonSet")
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs += update_strategy_errors(spec.get("updateStrategy"))
    errs += nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    return errs


def update_strategy_errors(strategy: Any) -> list[FieldError]:
    path = "spec.updateStrategy"
    if not isinstance(strategy, dict):
        return [required(path, "")]
    kind = strategy.get("type")
    if kind == ON_DELETE:
        return []
    if kind != ROLLING_UPDATE:
        return [not_supported(f"{path}.type", kind, [ROLLING_UPDATE, ON_DELETE])]
    rolling = strategy.get("rollingUpdate")
    at = f"{path}.rollingUpdate"
    if not isinstance(rolling, dict):
        return [required(at, "")]
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errs = positive_int_or_percent(unavailable, f"{at}.maxUnavailable")
    errs += positive_int_or_percent(surge, f"{at}.maxSurge")
    errs += not_more_than_100_percent(unavailable, f"{at}.maxUnavailable")
    errs += not_more_than_100_percent(surge, f"{at}.maxSurge")
    has_unavailable = int_or_percent_value(unavailable)[0] != 0
    has_surge = int_or_percent_value(surge)[0] != 0
    if has_unavailable and has_surge:
        detail = "may not be set when maxUnavailable is non-zero"
        errs.append(invalid(f"{at}.maxSurge", surge, detail))
    elif not has_unavailable and not has_surge:
        errs.append(required(f"{at}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    return errs


def node_selector_cell(obj: Obj) -> str:
    selector = template_spec(obj).get("nodeSelector")
    if not isinstance(selector, dict) or not selector:
        return "<none>"
    return ",".join(f"{k}={selector[k]}" for k in sorted(selector))


class DaemonSetKind(WorkloadKind):
    def default(self, obj: Obj) -> None:
        default_daemonset(obj)

    def prepare_new(self, obj: Obj) -> None:
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations[TEMPLATE_GENERATION] = "1"

    def prepare_spec_update(self, new: Obj, old: Obj) -> None:
        old_annotations = (old.get("metadata") or {}).get("annotations") or {}
        current = str(old_annotations.get(TEMPLATE_GENERATION) or "1")
        generation = int(current) if current.isdigit() else 1
        if spec_of(new).get("template") != spec_of(old).get("template"):
            generation += 1
        new["metadata"].setdefault("annotations", {})[TEMPLATE_GENERATION] = str(generation)

    def validate_spec(self, obj: Obj) -> list[FieldError]:
        return validate_daemonset(obj)

    def validate_spec_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return immutable_selector(spec_of(new).get("selector"), spec_of(old).get("selector"))

    def validate_status(self, obj: Obj) -> list[FieldError]:
        status = status_of(obj)
        errs: list[FieldError] = []
        for name in (*STATUS_COUNTS, "observedGeneration", "collisionCount"):
            errs += nonnegative(status.get(name), f"status.{name}")
        return errs

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the daemon set."),
            Column("Desired", type="integer", description="Nodes that should run a pod."),
            Column("Current", type="integer", description="Nodes that run a pod."),
            Column("Ready", type="integer", description="Nodes whose pod is ready."),
            Column("Up-to-date", type="integer",
                   description="Nodes that run the current template."),
            Column("Available", type="integer",
                   description="Nodes whose pod is ready for minReadySeconds."),
            Column("Node Selector", description="The node selector of the template."),
            AGE_COLUMN,
            Column("Containers", priority=1, description="Names of the template's containers."),
            Column("Images", priority=1, description="Images of the template's containers."),
            Column("Selector", priority=1, description="Labels of the pods it manages."),
        ]  # fmt: skip

    def cells(self, obj: Obj, now: float) -> list[Any]:
        status = status_of(obj)
        containers, images = containers_and_images(obj)
        return [
            obj["metadata"]["name"],
            count(status.get("desiredNumberScheduled")),
            count(status.get("currentNumberScheduled")),
            count(status.get("numberReady")),
            count(status.get("updatedNumberScheduled")),
            count(status.get("numberAvailable")),
            node_selector_cell(obj),
            age_of(obj, now),
            containers,
            images,
            selector_cell(spec_of(obj).get("selector")),
        ]


DAEMONSETS = DaemonSetKind(
    group="apps",
    version="v1",
    kind="DaemonSet",
    plural="daemonsets",
    singular="daemonset",
    short_names=("ds",),
    categories=("all",),
    tracks_generation=True,
    description="Runs one copy of a pod on every (selected) node.",
    subresources=(Subresource("status", "DaemonSet", ("get", "patch", "update")),),
)
