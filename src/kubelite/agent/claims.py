"""A pod's PersistentVolumeClaims, resolved to the folders of the volumes they are bound to
(the kubelet's desired-state populator does this before it mounts anything).

``resolve`` is pure: given a claim and its volume (None where the API had none) it gives the
folder to bind-mount, or the kubelet's reason why the claim cannot be mounted yet (``error
processing PVC <ns>/<name>: PVC is not bound`` …). ``resolve_claims`` reads each claim and its
volume through the node's client (``sources.ClaimLookup``). A pod with such an error keeps
waiting, as the kubelet's does: its sandbox is not made, a FailedMount event says why, and the
next sync tries again.

kubelite mounts ``hostPath`` and ``local`` volumes (what the local-path provisioner and static
node volumes are). The pod's fsGroup is applied to ``local`` volumes, as the kubelet's local
plugin applies it, and to volumes of the local-path provisioner, whose folders kubelite makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.agent.sources import ClaimFetchError, ClaimLookup
from kubelite.model import storage as st
from kubelite.model.objects import JSON


@dataclass(frozen=True, slots=True)
class ResolvedClaim:
    volume: str  # the PersistentVolume's name
    path: str
    type: str  # the hostPath type; "" for a local volume
    manage_ownership: bool


Claims = Mapping[str, ResolvedClaim | str]  # by claim name: the folder, or why not yet


def _problem(claim: JSON | None, volume: JSON | None, volume_error: str) -> str:
    if claim is None:
        return ""
    meta = claim.get("metadata") or {}
    if st.is_deleting(claim) and st.PVC_PROTECTION not in (meta.get("finalizers") or []):
        return "PVC is being deleted"
    if st.phase_of(claim) != st.BOUND:
        return "PVC is not bound"
    name = str((claim.get("spec") or {}).get("volumeName") or "")
    if not name:
        return "PVC has empty pvc.Spec.VolumeName"
    if volume_error:
        return f"failed to fetch PV {name} from API server: {volume_error}"
    ref = (volume or {}).get("spec", {}).get("claimRef")
    if not isinstance(ref, Mapping):
        return (
            f"found PV object {name} but it has a nil pv.Spec.ClaimRef indicating it is not "
            "yet bound to the claim"
        )
    if ref.get("uid") != st.uid_of(claim):
        return (
            f"found PV object {name} but its pv.Spec.ClaimRef.UID ({ref.get('uid', '')}) does "
            f"not point to claim.UID ({st.uid_of(claim)})"
        )
    return ""


def resolve(
    namespace: str,
    claim_name: str,
    claim: JSON | None,
    volume: JSON | None,
    *,
    claim_error: str = "",
    volume_error: str = "",
) -> ResolvedClaim | str:
    """The folder of a claim's volume, or the kubelet's error text for it."""
    prefix = f"error processing PVC {namespace}/{claim_name}: "
    if claim_error or claim is None:
        detail = claim_error or f'persistentvolumeclaims "{claim_name}" not found'
        return f"{prefix}failed to fetch PVC from API server: {detail}"
    problem = _problem(claim, volume, volume_error)
    if problem:
        return prefix + problem
    assert volume is not None
    spec = volume.get("spec") or {}
    name = st.name_of(volume)
    if isinstance(spec.get("hostPath"), Mapping):
        host = spec["hostPath"]
        provisioned = st.annotations_of(volume).get(st.PROVISIONED_BY) == st.LOCAL_PATH_PROVISIONER
        return ResolvedClaim(
            name,
            str(host.get("path") or ""),
            str(host.get("type") or ""),
            manage_ownership=provisioned,
        )
    if isinstance(spec.get("local"), Mapping):
        return ResolvedClaim(name, str(spec["local"].get("path") or ""), "", manage_ownership=True)
    return (
        f'{prefix}failed to get Plugin from volumeSpec for volume "{name}" err=no volume '
        "plugin matched"
    )


async def resolve_claims(pod: JSON, client: Any) -> dict[str, ResolvedClaim | str]:
    """Every claim the pod's volumes name, read through ``client`` (a ``ClaimLookup``)."""
    namespace = st.namespace_of(pod) or "default"
    out: dict[str, ResolvedClaim | str] = {}
    for claim_name in st.claim_names(pod):
        if not isinstance(client, ClaimLookup):
            out[claim_name] = resolve(
                namespace, claim_name, None, None, claim_error="no API server to read it from"
            )
            continue
        claim = volume = None
        claim_error = volume_error = ""
        try:
            claim = await client.get_claim(namespace, claim_name)
        except ClaimFetchError as err:
            claim_error = str(err)
        name = str(((claim or {}).get("spec") or {}).get("volumeName") or "")
        if name and st.phase_of(claim or {}) == st.BOUND:
            try:
                volume = await client.get_volume(name)
            except ClaimFetchError as err:
                volume_error = str(err)
            if volume is None and not volume_error:
                volume_error = f'persistentvolumes "{name}" not found'
        out[claim_name] = resolve(
            namespace, claim_name, claim, volume, claim_error=claim_error, volume_error=volume_error
        )
    return out
