"""The persistent-volume controller's decisions for one claim, from what the informers hold:
which volume it binds to, the phases and annotations binding writes, the claims that wait for a
provisioner or for their first consumer, and the ``kubernetes.io/pvc-protection`` finalizer of
a claim being deleted that no pod uses any more.

Binding goes as upstream's does, in four writes each safe to repeat: the volume's
``claimRef`` (marked ``bound-by-controller`` when the controller chose the volume), the
volume's phase ``Bound``, the claim's ``volumeName`` with ``bind-completed`` (and
``bound-by-controller`` when the controller chose), then the claim's status (``Bound``, the
volume's access modes and capacity). A sync that finds some of them done does the rest.

A claim of a class with ``WaitForFirstConsumer`` binds only once the scheduler has picked a
node (``volume.kubernetes.io/selected-node``); a claim that no existing volume fits is left to
its class's provisioner (annotated ``volume.kubernetes.io/storage-provisioner``; every
provisioner is external here). Volumes: ``pvbindervolumes``.

Pure: no I/O; the loop (``pvbindercontroller``) carries the actions out in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kubelite.controllers.pvbinderactions import (
    NORMAL,
    WARNING,
    Action,
    AnnotateClaim,
    BindClaim,
    BindVolume,
    Event,
    RemoveFinalizer,
    SetClaimStatus,
    SetVolumePhase,
    claim_event,
)
from kubelite.model import storage as st
from kubelite.model.objects import JSON

TERMINAL_POD_PHASES = ("Succeeded", "Failed")


def _spec(obj: JSON) -> JSON:
    return obj.get("spec") or {}


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


def _by_name(objs: Iterable[JSON]) -> dict[str, JSON]:
    return {st.name_of(o): o for o in objs}


def uses_claim(pod: JSON, claim: JSON) -> bool:
    return st.namespace_of(pod) == st.namespace_of(claim) and st.name_of(claim) in (
        st.claim_names(pod)
    )


def claim_in_use(claim: JSON, pods: Iterable[JSON]) -> bool:
    """A pod that is not finished still uses the claim (pvc-protection's rule)."""
    return any(uses_claim(p, claim) and st.phase_of(p) not in TERMINAL_POD_PHASES for p in pods)


def satisfies(volume: JSON, claim: JSON) -> str:
    """Why the volume a claim names cannot serve it ("" if it can)."""
    if st.is_deleting(volume):
        return f'the volume is marked for deletion "{st.name_of(volume)}"'
    have, want = st.capacity(volume), st.requested_storage(claim)
    if have is None or (want is not None and have < want):
        return "requested PV is too small"
    if st.volume_class(volume) != st.claim_class(claim):
        return "storageClassName does not match"
    if st.volume_mode(volume) != st.volume_mode(claim):
        return "incompatible volumeMode"
    if not st.has_access_modes(volume, claim):
        return "incompatible accessMode"
    return ""


# ------------------------------------------------------------------------------ binding


def bind(volume: JSON, claim: JSON) -> list[Action]:
    """The writes still missing for ``claim`` to be bound to ``volume``."""
    out: list[Action] = []
    vname = st.name_of(volume)
    ref = _spec(volume).get("claimRef")
    if not st.claim_ref_matches(volume, claim) or not (ref or {}).get("uid"):
        out.append(BindVolume(vname, claim_ref(claim), by_controller=ref is None))
    if st.phase_of(volume) != st.BOUND:
        out.append(SetVolumePhase(vname, st.BOUND))
    ns, name = st.namespace_of(claim), st.name_of(claim)
    named = _spec(claim).get("volumeName")
    if named != vname or st.BIND_COMPLETED not in st.annotations_of(claim):
        out.append(BindClaim(ns, name, vname, by_controller=not named))
    status = claim.get("status") or {}
    modes = tuple(st.access_modes(volume))
    cap = {k: str(v) for k, v in (_spec(volume).get("capacity") or {}).items()}
    if (
        status.get("phase") != st.BOUND
        or tuple(status.get("accessModes") or ()) != modes
        or (status.get("capacity") or {}) != cap
    ):
        out.append(SetClaimStatus(ns, name, st.BOUND, modes, cap))
    return out


def _pending(claim: JSON) -> list[Action]:
    if st.phase_of(claim) == st.PENDING:
        return []
    return [SetClaimStatus(st.namespace_of(claim), st.name_of(claim), st.PENDING)]


def _lost(claim: JSON, reason: str, message: str) -> list[Action]:
    out: list[Action] = [claim_event(claim, WARNING, reason, message)]
    if st.phase_of(claim) != st.LOST:
        out.append(SetClaimStatus(st.namespace_of(claim), st.name_of(claim), st.LOST))
    return out


def _waiting_for_consumer(claim: JSON, pods: Iterable[JSON]) -> Event:
    waiting = sorted(
        f"{st.namespace_of(p)}/{st.name_of(p)}"
        for p in pods
        if uses_claim(p, claim) and not _spec(p).get("nodeName")
    )
    if not waiting:
        return claim_event(
            claim,
            NORMAL,
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
        )
    if len(waiting) == 1:
        return claim_event(
            claim, NORMAL, "WaitForPodScheduled", f"waiting for pod {waiting[0]} to be scheduled"
        )
    return claim_event(
        claim,
        NORMAL,
        "WaitForPodScheduled",
        f"waiting for pods {','.join(waiting)} to be scheduled",
    )


def _provision(claim: JSON, cls: JSON | None) -> list[Action]:
    """Hand the claim to its class's provisioner (all provisioners are external here)."""
    name = st.claim_class(claim)
    if cls is None:
        return [
            claim_event(
                claim,
                WARNING,
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{name}" not found',
            )
        ]
    provisioner = str(cls.get("provisioner") or "")
    out: list[Action] = []
    ann = st.annotations_of(claim)
    wanted = {st.STORAGE_PROVISIONER: provisioner, st.BETA_STORAGE_PROVISIONER: provisioner}
    if any(ann.get(k) != v for k, v in wanted.items()):
        out.append(AnnotateClaim(st.namespace_of(claim), st.name_of(claim), wanted))
    out.append(
        claim_event(
            claim,
            NORMAL,
            "ExternalProvisioning",
            f"Waiting for a volume to be created either by the external "
            f"provisioner '{provisioner}' or manually by the system "
            "administrator. If volume creation is delayed, please verify that "
            "the provisioner is running and correctly registered.",
        )
    )
    return out


def sync_unbound_claim(
    claim: JSON, volumes: Sequence[JSON], classes: Sequence[JSON], pods: Sequence[JSON]
) -> list[Action]:
    named = str(_spec(claim).get("volumeName") or "")
    cls = _by_name(classes).get(st.claim_class(claim))
    if not named:
        delay = cls is not None and st.binding_mode(cls) == st.WAIT_FOR_FIRST_CONSUMER
        volume = st.best_volume(claim, volumes, delay_binding=delay)
        if volume is not None:
            return bind(volume, claim)
        if delay and st.SELECTED_NODE not in st.annotations_of(claim):
            return [_waiting_for_consumer(claim, pods), *_pending(claim)]
        if st.claim_class(claim):
            return _provision(claim, cls)
        event = claim_event(
            claim,
            NORMAL,
            "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set",
        )
        return [event, *_pending(claim)]
    volume = _by_name(volumes).get(named)
    if volume is None:
        return _pending(claim)
    if _spec(volume).get("claimRef") is None:
        why = satisfies(volume, claim)
        if why:
            msg = f'Cannot bind to requested volume "{named}": {why}'
            return [claim_event(claim, WARNING, "VolumeMismatch", msg), *_pending(claim)]
        return bind(volume, claim)
    if st.claim_ref_matches(volume, claim):
        return bind(volume, claim)
    if st.BOUND_BY_CONTROLLER not in st.annotations_of(claim):
        msg = f'volume "{named}" already bound to a different claim.'
        return [claim_event(claim, WARNING, "FailedBinding", msg), *_pending(claim)]
    return []


def sync_bound_claim(claim: JSON, volumes: Sequence[JSON]) -> list[Action]:
    named = str(_spec(claim).get("volumeName") or "")
    if not named:
        return _lost(
            claim,
            "ClaimLost",
            "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
        )
    volume = _by_name(volumes).get(named)
    if volume is None:
        return _lost(
            claim,
            "ClaimLost",
            "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
        )
    ref = _spec(volume).get("claimRef")
    if ref is None or ref.get("uid") == st.uid_of(claim):
        return bind(volume, claim)
    return _lost(
        claim,
        "ClaimMisbound",
        "Two claims are bound to the same volume, this one is bound incorrectly",
    )


def sync_claim(
    claim: JSON, volumes: Sequence[JSON], classes: Sequence[JSON], pods: Sequence[JSON]
) -> list[Action]:
    out: list[Action] = []
    meta = claim.get("metadata") or {}
    if (
        st.is_deleting(claim)
        and st.PVC_PROTECTION in (meta.get("finalizers") or [])
        and not claim_in_use(claim, pods)
    ):
        out.append(
            RemoveFinalizer(
                "PersistentVolumeClaim",
                st.namespace_of(claim),
                st.name_of(claim),
                st.PVC_PROTECTION,
            )
        )
    if st.BIND_COMPLETED in st.annotations_of(claim):
        return out + sync_bound_claim(claim, volumes)
    return out + sync_unbound_claim(claim, volumes, classes, pods)
