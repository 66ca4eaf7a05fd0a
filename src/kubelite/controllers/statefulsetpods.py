"""A StatefulSet's members as its controller makes them: the set's settings read once
(``SetView``), a pod's ordinal and health (Running and Ready, available for
``minReadySeconds``, terminating), the pod made from a revision's template for an ordinal
(``newVersionedStatefulSetPod``: name, hostname, subdomain, the three identity labels, the
claim volumes), the claim made from a claim template, and the owner references the retention
policy gives a claim.

Pure: no I/O.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass

from kubelite.clock import parse_rfc3339
from kubelite.controllers.statefulsetrevisions import POD_REVISION_LABEL
from kubelite.model.objects import JSON, Obj

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
ORDINAL = re.compile(r"(.*)-([0-9]+)$")


def _meta(obj: JSON) -> JSON:
    return obj.get("metadata") or {}


def ordinal_of(pod: JSON, set_name: str) -> int:
    """The pod's ordinal if its name is ``<set>-<n>``, else -1."""
    match = ORDINAL.fullmatch(str(_meta(pod).get("name") or ""))
    if match is None or match.group(1) != set_name:
        return -1
    return int(match.group(2))


def _condition(pod: JSON, kind: str) -> JSON | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond  # type: ignore[no-any-return]
    return None


def running_and_ready(pod: JSON) -> bool:
    ready = _condition(pod, "Ready")
    return (pod.get("status") or {}).get("phase") == "Running" and bool(
        ready and ready.get("status") == "True"
    )


def available(pod: JSON, min_ready: int, now: float) -> bool:
    if not running_and_ready(pod):
        return False
    if min_ready <= 0:
        return True
    ready = _condition(pod, "Ready") or {}
    try:
        since = parse_rfc3339(str(ready.get("lastTransitionTime") or ""))
    except ValueError:
        return False
    return since + min_ready <= now


def terminating(pod: JSON) -> bool:
    return bool(_meta(pod).get("deletionTimestamp"))


def healthy(pod: JSON, min_ready: int, now: float) -> bool:
    return available(pod, min_ready, now) and not terminating(pod)


def revision_of(pod: JSON) -> str:
    return str((_meta(pod).get("labels") or {}).get(POD_REVISION_LABEL) or "")


@dataclass(frozen=True, slots=True)
class SetView:
    raw: JSON
    name: str
    namespace: str
    uid: str
    replicas: int
    start: int
    parallel: bool
    rolling: bool
    partition: int
    min_ready: int
    service: str
    when_deleted: str
    when_scaled: str

    @classmethod
    def of(cls, sts: JSON) -> SetView:
        meta, spec = _meta(sts), sts.get("spec") or {}
        strategy = spec.get("updateStrategy") or {}
        rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
        partition = (strategy.get("rollingUpdate") or {}).get("partition") or 0
        retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        return cls(
            raw=sts,
            name=str(meta.get("name") or ""),
            namespace=str(meta.get("namespace") or ""),
            uid=str(meta.get("uid") or ""),
            replicas=int(spec.get("replicas", 1) or 0),
            start=int((spec.get("ordinals") or {}).get("start") or 0),
            parallel=spec.get("podManagementPolicy") == "Parallel",
            rolling=rolling,
            partition=int(partition),
            min_ready=int(spec.get("minReadySeconds") or 0),
            service=str(spec.get("serviceName") or ""),
            when_deleted=str(retention.get("whenDeleted") or "Retain"),
            when_scaled=str(retention.get("whenScaled") or "Retain"),
        )

    def pod_name(self, ordinal: int) -> str:
        return f"{self.name}-{ordinal}"

    def claim_name(self, template: JSON, ordinal: int) -> str:
        return f"{_meta(template).get('name', '')}-{self.name}-{ordinal}"

    def in_range(self, ordinal: int) -> bool:
        return self.start <= ordinal < self.start + self.replicas

    @property
    def claim_templates(self) -> list[JSON]:
        return list((self.raw.get("spec") or {}).get("volumeClaimTemplates") or [])

    def controller_ref(self) -> Obj:
        return {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def owner_ref(self) -> Obj:
        return {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": self.name, "uid": self.uid}


def new_pod(view: SetView, ordinal: int, template: JSON, revision: str) -> Obj:
    """``newVersionedStatefulSetPod``: the template made into pod ``<set>-<ordinal>``."""
    tmeta = template.get("metadata") or {}
    name = view.pod_name(ordinal)
    labels = {
        **(tmeta.get("labels") or {}),
        POD_REVISION_LABEL: revision,
        POD_NAME_LABEL: name,
        POD_INDEX_LABEL: str(ordinal),
    }
    meta: Obj = {
        "name": name,
        "generateName": f"{view.name}-",
        "namespace": view.namespace,
        "labels": labels,
        "ownerReferences": [view.controller_ref()],
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    spec = copy.deepcopy(dict(template.get("spec") or {}))
    spec["hostname"] = name
    if view.service:
        spec["subdomain"] = view.service
    claims = {str(_meta(t).get("name")): view.claim_name(t, ordinal) for t in view.claim_templates}
    volumes = [
        {"name": vol, "persistentVolumeClaim": {"claimName": claim}}
        for vol, claim in claims.items()
    ]
    volumes += [v for v in spec.get("volumes") or [] if v.get("name") not in claims]
    if volumes:
        spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def claim_owners(view: SetView, pod: JSON | None, ordinal: int, refs: Sequence[JSON]) -> list[Obj]:
    """The owner references a claim should carry under the retention policy."""
    pod_meta = _meta(pod or {})
    pod_uid = str(pod_meta.get("uid") or "")
    scaled_away = not view.in_range(ordinal)
    keep = [dict(r) for r in refs if r.get("uid") not in (view.uid, pod_uid)]
    want_set = view.when_deleted == "Delete" and not (scaled_away and view.when_scaled == "Delete")
    want_pod = view.when_scaled == "Delete" and scaled_away and pod_uid
    if want_set:
        keep.append(view.owner_ref())
    if want_pod:
        keep.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": str(pod_meta.get("name") or ""),
                "uid": pod_uid,
            }
        )
    return keep


def new_claim(view: SetView, template: JSON, ordinal: int) -> Obj:
    tmeta = _meta(template)
    selector = ((view.raw.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    meta: Obj = {
        "name": view.claim_name(template, ordinal),
        "namespace": view.namespace,
        "labels": {**(tmeta.get("labels") or {}), **selector},
    }
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    owners = claim_owners(view, None, ordinal, [])
    if owners:
        meta["ownerReferences"] = owners
    spec = copy.deepcopy(dict(template.get("spec") or {}))
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec}
