"""The scheduler's reads and writes around its volume decisions (``volumebinding``): the
claims, volumes, classes and pods the plugins look at for one pod, and PreBind's writes for the
node chosen (a static volume's claimRef, a claim's selected node), after which the pod waits
until every claim is bound, as upstream's PreBind waits (up to its bind timeout).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from kubelite import volumebinding as vb
from kubelite.model import storage as st
from kubelite.registry.persistentvolumeclaims import PERSISTENTVOLUMECLAIMS
from kubelite.registry.persistentvolumes import PERSISTENTVOLUMES
from kubelite.registry.pods import PODS
from kubelite.registry.service import Registry
from kubelite.registry.storageclasses import STORAGECLASSES

BIND_TIMEOUT = 600.0  # seconds a pod waits for its claims (upstream's bindTimeout)
Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PodVolumes:
    """What the volume plugins read for one pod."""

    found: vb.PodClaims
    claims: dict[str, Obj]
    volumes: list[Obj]
    classes: list[Obj]


class VolumeBinder:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._waiting: dict[str, float] = {}  # pod uid -> when it began waiting for its claims

    def forget_except(self, live: set[str]) -> None:
        self._waiting = {u: t for u, t in self._waiting.items() if u in live}

    async def claims_of(self, pod: Obj) -> PodVolumes | str | None:
        """The pod's claims for the volume plugins (None: it names none), or PreFilter's
        refusal."""
        if not st.claim_names(pod):
            return None
        ns = pod["metadata"]["namespace"]
        pvcs, _ = await self._registry.list(PERSISTENTVOLUMECLAIMS, ns)
        by_name = {st.name_of(c): c for c in pvcs}
        classes, _ = await self._registry.list(STORAGECLASSES, None)
        pods, _ = await self._registry.list(PODS, ns)
        found = vb.prefilter(pod, by_name, classes, pods)
        if isinstance(found, str):
            return found
        volumes, _ = await self._registry.list(PERSISTENTVOLUMES, None)
        return PodVolumes(found, by_name, volumes, classes)

    async def prebind(self, pod: Obj, node: str, bindings: vb.Bindings) -> tuple[bool, bool]:
        """Write the static volumes' claimRefs and the selected node of the claims to
        provision. Returns (every claim of the pod is bound, the bind timeout just ran out)."""
        for claim, volume in bindings.static:
            ref = (volume.get("spec") or {}).get("claimRef") or {}
            if not st.claim_ref_matches(volume, claim) or not ref.get("uid"):
                new: Obj = copy.deepcopy(dict(volume))
                new["spec"]["claimRef"] = vb.claim_ref(claim)
                new["metadata"].setdefault("annotations", {})[st.BOUND_BY_CONTROLLER] = "yes"
                await self._registry.update(PERSISTENTVOLUMES, "", st.name_of(volume), new)
        for claim in bindings.provision:
            if st.annotations_of(claim).get(st.SELECTED_NODE) != node:
                pvc: Obj = copy.deepcopy(dict(claim))
                pvc["metadata"].setdefault("annotations", {})[st.SELECTED_NODE] = node
                await self._registry.update(
                    PERSISTENTVOLUMECLAIMS, st.namespace_of(claim), st.name_of(claim), pvc
                )
        pvcs, _ = await self._registry.list(PERSISTENTVOLUMECLAIMS, pod["metadata"]["namespace"])
        volumes, _ = await self._registry.list(PERSISTENTVOLUMES, None)
        uid = str(pod["metadata"].get("uid", ""))
        if vb.all_bound(pod, {st.name_of(c): c for c in pvcs}, volumes):
            self._waiting.pop(uid, None)
            return True, False
        now = self._registry.clock.monotonic()
        began = self._waiting.setdefault(uid, now)
        if now - began < BIND_TIMEOUT:
            return False, False
        self._waiting[uid] = now  # wait again, as upstream tries the pod again
        return False, True
