"""apps/v1 Deployments: defaulting (one replica, RollingUpdate with 25 % surge and 25 %
unavailable, ten old ReplicaSets kept, a 600 s progress deadline), validation with the API
server's causes, a selector that never changes, the ``status`` and ``scale`` subresources,
and ``kubectl get deploy``'s columns: READY (ready/desired), UP-TO-DATE, AVAILABLE, AGE, and
with ``-o wide`` CONTAINERS, IMAGES, SELECTOR.

``metadata.generation`` also moves when the annotations change: the controller copies them
to the ReplicaSets, so an annotation edit is a change it must observe.
"""

from __future__ import annotations

from typing import Any

from kubelite.model.fielderrors import FieldError, forbidden, invalid, not_supported, required
from kubelite.model.objects import Obj
from kubelite.registry.podtemplates import default_template
from kubelite.registry.resource import AGE_COLUMN, Column, age_of
from kubelite.registry.workload_validation import (
    immutable_selector,
    int_or_percent_value,
    nonnegative,
    not_more_than_100_percent,
    positive_int_or_percent,
    replica_template_errors,
    required_selector_errors,
    spec_of,
    template_matches_selector,
)
from kubelite.registry.workloads import (
    WorkloadKind,
    containers_and_images,
    count,
    selector_cell,
    status_and_scale,
    status_of,
)

ROLLING_UPDATE = "RollingUpdate"
RECREATE = "Recreate"
STRATEGIES = [RECREATE, ROLLING_UPDATE]
DEFAULT_SURGE = DEFAULT_UNAVAILABLE = "25%"
DEFAULT_HISTORY = 10
DEFAULT_PROGRESS_DEADLINE = 600


def default_deployment(obj: Obj) -> None:
    spec = obj["spec"]
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = spec.get("strategy")
    if not isinstance(strategy, dict):
        strategy = spec["strategy"] = {}
    if not strategy.get("type"):
        strategy["type"] = ROLLING_UPDATE
    if strategy["type"] == ROLLING_UPDATE:
        rolling = strategy.get("rollingUpdate")
        if not isinstance(rolling, dict):
            rolling = strategy["rollingUpdate"] = {}
        if rolling.get("maxUnavailable") is None:
            rolling["maxUnavailable"] = DEFAULT_UNAVAILABLE
        if rolling.get("maxSurge") is None:
            rolling["maxSurge"] = DEFAULT_SURGE
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = DEFAULT_HISTORY
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = DEFAULT_PROGRESS_DEADLINE
    default_template(spec.get("template"))


def validate_deployment(obj: Obj) -> list[FieldError]:
    spec = spec_of(obj)
    errs = nonnegative(spec.get("replicas"), "spec.replicas")
    errs += required_selector_errors(spec, "deployment")
    errs += template_matches_selector(spec.get("selector"), spec.get("template"), "spec.template")
    errs += replica_template_errors(spec.get("template"), "spec.template", "ReplicaSet")
    errs += strategy_errors(spec.get("strategy"))
    errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    errs += nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit")
    deadline = spec.get("progressDeadlineSeconds")
    if isinstance(deadline, int) and not isinstance(deadline, bool):
        errs += nonnegative(deadline, "spec.progressDeadlineSeconds")
        min_ready = spec.get("minReadySeconds")
        if deadline <= (min_ready if isinstance(min_ready, int) else 0):
            detail = "must be greater than minReadySeconds"
            errs.append(invalid("spec.progressDeadlineSeconds", deadline, detail))
    return errs


def strategy_errors(strategy: Any) -> list[FieldError]:
    path = "spec.strategy"
    if not isinstance(strategy, dict):
        return [required(path, "")]
    kind = strategy.get("type")
    rolling = strategy.get("rollingUpdate")
    if kind == RECREATE:
        if rolling is not None:
            detail = "may not be specified when strategy `type` is 'Recreate'"
            return [forbidden(f"{path}.rollingUpdate", detail)]
        return []
    if kind != ROLLING_UPDATE:
        return [not_supported(f"{path}.type", kind, STRATEGIES)]
    if not isinstance(rolling, dict):
        return [required(f"{path}.rollingUpdate", "this should be defaulted and never be nil")]
    at = f"{path}.rollingUpdate"
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errs = positive_int_or_percent(unavailable, f"{at}.maxUnavailable")
    errs += positive_int_or_percent(surge, f"{at}.maxSurge")
    if int_or_percent_value(unavailable)[0] == 0 and int_or_percent_value(surge)[0] == 0:
        errs.append(
            invalid(f"{at}.maxUnavailable", unavailable, "may not be 0 when `maxSurge` is 0")
        )
    errs += not_more_than_100_percent(unavailable, f"{at}.maxUnavailable")
    return errs


class DeploymentKind(WorkloadKind):
    def default(self, obj: Obj) -> None:
        default_deployment(obj)

    def validate_spec(self, obj: Obj) -> list[FieldError]:
        return validate_deployment(obj)

    def validate_spec_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return immutable_selector(spec_of(new).get("selector"), spec_of(old).get("selector"))

    def spec_changed(self, new: Obj, old: Obj) -> bool:
        annotations = ((new.get("metadata") or {}).get("annotations") or {}) != (
            (old.get("metadata") or {}).get("annotations") or {}
        )
        return annotations or super().spec_changed(new, old)

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the deployment."),
            Column("Ready", description="Ready pods out of the desired replicas."),
            Column("Up-to-date", type="integer",
                   description="Pods running the deployment's current template."),
            Column("Available", type="integer",
                   description="Pods ready for at least minReadySeconds."),
            AGE_COLUMN,
            Column("Containers", priority=1, description="Names of the template's containers."),
            Column("Images", priority=1, description="Images of the template's containers."),
            Column("Selector", priority=1, description="Labels of the pods it manages."),
        ]  # fmt: skip

    def cells(self, obj: Obj, now: float) -> list[Any]:
        spec, status = spec_of(obj), status_of(obj)
        containers, images = containers_and_images(obj)
        return [
            obj["metadata"]["name"],
            f"{count(status.get('readyReplicas'))}/{count(spec.get('replicas'))}",
            count(status.get("updatedReplicas")),
            count(status.get("availableReplicas")),
            age_of(obj, now),
            containers,
            images,
            selector_cell(spec.get("selector")),
        ]


DEPLOYMENTS = DeploymentKind(
    group="apps",
    version="v1",
    kind="Deployment",
    plural="deployments",
    singular="deployment",
    short_names=("deploy",),
    categories=("all",),
    tracks_generation=True,
    description="Declarative updates of a set of identical pods, through ReplicaSets.",
    subresources=status_and_scale("Deployment"),
)
