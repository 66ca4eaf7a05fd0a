"""One contract for every Store: the in-memory one and SQLite behave the same."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest

from kubelite.store.interface import AlreadyExists, Compacted, Conflict, NotFound, Store
from kubelite.store.memory import MemoryStore
from kubelite.store.sqlite import SqliteStore


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    s: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "db")
    yield s
    await s.close()


def obj(name: str, **extra: object) -> dict:
    return {"metadata": {"name": name}, **extra}


async def test_create_stamps_a_growing_resource_version(store: Store) -> None:
    a = await store.create("pods/ns/a", obj("a"))
    b = await store.create("pods/ns/b", obj("b"))
    assert int(b["metadata"]["resourceVersion"]) > int(a["metadata"]["resourceVersion"])
    assert store.current_revision() == int(b["metadata"]["resourceVersion"])


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
    rv = a["metadata"]["resourceVersion"]
    await store.update("pods/ns/a", obj("a", v=1), expected_rv=rv)
    with pytest.raises(Conflict):
        await store.update("pods/ns/a", obj("a", v=2), expected_rv=rv)


async def test_update_and_delete_of_missing_keys_are_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.update("pods/ns/a", obj("a"))
    with pytest.raises(NotFound):
        await store.delete("pods/ns/a")


async def test_delete_returns_the_last_state_and_removes(store: Store) -> None:
    await store.create("pods/ns/a", obj("a", v=1))
    gone = await store.delete("pods/ns/a")
    assert gone["v"] == 1
    with pytest.raises(NotFound):
        await store.get("pods/ns/a")


async def _collect(store: Store, prefix: str, since: int, n: int) -> list[tuple[str, str]]:
    out = []
    async with aclosing(store.watch(prefix, since)) as events:
        async for ev in events:
            out.append((ev.type, ev.object["metadata"]["name"]))
            if len(out) == n:
                break
    return out


async def test_watch_replays_history_after_a_revision_then_follows(store: Store) -> None:
    await store.create("pods/ns/a", obj("a"))
    start = store.current_revision()
    await store.create("pods/ns/b", obj("b"))
    task = asyncio.create_task(_collect(store, "pods/ns/", start, 3))
    await asyncio.sleep(0.01)
    await store.update("pods/ns/b", obj("b", v=1))
    await store.create("configmaps/ns/x", obj("x"))  # another prefix: not delivered
    await store.delete("pods/ns/a")
    got = await asyncio.wait_for(task, 2)
    assert got == [("ADDED", "b"), ("MODIFIED", "b"), ("DELETED", "a")]


async def test_many_watchers_each_get_every_event(store: Store) -> None:
    since = store.current_revision()
    tasks = [asyncio.create_task(_collect(store, "pods/", since, 2)) for _ in range(20)]
    await asyncio.sleep(0.01)
    await store.create("pods/ns/a", obj("a"))
    await store.delete("pods/ns/a")
    results = await asyncio.wait_for(asyncio.gather(*tasks), 2)
    assert all(r == [("ADDED", "a"), ("DELETED", "a")] for r in results)


async def test_watch_from_a_compacted_revision_is_refused(store: Store) -> None:
    for i in range(5):
        await store.create(f"pods/ns/p{i}", obj(f"p{i}"))
    await store.compact(3)
    with pytest.raises(Compacted) as err:
        await _collect(store, "pods/", 1, 1)
    assert "too old resource version: 1 (3)" in str(err.value)
    assert await _collect(store, "pods/", 3, 2) == [("ADDED", "p3"), ("ADDED", "p4")]
