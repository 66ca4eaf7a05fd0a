"""The PodLifecycle kind: served in kubelite.dev/v1alpha1, validated loosely, printed as a
table, read by the view role and written by nodes, explained by its schema."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from kubelite.api import discovery, openapi
from kubelite.clock import ManualClock
from kubelite.registry import rbac_defaults
from kubelite.registry.bootstrap import bootstrap
from kubelite.registry.catalog import ALL_KINDS, find
from kubelite.registry.errors import Forbidden, Invalid
from kubelite.registry.podlifecycles import PODLIFECYCLES
from kubelite.registry.pods import PODS, bind
from kubelite.registry.requestinfo import REQUEST, RequestInfo, RequestUser
from kubelite.registry.service import Registry
from kubelite.store.memory import MemoryStore
from kubelite.timeline import record as rec

NOW = 1_700_000_100.0
AT = 1_700_000_000_000_000


def lifecycle(**extra: object) -> dict:
    return {
        "apiVersion": rec.API_VERSION,
        "kind": rec.KIND,
        "metadata": {"name": "web"},
        "podUID": "u-1",
        "containers": [{"name": "app", "kind": "app", "index": 0}],
        "facts": [
            {"at": AT, "type": rec.POD_CREATED},
            {"at": AT + 2_000_000, "type": rec.CONTAINER_STARTED, "container": "app"},
            {
                "at": AT + 5_000_000,
                "type": rec.PROBE,
                "container": "app",
                "probe": "readiness",
                "result": "success",
                "count": 3,
            },
        ],
        **extra,
    }


@pytest.fixture
async def reg() -> Registry:
    r = Registry(store=MemoryStore(), clock=ManualClock(NOW), kinds=ALL_KINDS)
    await bootstrap(r)
    return r


def test_the_kind_is_found_by_its_group_version_and_plural() -> None:
    assert find("kubelite.dev", "v1alpha1", "podlifecycles") is PODLIFECYCLES
    assert PODLIFECYCLES.namespaced


def test_discovery_lists_the_resource_in_its_group() -> None:
    listing = discovery.resource_list("kubelite.dev", "v1alpha1")
    (entry,) = listing["resources"]
    assert entry["name"] == "podlifecycles" and entry["kind"] == "PodLifecycle"
    assert entry["namespaced"] and entry["shortNames"] == ["plc"]
    assert discovery.served_groups()["kubelite.dev"] == ["v1alpha1"]


async def test_a_record_is_stored_and_read_back(reg: Registry) -> None:
    await reg.create(PODLIFECYCLES, "default", lifecycle())
    got = await reg.get(PODLIFECYCLES, "default", "web")
    assert [f["type"] for f in got["facts"]] == [
        rec.POD_CREATED, rec.CONTAINER_STARTED, rec.PROBE
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ("many", "facts"),
        ([{"type": "PodCreated"}], "facts[0].at"),
        ([{"at": 1.5, "type": "PodCreated"}], "facts[0].at"),
        ([{"at": 1}], "facts[0].type"),
        (["x"], "facts[0]"),
    ],
)
async def test_a_malformed_fact_list_is_refused(reg: Registry, facts: object, field: str) -> None:
    with pytest.raises(Invalid) as err:
        await reg.create(PODLIFECYCLES, "default", lifecycle(facts=facts))
    assert field in str(err.value)


async def test_an_unknown_fact_type_is_kept(reg: Registry) -> None:
    body = lifecycle(facts=[{"at": AT, "type": "SomethingNew", "extra": 1}])
    await reg.create(PODLIFECYCLES, "default", body)
    got = await reg.get(PODLIFECYCLES, "default", "web")
    assert got["facts"] == [{"at": AT, "type": "SomethingNew", "extra": 1}]


def test_the_table_shows_the_fact_count_and_the_last_transition_not_a_probe() -> None:
    obj = lifecycle()
    obj["metadata"]["creationTimestamp"] = "2023-11-14T22:13:20Z"
    names = [c.name for c in PODLIFECYCLES.columns()]
    cells = dict(zip(names, PODLIFECYCLES.cells(obj, NOW), strict=True))
    assert cells["Name"] == "web" and cells["Facts"] == 3
    assert cells["Last"] == "app ContainerStarted"
    assert cells["Last Seen"] == "98s"


def test_a_record_without_facts_prints_none() -> None:
    obj = lifecycle(facts=[])
    cells = PODLIFECYCLES.cells(obj, NOW)
    assert cells[1:4] == [0, "<none>", "<none>"]


def _grants(rules: list[dict], verb: str) -> bool:
    return any(
        "kubelite.dev" in r.get("apiGroups", ())
        and "podlifecycles" in r.get("resources", ())
        and verb in r.get("verbs", ())
        for r in rules
    )


def test_view_is_given_the_read_verbs_by_aggregation_and_nodes_may_write() -> None:
    roles = {r["metadata"]["name"]: r for r in rbac_defaults.cluster_roles()}
    reader = roles["kubelite:aggregate-to-view"]
    assert reader["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    assert all(_grants(reader["rules"], v) for v in ("get", "list", "watch"))
    assert not _grants(reader["rules"], "create") and not _grants(reader["rules"], "update")
    assert _grants(roles["system:node"]["rules"], "create")
    assert _grants(roles["system:node"]["rules"], "update")


def test_the_openapi_document_explains_facts() -> None:
    import json

    doc = json.loads(openapi.document("kubelite.dev", "v1alpha1"))
    schemas = doc["components"]["schemas"]
    kind = schemas["io.k8s.api.kubelite.v1alpha1.PodLifecycle"]
    assert {"facts", "containers", "podUID"} <= set(kind["properties"])
    fact = schemas["io.k8s.api.kubelite.v1alpha1.LifecycleFact"]
    assert fact["required"] == ["at", "type"]
    assert "/apis/kubelite.dev/v1alpha1/namespaces/{namespace}/podlifecycles/{name}" in doc["paths"]


N1 = RequestUser("system:node:n1", groups=("system:nodes", "system:authenticated"))


@contextlib.contextmanager
def as_user(user: RequestUser) -> Iterator[None]:
    token = REQUEST.set(RequestInfo(user, NOW))
    try:
        yield
    finally:
        REQUEST.reset(token)


async def _bound_pod(reg: Registry, node: str) -> str:
    created = await reg.create(
        PODS, "default", {"metadata": {"name": "web"},
                          "spec": {"containers": [{"name": "app", "image": "x"}]}},
    )  # fmt: skip
    await bind(reg, "default", "web", node)
    return str(created["metadata"]["uid"])


async def test_a_node_writes_the_record_of_a_pod_bound_to_it(reg: Registry) -> None:
    uid = await _bound_pod(reg, "n1")
    with as_user(N1):
        await reg.create(PODLIFECYCLES, "default", lifecycle(podUID=uid, nodeName="n1"))
        await reg.update(PODLIFECYCLES, "default", "web",
                         lifecycle(podUID=uid, nodeName="n1", facts=[]))  # fmt: skip
        await reg.delete(PODLIFECYCLES, "default", "web")


@pytest.mark.parametrize(
    ("bound_to", "node_name", "same_uid"),
    [("n2", "n1", True), ("n1", "n2", True), ("n1", "n1", False)],
)
async def test_a_node_may_not_create_the_record_of_another_nodes_pod(
    reg: Registry, bound_to: str, node_name: str, same_uid: bool
) -> None:
    uid = await _bound_pod(reg, bound_to)
    body = lifecycle(podUID=uid if same_uid else "other", nodeName=node_name)
    with as_user(N1), pytest.raises(Forbidden, match='node "n1" can only'):
        await reg.create(PODLIFECYCLES, "default", body)


async def test_a_node_may_not_replace_or_delete_another_nodes_record(reg: Registry) -> None:
    uid = await _bound_pod(reg, "n2")
    await reg.create(PODLIFECYCLES, "default", lifecycle(podUID=uid, nodeName="n2"))
    with as_user(N1), pytest.raises(Forbidden, match="own pods"):
        await reg.update(PODLIFECYCLES, "default", "web", lifecycle(podUID=uid, nodeName="n1"))
    with as_user(N1), pytest.raises(Forbidden, match="own pods"):
        await reg.delete(PODLIFECYCLES, "default", "web")
