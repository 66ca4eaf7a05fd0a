"""The ``scale`` subresource: an autoscaling/v1 Scale view of a replicated object
(Deployment, ReplicaSet, ReplicationController, and any kind with ``spec.replicas`` and a
selector), as ``kubectl scale`` and autoscalers read and write it.

The view carries the object's identity (name, namespace, uid, resourceVersion, creation
time), ``spec.replicas``, and in ``status`` the observed ``replicas`` and the selector as a
string (``app=web``). Writing a Scale sets ``spec.replicas`` on the object, its
resourceVersion (if given) acting as a precondition; a negative count is the 422
``Scale.autoscaling "<name>" is invalid: spec.replicas: …``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubelite.model import labelselector
from kubelite.model.fielderrors import FieldError, invalid
from kubelite.model.objects import JSON, Obj
from kubelite.registry.errors import BadRequest, Invalid, OperationConflict
from kubelite.registry.workload_validation import NONNEGATIVE

API_VERSION = "autoscaling/v1"
KIND = "Scale"
GROUP = "autoscaling"


def selector_text(obj: JSON) -> str:
    """The selector as ``status.selector`` spells it; a map selector (an RC's) as a set."""
    spec = obj.get("spec") or {}
    selector = spec.get("selector") if isinstance(spec, Mapping) else None
    if not isinstance(selector, Mapping):
        return ""
    if "matchLabels" in selector or "matchExpressions" in selector:
        try:
            return labelselector.to_string(selector)
        except labelselector.InvalidSelector:
            return ""
    return labelselector.set_to_string(selector)


def scale_of(obj: JSON) -> Obj:
    """The Scale view of ``obj``."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    view_meta = {
        k: meta[k]
        for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if meta.get(k) is not None
    }
    scale_spec: Obj = {}
    if spec.get("replicas"):
        scale_spec["replicas"] = spec["replicas"]
    scale_status: Obj = {"replicas": int(status.get("replicas") or 0)}
    text = selector_text(obj)
    if text:
        scale_status["selector"] = text
    return {
        "kind": KIND,
        "apiVersion": API_VERSION,
        "metadata": view_meta,
        "spec": scale_spec,
        "status": scale_status,
    }


def scale_errors(scale: JSON) -> list[FieldError]:
    spec = scale.get("spec")
    replicas = spec.get("replicas") if isinstance(spec, Mapping) else None
    if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas < 0:
        return [invalid("spec.replicas", replicas, NONNEGATIVE)]
    return []


def apply_scale(obj: JSON, scale: Any, resource: str) -> Obj:
    """``obj`` with the Scale's replicas (and its resourceVersion as the precondition);
    raises ``Invalid``, ``BadRequest`` or ``OperationConflict`` (a uid that is not the
    object's) as the API server does. ``resource`` names the kind in the conflict."""
    name = str((obj.get("metadata") or {}).get("name") or "")
    if not isinstance(scale, Mapping):
        raise BadRequest("the body of the request is not an object")
    kind, api_version = scale.get("kind"), scale.get("apiVersion")
    if (kind and kind != KIND) or (api_version and api_version != API_VERSION):
        raise BadRequest(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({API_VERSION})"
            if api_version != API_VERSION
            else f'Scale in version "v1" cannot be handled as a Scale: kind {kind} does not '
            "match Scale"
        )
    errs = scale_errors(scale)
    if errs:
        raise Invalid(KIND, name, errs, group=GROUP)
    meta = scale.get("metadata") or {}
    if not isinstance(meta, Mapping):
        meta = {}
    uid = meta.get("uid")
    stored_uid = (obj.get("metadata") or {}).get("uid")
    if uid and uid != stored_uid:
        raise OperationConflict(
            resource,
            name,
            f"Precondition failed: UID in precondition: {uid}, UID in object meta: {stored_uid}",
        )
    new = copy.deepcopy(dict(obj))
    spec = scale.get("spec") or {}
    replicas = spec.get("replicas") if isinstance(spec, Mapping) else None
    new.setdefault("spec", {})["replicas"] = int(replicas or 0)
    if meta.get("resourceVersion"):
        new["metadata"]["resourceVersion"] = meta["resourceVersion"]
    return new
