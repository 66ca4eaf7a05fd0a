"""core/v1 ReplicationControllers, for old manifests: ReplicaSets with a map for a selector.
When the selector (or the controller's own labels) is left empty it defaults to the
template's labels; one replica by default. Unlike apps/v1 selectors, an RC's selector may
change. Deleting an RC through core/v1 orphans its pods unless the client asks otherwise
(kubectl asks for Background), as the API server has always done.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kubelite.model import labelselector
from kubelite.model.fielderrors import FieldError, forbidden, required
from kubelite.model.objects import Obj
from kubelite.registry.podtemplates import default_template, template_labels
from kubelite.registry.replicasets import (
    replica_cells,
    replica_columns,
    replica_status_errors,
    status_replicas,
)
from kubelite.registry.resource import Column
from kubelite.registry.workload_validation import (
    SELECTOR_MISMATCH,
    go_invalid,
    go_string_map,
    nonnegative,
    replica_template_errors,
    spec_of,
)
from kubelite.registry.workloads import WorkloadKind, status_and_scale


def default_rc(obj: Obj) -> None:
    spec = obj["spec"]
    labels = template_labels(spec.get("template"))
    if labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = obj.setdefault("metadata", {})
        if not meta.get("labels"):
            meta["labels"] = dict(labels)
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    default_template(spec.get("template"))


def validate_rc(obj: Obj) -> list[FieldError]:
    spec = spec_of(obj)
    errs = nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds")
    selector = spec.get("selector")
    if not selector or not isinstance(selector, dict):
        errs.append(required("spec.selector", ""))
    errs += nonnegative(spec.get("replicas"), "spec.replicas")
    template = spec.get("template")
    if not isinstance(template, dict):
        return [*errs, required("spec.template", "")]
    if (
        isinstance(selector, dict)
        and selector
        and not labelselector.set_matches(selector, template_labels(template))
    ):
        labels = (template.get("metadata") or {}).get("labels")
        shown = go_string_map(labels)
        errs.append(go_invalid("spec.template.metadata.labels", shown, SELECTOR_MISMATCH))
    template_errs = replica_template_errors(template, "spec.template", "ReplicationController")
    for err in template_errs:  # an RC forbids the deadline rather than calling it invalid
        if err.field == "spec.template.spec.activeDeadlineSeconds":
            detail = "activeDeadlineSeconds in ReplicationController is not Supported"
            errs.append(forbidden(err.field, detail))
        else:
            errs.append(err)
    return errs


class ReplicationControllerKind(WorkloadKind):
    default_gc_policy: ClassVar[str] = "OrphanDependents"

    def default(self, obj: Obj) -> None:
        default_rc(obj)

    def validate_spec(self, obj: Obj) -> list[FieldError]:
        return validate_rc(obj)

    def validate_status(self, obj: Obj) -> list[FieldError]:
        return replica_status_errors(obj)

    def columns(self) -> list[Column]:
        return replica_columns("replication controller")

    def cells(self, obj: Obj, now: float) -> list[Any]:
        selector = spec_of(obj).get("selector")
        shown = labelselector.set_to_string(selector if isinstance(selector, dict) else {})
        return replica_cells(obj, now, shown or "<none>")


REPLICATIONCONTROLLERS = ReplicationControllerKind(
    group="",
    version="v1",
    kind="ReplicationController",
    plural="replicationcontrollers",
    singular="replicationcontroller",
    short_names=("rc",),
    categories=("all",),
    tracks_generation=True,
    description="The original ReplicaSet: keeps a number of identical pods running.",
    subresources=status_and_scale("ReplicationController"),
    fields={"status.replicas": status_replicas},
)
