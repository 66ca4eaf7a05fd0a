"""The DaemonSet controller's decisions, with no I/O: which nodes should run a daemon pod,
what that pod looks like, which pods to create and delete, how a rolling update proceeds,
and the status.

- A node should run the pod when the template's nodeSelector and required node affinity
  select it and it tolerates every NoSchedule/NoExecute taint of the node (with the
  tolerations the controller adds); a pod keeps running unless a NoExecute taint is not
  tolerated or the node is no longer selected (``NodeShouldRunDaemonPod``).
- Daemon pods carry the DaemonSet's tolerations for node conditions (not-ready and
  unreachable NoExecute; disk, memory and pid pressure and unschedulable NoSchedule;
  network-unavailable with hostNetwork), the ``controller-revision-hash`` and
  ``pod-template-generation`` labels and a required node affinity on ``metadata.name``: the
  scheduler binds it there (with its Scheduled event, or FailedScheduling and the reason).
- One pod per node: missing → create; failed → delete (with back-off); more than one
  running → keep the oldest; on a node it should leave → delete.
- RollingUpdate: old pods are deleted while no more than ``maxUnavailable`` nodes are
  without an available pod (rounded up from a percentage of the desired nodes), or with
  ``maxSurge`` a new pod is started next to the old one, which goes once the new one is
  available. OnDelete: nothing is replaced until the user deletes the old pods.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubelite.controllers import replicaset as rs
from kubelite.controllers.deployment import template_hash
from kubelite.model import labelselector, owners
from kubelite.model.objects import JSON, Obj

REVISION_HASH = "controller-revision-hash"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
NO_SCHEDULE_TAINTS = (
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/unschedulable",
)
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"


def _spec(obj: JSON) -> JSON:
    value = obj.get("spec")
    return value if isinstance(value, Mapping) else {}


def template_of(ds: JSON) -> JSON:
    value = _spec(ds).get("template")
    return value if isinstance(value, Mapping) else {}


def revision_hash(ds: JSON) -> str:
    collision = (ds.get("status") or {}).get("collisionCount")
    return template_hash(template_of(ds), collision if isinstance(collision, int) else None)


def template_generation(ds: JSON) -> str | None:
    value = ((ds.get("metadata") or {}).get("annotations") or {}).get(TEMPLATE_GENERATION)
    return str(value) if value is not None else None


# -- tolerations and node selection --------------------------------------------------------------
def daemon_tolerations(pod_spec: JSON) -> list[Obj]:
    """The template's tolerations plus the ones the controller adds (each only if missing)."""
    out = [dict(t) for t in pod_spec.get("tolerations") or [] if isinstance(t, Mapping)]
    wanted = [(NOT_READY, "NoExecute"), (UNREACHABLE, "NoExecute")]
    wanted += [(key, "NoSchedule") for key in NO_SCHEDULE_TAINTS]
    if pod_spec.get("hostNetwork"):
        wanted.append((NETWORK_UNAVAILABLE, "NoSchedule"))
    for key, effect in wanted:
        if not any(t.get("key") == key and t.get("effect") == effect for t in out):
            out.append({"key": key, "operator": "Exists", "effect": effect})
    return out


def tolerates(tolerations: Sequence[JSON], taint: JSON) -> bool:
    for t in tolerations:
        effect = t.get("effect") or ""
        if effect and effect != taint.get("effect"):
            continue
        op = t.get("operator") or "Equal"
        key = t.get("key") or ""
        if op == "Exists":
            if not key or key == taint.get("key"):
                return True
        elif key == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def node_selected(pod_spec: JSON, node: JSON) -> bool:
    """The template's nodeSelector and required node affinity admit ``node``."""
    labels = (node.get("metadata") or {}).get("labels") or {}
    selector = pod_spec.get("nodeSelector") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    affinity = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if not isinstance(affinity, Mapping):
        return True
    fields = {"metadata.name": owners.name_of(node)}
    for term in affinity.get("nodeSelectorTerms") or []:
        exprs = term.get("matchExpressions") or []
        by_field = term.get("matchFields") or []
        if not exprs and not by_field:
            continue
        if all(_expr(e, labels.get(e.get("key"))) for e in exprs) and all(
            _expr(f, fields.get(str(f.get("key")))) for f in by_field
        ):
            return True
    return False


def _expr(expr: JSON, value: Any) -> bool:
    op, values = expr.get("operator"), [str(v) for v in expr.get("values") or []]
    if op == "In":
        return value is not None and str(value) in values
    if op == "NotIn":
        return value is None or str(value) not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and values:
        try:
            have, want = int(str(value)), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


@dataclass(frozen=True, slots=True)
class Placement:
    should_run: bool
    should_continue: bool


def placement(ds: JSON, node: JSON) -> Placement:
    """``NodeShouldRunDaemonPod`` for one node."""
    pod_spec = _spec(template_of(ds))
    if not node_selected(pod_spec, node):
        return Placement(False, False)
    tolerations = daemon_tolerations(pod_spec)
    taints = [t for t in _spec(node).get("taints") or [] if isinstance(t, Mapping)]
    untolerated = [t for t in taints if not tolerates(tolerations, t)]
    no_execute = any(t.get("effect") == "NoExecute" for t in untolerated)
    no_schedule = any(t.get("effect") in ("NoSchedule", "NoExecute") for t in untolerated)
    return Placement(not no_schedule, not no_execute)


# -- the pod -------------------------------------------------------------------------------------
def with_node_affinity(affinity: Any, node: str) -> Obj:
    """``ReplaceDaemonSetPodNodeNameNodeAffinity``: required affinity to the node's name."""
    requirement = {"key": "metadata.name", "operator": "In", "values": [node]}
    out: Obj = copy.deepcopy(dict(affinity)) if isinstance(affinity, Mapping) else {}
    node_affinity = out.setdefault("nodeAffinity", {})
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    terms = (required or {}).get("nodeSelectorTerms") if isinstance(required, Mapping) else None
    if not terms:
        terms = [{"matchFields": [requirement]}]
    else:
        terms = [
            {**t, "matchFields": [f for f in t.get("matchFields") or []
                                  if f.get("key") != "metadata.name"] + [requirement]}
            for t in terms
        ]  # fmt: skip
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": terms}
    return out


def daemon_pod(ds: JSON, node: str, pod_hash: str, controller_ref: JSON) -> Obj:
    """The pod ``ds`` runs on ``node``."""
    template: Obj = copy.deepcopy(dict(template_of(ds)))
    meta = template.setdefault("metadata", {})
    labels = dict(meta.get("labels") or {})
    generation = template_generation(ds)
    if generation is not None:
        labels[TEMPLATE_GENERATION_LABEL] = generation
    labels[REVISION_HASH] = pod_hash
    meta["labels"] = labels
    pod_spec = template.setdefault("spec", {})
    pod_spec["tolerations"] = daemon_tolerations(pod_spec)
    pod_spec["affinity"] = with_node_affinity(pod_spec.get("affinity"), node)
    return rs.pod_from_template(ds, template, controller_ref)


def target_node(pod: JSON) -> str:
    """The node a daemon pod is for: its nodeName, else its affinity's ``metadata.name``."""
    name = _spec(pod).get("nodeName")
    if name:
        return str(name)
    affinity = ((_spec(pod).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in affinity.get("nodeSelectorTerms") or []:
        for f in term.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("operator") == "In" and f.get("values"):
                return str(f["values"][0])
    return ""


def is_updated(pod: JSON, pod_hash: str, generation: str | None) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    if generation is not None and labels.get(TEMPLATE_GENERATION_LABEL) == generation:
        return True
    return labels.get(REVISION_HASH) == pod_hash


def oldest_first(pods: Sequence[JSON]) -> list[JSON]:
    """``podByCreationTimestampAndPhase``: running before not, then oldest first, then name."""

    def key(p: JSON) -> tuple[Any, ...]:
        running = (p.get("status") or {}).get("phase") == "Running"
        return (not running, rs._time((p.get("metadata") or {}).get("creationTimestamp")) or 0.0,
                owners.name_of(p))  # fmt: skip

    return sorted(pods, key=key)


# -- one sync ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NodePlan:
    create_on: tuple[str, ...] = ()
    delete: tuple[Obj, ...] = ()
    failed: tuple[tuple[Obj, str], ...] = ()  # failed pods to delete, with their node


@dataclass(slots=True)
class _Plan:
    create_on: list[str] = field(default_factory=list)
    delete: list[Obj] = field(default_factory=list)
    failed: list[tuple[Obj, str]] = field(default_factory=list)


def allows_surge(ds: JSON) -> bool:
    strategy = _spec(ds).get("updateStrategy") or {}
    if strategy.get("type") != "RollingUpdate":
        return False
    surge = (strategy.get("rollingUpdate") or {}).get("maxSurge")
    return _scaled(surge, 1, True) != 0


def manage(
    ds: JSON, nodes: Sequence[JSON], pods_by_node: Mapping[str, Sequence[Obj]], pod_hash: str
) -> NodePlan:
    """``manage``: per node, the pods to create and delete (``podsShouldBeOnNode``)."""
    plan = _Plan()
    surge = allows_surge(ds)
    known = set()
    for node in nodes:
        name = owners.name_of(node)
        known.add(name)
        where = placement(ds, node)
        pods = list(pods_by_node.get(name, ()))
        live = [p for p in pods if not owners.being_deleted(p)]
        if where.should_run and not pods:
            plan.create_on.append(name)
        elif where.should_run:
            running = []
            for pod in live:
                phase = (pod.get("status") or {}).get("phase")
                if phase in ("Failed", "Succeeded"):
                    plan.failed.append((pod, name))
                else:
                    running.append(pod)
            if not surge:
                plan.delete += [dict(p) for p in oldest_first(running)[1:]]
            elif not running:
                plan.create_on.append(name)
            elif len(running) > 1:
                plan.delete += _surge_extra(running, pod_hash)
        elif not where.should_continue:
            plan.delete += [dict(p) for p in live]
    for name, left in pods_by_node.items():  # pods for nodes that are gone
        if name not in known:
            plan.delete += [dict(p) for p in left if not owners.being_deleted(p)]
    return NodePlan(tuple(plan.create_on), tuple(plan.delete), tuple(plan.failed))


def _surge_extra(running: Sequence[Obj], pod_hash: str) -> list[Obj]:
    """With surge, two pods may stay only while the newest matching one is not ready and the
    oldest other one is; otherwise keep one (the updated one if neither is ready)."""
    ordered = [dict(p) for p in oldest_first(running)]
    new = [
        p
        for p in ordered
        if (p.get("metadata") or {}).get("labels", {}).get(REVISION_HASH) == pod_hash
    ]
    old = [p for p in ordered if p not in new]
    keep: list[Obj] = []
    if new and old and not rs.is_ready(new[0]) and rs.is_ready(old[0]):
        keep = [new[0], old[0]]
    elif new:
        keep = [new[0]]
    else:
        keep = [old[0]]
    return [p for p in ordered if p not in keep]


def _scaled(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        scaled = int(value[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return 0


def update_budget(ds: JSON, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) for ``desired`` nodes; both 0 → one unavailable."""
    rolling = (_spec(ds).get("updateStrategy") or {}).get("rollingUpdate") or {}
    surge = _scaled(rolling.get("maxSurge"), desired, True)
    unavailable = _scaled(rolling.get("maxUnavailable"), desired, True)
    if desired > 0 and surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _split(
    pods: Sequence[Obj], pod_hash: str, generation: str | None
) -> tuple[Obj | None, Obj | None, bool]:
    """``findUpdatedPodsOnNode``: (new pod, old pod, ok) among the live pods of a node."""
    new: Obj | None = None
    old: Obj | None = None
    for pod in pods:
        if owners.being_deleted(pod):
            continue
        if is_updated(pod, pod_hash, generation):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def rolling_update(
    ds: JSON, pods_by_node: Mapping[str, Sequence[Obj]], desired: int, pod_hash: str, now: float
) -> NodePlan:
    """``rollingUpdate``: old pods to delete (and with surge, nodes to start a new pod on)."""
    surge, max_unavailable = update_budget(ds, desired)
    min_ready = int(_spec(ds).get("minReadySeconds") or 0)
    generation = template_generation(ds)
    if surge == 0:
        unavailable = 0
        replace: list[Obj] = []
        candidates: list[Obj] = []
        for _name, pods in sorted(pods_by_node.items()):
            new, old, ok = _split(pods, pod_hash, generation)
            if not ok or (new is None) == (old is None):
                unavailable += 1
            elif new is not None:
                if not rs.is_available(new, min_ready, now):
                    unavailable += 1
            elif old is not None:
                if not rs.is_available(old, min_ready, now):
                    replace.append(old)
                elif unavailable < max_unavailable:
                    candidates.append(old)
        room = max(0, min(max_unavailable - unavailable, len(candidates)))
        return NodePlan(delete=tuple(replace + candidates[:room]))
    delete: list[Obj] = []
    allowed: list[str] = []
    candidate_nodes: list[str] = []
    surged = 0
    for name, pods in sorted(pods_by_node.items()):
        new, old, ok = _split(pods, pod_hash, generation)
        if not ok or old is None:
            continue
        if new is None:
            if not rs.is_available(old, min_ready, now):
                allowed.append(name)
            elif surged < surge:
                candidate_nodes.append(name)
        elif not rs.is_available(new, min_ready, now):
            surged += 1
        else:
            delete.append(old)
    room = max(0, min(surge - surged, len(candidate_nodes)))
    return NodePlan(create_on=tuple(allowed + candidate_nodes[:room]), delete=tuple(delete))


def daemon_status(
    ds: JSON, nodes: Sequence[JSON], pods_by_node: Mapping[str, Sequence[Obj]], pod_hash: str,
    now: float,
) -> Obj:  # fmt: skip
    """``updateDaemonSetStatus``."""
    min_ready = int(_spec(ds).get("minReadySeconds") or 0)
    generation = template_generation(ds)
    counts = dict.fromkeys(("desiredNumberScheduled", "currentNumberScheduled",
                            "numberMisscheduled", "numberReady", "numberAvailable",
                            "updatedNumberScheduled"), 0)  # fmt: skip
    for node in nodes:
        name = owners.name_of(node)
        pods = list(pods_by_node.get(name, ()))
        if placement(ds, node).should_run:
            counts["desiredNumberScheduled"] += 1
            if not pods:
                continue
            counts["currentNumberScheduled"] += 1
            pod = oldest_first(pods)[0]
            if rs.is_ready(pod):
                counts["numberReady"] += 1
                if rs.is_available(pod, min_ready, now):
                    counts["numberAvailable"] += 1
            if is_updated(pod, pod_hash, generation):
                counts["updatedNumberScheduled"] += 1
        elif pods:
            counts["numberMisscheduled"] += 1
    status: Obj = {k: v for k, v in (ds.get("status") or {}).items() if k not in counts}
    status.update(counts)
    status["numberUnavailable"] = counts["desiredNumberScheduled"] - counts["numberAvailable"]
    status["observedGeneration"] = int((ds.get("metadata") or {}).get("generation") or 0)
    return status


def selects(ds: JSON) -> Any:
    selector = _spec(ds).get("selector")
    return lambda pod: labelselector.selects(selector, pod)
