"""The scheduler's volume plugins: PreFilter's refusals in upstream's words, which nodes suit a
pod's claims, PreBind's writes (a static volume's claimRef, a claim's selected node), and a pod
bound only once its claims are."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite import volumebinding as vb
from kubelite.clock import ManualClock
from kubelite.model import storage as st
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.events import EVENTS
from kubelite.registry.nodes import NODES
from kubelite.registry.persistentvolumeclaims import PERSISTENTVOLUMECLAIMS as PVCS
from kubelite.registry.persistentvolumes import PERSISTENTVOLUMES as PVS
from kubelite.registry.pods import PODS
from kubelite.registry.service import Registry
from kubelite.registry.storageclasses import STORAGECLASSES as SCS
from kubelite.scheduler import Scheduler
from kubelite.store.memory import MemoryStore

NODE = {"metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}}}


def claim(name: str = "data", cls: str = "local-path", volume: str = "", **meta: Any) -> Any:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": cls,
        "resources": {"requests": {"storage": "1Gi"}},
    }
    if volume:
        spec["volumeName"] = volume
    return {
        "metadata": {"name": name, "namespace": "default", "uid": f"u-{name}", **meta},
        "spec": spec,
    }


def sc(name: str, mode: str, provisioner: str = "rancher.io/local-path") -> Any:
    return {"metadata": {"name": name}, "provisioner": provisioner, "volumeBindingMode": mode}


CLASSES = [
    sc("local-path", "WaitForFirstConsumer"),
    sc("fast", "Immediate"),
    sc("manual", "WaitForFirstConsumer", "kubernetes.io/no-provisioner"),
]


def pod(*claims: str, uid: str = "p1", **extra: Any) -> Any:
    vols = [
        {"name": f"v{i}", "persistentVolumeClaim": {"claimName": c}} for i, c in enumerate(claims)
    ]
    return {
        "metadata": {"name": "web", "namespace": "default", "uid": uid},
        "spec": {"volumes": vols, **extra},
        "status": {"phase": "Pending"},
    }


REFUSALS = [
    ("a missing claim", pod("nope"), {}, 'persistentvolumeclaim "nope" not found'),
    (
        "a claim being deleted",
        pod("data"),
        {"data": claim(deletionTimestamp="2024-01-01T00:00:00Z")},
        'persistentvolumeclaim "data" is being deleted',
    ),
    (
        "an unbound claim of an immediate class",
        pod("data"),
        {"data": claim(cls="fast")},
        "pod has unbound immediate PersistentVolumeClaims",
    ),
]


@pytest.mark.parametrize(
    ("case", "the_pod", "claims", "why"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_prefilter_refuses_a_pod_with_upstreams_message(
    case: str, the_pod: Any, claims: dict[str, Any], why: str
) -> None:
    assert vb.prefilter(the_pod, claims, CLASSES, []) == why


def test_a_read_write_once_pod_claim_in_use_by_another_pod_refuses_the_pod() -> None:
    rwop = claim(volume="pv1")
    rwop["spec"]["accessModes"] = ["ReadWriteOncePod"]
    other = {**pod("data", uid="p0"), "status": {"phase": "Running"}}
    assert vb.prefilter(pod("data"), {"data": rwop}, CLASSES, [other]) == vb.RWOP_CONFLICT
    done = {**other, "status": {"phase": "Succeeded"}}
    assert isinstance(vb.prefilter(pod("data"), {"data": rwop}, CLASSES, [done]), vb.PodClaims)


def volume(name: str, *, node: str = "n1", cls: str = "manual", **spec: Any) -> Any:
    term = {
        "matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]
    }
    return {
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "5Gi"},
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": cls,
            "volumeMode": "Filesystem",
            "nodeAffinity": {"required": {"nodeSelectorTerms": [term]}},
            **spec,
        },
        "status": {"phase": "Available"},
    }


NODES_CASES = [
    (
        "a bound claim whose volume admits the node",
        [claim(volume="pv1")],
        [],
        [volume("pv1")],
        (),
        (),
        (),
    ),
    (
        "a bound claim whose volume is pinned elsewhere",
        [claim(volume="pv1")],
        [],
        [volume("pv1", node="n2")],
        (),
        (),
        (vb.NODE_CONFLICT,),
    ),
    (
        "a bound claim whose volume is gone",
        [claim(volume="pv1")],
        [],
        [],
        (),
        (),
        (vb.PV_NOT_EXIST,),
    ),
    (
        "a delayed claim with a static volume on the node",
        [],
        [claim(cls="manual")],
        [volume("pv1")],
        ("pv1",),
        (),
        (),
    ),
    ("a delayed claim of a class with a provisioner", [], [claim()], [], (), ("data",), ()),
    (
        "a delayed claim with neither",
        [],
        [claim(cls="manual")],
        [volume("pv1", node="n2")],
        (),
        (),
        (vb.BIND_CONFLICT,),
    ),
]


@pytest.mark.parametrize(
    ("case", "bound", "delayed", "pvs", "static", "provision", "reasons"),
    NODES_CASES,
    ids=[c[0] for c in NODES_CASES],
)
def test_a_node_suits_the_pods_claims_or_says_why_not(
    case: str,
    bound: list[Any],
    delayed: list[Any],
    pvs: list[Any],
    static: tuple[str, ...],
    provision: tuple[str, ...],
    reasons: tuple[str, ...],
) -> None:
    got = vb.on_node(vb.PodClaims(tuple(bound), tuple(delayed)), NODE, pvs, CLASSES)
    assert tuple(st.name_of(v) for _, v in got.static) == static
    assert tuple(st.name_of(c) for c in got.provision) == provision
    assert got.reasons == reasons


# -- a pass of the scheduler against the registry -----------------------------------------------


async def registry() -> Registry:
    reg = Registry(store=MemoryStore(), clock=ManualClock(), kinds=ALL_KINDS)
    await bootstrap(reg)
    node = {
        "metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}},
        "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
    }
    await reg.create(NODES, "", node)
    return reg  # bootstrap made the local-path class


def app_pod(*claims: str) -> Any:
    vols = [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]
    return {
        "metadata": {"name": "db"},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}], "volumes": vols},
    }


def new_claim(name: str = "data", **spec: Any) -> Any:
    body = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    return {"metadata": {"name": name}, "spec": {**body, **spec}}


async def test_a_pod_whose_claim_is_missing_is_unschedulable_with_upstreams_message() -> None:
    reg = await registry()
    await reg.create(PODS, "default", app_pod("data"))
    await Scheduler(registry=reg).schedule_once()
    db = await reg.get(PODS, "default", "db")
    cond = next(c for c in db["status"]["conditions"] if c["type"] == "PodScheduled")
    assert cond["message"] == (
        '0/1 nodes are available: persistentvolumeclaim "data" not found. preemption: 0/1 nodes '
        "are available: 1 Preemption is not helpful for scheduling."
    )


async def test_a_delayed_claim_gets_the_selected_node_and_the_pod_waits_until_it_is_bound() -> None:
    reg = await registry()
    await reg.create(PVCS, "default", new_claim())
    await reg.create(PODS, "default", app_pod("data"))
    scheduler = Scheduler(registry=reg)
    await scheduler.schedule_once()
    pvc = await reg.get(PVCS, "default", "data")
    assert st.annotations_of(pvc)[st.SELECTED_NODE] == "n1"
    assert not (await reg.get(PODS, "default", "db"))["spec"].get("nodeName")
    # the provisioner and the persistent-volume controller do their part
    uid = pvc["metadata"]["uid"]
    ref = {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data", "uid": uid}
    pv = {
        "metadata": {"name": f"pvc-{uid}"},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/tmp/x"},
            "claimRef": ref,
            "storageClassName": "local-path",
        },
    }
    await reg.create(PVS, "", pv)
    pvc["spec"]["volumeName"] = f"pvc-{uid}"
    pvc["metadata"]["annotations"][st.BIND_COMPLETED] = "yes"
    await reg.update(PVCS, "default", "data", pvc)
    await scheduler.schedule_once()
    assert (await reg.get(PODS, "default", "db"))["spec"]["nodeName"] == "n1"
    events, _ = await reg.list(EVENTS, "default")
    assert [e["reason"] for e in events] == ["Scheduled"]


async def test_the_scheduler_pre_binds_a_matching_static_volume_to_a_delayed_claim() -> None:
    reg = await registry()
    await reg.create(SCS, "", sc("manual", "WaitForFirstConsumer", "kubernetes.io/no-provisioner"))
    made = await reg.create(PVS, "", volume("pv1", hostPath={"path": "/tmp/pv1"}))
    await reg.update(
        PVS, "", "pv1", {**made, "status": {"phase": "Available"}}, subresource="status"
    )
    await reg.create(PVCS, "default", new_claim(storageClassName="manual"))
    await reg.create(PODS, "default", app_pod("data"))
    await Scheduler(registry=reg).schedule_once()
    pv = await reg.get(PVS, "", "pv1")
    assert pv["spec"]["claimRef"]["name"] == "data" and pv["spec"]["claimRef"]["uid"]
    assert st.annotations_of(pv)[st.BOUND_BY_CONTROLLER] == "yes"
