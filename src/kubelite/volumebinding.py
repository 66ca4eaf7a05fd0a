"""The scheduler's volume decisions for one pod (the VolumeBinding and VolumeRestrictions
plugins of kube-scheduler), from the claims, volumes and classes it reads.

``prefilter`` refuses a pod outright, as upstream's PreFilter does, when a claim it names is
missing or being deleted, when a claim of an ``Immediate`` class is not bound yet (the
persistent-volume controller binds those), or when a ``ReadWriteOncePod`` claim is already used
by another pod. ``on_node`` then says whether a node suits the pod's claims: bound claims need
their volume to exist and admit the node; unbound ``WaitForFirstConsumer`` claims need a
matching volume there or a class that can provision one. Once the pod is placed,
``bindings`` says what to write before it is bound (upstream's PreBind): the claimRef of each
static volume chosen, and the ``volume.kubernetes.io/selected-node`` annotation of each claim
to provision; ``all_bound`` says when the persistent-volume controller has finished, and only
then is the pod bound to the node.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kubelite.model import storage as st
from kubelite.model.objects import JSON

BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
NODE_CONFLICT = "node(s) had volume node affinity conflict"
PV_NOT_EXIST = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
RWOP_CONFLICT = (
    "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"
)
TERMINAL = ("Succeeded", "Failed")


@dataclass(frozen=True, slots=True)
class PodClaims:
    """The pod's claims as PreFilter sorted them."""

    bound: tuple[JSON, ...] = ()
    delayed: tuple[JSON, ...] = ()  # unbound, WaitForFirstConsumer

    @property
    def empty(self) -> bool:
        return not self.bound and not self.delayed


@dataclass(frozen=True, slots=True)
class Bindings:
    """What the scheduler writes before binding the pod to its node."""

    static: tuple[tuple[JSON, JSON], ...] = ()  # (claim, volume): the volume's claimRef
    provision: tuple[JSON, ...] = ()  # claims annotated with the selected node
    reasons: tuple[str, ...] = field(default=())  # why the node does not suit (empty: it does)


def _by_name(objs: Sequence[JSON]) -> dict[str, JSON]:
    return {st.name_of(o): o for o in objs}


def _rwop_taken(pod: JSON, claim: JSON, pods: Sequence[JSON]) -> bool:
    if st.READ_WRITE_ONCE_POD not in st.access_modes(claim):
        return False
    me = st.uid_of(pod)
    return any(
        st.uid_of(p) != me
        and st.namespace_of(p) == st.namespace_of(pod)
        and st.name_of(claim) in st.claim_names(p)
        and st.phase_of(p) not in TERMINAL
        for p in pods
    )


def prefilter(
    pod: JSON, claims: Mapping[str, JSON], classes: Sequence[JSON], pods: Sequence[JSON]
) -> PodClaims | str:
    """The pod's claims sorted, or PreFilter's refusal."""
    by_class = _by_name(classes)
    bound: list[JSON] = []
    delayed: list[JSON] = []
    immediate = False
    for name in st.claim_names(pod):
        claim = claims.get(name)
        if claim is None:
            return f'persistentvolumeclaim "{name}" not found'
        if st.is_deleting(claim):
            return f'persistentvolumeclaim "{name}" is being deleted'
        if _rwop_taken(pod, claim, pods):
            return RWOP_CONFLICT
        if (claim.get("spec") or {}).get("volumeName"):
            bound.append(claim)
        elif st.binding_mode(by_class.get(st.claim_class(claim))) == st.WAIT_FOR_FIRST_CONSUMER:
            delayed.append(claim)
        else:
            immediate = True
    if immediate:
        return UNBOUND_IMMEDIATE
    return PodClaims(tuple(bound), tuple(delayed))


def on_node(
    found: PodClaims, node: JSON, volumes: Sequence[JSON], classes: Sequence[JSON]
) -> Bindings:
    """Whether ``node`` suits the pod's claims, and the writes that would bind them there."""
    by_name, by_class = _by_name(volumes), _by_name(classes)
    for claim in found.bound:
        volume = by_name.get(str((claim.get("spec") or {}).get("volumeName")))
        if volume is None:
            return Bindings(reasons=(PV_NOT_EXIST,))
        if not st.node_affinity_allows(volume, node):
            return Bindings(reasons=(NODE_CONFLICT,))
    static: list[tuple[JSON, JSON]] = []
    provision: list[JSON] = []
    taken: set[str] = set()
    for claim in found.delayed:
        free = [v for v in volumes if st.name_of(v) not in taken]
        volume = st.best_volume(claim, free, node=node, delay_binding=True)
        if volume is not None:
            taken.add(st.name_of(volume))
            static.append((claim, volume))
            continue
        cls = by_class.get(st.claim_class(claim))
        if cls is None or cls.get("provisioner") in (None, "", st.NO_PROVISIONER):
            return Bindings(reasons=(BIND_CONFLICT,))
        provision.append(claim)
    return Bindings(tuple(static), tuple(provision))


def claim_ref(claim: JSON) -> dict[str, str]:
    meta = claim.get("metadata") or {}
    return {
        "kind": "PersistentVolumeClaim",
        "namespace": st.namespace_of(claim),
        "name": st.name_of(claim),
        "uid": st.uid_of(claim),
        "apiVersion": "v1",
        "resourceVersion": str(meta.get("resourceVersion") or ""),
    }


def all_bound(pod: JSON, claims: Mapping[str, JSON], volumes: Sequence[JSON]) -> bool:
    """Every claim of the pod is bound, both ways (upstream's checkBindings)."""
    by_name = _by_name(volumes)
    for name in st.claim_names(pod):
        claim = claims.get(name)
        if claim is None or st.BIND_COMPLETED not in st.annotations_of(claim):
            return False
        volume = by_name.get(str((claim.get("spec") or {}).get("volumeName") or ""))
        if volume is None or not st.claim_ref_matches(volume, claim):
            return False
        if not ((volume.get("spec") or {}).get("claimRef") or {}).get("uid"):
            return False
    return True
