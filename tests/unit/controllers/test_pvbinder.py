"""The persistent-volume controller's decisions: binding a claim to a volume in its four
writes, waiting for a first consumer or a provisioner, the events it posts with upstream's
words, releasing and reclaiming volumes, and the protection finalizers."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers import pvbinder, pvbindervolumes
from kubelite.controllers import pvbinderactions as act
from kubelite.model import storage as st


def claim(
    name: str = "data",
    *,
    cls: str = "local-path",
    volume: str = "",
    annotations: dict[str, str] | None = None,
    phase: str = "Pending",
    deleting: bool = False,
    finalizers: tuple[str, ...] = (st.PVC_PROTECTION,),
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "uid": f"uid-{name}",
        "resourceVersion": "7",
        "annotations": annotations or {},
        "finalizers": list(finalizers),
    }
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": cls,
        "resources": {"requests": {"storage": "1Gi"}},
        "volumeMode": "Filesystem",
    }
    if volume:
        spec["volumeName"] = volume
    return {"metadata": meta, "spec": spec, "status": status or {"phase": phase}}


def volume(
    name: str = "pv1",
    *,
    ref: dict[str, str] | None = None,
    phase: str = "Available",
    annotations: dict[str, str] | None = None,
    policy: str = "Retain",
    source: dict[str, Any] | None = None,
    cls: str = "local-path",
    deleting: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "annotations": annotations or {},
        "finalizers": [st.PV_PROTECTION],
    }
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": "2Gi"},
        "storageClassName": cls,
        "volumeMode": "Filesystem",
        "persistentVolumeReclaimPolicy": policy,
        **(source or {"hostPath": {"path": "/data/x", "type": ""}}),
    }
    if ref is not None:
        spec["claimRef"] = ref
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


def ref_to(name: str = "data", uid: str | None = None) -> dict[str, str]:
    out = {"namespace": "default", "name": name}
    if uid is not None:
        out["uid"] = uid
    return out


def sc(name: str = "local-path", mode: str = "WaitForFirstConsumer") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "provisioner": "rancher.io/local-path",
        "volumeBindingMode": mode,
    }


def pod(
    name: str, claim_name: str = "data", node: str = "", phase: str = "Pending"
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "nodeName": node,
            "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim_name}}],
        },
        "status": {"phase": phase},
    }


def kinds(actions: list[Any]) -> list[str]:
    return [type(a).__name__ for a in actions]


def events(actions: list[Any]) -> list[tuple[str, str, str]]:
    return [(a.type, a.reason, a.message) for a in actions if isinstance(a, act.Event)]


# -- binding -----------------------------------------------------------------------------------


def test_an_immediate_claim_binds_the_best_volume_in_four_writes() -> None:
    actions = pvbinder.sync_claim(claim(), [volume()], [sc(mode="Immediate")], [])
    assert kinds(actions) == ["BindVolume", "SetVolumePhase", "BindClaim", "SetClaimStatus"]
    bind_volume, phase, bind_claim, status = actions
    assert bind_volume.claim_ref["uid"] == "uid-data" and bind_volume.by_controller
    assert bind_volume.claim_ref["kind"] == "PersistentVolumeClaim"
    assert phase.phase == "Bound"
    assert (bind_claim.volume, bind_claim.by_controller) == ("pv1", True)
    assert status == act.SetClaimStatus(
        "default", "data", "Bound", ("ReadWriteOnce",), {"storage": "2Gi"}
    )


def test_a_half_done_binding_is_finished_without_repeating_what_is_done() -> None:
    pv = volume(
        ref=ref_to(uid="uid-data"), phase="Bound", annotations={st.BOUND_BY_CONTROLLER: "yes"}
    )
    actions = pvbinder.sync_claim(claim(), [pv], [sc(mode="Immediate")], [])
    assert kinds(actions) == ["BindClaim", "SetClaimStatus"]


def test_a_bound_claim_whose_binding_is_complete_needs_nothing() -> None:
    pv = volume(ref=ref_to(uid="uid-data"), phase="Bound")
    status = {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "2Gi"}}
    done = claim(volume="pv1", annotations={st.BIND_COMPLETED: "yes"}, status=status)
    assert pvbinder.sync_claim(done, [pv], [sc()], []) == []


def test_a_volume_pre_bound_by_its_claim_ref_gets_the_claims_uid_but_no_controller_mark() -> None:
    pv = volume(ref=ref_to())
    actions = pvbinder.sync_claim(claim(), [pv], [sc()], [])
    assert isinstance(actions[0], act.BindVolume) and not actions[0].by_controller


def test_a_claim_naming_a_volume_that_does_not_fit_gets_a_volume_mismatch() -> None:
    pv = volume(cls="other")
    actions = pvbinder.sync_claim(claim(volume="pv1"), [pv], [sc()], [])
    assert events(actions) == [
        (
            "Warning",
            "VolumeMismatch",
            'Cannot bind to requested volume "pv1": storageClassName does not match',
        )
    ]


def test_a_claim_naming_a_volume_of_another_claim_is_told_so() -> None:
    pv = volume(ref=ref_to("other", "uid-other"), phase="Bound")
    actions = pvbinder.sync_claim(claim(volume="pv1"), [pv], [sc()], [])
    assert events(actions) == [
        ("Warning", "FailedBinding", 'volume "pv1" already bound to a different claim.')
    ]


# -- waiting -----------------------------------------------------------------------------------

WAITING = [
    (
        "no pod yet",
        [],
        (
            "Normal",
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
        ),
    ),
    (
        "one unscheduled pod",
        [pod("web-0")],
        ("Normal", "WaitForPodScheduled", "waiting for pod default/web-0 to be scheduled"),
    ),
    (
        "two unscheduled pods",
        [pod("b"), pod("a")],
        ("Normal", "WaitForPodScheduled", "waiting for pods default/a,default/b to be scheduled"),
    ),
    (
        "a scheduled pod does not count",
        [pod("a", node="n1")],
        (
            "Normal",
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
        ),
    ),
]


@pytest.mark.parametrize(("case", "pods", "event"), WAITING, ids=[w[0] for w in WAITING])
def test_a_delayed_claim_waits_for_its_first_consumer(
    case: str, pods: list[dict[str, Any]], event: tuple[str, str, str]
) -> None:
    actions = pvbinder.sync_claim(claim(), [volume()], [sc()], pods)
    assert events(actions) == [event]
    assert not any(isinstance(a, act.BindVolume) for a in actions)


def test_a_claim_with_a_selected_node_and_no_volume_is_handed_to_its_provisioner() -> None:
    waiting = claim(annotations={st.SELECTED_NODE: "n1"})
    actions = pvbinder.sync_claim(waiting, [], [sc()], [])
    assert isinstance(actions[0], act.AnnotateClaim)
    assert actions[0].annotations == {
        st.STORAGE_PROVISIONER: "rancher.io/local-path",
        st.BETA_STORAGE_PROVISIONER: "rancher.io/local-path",
    }
    assert events(actions) == [
        (
            "Normal",
            "ExternalProvisioning",
            "Waiting for a volume to be created either by the external "
            "provisioner 'rancher.io/local-path' or manually by the system "
            "administrator. If volume creation is delayed, please verify "
            "that the provisioner is running and correctly registered.",
        )
    ]


def test_a_claim_of_a_missing_class_fails_provisioning() -> None:
    actions = pvbinder.sync_claim(claim(cls="gold"), [], [sc()], [])
    assert events(actions) == [
        ("Warning", "ProvisioningFailed", 'storageclass.storage.k8s.io "gold" not found')
    ]


def test_a_claim_of_no_class_with_no_volume_stays_pending() -> None:
    actions = pvbinder.sync_claim(claim(cls="", phase="Lost"), [], [sc()], [])
    assert events(actions) == [
        (
            "Normal",
            "FailedBinding",
            "no persistent volumes available for this claim and no storage class is set",
        )
    ]
    assert actions[-1] == act.SetClaimStatus("default", "data", "Pending")


def test_a_bound_claim_whose_volume_is_gone_is_lost() -> None:
    bound = claim(volume="pv1", annotations={st.BIND_COMPLETED: "yes"}, phase="Bound")
    actions = pvbinder.sync_claim(bound, [], [sc()], [])
    assert events(actions) == [
        (
            "Warning",
            "ClaimLost",
            "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
        )
    ]
    assert actions[-1].phase == "Lost"


# -- protection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pods", "freed"),
    [
        ([], True),
        ([pod("a", node="n1", phase="Running")], False),
        ([pod("a", node="n1", phase="Succeeded")], True),
        ([pod("a", claim_name="other")], True),
    ],
)
def test_a_deleted_claim_keeps_its_finalizer_while_a_running_pod_uses_it(
    pods: list[dict[str, Any]], freed: bool
) -> None:
    going = claim(deleting=True, volume="pv1", annotations={st.BIND_COMPLETED: "yes"})
    actions = pvbinder.sync_claim(going, [volume(ref=ref_to(uid="uid-data"))], [sc()], pods)
    removal = act.RemoveFinalizer("PersistentVolumeClaim", "default", "data", st.PVC_PROTECTION)
    assert (removal in actions) is freed


def test_a_deleted_volume_keeps_its_finalizer_while_bound() -> None:
    bound = volume(ref=ref_to(uid="uid-data"), phase="Bound", deleting=True)
    assert pvbindervolumes.sync_volume(bound, [claim(volume="pv1")]) == []
    free = volume(phase="Available", deleting=True)
    assert pvbindervolumes.sync_volume(free, []) == [
        act.RemoveFinalizer("PersistentVolume", "", "pv1", st.PV_PROTECTION)
    ]


# -- volumes -----------------------------------------------------------------------------------


def test_a_new_volume_becomes_available() -> None:
    assert pvbindervolumes.sync_volume(volume(phase="Pending"), []) == [
        act.SetVolumePhase("pv1", "Available")
    ]


def test_a_volume_pointing_at_a_claim_that_has_not_bound_yet_syncs_that_claim() -> None:
    pv = volume(ref=ref_to(uid="uid-data"), phase="Bound")
    assert pvbindervolumes.sync_volume(pv, [claim()]) == [act.SyncClaim("default", "data")]


RECLAIM = [
    ("Retain keeps the volume, released", "Retain", None, {}, ["SetVolumePhase"]),
    (
        "Delete of a provisioned volume is its provisioner's",
        "Delete",
        None,
        {st.PROVISIONED_BY: "rancher.io/local-path"},
        ["SetVolumePhase"],
    ),
    (
        "Delete of a hostPath under /tmp deletes it",
        "Delete",
        {"hostPath": {"path": "/tmp/pv1", "type": ""}},
        {},
        ["SetVolumePhase", "DeleteHostPathVolume"],
    ),
    (
        "Delete of another hostPath fails with the deleter's error",
        "Delete",
        None,
        {},
        ["SetVolumePhase", "SetVolumePhase", "Event"],
    ),
    (
        "Delete of a local volume fails: no deleter",
        "Delete",
        {"local": {"path": "/data/x"}},
        {},
        ["SetVolumePhase", "SetVolumePhase", "Event"],
    ),
]


@pytest.mark.parametrize(
    ("case", "policy", "source", "annotations", "expected"), RECLAIM, ids=[r[0] for r in RECLAIM]
)
def test_a_volume_whose_claim_went_is_released_and_reclaimed_by_its_policy(
    case: str, policy: str, source: Any, annotations: dict[str, str], expected: list[str]
) -> None:
    pv = volume(
        ref=ref_to(uid="uid-gone"),
        phase="Bound",
        policy=policy,
        source=source,
        annotations=annotations,
    )
    actions = pvbindervolumes.sync_volume(pv, [])
    assert kinds(actions) == expected
    assert actions[0] == act.SetVolumePhase("pv1", "Released")


def test_the_hostpath_deleters_refusal_is_upstreams() -> None:
    pv = volume(ref=ref_to(uid="uid-gone"), phase="Released", policy="Delete")
    actions = pvbindervolumes.sync_volume(pv, [claim()])  # a new claim of that name
    message = "host_path deleter only supports /tmp/.+ but received provided /data/x"
    assert actions[0] == act.SetVolumePhase("pv1", "Failed", message)
    assert events(actions) == [("Warning", "VolumeFailedDelete", message)]
    failed = volume(ref=ref_to(uid="uid-gone"), phase="Failed", policy="Delete")
    assert pvbindervolumes.sync_volume(failed, []) == []


def test_a_volume_the_controller_bound_to_a_claim_now_bound_elsewhere_is_unbound() -> None:
    pv = volume(
        ref=ref_to(uid="uid-data"), phase="Bound", annotations={st.BOUND_BY_CONTROLLER: "yes"}
    )
    assert pvbindervolumes.sync_volume(pv, [claim(volume="pv9")]) == [act.UnbindVolume("pv1")]
