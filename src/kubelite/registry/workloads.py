"""What the replicated workload kinds share (Deployments, ReplicaSets, DaemonSets,
ReplicationControllers): one create/update flow around each kind's defaulting and
validation, the ``status`` and ``scale`` subresources, and the cells of ``kubectl get``.

- create: the status is reset and the spec defaulted (``WorkloadKind.default``), as the
  API server's strategies do (PrepareForCreate, then defaulting of the decoded body).
- update of the object: the status is kept and the spec defaulted again; ``generation``
  moves with the spec (the registry compares everything outside metadata and status).
- update of ``status``: the spec and the labels are kept (the controllers write their
  status, and the Deployment's revision annotation, through it).
- ``scale`` is served by ``registry.scale`` over the same objects.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.model import labelselector
from kubelite.model.fielderrors import FieldError
from kubelite.model.objects import Obj
from kubelite.registry.meta_validation import validate_object_meta_update
from kubelite.registry.resource import Kind, Subresource
from kubelite.registry.workload_validation import spec_of


def status_and_scale(kind: str) -> tuple[Subresource, ...]:
    return (
        Subresource("scale", "Scale", ("get", "patch", "update"), group="autoscaling"),
        Subresource("status", kind, ("get", "patch", "update")),
    )


class WorkloadKind(Kind):
    """The create/update flow; subclasses define ``default`` and the ``validate_*`` rules."""

    # -- what each kind defines ------------------------------------------------------------
    def default(self, obj: Obj) -> None:
        """Fill defaults in place (spec fields, the template's pod spec)."""

    def validate_spec(self, obj: Obj) -> list[FieldError]:
        return []

    def validate_spec_update(self, new: Obj, old: Obj) -> list[FieldError]:
        """What may not change (immutable selectors), on top of ``validate_spec(new)``."""
        return []

    def validate_status(self, obj: Obj) -> list[FieldError]:
        return []

    def prepare_new(self, obj: Obj) -> None:
        """Create-only server fields beyond the status reset (a DaemonSet's template
        generation)."""

    def prepare_spec_update(self, new: Obj, old: Obj) -> None:
        """Update-only server fields (the template generation again)."""

    # -- the flow --------------------------------------------------------------------------
    def prepare_create(self, obj: Obj) -> None:
        obj["status"] = {}
        if not isinstance(obj.get("spec"), dict):
            obj["spec"] = {}
        self.default(obj)
        self.prepare_new(obj)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        if subresource == "status":
            new["spec"] = copy.deepcopy(old.get("spec") or {})
            labels = (old.get("metadata") or {}).get("labels")
            if labels is None:
                new["metadata"].pop("labels", None)
            else:
                new["metadata"]["labels"] = copy.deepcopy(labels)
            return
        new["status"] = copy.deepcopy(old.get("status") or {})
        if not isinstance(new.get("spec"), dict):
            new["spec"] = {}
        self.default(new)
        self.prepare_spec_update(new, old)

    def validate(self, obj: Obj) -> list[FieldError]:
        return self.validate_spec(obj)

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        errs = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
        if subresource == "status":
            return errs + self.validate_status(new)
        return errs + self.validate_spec(new) + self.validate_spec_update(new, old)


# -- cells -------------------------------------------------------------------------------------
def containers_and_images(obj: Obj) -> tuple[str, str]:
    """``layoutContainerCells``: the template's container names and images, comma joined."""
    spec = spec_of(obj)
    template = spec.get("template") if isinstance(spec.get("template"), dict) else {}
    pod_spec = template.get("spec") if isinstance(template, dict) else None
    containers = pod_spec.get("containers") if isinstance(pod_spec, dict) else None
    items = [c for c in containers or [] if isinstance(c, dict)]
    return (
        ",".join(str(c.get("name") or "") for c in items),
        ",".join(str(c.get("image") or "") for c in items),
    )


def selector_cell(selector: Any) -> str:
    """A LabelSelector as the SELECTOR column prints it (``<invalid>`` if malformed; an empty
    selector prints as nothing, as ``labels.Everything().String()`` does)."""
    if not isinstance(selector, dict):
        return "<none>" if selector is None else "<invalid>"
    try:
        return labelselector.to_string(selector)
    except labelselector.InvalidSelector:
        return "<invalid>"


def count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def status_of(obj: Obj) -> dict[str, Any]:
    status = obj.get("status")
    return status if isinstance(status, dict) else {}
