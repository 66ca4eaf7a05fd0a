"""Pod templates (``spec.template`` of Deployments, ReplicaSets, DaemonSets,
ReplicationControllers — and of Jobs and StatefulSets): their defaulting and validation.

A template's spec is defaulted as a PodSpec is (``SetDefaults_PodSpec``: restart policy, DNS
policy, grace period, the containers' pull policy and termination message, probes…) but not
with what only Pods get: ``SetDefaults_Pod`` (requests copied from limits,
``enableServiceLinks``, host ports under hostNetwork) and the admission plugins (priority,
the default tolerations, the ServiceAccount's token volume). So ``kubectl get deploy -o yaml``
shows the template as the API server keeps it.

Validation is ``ValidatePodTemplateSpec``: the template's labels and annotations (at
``<path>.labels`` and ``<path>.annotations``, as upstream names them, without ``metadata``)
and the Pod spec rules at ``<path>.spec…``.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.model.fielderrors import FieldError, forbidden, required
from kubelite.model.objects import Obj
from kubelite.registry.meta_validation import validate_annotations, validate_labels
from kubelite.registry.pod_defaults import default_pod
from kubelite.registry.pod_validation import validate_pod

_POD_ONLY_SPEC_FIELDS = ("priority", "preemptionPolicy", "enableServiceLinks", "tolerations")
_CONTAINER_LISTS = ("initContainers", "containers")


def default_template(template: Any) -> None:
    """Default a PodTemplateSpec in place (a non-object is left for validation)."""
    if not isinstance(template, dict):
        return
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return
    original = copy.deepcopy(spec)
    defaulted = default_pod({"spec": spec})["spec"]
    for key in _POD_ONLY_SPEC_FIELDS:
        if key in original:
            defaulted[key] = original[key]
        else:
            defaulted.pop(key, None)
    for key in _CONTAINER_LISTS:
        _undo_pod_only_container_defaults(defaulted.get(key), original.get(key))
    template["spec"] = defaulted


def _undo_pod_only_container_defaults(defaulted: Any, original: Any) -> None:
    if not isinstance(defaulted, list) or not isinstance(original, list):
        return
    for new, old in zip(defaulted, original, strict=False):
        if not isinstance(new, dict) or not isinstance(old, dict):
            continue
        resources = old.get("resources")
        new["resources"] = copy.deepcopy(resources) if isinstance(resources, dict) else {}
        for new_port, old_port in zip(new.get("ports") or [], old.get("ports") or [], strict=False):
            if (
                isinstance(new_port, dict)
                and isinstance(old_port, dict)
                and ("hostPort" not in old_port)
            ):
                new_port.pop("hostPort", None)


def validate_template(template: Any, path: str) -> list[FieldError]:
    """``ValidatePodTemplateSpec`` of a defaulted template at ``path`` (``spec.template``)."""
    if not isinstance(template, dict):
        return [required(path, "")]
    meta = template.get("metadata") or {}
    errs: list[FieldError] = []
    if isinstance(meta, dict):
        errs += validate_labels(meta.get("labels"), f"{path}.labels")
        errs += validate_annotations(meta.get("annotations"), f"{path}.annotations")
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return [*errs, required(f"{path}.spec", "")]
    probe = {k: v for k, v in spec.items() if k != "ephemeralContainers"}
    for err in validate_pod({"spec": probe}):
        errs.append(_moved(err, path))
    if spec.get("ephemeralContainers"):
        detail = "ephemeral containers not allowed in pod template"
        errs.append(forbidden(f"{path}.spec.ephemeralContainers", detail))
    return errs


def _moved(err: FieldError, path: str) -> FieldError:
    """A Pod's field error (``spec.containers[0].image``) at the template's path."""
    field = err.field
    if field == "spec" or field.startswith(("spec.", "spec[")):
        field = f"{path}.{field}"
    return FieldError(err.type, field, err.message)


def template_labels(template: Any) -> dict[str, Any]:
    if not isinstance(template, dict):
        return {}
    meta = template.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return dict(labels) if isinstance(labels, dict) else {}


def template_spec(obj: Obj) -> dict[str, Any]:
    """``spec.template.spec`` of a workload (empty if missing)."""
    spec = obj.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    inner = template.get("spec") if isinstance(template, dict) else None
    return inner if isinstance(inner, dict) else {}
