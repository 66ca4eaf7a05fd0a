"""A pod's ``persistentVolumeClaim`` volumes: each claim resolved to its volume's folder, the
kubelet's texts for claims that cannot be mounted yet, and the ``ClaimVolume`` the runtime
bind-mounts (read-only, fsGroup and its change policy)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.agent.claims import ResolvedClaim, resolve, resolve_claims
from kubelite.agent.envvars import NodeFacts, Objects
from kubelite.agent.podvolumes import ClaimsNotReady, failed_mount_event, pod_volumes
from kubelite.agent.sources import ClaimFetchError
from kubelite.model import storage as st
from kubelite.model.pod import PodSpec
from kubelite.runtime.interface import ClaimVolume

FOLDER = "/var/lib/kubelite/storage/pvc-u1_shop_data"


def claim(phase: str = "Bound", volume: str = "pvc-u1", **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "data",
            "namespace": "shop",
            "uid": "u1",
            "finalizers": [st.PVC_PROTECTION],
            **meta,
        },
        "spec": {"volumeName": volume} if volume else {},
        "status": {"phase": phase},
    }


def volume(uid: str | None = "u1", provisioned: bool = True, **source: Any) -> dict[str, Any]:
    ann = {st.PROVISIONED_BY: st.LOCAL_PATH_PROVISIONER} if provisioned else {}
    spec: dict[str, Any] = source or {"hostPath": {"path": FOLDER, "type": "DirectoryOrCreate"}}
    if uid is not None:
        spec = {**spec, "claimRef": {"namespace": "shop", "name": "data", "uid": uid}}
    return {"metadata": {"name": "pvc-u1", "annotations": ann}, "spec": spec}


PREFIX = "error processing PVC shop/data: "
PROBLEMS = [
    (
        "a claim that does not exist",
        None,
        None,
        {},
        'failed to fetch PVC from API server: persistentvolumeclaims "data" not found',
    ),
    (
        "a claim the API could not give",
        None,
        None,
        {"claim_error": "500: boom"},
        "failed to fetch PVC from API server: 500: boom",
    ),
    ("a claim still pending", claim(phase="Pending", volume=""), None, {}, "PVC is not bound"),
    (
        "a claim being deleted without its protection",
        claim(deletionTimestamp="2024-01-01T00:00:00Z", finalizers=[]),
        volume(),
        {},
        "PVC is being deleted",
    ),
    (
        "a bound claim naming no volume",
        claim(volume=""),
        None,
        {},
        "PVC has empty pvc.Spec.VolumeName",
    ),
    (
        "a volume the API does not have",
        claim(),
        None,
        {"volume_error": 'persistentvolumes "pvc-u1" not found'},
        'failed to fetch PV pvc-u1 from API server: persistentvolumes "pvc-u1" not found',
    ),
    (
        "a volume not bound back",
        claim(),
        volume(uid=None),
        {},
        "found PV object pvc-u1 but it has a nil pv.Spec.ClaimRef indicating it is not yet bound "
        "to the claim",
    ),
    (
        "a volume bound to another claim of that name",
        claim(),
        volume(uid="u0"),
        {},
        "found PV object pvc-u1 but its pv.Spec.ClaimRef.UID (u0) does not point to claim.UID (u1)",
    ),
    (
        "a volume of a kind kubelite cannot mount",
        claim(),
        volume(nfs={"server": "x"}),
        {},
        'failed to get Plugin from volumeSpec for volume "pvc-u1" err=no volume plugin matched',
    ),
]


@pytest.mark.parametrize(
    ("case", "pvc", "pv", "errors", "problem"), PROBLEMS, ids=[p[0] for p in PROBLEMS]
)
def test_a_claim_that_cannot_be_mounted_yet_says_why_as_the_kubelet_does(
    case: str, pvc: Any, pv: Any, errors: dict[str, str], problem: str
) -> None:
    assert resolve("shop", "data", pvc, pv, **errors) == PREFIX + problem


def test_a_provisioned_volume_resolves_to_its_folder_with_ownership_managed() -> None:
    assert resolve("shop", "data", claim(), volume()) == ResolvedClaim(
        "pvc-u1", FOLDER, "DirectoryOrCreate", manage_ownership=True
    )


def test_a_static_hostpath_volume_keeps_its_folders_ownership_and_a_local_one_does_not() -> None:
    static = resolve("shop", "data", claim(), volume(provisioned=False))
    assert isinstance(static, ResolvedClaim) and not static.manage_ownership
    local = resolve("shop", "data", claim(), volume(provisioned=False, local={"path": "/mnt/d"}))
    assert local == ResolvedClaim("pvc-u1", "/mnt/d", "", manage_ownership=True)


class Lookup:
    def __init__(self, claims: dict[str, Any], volumes: dict[str, Any]) -> None:
        self.claims, self.volumes = claims, volumes
        self.asked: list[str] = []

    async def get_claim(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.asked.append(f"pvc {namespace}/{name}")
        if name == "broken":
            raise ClaimFetchError("connection refused")
        return self.claims.get(name)

    async def get_volume(self, name: str) -> dict[str, Any] | None:
        self.asked.append(f"pv {name}")
        return self.volumes.get(name)


def pod(*vols: dict[str, Any], **security: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "db-0", "namespace": "shop"},
        "spec": {"volumes": list(vols), "securityContext": security},
    }


def pvc_volume(name: str, claim_name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "persistentVolumeClaim": {"claimName": claim_name, **extra}}


async def test_the_claims_and_their_volumes_are_read_once_each_through_the_nodes_client() -> None:
    lookup = Lookup(
        {"data": claim(), "pending": claim(phase="Pending", volume="")}, {"pvc-u1": volume()}
    )
    the_pod = pod(
        pvc_volume("a", "data"),
        pvc_volume("b", "pending"),
        pvc_volume("c", "data"),
        pvc_volume("d", "broken"),
    )
    found = await resolve_claims(the_pod, lookup)
    assert lookup.asked == ["pvc shop/data", "pv pvc-u1", "pvc shop/pending", "pvc shop/broken"]
    assert isinstance(found["data"], ResolvedClaim)
    assert found["pending"] == "error processing PVC shop/pending: PVC is not bound"
    assert found["broken"] == (
        "error processing PVC shop/broken: failed to fetch PVC from API server: connection refused"
    )


async def test_a_source_without_an_api_cannot_resolve_claims() -> None:
    found = await resolve_claims(pod(pvc_volume("a", "data")), object())
    assert found["data"] == (
        "error processing PVC shop/data: failed to fetch PVC from API server: no API server to "
        "read it from"
    )


def test_a_resolved_claim_becomes_a_claim_volume_with_the_pods_read_only_and_policy() -> None:
    the_pod = pod(
        pvc_volume("data", "data", readOnly=True),
        fsGroup=2000,
        fsGroupChangePolicy="OnRootMismatch",
    )
    claims = {"data": ResolvedClaim("pvc-u1", FOLDER, "DirectoryOrCreate", True)}
    got = pod_volumes(PodSpec.of(the_pod), Objects(), NodeFacts(), {}, claims)
    assert got == [
        ClaimVolume(
            "data",
            FOLDER,
            "DirectoryOrCreate",
            read_only=True,
            manage_ownership=True,
            ownership_policy="OnRootMismatch",
        )
    ]


def test_claims_not_ready_fail_the_pods_volumes_together_with_the_kubelets_event() -> None:
    the_pod = pod(pvc_volume("a", "one"), {"name": "tmp", "emptyDir": {}}, pvc_volume("b", "two"))
    claims = {
        "one": "error processing PVC shop/one: PVC is not bound",
        "two": "error processing PVC shop/two: PVC is not bound",
    }
    with pytest.raises(ClaimsNotReady) as err:
        pod_volumes(PodSpec.of(the_pod), Objects(), NodeFacts(), {}, claims)
    event = failed_mount_event(err.value)
    assert (event.type, event.reason) == ("Warning", "FailedMount")
    assert event.message == (
        "Unable to attach or mount volumes: unmounted volumes=[a b], unattached volumes=[a b], "
        "failed to process volumes=[a b]: error processing PVC shop/one: PVC is not bound; "
        "error processing PVC shop/two: PVC is not bound"
    )
