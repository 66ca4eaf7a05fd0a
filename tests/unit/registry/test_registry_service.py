"""The generic registry's rules, on virtual time: graceful deletion, finalizers, namespaces."""

from __future__ import annotations

import pytest

from kubelite.clock import ManualClock, parse_rfc3339
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.configmaps import CONFIGMAPS
from kubelite.registry.errors import Forbidden, Invalid, NotFoundError, OperationConflict
from kubelite.registry.namespace_reaper import NamespaceReaper
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.pods import PODS, bind
from kubelite.registry.service import DeleteOptions, Registry
from kubelite.store.interface import NotFound
from kubelite.store.memory import MemoryStore


def pod(name: str = "web", **meta: object) -> dict:
    return {
        "metadata": {"name": name, **meta},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


@pytest.fixture
async def reg() -> Registry:
    r = Registry(store=MemoryStore(), clock=ManualClock(), kinds=ALL_KINDS)
    await bootstrap(r)
    return r


async def test_bound_pod_deletion_is_scheduled_after_the_grace_period(reg: Registry) -> None:
    await reg.create(PODS, "default", pod())
    await bind(reg, "default", "web", "n1")
    res = await reg.delete(PODS, "default", "web")
    md = res.object["metadata"]
    assert not res.removed and md["deletionGracePeriodSeconds"] == 30
    assert parse_rfc3339(md["deletionTimestamp"]) == int(reg.clock.now()) + 30
    res = await reg.delete(PODS, "default", "web", DeleteOptions(grace_period=0))
    assert res.removed


async def test_uid_precondition_on_delete(reg: Registry) -> None:
    created = await reg.create(PODS, "default", pod())
    with pytest.raises(OperationConflict) as err:
        await reg.delete(PODS, "default", "web", DeleteOptions(grace_period=0, uid="other"))
    uid = created["metadata"]["uid"]
    assert str(err.value) == (
        'Operation cannot be fulfilled on Pod "web": the UID in the precondition (other) does '
        f"not match the UID in record ({uid}). The object might have been deleted and then "
        "recreated"
    )


async def test_a_finalizer_holds_a_pod_deleted_with_grace_zero(reg: Registry) -> None:
    await reg.create(PODS, "default", pod(finalizers=["x/hold"]))
    res = await reg.delete(PODS, "default", "web", DeleteOptions(grace_period=0))
    assert not res.removed
    held = res.object
    held["metadata"]["finalizers"] = []
    await reg.update(PODS, "default", "web", held)
    with pytest.raises(NotFound):
        await reg.get(PODS, "default", "web")


async def test_finalizers_cannot_be_added_once_deleting(reg: Registry) -> None:
    await reg.create(PODS, "default", pod(finalizers=["x/hold"]))
    held = (await reg.delete(PODS, "default", "web")).object
    held["metadata"]["finalizers"] = ["x/hold", "x/new"]
    updated = await reg.update(PODS, "default", "web", held)
    assert updated["metadata"]["finalizers"] == ["x/hold"]


async def test_create_in_a_missing_or_terminating_namespace(reg: Registry) -> None:
    with pytest.raises(NotFoundError, match='namespaces "nope" not found'):
        await reg.create(PODS, "nope", pod())
    await reg.create(NAMESPACES, "", {"metadata": {"name": "gone"}})
    await reg.create(CONFIGMAPS, "gone", {"metadata": {"name": "c"}})
    await reg.delete(NAMESPACES, "", "gone")
    with pytest.raises(Forbidden):
        await reg.create(PODS, "gone", pod())
    await NamespaceReaper(registry=reg).reconcile()
    await NamespaceReaper(registry=reg).reconcile()
    with pytest.raises(NotFound):
        await reg.get(NAMESPACES, "", "gone")


async def test_generate_name_and_invalid_names(reg: Registry) -> None:
    made = await reg.create(PODS, "default", {**pod(), "metadata": {"generateName": "job-"}})
    assert made["metadata"]["name"].startswith("job-") and len(made["metadata"]["name"]) == 9
    with pytest.raises(Invalid) as err:
        await reg.create(NAMESPACES, "", {"metadata": {"name": "a.b"}})
    assert err.value.causes[0].field == "metadata.name"


async def test_generation_moves_only_with_the_spec(reg: Registry) -> None:
    p = await reg.create(PODS, "default", pod())
    p["metadata"]["labels"] = {"x": "1"}
    p = await reg.update(PODS, "default", "web", p)
    assert p["metadata"]["generation"] == 1
    p["spec"]["containers"][0]["image"] = "busybox:1.37"
    p = await reg.update(PODS, "default", "web", p)
    assert p["metadata"]["generation"] == 2


async def test_system_namespaces_cannot_be_deleted(reg: Registry) -> None:
    with pytest.raises(Forbidden, match="this namespace may not be deleted"):
        await reg.delete(NAMESPACES, "", "default")
