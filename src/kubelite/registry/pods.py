"""Pods: defaulting, ServiceAccount admission and validation (delegated to ``pod_defaults``
and ``pod_validation``), graceful deletion, the status/binding/eviction/ephemeralcontainers
subresources, and the ``get pods`` columns.

Graceful deletion (API server rules): ``DELETE`` sets ``deletionTimestamp`` = now + grace and
``deletionGracePeriodSeconds``; the node agent stops the containers and finishes with a
``DELETE`` of grace 0. A pod no node has taken yet, or one already in a terminal phase, has
nothing to stop, so its deletion is immediate. Finalizers hold the object after that.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubelite.clock import rfc3339
from kubelite.model.fielderrors import FieldError
from kubelite.model.objects import Obj
from kubelite.model.pod import TERMINAL_PHASES
from kubelite.model.podprint import pod_row
from kubelite.registry import noderestriction
from kubelite.registry.errors import BadRequest, Forbidden, OperationConflict
from kubelite.registry.meta import generate_name
from kubelite.registry.pod_defaults import (
    DEFAULT_GRACE_SECONDS,
    TOKEN_VOLUME_PREFIX,
    admit_service_account,
    default_pod,
    default_service_account,
    is_mirror_pod,
    prepare_pod_for_create,
)
from kubelite.registry.pod_validation import (
    validate_ephemeral_containers_update,
    validate_pod,
    validate_pod_update,
)
from kubelite.registry.resource import AGE_COLUMN, Column, Kind, Subresource, age_of
from kubelite.registry.selectors import path_getter
from kubelite.registry.serviceaccounts import SERVICEACCOUNTS
from kubelite.store.interface import NotFound

if TYPE_CHECKING:
    from kubelite.registry.service import Registry

log = logging.getLogger(__name__)

BINDING = "binding"
EPHEMERAL_CONTAINERS = "ephemeralcontainers"
SCHEDULED = "PodScheduled"


class PodKind(Kind):
    graceful = True

    def prepare_create(self, obj: Obj) -> None:
        obj.setdefault("spec", {})
        prepared = prepare_pod_for_create(obj)
        obj.clear()
        obj.update(prepared)

    async def admit(self, registry: Registry, obj: Obj) -> None:
        """The ServiceAccount admission plugin: the account must exist; its token volume,
        mounts and image pull secrets are added (``pod_defaults.admit_service_account``).
        Mirror pods are left as they are. A node may create only mirror pods of its own
        (NodeRestriction)."""
        noderestriction.check_pod_create(obj)
        spec = obj.get("spec")
        if not isinstance(spec, dict) or is_mirror_pod(obj):
            return
        md = obj["metadata"]
        namespace, account_name = str(md.get("namespace") or ""), default_service_account(spec)
        try:
            account = await registry.get(SERVICEACCOUNTS, namespace, account_name)
        except NotFound:
            name = str(md.get("name") or "")
            subject = f'pods "{name}"' if name else "pods"
            raise Forbidden(
                "pods",
                name,
                f"{subject} is forbidden: error looking up service account "
                f'{namespace}/{account_name}: serviceaccount "{account_name}" not found',
            ) from None
        admit_service_account(obj, account, generate_name(TOKEN_VOLUME_PREFIX))

    def validate(self, obj: Obj) -> list[FieldError]:
        return _guarded(lambda: validate_pod(obj))

    def validate_update(self, new: Obj, old: Obj, subresource: str = "") -> list[FieldError]:
        if subresource == BINDING:  # only the binding's own fields moved (prepare_update)
            return []
        if subresource == EPHEMERAL_CONTAINERS:
            return _guarded(lambda: validate_ephemeral_containers_update(new, old))
        return _guarded(lambda: validate_pod_update(new, old))

    def prepare_update(self, new: Obj, old: Obj, subresource: str) -> None:
        noderestriction.check_pod_update(new, old, subresource)  # a node: its pods' status
        if subresource == "status":
            new["spec"] = old.get("spec", {})
            new["metadata"] = _old_metadata(new, old)
        elif subresource == BINDING:
            _bind_update(new, old)
        elif subresource == EPHEMERAL_CONTAINERS:
            _ephemeral_update(new, old)
        else:
            new["status"] = old.get("status", {})
            defaulted = default_pod(new)  # the API server defaults every Pod it decodes
            new.clear()
            new.update(defaulted)

    def refuse_delete(self, obj: Obj) -> None:
        noderestriction.check_pod_delete(obj)  # a node deletes (evicts) only its own pods

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        spec = obj.get("spec", {})
        if not spec.get("nodeName") or obj.get("status", {}).get("phase") in TERMINAL_PHASES:
            return 0
        if requested is None:
            requested = spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
        return max(0, int(requested if requested is not None else DEFAULT_GRACE_SECONDS))

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
        row = pod_row(obj, now)
        spec, st = obj.get("spec", {}), obj.get("status", {})
        gates = spec.get("readinessGates") or []
        gate_cell = "<none>"
        if gates:
            conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
            true = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
            gate_cell = f"{true}/{len(gates)}"
        return [
            obj["metadata"]["name"],
            row.ready,
            row.status,
            row.restarts,
            age_of(obj, now),
            st.get("podIP") or "<none>",
            spec.get("nodeName") or "<none>",
            st.get("nominatedNodeName") or "<none>",
            gate_cell,
        ]


def _guarded(validator: Callable[[], list[FieldError]]) -> list[FieldError]:
    """Run a validator; a crash on an odd-shaped object becomes a 400, never a 500."""
    try:
        return list(validator())
    except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        log.warning("pod validation failed on an unexpected shape", exc_info=True)
        raise BadRequest(
            f'Pod in version "v1" cannot be handled as a Pod: {type(exc).__name__}: {exc}'
        ) from exc


def _old_metadata(new: Obj, old: Obj) -> Obj:
    """A subresource write keeps the stored metadata; only its resourceVersion precondition
    comes from the request."""
    return {**old["metadata"], "resourceVersion": new["metadata"].get("resourceVersion")}


def _bind_update(new: Obj, old: Obj) -> None:
    """The binding subresource's rules: ``spec.nodeName`` is set once, never on a pod being
    deleted, together with the ``PodScheduled`` condition the request carries; everything else
    stays as stored."""
    name = old["metadata"]["name"]
    current = old.get("spec", {}).get("nodeName")
    if current:
        raise OperationConflict(
            "pods/binding", name, f'pod {name} is already assigned to node "{current}"'
        )
    if old["metadata"].get("deletionTimestamp"):
        raise OperationConflict(
            "pods/binding", name, f"pod {name} is being deleted, cannot be assigned to a host"
        )
    node = new.get("spec", {}).get("nodeName")
    scheduled = [
        c for c in new.get("status", {}).get("conditions") or [] if c.get("type") == SCHEDULED
    ]
    status = dict(old.get("status", {}))
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != SCHEDULED]
    status["conditions"] = conditions + scheduled
    new["metadata"] = _old_metadata(new, old)
    new["spec"] = {**old.get("spec", {}), "nodeName": node}
    new["status"] = status


def _ephemeral_update(new: Obj, old: Obj) -> None:
    """The ephemeralcontainers subresource's rules (VAL-21): only ``spec.ephemeralContainers``
    comes from the request, defaulted as the API server defaults every Pod it decodes; every
    other change is dropped silently, as the API server's dropNonEphemeralContainerUpdates
    does."""
    spec = new.get("spec")
    ephemeral = spec.get("ephemeralContainers") if isinstance(spec, dict) else None
    kept = copy.deepcopy(old)
    kept["metadata"] = _old_metadata(new, old)
    kept_spec = kept.setdefault("spec", {})
    if ephemeral is None:
        kept_spec.pop("ephemeralContainers", None)
    else:
        kept_spec["ephemeralContainers"] = ephemeral
    new.clear()
    new.update(default_pod(kept))


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
    indexed_fields=("spec.nodeName",),
    subresources=(
        Subresource("status", "Pod", ("get", "patch", "update")),
        Subresource("binding", "Binding", ("create",)),
        Subresource("eviction", "Eviction", ("create",), group="policy"),
        Subresource("log", "Pod", ("get",)),
        Subresource("exec", "PodExecOptions", ("create", "get")),
        Subresource("attach", "PodAttachOptions", ("create", "get")),
        Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
        Subresource(EPHEMERAL_CONTAINERS, "Pod", ("get", "patch", "update")),
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


async def bind(
    registry: Registry, namespace: str, name: str, node: str, *, uid: str = "",
    resource_version: str = "",
) -> Obj:  # fmt: skip
    """The binding subresource: set ``spec.nodeName`` once and mark the pod scheduled, as an
    update of the pod under the binding's rules (``PodKind.prepare_update``), which are checked
    against the pod as stored when the update is made. A Binding that names the pod's uid or
    resourceVersion makes them preconditions, as the API server's binding does."""
    condition = {
        "type": SCHEDULED,
        "status": "True",
        "lastTransitionTime": rfc3339(registry.clock.now()),
        "lastProbeTime": None,
    }
    meta: Obj = {"name": name}
    if resource_version:
        meta["resourceVersion"] = resource_version
    binding = {"metadata": meta, "spec": {"nodeName": node}, "status": {"conditions": [condition]}}
    return await registry.update(
        PODS, namespace, name, binding, subresource=BINDING, expected_uid=uid or None
    )
