"""The binding subresource as an update under its own rules, and the hooks every Kind declares."""

from __future__ import annotations

from contextlib import aclosing

import pytest

from kubelite.clock import ManualClock, rfc3339
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.catalog import ALL_KINDS
from kubelite.registry.configmaps import CONFIGMAPS
from kubelite.registry.errors import Invalid, OperationConflict
from kubelite.registry.events import EVENTS
from kubelite.registry.events_v1 import EVENTS_V1
from kubelite.registry.namespaces import NAMESPACES
from kubelite.registry.pods import PODS, bind
from kubelite.registry.resource import Kind
from kubelite.registry.service import DeleteOptions, Registry
from kubelite.store.memory import MemoryStore


def pod(name: str = "web", **meta: object) -> dict:
    return {
        "metadata": {"name": name, **meta},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
    }


@pytest.fixture
async def reg() -> Registry:
    r = Registry(store=MemoryStore(), clock=ManualClock(1000.0), kinds=ALL_KINDS)
    await bootstrap(r)
    return r


async def test_binding_sets_the_node_and_the_scheduled_condition(reg: Registry) -> None:
    created = await reg.create(PODS, "default", pod())
    bound = await bind(reg, "default", "web", "n1")
    assert bound["spec"]["nodeName"] == "n1"
    assert bound["status"]["conditions"] == [
        {
            "type": "PodScheduled",
            "status": "True",
            "lastTransitionTime": rfc3339(1000.0),
            "lastProbeTime": None,
        }
    ]
    assert int(bound["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert bound["metadata"]["generation"] == created["metadata"]["generation"]
    assert await reg.get(PODS, "default", "web") == bound


async def test_binding_changes_nothing_but_the_node_and_its_condition(reg: Registry) -> None:
    created = await reg.create(PODS, "default", pod(labels={"app": "web"}))
    status = {**created["status"], "conditions": [{"type": "Other", "status": "True"}]}
    await reg.update(PODS, "default", "web", {**created, "status": status}, subresource="status")
    bound = await bind(reg, "default", "web", "n1")
    assert {k: v for k, v in bound["spec"].items() if k != "nodeName"} == created["spec"]
    assert bound["metadata"]["labels"] == {"app": "web"}
    assert [c["type"] for c in bound["status"]["conditions"]] == ["Other", "PodScheduled"]
    assert bound["status"]["phase"] == "Pending"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("already bound", 'pod web is already assigned to node "n1"'),
        ("being deleted", "pod web is being deleted, cannot be assigned to a host"),
    ],
)
async def test_binding_is_refused_with_the_api_servers_words(
    reg: Registry, case: str, message: str
) -> None:
    await reg.create(PODS, "default", pod(finalizers=["x/hold"]))
    if case == "already bound":
        await bind(reg, "default", "web", "n1")
    else:
        await reg.delete(PODS, "default", "web", DeleteOptions(grace_period=0))
    with pytest.raises(OperationConflict) as err:
        await bind(reg, "default", "web", "n2")
    assert str(err.value).endswith(message)


async def test_a_binding_reaches_watchers_as_a_modification(reg: Registry) -> None:
    created = await reg.create(PODS, "default", pod())
    since = int(created["metadata"]["resourceVersion"])
    await bind(reg, "default", "web", "n1")
    async with aclosing(reg.watch(PODS, "default", since)) as events:
        ev = await anext(events)
    assert (ev.type, ev.object["spec"]["nodeName"]) == ("MODIFIED", "n1")


async def test_a_user_update_still_may_not_change_the_node(reg: Registry) -> None:
    created = await reg.create(PODS, "default", pod())
    created["spec"]["nodeName"] = "n1"
    with pytest.raises(Invalid, match="pod updates may not change fields"):
        await reg.update(PODS, "default", "web", created)


@pytest.mark.parametrize(
    ("kind", "graceful", "holds_contents", "storage_kind"),
    [
        (CONFIGMAPS, False, False, None),
        (PODS, True, False, None),
        (NAMESPACES, False, True, None),
        (EVENTS_V1, False, False, EVENTS),
    ],
    ids=["a plain kind", "pods", "namespaces", "events.k8s.io events"],
)
def test_every_kind_answers_the_registrys_questions(
    kind: Kind, graceful: bool, holds_contents: bool, storage_kind: Kind | None
) -> None:
    assert (kind.graceful, kind.holds_contents, kind.storage_kind) == (
        graceful,
        holds_contents,
        storage_kind,
    )


def test_a_plain_kind_deletes_at_once_and_stores_objects_as_they_are() -> None:
    obj = {"metadata": {"name": "c"}}
    assert CONFIGMAPS.grace_period(obj, 30) == 0
    assert CONFIGMAPS.on_delete(obj) is False
    assert CONFIGMAPS.to_storage(obj) is obj and CONFIGMAPS.from_storage(obj) is obj
    CONFIGMAPS.refuse_delete(obj)  # nothing to refuse
