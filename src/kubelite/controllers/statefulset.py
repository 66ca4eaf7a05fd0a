"""The StatefulSet controller's decisions for one set (upstream's updateStatefulSet), from its
pods, its claims and its two revisions.

Identity: pod ``<set>-<ordinal>`` for each ordinal from ``ordinals.start``, with hostname =
its name and subdomain = ``serviceName`` (so ``<pod>.<service>.<ns>.svc`` resolves), labels
``controller-revision-hash``, ``statefulset.kubernetes.io/pod-name`` and
``apps.kubernetes.io/pod-index``, and a claim ``<template>-<set>-<ordinal>`` per claim
template, mounted as the template's volume; claims outlive their pods.

Order: with ``OrderedReady`` a missing pod is made only when every pod before it is Running and
Ready (and available for ``minReadySeconds``), and pods beyond ``replicas`` go one at a time,
highest ordinal first, once the rest are healthy; ``Parallel`` makes and removes them all at
once. A failed or finished pod is deleted to be made again. A rolling update then replaces, one
at a time from the highest ordinal down to ``partition``, each pod not at the update revision,
waiting for the one before to be healthy; ``OnDelete`` replaces none. New pods below the
partition keep the current revision.

Claims get owner references by ``persistentVolumeClaimRetentionPolicy`` (the set when
``whenDeleted: Delete``; the pod when ``whenScaled: Delete`` and the pod is being scaled away),
so the garbage collector removes them with their owner.

Pure: no I/O; ``statefulsetcontroller`` carries the actions out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubelite.controllers.statefulsetpods import (
    SetView,
    available,
    claim_owners,
    healthy,
    new_claim,
    new_pod,
    ordinal_of,
    revision_of,
    running_and_ready,
    terminating,
)
from kubelite.controllers.statefulsetrevisions import name_of, template_of
from kubelite.model.objects import JSON, Obj

NORMAL, WARNING = "Normal", "Warning"


@dataclass(frozen=True, slots=True)
class CreateClaim:
    claim: Obj


@dataclass(frozen=True, slots=True)
class CreatePod:
    pod: Obj


@dataclass(frozen=True, slots=True)
class DeletePod:
    name: str
    uid: str


@dataclass(frozen=True, slots=True)
class SetClaimOwners:
    name: str
    owner_references: tuple[Obj, ...]


@dataclass(frozen=True, slots=True)
class Event:
    type: str
    reason: str
    message: str


@dataclass(slots=True)
class SetPlan:
    actions: list[Any] = field(default_factory=list)
    status: Obj = field(default_factory=dict)


def _meta(obj: JSON) -> JSON:
    return obj.get("metadata") or {}


@dataclass(frozen=True, slots=True)
class Revisions:
    current: JSON
    update: JSON


def _event(view: SetView, verb: str, pod: str, ok: bool = True) -> Event:
    word = "successful" if ok else "failed"
    return Event(
        NORMAL,
        f"Successful{verb.capitalize()}",
        f"{verb} Pod {pod} in StatefulSet {view.name} {word}",
    )


def _missing_claims(
    view: SetView, ordinal: int, claims: Mapping[str, JSON]
) -> tuple[list[Any], bool]:
    """Claims to create for ``ordinal`` (with their events), and whether one is being deleted
    (the pod must then wait)."""
    out: list[Any] = []
    blocked = False
    for template in view.claim_templates:
        name = view.claim_name(template, ordinal)
        found = claims.get(name)
        if found is None:
            out.append(CreateClaim(new_claim(view, template, ordinal)))
            out.append(
                Event(
                    NORMAL,
                    "SuccessfulCreate",
                    f"create Claim {name} Pod {view.pod_name(ordinal)} in StatefulSet "
                    f"{view.name} success",
                )
            )
        elif terminating(found):
            blocked = True
    return out, blocked


def _claim_refs(view: SetView, pod: JSON, ordinal: int, claims: Mapping[str, JSON]) -> list[Any]:
    out: list[Any] = []
    for template in view.claim_templates:
        claim = claims.get(view.claim_name(template, ordinal))
        if claim is None:
            continue
        refs = list(_meta(claim).get("ownerReferences") or [])
        wanted = claim_owners(view, pod, ordinal, refs)
        if wanted != refs:
            out.append(SetClaimOwners(view.claim_name(template, ordinal), tuple(wanted)))
    return out


def plan(
    sts: JSON, pods: Sequence[JSON], claims: Mapping[str, JSON], revs: Revisions, now: float
) -> SetPlan:
    """What to do for the set now, and its status. ``pods``: the set's own pods."""
    view = SetView.of(sts)
    out = SetPlan(status=set_status(view, pods, revs, now))
    slots: dict[int, JSON] = {}
    condemned: list[JSON] = []
    for pod in pods:
        ordinal = ordinal_of(pod, view.name)
        if ordinal < 0:
            continue
        (slots.__setitem__(ordinal, pod) if view.in_range(ordinal) else condemned.append(pod))
    condemned.sort(key=lambda p: ordinal_of(p, view.name), reverse=True)
    monotonic = not view.parallel
    blocked = _replicas(view, slots, claims, revs, now, out.actions, monotonic)
    if blocked:
        return out
    unhealthy = next(
        (p for o, p in sorted(slots.items()) if not healthy(p, view.min_ready, now)), None
    )
    for pod in condemned:
        ordinal = ordinal_of(pod, view.name)
        if terminating(pod):
            if monotonic:
                return out
            continue
        if monotonic and unhealthy is not None and unhealthy is not pod:
            return out
        out.actions += _claim_refs(view, pod, ordinal, claims)
        out.actions += [
            DeletePod(view.pod_name(ordinal), str(_meta(pod).get("uid") or "")),
            _event(view, "delete", view.pod_name(ordinal)),
        ]
        if monotonic:
            return out
    if view.rolling:
        _roll(view, slots, revs, now, out.actions)
    return out


def _replicas(
    view: SetView,
    slots: Mapping[int, JSON],
    claims: Mapping[str, JSON],
    revs: Revisions,
    now: float,
    actions: list[Any],
    monotonic: bool,
) -> bool:
    """Make, replace or wait for each replica in order; True if the sync must stop here."""
    for index in range(view.replicas):
        ordinal = view.start + index
        pod = slots.get(ordinal)
        if pod is None:
            made, waiting = _missing_claims(view, ordinal, claims)
            actions += made
            if waiting:
                if monotonic:
                    return True
                continue
            rev = revs.current if view.rolling and index < view.partition else revs.update
            actions.append(CreatePod(new_pod(view, ordinal, template_of(rev), name_of(rev))))
            actions.append(_event(view, "create", view.pod_name(ordinal)))
            if monotonic:
                return True
            continue
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Failed", "Succeeded") and not terminating(pod):
            reason = "RecreatingFailedPod" if phase == "Failed" else "RecreatingTerminatedPod"
            kind = WARNING if phase == "Failed" else NORMAL
            word = "failed" if phase == "Failed" else "terminated"
            actions.append(
                Event(
                    kind,
                    reason,
                    f"StatefulSet {view.namespace}/{view.name} is "
                    f"recreating {word} Pod {view.pod_name(ordinal)}",
                )
            )
            actions.append(DeletePod(view.pod_name(ordinal), str(_meta(pod).get("uid") or "")))
            if monotonic:
                return True
            continue
        made, _ = _missing_claims(view, ordinal, claims)
        actions += made + _claim_refs(view, pod, ordinal, claims)
        if monotonic and (terminating(pod) or not available(pod, view.min_ready, now)):
            return True
    return False


def _roll(
    view: SetView, slots: Mapping[int, JSON], revs: Revisions, now: float, actions: list[Any]
) -> None:
    update = name_of(revs.update)
    for index in range(view.replicas - 1, max(view.partition, 0) - 1, -1):
        pod = slots.get(view.start + index)
        if pod is None:
            return
        if revision_of(pod) != update and not terminating(pod):
            name = view.pod_name(view.start + index)
            actions += [
                DeletePod(name, str(_meta(pod).get("uid") or "")),
                _event(view, "delete", name),
            ]
            return
        if not healthy(pod, view.min_ready, now):
            return


# ------------------------------------------------------------------------------ status


def set_status(view: SetView, pods: Sequence[JSON], revs: Revisions, now: float) -> Obj:
    """``computeReplicaStatus`` plus the revisions, completing a finished rolling update."""
    current, update = name_of(revs.current), name_of(revs.update)
    counts = {
        "replicas": 0,
        "readyReplicas": 0,
        "availableReplicas": 0,
        "currentReplicas": 0,
        "updatedReplicas": 0,
    }
    for pod in pods:
        created = bool((pod.get("status") or {}).get("phase"))
        counts["replicas"] += created
        if running_and_ready(pod):
            counts["readyReplicas"] += 1
            counts["availableReplicas"] += available(pod, view.min_ready, now)
        if created and not terminating(pod):
            counts["currentReplicas"] += revision_of(pod) == current
            counts["updatedReplicas"] += revision_of(pod) == update
    status: Obj = {
        "observedGeneration": int(_meta(view.raw).get("generation") or 0),
        **counts,
        "currentRevision": current,
        "updateRevision": update,
        "collisionCount": int((view.raw.get("status") or {}).get("collisionCount") or 0),
    }
    if (
        view.rolling
        and counts["updatedReplicas"] == counts["replicas"]
        and counts["readyReplicas"] == counts["replicas"]
    ):
        status["currentReplicas"] = counts["updatedReplicas"]
        status["currentRevision"] = update
    return status
