"""Pods: defaulting and validation (delegated to ``pod_defaults``/``pod_validation``),
graceful deletion, the status/binding/eviction subresources, and the ``get pods`` columns.

Graceful deletion (API server rules): ``DELETE`` sets ``deletionTimestamp`` = now + grace and
``deletionGracePeriodSeconds``; the node agent stops the containers and finishes with a
``DELETE`` of grace 0. A pod no node has taken yet, or one already in a terminal phase, has
nothing to stop, so its deletion is immediate. Finalizers hold the object after that.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from kubelite.model.fielderrors import FieldError, forbidden, required
from kubelite.registry.errors import BadRequest, OperationConflict
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Obj, Subresource, age_of
from kubelite.registry.selectors import path_getter

log = logging.getLogger(__name__)

DEFAULT_GRACE = 30
TERMINAL = ("Succeeded", "Failed")

MUTABLE_MSG = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """A function from a sibling module that may not exist yet (written in parallel)."""
    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        return None


class PodKind(Kind):
    graceful = True

    def prepare_create(self, obj: Obj) -> None:
        obj.setdefault("spec", {})
        prepare = _optional("kubelite.registry.pod_defaults", "prepare_pod_for_create")
        if prepare is not None and isinstance(obj.get("spec"), dict):
            prepared = prepare(obj)
            obj.clear()
            obj.update(prepared)
        else:
            _apply_defaults(obj)
            obj["status"] = {"phase": "Pending"}

    def validate(self, obj: Obj) -> list[FieldError]:
        validate_pod = _optional("kubelite.registry.pod_validation", "validate_pod")
        if validate_pod is not None:
            return _guarded(validate_pod, obj)
        return _minimal_validation(obj)

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        validate_pod_update = _optional("kubelite.registry.pod_validation", "validate_pod_update")
        if validate_pod_update is not None:
            return _guarded(validate_pod_update, new, old)
        return _minimal_validation(new) + _immutable_spec(new, old)

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        if subresource == "status":
            new["spec"] = old.get("spec", {})
            new["metadata"] = {
                **old["metadata"],
                "resourceVersion": new["metadata"].get("resourceVersion"),
            }
        else:
            new["status"] = old.get("status", {})
            _apply_defaults(new)

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        spec = obj.get("spec", {})
        if not spec.get("nodeName") or obj.get("status", {}).get("phase") in TERMINAL:
            return 0
        if requested is None:
            requested = spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE)
        return max(0, int(requested if requested is not None else DEFAULT_GRACE))

    def columns(self) -> list[Column]:
        return [
            Column("Name", format="name", description="Name of the pod."),
            Column("Ready", description="Ready containers out of all regular and sidecar ones."),
            Column("Status", description="A summary of the pod's state, as kubectl shows it."),
            Column("Restarts", description="Container restarts, with the time of the latest."),
            AGE_COLUMN,
            Column("IP", description="The pod's IP address.", priority=1),
            Column("Node", description="The node the pod is bound to.", priority=1),
            Column("Nominated Node", description="Node nominated by preemption.", priority=1),
            Column("Readiness Gates", description="Readiness gates that are true.", priority=1),
        ]

    def cells(self, obj: Obj, now: float) -> list[Any]:
        ready, status, restarts = pod_summary(obj, now)
        spec, st = obj.get("spec", {}), obj.get("status", {})
        gates = spec.get("readinessGates") or []
        gate_cell = "<none>"
        if gates:
            conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
            true = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
            gate_cell = f"{true}/{len(gates)}"
        return [
            obj["metadata"]["name"],
            ready,
            status,
            restarts,
            age_of(obj, now),
            st.get("podIP") or "<none>",
            spec.get("nodeName") or "<none>",
            st.get("nominatedNodeName") or "<none>",
            gate_cell,
        ]


def _guarded(fn: Callable[..., Any], *args: Obj) -> list[FieldError]:
    """Run a validator; a crash on an odd-shaped object becomes a 400, never a 500."""
    try:
        return list(fn(*args))
    except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        log.warning("pod validation failed on an unexpected shape", exc_info=True)
        raise BadRequest(
            f'Pod in version "v1" cannot be handled as a Pod: {type(exc).__name__}: {exc}'
        ) from exc


def pod_summary(pod: Obj, now: float) -> tuple[str, str, str]:
    """READY, STATUS and RESTARTS cells: ``kubelite.model.podprint`` when present."""
    pod_row = _optional("kubelite.model.podprint", "pod_row")
    if pod_row is not None:
        row = pod_row(pod, now)
        return str(row.ready), str(row.status), str(row.restarts)
    return _fallback_summary(pod)


def _fallback_summary(pod: Obj) -> tuple[str, str, str]:
    # TODO(podprint): remove once kubelite.model.podprint lands; this ignores init containers,
    # sidecars and restart ages (KC-2..KC-4).
    spec, st = pod.get("spec", {}), pod.get("status", {})
    statuses = st.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    reason = st.get("reason") or st.get("phase") or "Pending"
    for c in reversed(statuses):
        state = c.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
    if pod.get("metadata", {}).get("deletionTimestamp") and st.get("phase") not in TERMINAL:
        reason = "Terminating"
    return f"{ready}/{total}", reason, str(restarts)


def _apply_defaults(pod: Obj) -> None:
    """The API server defaults every Pod it decodes, on create and on update alike."""
    default_pod = _optional("kubelite.registry.pod_defaults", "default_pod")
    if default_pod is not None and isinstance(pod.get("spec"), dict):
        defaulted = default_pod(pod)
        pod.clear()
        pod.update(defaulted)


def _minimal_validation(pod: Obj) -> list[FieldError]:
    spec = pod.get("spec") or {}
    containers = spec.get("containers") or []
    if not containers:
        return [required("spec.containers")]
    errs = []
    for i, c in enumerate(containers):
        if not isinstance(c, dict) or not c.get("name"):
            errs.append(required(f"spec.containers[{i}].name"))
        elif not c.get("image"):
            errs.append(required(f"spec.containers[{i}].image"))
    return errs


def _immutable_spec(new: Obj, old: Obj) -> list[FieldError]:
    def masked(spec: dict[str, Any]) -> dict[str, Any]:
        out = dict(spec)
        for key in ("containers", "initContainers"):
            out[key] = [{**c, "image": None} for c in spec.get(key) or []]
        for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
            out.pop(key, None)
        return out

    if masked(new.get("spec") or {}) != masked(old.get("spec") or {}):
        return [forbidden("spec", MUTABLE_MSG)]
    return []


PODS = PodKind(
    group="",
    version="v1",
    kind="Pod",
    plural="pods",
    singular="pod",
    short_names=("po",),
    tracks_generation=True,
    returns_deleted_object=True,
    categories=("all",),
    description="A group of containers that share a network and storage and run on one node.",
    subresources=(
        Subresource("status", "Pod", ("get", "patch", "update")),
        Subresource("binding", "Binding", ("create",)),
        Subresource("eviction", "Eviction", ("create",), group="policy"),
        Subresource("log", "Pod", ("get",)),
        Subresource("exec", "PodExecOptions", ("create", "get")),
    ),
    fields={
        "spec.nodeName": path_getter("spec", "nodeName"),
        "spec.restartPolicy": path_getter("spec", "restartPolicy"),
        "spec.schedulerName": path_getter("spec", "schedulerName"),
        "spec.serviceAccountName": path_getter("spec", "serviceAccountName"),
        "spec.hostNetwork": path_getter("spec", "hostNetwork"),
        "status.phase": path_getter("status", "phase"),
        "status.podIP": path_getter("status", "podIP"),
        "status.nominatedNodeName": path_getter("status", "nominatedNodeName"),
    },
)


async def bind(registry: Any, namespace: str, name: str, node: str) -> Obj:
    """The binding subresource: set ``spec.nodeName`` once and mark the pod scheduled."""
    from kubelite.clock import rfc3339

    key = registry.key(PODS, namespace, name)
    pod = await registry.store.get(key)
    current = pod.get("spec", {}).get("nodeName")
    if current:
        raise OperationConflict(
            "pods/binding", name, f'pod {name} is already assigned to node "{current}"'
        )
    if pod["metadata"].get("deletionTimestamp"):
        raise OperationConflict(
            "pods/binding", name, f"pod {name} is being deleted, cannot be assigned to a host"
        )
    pod["spec"]["nodeName"] = node
    conds = [
        c
        for c in pod.setdefault("status", {}).get("conditions") or []
        if c.get("type") != "PodScheduled"
    ]
    conds.append(
        {
            "type": "PodScheduled",
            "status": "True",
            "lastTransitionTime": rfc3339(registry.clock.now()),
            "lastProbeTime": None,
        }
    )
    pod["status"]["conditions"] = conds
    updated: Obj = await registry.store.update(
        key, pod, expected_rv=pod["metadata"]["resourceVersion"]
    )
    return updated
