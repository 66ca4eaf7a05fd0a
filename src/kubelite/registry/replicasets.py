"""apps/v1 ReplicaSets: one replica by default, a required selector that selects the
template's labels and never changes, the ``status`` and ``scale`` subresources, and
``kubectl get rs``'s columns: DESIRED, CURRENT, READY, AGE (wide: CONTAINERS, IMAGES,
SELECTOR).
"""

from __future__ import annotations

from typing import Any

from kubelite.model.fielderrors import FieldError, invalid
from kubelite.model.objects import Obj
from kubelite.registry.podtemplates import default_template
from kubelite.registry.resource import AGE_COLUMN, Column, age_of
from kubelite.registry.workload_validation import (
    immutable_selector,
    nonnegative,
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

STATUS_COUNTS = ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas")


def replica_columns(noun: str) -> list[Column]:
    """DESIRED, CURRENT, READY — a ReplicaSet's and a ReplicationController's columns."""
    return [
        Column("Name", format="name", description=f"Name of the {noun}."),
        Column("Desired", type="integer", description="Replicas asked for."),
        Column("Current", type="integer", description="Replicas that exist."),
        Column("Ready", type="integer", description="Replicas that are ready."),
        AGE_COLUMN,
        Column("Containers", priority=1, description="Names of the template's containers."),
        Column("Images", priority=1, description="Images of the template's containers."),
        Column("Selector", priority=1, description="Labels of the pods it manages."),
    ]


def replica_cells(obj: Obj, now: float, selector: str) -> list[Any]:
    spec, status = spec_of(obj), status_of(obj)
    containers, images = containers_and_images(obj)
    return [
        obj["metadata"]["name"],
        count(spec.get("replicas")),
        count(status.get("replicas")),
        count(status.get("readyReplicas")),
        age_of(obj, now),
        containers,
        images,
        selector,
    ]


def status_replicas(obj: Obj) -> str:
    """The ``status.replicas`` field selector (0 when unset, as the API server prints it)."""
    return str(count(status_of(obj).get("replicas")))


def replica_status_errors(obj: Obj) -> list[FieldError]:
    """``ValidateReplicaSetStatus``: counts never negative, none above ``replicas``."""
    status = status_of(obj)
    errs: list[FieldError] = []
    for name in STATUS_COUNTS:
        errs += nonnegative(status.get(name), f"status.{name}")
    errs += nonnegative(status.get("observedGeneration"), "status.observedGeneration")
    total = count(status.get("replicas"))
    message = "cannot be greater than status.replicas"
    for name in STATUS_COUNTS[1:]:
        value = count(status.get(name))
        if value > total:
            errs.append(invalid(f"status.{name}", value, message))
    available, ready = count(status.get("availableReplicas")), count(status.get("readyReplicas"))
    if available > ready:
        errs.append(invalid("status.availableReplicas", available,
                            "cannot be greater than readyReplicas"))  # fmt: skip
    return errs


class ReplicaSetKind(WorkloadKind):
    def default(self, obj: Obj) -> None:
        spec = obj["spec"]
        if spec.get("replicas") is None:
            spec["replicas"] = 1
        default_template(spec.get("template"))

    def validate_spec(self, obj: Obj) -> list[FieldError]:
        spec = spec_of(obj)
        errs = nonnegative(spec.get("replicas"), "spec.replicas")
        errs += nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
        errs += required_selector_errors(spec, "deployment")  # sic: the API server's wording
        selector, template = spec.get("selector"), spec.get("template")
        errs += template_matches_selector(selector, template, "spec.template")
        errs += replica_template_errors(template, "spec.template", "ReplicaSet")
        return errs

    def validate_spec_update(self, new: Obj, old: Obj) -> list[FieldError]:
        return immutable_selector(spec_of(new).get("selector"), spec_of(old).get("selector"))

    def validate_status(self, obj: Obj) -> list[FieldError]:
        return replica_status_errors(obj)

    def columns(self) -> list[Column]:
        return replica_columns("replica set")

    def cells(self, obj: Obj, now: float) -> list[Any]:
        return replica_cells(obj, now, selector_cell(spec_of(obj).get("selector")))


REPLICASETS = ReplicaSetKind(
    group="apps",
    version="v1",
    kind="ReplicaSet",
    plural="replicasets",
    singular="replicaset",
    short_names=("rs",),
    categories=("all",),
    tracks_generation=True,
    description="Keeps a number of identical pods running.",
    subresources=status_and_scale("ReplicaSet"),
    fields={"status.replicas": status_replicas},
)
