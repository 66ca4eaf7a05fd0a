"""One contract for every Store: the in-memory one, SQLite and etcd behave the same.

The etcd store runs against a real etcd started for this module on 127.0.0.1 (free ports, data
in a tmp dir, stopped by PID and removed); each test gets a key prefix of its own in it, so
revisions are read relative to where a test starts, never assumed to begin at 1.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from kubelite.store.interface import AlreadyExists, Compacted, Conflict, NotFound, Store
from kubelite.store.memory import MemoryStore
from kubelite.store.sqlite import SqliteStore
from tests.e2e.etcd.etcdproc import ETCD, EtcdCluster


@pytest.fixture(scope="module")
def etcd_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if ETCD is None:
        pytest.skip("the etcd store needs etcd (Debian's etcd-server: scripts/install-deps.sh)")
    cluster = EtcdCluster(tmp_path_factory.mktemp("etcd"), size=1)
    cluster.start()
    try:
        yield cluster.store_url
    finally:
        cluster.stop()


@pytest.fixture(params=["memory", "sqlite", pytest.param("etcd", marks=pytest.mark.e2e)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    s: Store
    if request.param == "memory":
        s = MemoryStore()
    elif request.param == "sqlite":
        s = SqliteStore(tmp_path / "db")
    else:
        from kubelite.store.etcd import EtcdStore
        from kubelite.store.etcdconfig import parse_etcd_url

        url = request.getfixturevalue("etcd_url")
        s = EtcdStore(parse_etcd_url(f"{url}/contract-{secrets.token_hex(4)}"))
        await s.list("pods/")  # loaded: current_revision is etcd's from here on
    try:
        yield s
    finally:
        await s.close()


def obj(name: str, **extra: object) -> dict[str, Any]:
    return {"metadata": {"name": name}, **extra}


def pod(name: str, node: str = "") -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"nodeName": node}}


def rv(o: dict[str, Any]) -> int:
    return int(o["metadata"]["resourceVersion"])


def names(texts: list[str]) -> list[str]:
    return [json.loads(t)["metadata"]["name"] for t in texts]


async def fill(store: Store, count: int, ns: str = "ns") -> None:
    for i in range(count):
        await store.create(f"pods/{ns}/p{i:02d}", pod(f"p{i:02d}", node=f"n{i % 2}"))


async def collect(store: Store, prefix: str, since: int, n: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    async with aclosing(store.watch(prefix, since)) as events:
        async for ev in events:
            out.append((ev.type, ev.object["metadata"]["name"]))
            if len(out) == n:
                break
    return out


# -- objects and versions ------------------------------------------------------------------------
async def test_create_stamps_a_growing_resource_version(store: Store) -> None:
    a = await store.create("pods/ns/a", obj("a"))
    b = await store.create("pods/ns/b", obj("b"))
    assert rv(b) > rv(a)
    assert store.current_revision() == rv(b)
    assert rv(await store.get("pods/ns/b")) == rv(b)


async def test_create_twice_is_already_exists(store: Store) -> None:
    await store.create("pods/ns/a", obj("a"))
    with pytest.raises(AlreadyExists) as err:
        await store.create("pods/ns/a", obj("a"))
    assert (err.value.resource, err.value.namespace, err.value.name) == ("pods", "ns", "a")


async def test_get_of_a_missing_key_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.get("pods/ns/nope")


async def test_get_returns_a_private_copy(store: Store) -> None:
    await store.create("pods/ns/a", obj("a", spec={"x": 1}))
    got = await store.get("pods/ns/a")
    got["spec"]["x"] = 2
    assert (await store.get("pods/ns/a"))["spec"]["x"] == 1


async def test_a_stale_resource_version_in_the_body_is_replaced(store: Store) -> None:
    a = await store.create("pods/ns/a", obj("a"))
    body = obj("a", v=1)
    body["metadata"]["resourceVersion"] = "1"
    b = await store.update("pods/ns/a", body)
    assert rv(b) > rv(a) and rv(await store.get("pods/ns/a")) == rv(b)


async def test_list_filters_by_prefix_and_reports_the_revision(store: Store) -> None:
    await store.create("pods/ns1/a", obj("a"))
    await store.create("pods/ns2/b", obj("b"))
    await store.create("configmaps/ns1/c", obj("c"))
    items, rev = await store.list("pods/ns1/")
    assert [i["metadata"]["name"] for i in items] == ["a"]
    assert rev == store.current_revision()
    items, _ = await store.list("pods/")
    assert len(items) == 2


async def test_update_with_a_stale_resource_version_is_a_conflict(store: Store) -> None:
    a = await store.create("pods/ns/a", obj("a"))
    await store.update("pods/ns/a", obj("a", v=1), expected_rv=str(rv(a)))
    with pytest.raises(Conflict):
        await store.update("pods/ns/a", obj("a", v=2), expected_rv=str(rv(a)))
    with pytest.raises(Conflict):
        await store.update("pods/ns/a", obj("a", v=2), expected_rv="not-a-version")


async def test_update_and_delete_of_missing_keys_are_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.update("pods/ns/a", obj("a"))
    with pytest.raises(NotFound):
        await store.delete("pods/ns/a")
    with pytest.raises(NotFound):
        await store.update("pods/ns/a", obj("a"), expected_rv="0")
    with pytest.raises(NotFound):
        await store.delete("pods/ns/a", expected_rv="5")


async def test_delete_with_a_stale_resource_version_is_a_conflict(store: Store) -> None:
    a = await store.create("pods/ns/a", obj("a"))
    b = await store.update("pods/ns/a", obj("a", v=1))
    with pytest.raises(Conflict):
        await store.delete("pods/ns/a", expected_rv=str(rv(a)))
    gone = await store.delete("pods/ns/a", expected_rv=str(rv(b)))
    assert gone["v"] == 1


async def test_delete_returns_the_last_state_at_the_deletion_revision(store: Store) -> None:
    a = await store.create("pods/ns/a", obj("a", v=1))
    gone = await store.delete("pods/ns/a")
    assert gone["v"] == 1 and rv(gone) > rv(a)
    assert store.current_revision() == rv(gone)
    with pytest.raises(NotFound):
        await store.get("pods/ns/a")


async def test_a_resources_revision_moves_only_when_that_resource_changes(store: Store) -> None:
    await store.create("roles/ns/a", pod("a"))
    roles = store.resource_revision("roles")
    await store.create("pods/ns/p", pod("p"))
    assert store.resource_revision("roles") == roles
    await store.delete("roles/ns/a")
    assert store.resource_revision("roles") == store.current_revision() > roles


# -- watch ---------------------------------------------------------------------------------------
async def test_watch_replays_history_after_a_revision_then_follows(store: Store) -> None:
    await store.create("pods/ns/a", obj("a"))
    start = store.current_revision()
    await store.create("pods/ns/b", obj("b"))
    task = asyncio.create_task(collect(store, "pods/ns/", start, 3))
    await asyncio.sleep(0.01)
    await store.update("pods/ns/b", obj("b", v=1))
    await store.create("configmaps/ns/x", obj("x"))  # another prefix: not delivered
    await store.delete("pods/ns/a")
    got = await asyncio.wait_for(task, 5)
    assert got == [("ADDED", "b"), ("MODIFIED", "b"), ("DELETED", "a")]


async def test_watch_events_carry_their_revision_and_what_they_replaced(store: Store) -> None:
    since = store.current_revision()
    a = await store.create("pods/ns/a", obj("a", v=1))
    b = await store.update("pods/ns/a", obj("a", v=2))
    gone = await store.delete("pods/ns/a")
    async with aclosing(store.watch("pods/", since)) as events:
        seen = [await anext(events) for _ in range(3)]
    assert [ev.revision for ev in seen] == [rv(a), rv(b), rv(gone)]
    assert [rv(ev.object) for ev in seen] == [rv(a), rv(b), rv(gone)]
    modified = seen[1].previous()
    assert modified is not None and modified["v"] == 1 and rv(modified) == rv(a)
    assert seen[2].object["v"] == 2


async def test_many_watchers_each_get_every_event(store: Store) -> None:
    since = store.current_revision()
    tasks = [asyncio.create_task(collect(store, "pods/", since, 2)) for _ in range(20)]
    await asyncio.sleep(0.01)
    await store.create("pods/ns/a", obj("a"))
    await store.delete("pods/ns/a")
    results = await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert all(r == [("ADDED", "a"), ("DELETED", "a")] for r in results)


async def test_watch_from_a_compacted_revision_is_refused(store: Store) -> None:
    base = store.current_revision()
    created = [await store.create(f"pods/ns/p{i}", obj(f"p{i}")) for i in range(5)]
    at = rv(created[2])
    await store.compact(at)
    assert store.oldest_revision() == at
    with pytest.raises(Compacted) as err:
        await collect(store, "pods/", base, 1)
    assert f"too old resource version: {base} ({at})" in str(err.value)
    assert await collect(store, "pods/", at, 2) == [("ADDED", "p3"), ("ADDED", "p4")]


async def test_concurrent_writes_take_turns_in_revision_order(store: Store) -> None:
    a = await store.create("pods/ns/a", obj("a"))
    since = store.current_revision()
    results = await asyncio.gather(
        *(store.update("pods/ns/a", obj("a", v=i), expected_rv=str(rv(a))) for i in range(10)),
        *(store.create(f"pods/ns/c{i}", obj(f"c{i}")) for i in range(10)),
        return_exceptions=True,
    )
    updates, creates = results[:10], results[10:]
    assert all(isinstance(r, dict) for r in creates)
    assert sum(isinstance(r, dict) for r in updates) == 1  # one precondition holds, once
    assert all(isinstance(r, Conflict) for r in updates if not isinstance(r, dict))
    revisions = sorted(rv(r) for r in results if isinstance(r, dict))
    assert len(set(revisions)) == 11 and revisions[0] > since
    async with aclosing(store.watch("pods/", since)) as events:
        seen = [(await anext(events)).revision for _ in range(11)]
    assert seen == revisions


# -- pages and indexes ---------------------------------------------------------------------------
async def test_a_list_without_a_limit_is_one_page(store: Store) -> None:
    await fill(store, 5)
    page = await store.list_page("pods/ns/")
    assert names(page.texts) == ["p00", "p01", "p02", "p03", "p04"]
    assert page.last_key is None and page.revision == store.current_revision()


async def test_a_limited_page_says_where_the_next_starts_and_how_many_follow(store: Store) -> None:
    await fill(store, 5)
    page = await store.list_page("pods/ns/", limit=2)
    assert names(page.texts) == ["p00", "p01"]
    assert (page.last_key, page.remaining) == ("pods/ns/p01", 3)
    last = await store.list_page("pods/ns/", start="pods/ns/p03\x00", limit=2)
    assert names(last.texts) == ["p04"] and last.last_key is None


async def test_a_later_page_reads_the_revision_of_the_first(store: Store) -> None:
    await fill(store, 4)
    first = await store.list_page("pods/ns/", limit=2)
    await store.create("pods/ns/p02a", pod("p02a"))  # created after the first page
    await store.delete("pods/ns/p03")  # deleted after it
    changed = await store.get("pods/ns/p02")
    changed["spec"]["nodeName"] = "moved"
    await store.update("pods/ns/p02", changed)
    rest = await store.list_page(
        "pods/ns/", start="pods/ns/p01\x00", revision=first.revision, limit=10
    )
    assert names(rest.texts) == ["p02", "p03"]
    assert json.loads(rest.texts[0])["spec"]["nodeName"] == "n0"
    assert rest.revision == first.revision
    now = await store.list_page("pods/ns/", start="pods/ns/p01\x00")
    assert names(now.texts) == ["p02", "p02a"]


async def test_remaining_counts_what_followed_at_the_pages_revision(store: Store) -> None:
    await fill(store, 6)
    first = await store.list_page("pods/ns/", limit=2)
    await store.delete("pods/ns/p05")
    await store.create("pods/ns/p09", pod("p09"))
    second = await store.list_page(
        "pods/ns/", start="pods/ns/p01\x00", revision=first.revision, limit=2
    )
    assert (names(second.texts), second.remaining) == (["p02", "p03"], 2)


async def test_a_match_selects_and_the_limit_counts_selected_objects(store: Store) -> None:
    await fill(store, 6)
    page = await store.list_page("pods/ns/", limit=2, match=lambda o: o["spec"]["nodeName"] == "n1")
    assert names(page.texts) == ["p01", "p03"] and page.last_key == "pods/ns/p03"
    assert page.objects is not None
    assert [o["metadata"]["name"] for o in page.objects] == ["p01", "p03"]


async def test_a_field_index_answers_what_the_selector_would(store: Store) -> None:
    store.add_index("pods/", "spec.nodeName", lambda o: str(o["spec"].get("nodeName") or ""))
    await fill(store, 6, ns="a")
    await fill(store, 2, ns="b")
    on_n1 = await store.list_page(
        "pods/", match=lambda o: o["spec"]["nodeName"] == "n1", index=("spec.nodeName", "n1")
    )
    assert names(on_n1.texts) == ["p01", "p03", "p05", "p01"]
    moved = await store.get("pods/a/p01")
    moved["spec"]["nodeName"] = "n0"
    await store.update("pods/a/p01", moved)
    in_a = await store.list_page(
        "pods/a/", match=lambda o: o["spec"]["nodeName"] == "n1", index=("spec.nodeName", "n1")
    )
    assert names(in_a.texts) == ["p03", "p05"]


async def test_an_index_added_later_covers_the_objects_already_stored(store: Store) -> None:
    await fill(store, 4)
    store.add_index("pods/", "spec.nodeName", lambda o: str(o["spec"].get("nodeName") or ""))
    page = await store.list_page(
        "pods/", match=lambda o: o["spec"]["nodeName"] == "n0", index=("spec.nodeName", "n0")
    )
    assert names(page.texts) == ["p00", "p02"]


async def test_a_revision_older_than_the_history_is_compacted(store: Store) -> None:
    await fill(store, 3)
    first = await store.list_page("pods/ns/", limit=1)
    await store.create("pods/ns/z", pod("z"))
    await store.compact(store.current_revision())
    with pytest.raises(Compacted):
        await store.list_page("pods/ns/", start="pods/ns/p00\x00", revision=first.revision)


async def test_other_prefixes_are_not_read(store: Store) -> None:
    await fill(store, 2, ns="a")
    await store.create("pods/ab/x", pod("x"))
    await store.create("podsx/a/y", pod("y"))
    page = await store.list_page("pods/a/")
    assert names(page.texts) == ["p00", "p01"]
    assert [o["metadata"]["name"] for o in (await store.list("pods/a/"))[0]] == ["p00", "p01"]
