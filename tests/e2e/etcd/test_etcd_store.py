"""The etcd store beyond the shared contract: several stores (API servers) on one etcd, writes
outside kubelite's prefix, a mirror that must reload, TLS client certificates, compaction
rounds between servers, and members killed under load (a 3-member cluster)."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from kubelite.store.etcd import EtcdStore
from kubelite.store.etcdclient import EtcdClient
from kubelite.store.etcdconfig import EtcdConfig, parse_etcd_url
from kubelite.store.etcdwire import (
    EtcdError,
    RevisionCompacted,
    put_op,
    range_request,
    txn,
)
from kubelite.store.interface import Compacted, Conflict, Unavailable, WatchEvent
from tests.e2e.etcd.etcdproc import ETCD, ClientTLS, EtcdCluster

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(ETCD is None, reason="needs etcd (scripts/install-deps.sh)"),
]


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    cluster = EtcdCluster(tmp_path_factory.mktemp("etcd1"), size=1)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def config(one: EtcdCluster) -> EtcdConfig:
    return parse_etcd_url(f"{one.store_url}/t-{secrets.token_hex(4)}")


@pytest.fixture
async def pair(config: EtcdConfig) -> AsyncIterator[tuple[EtcdStore, EtcdStore]]:
    """Two stores on one prefix: what two API servers on one etcd are."""
    a, b = EtcdStore(config), EtcdStore(config)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


def cm(name: str, **extra: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, **extra}


async def next_event(events: Any, timeout: float = 5) -> WatchEvent:
    ev: WatchEvent = await asyncio.wait_for(anext(events), timeout)
    return ev


async def test_a_write_through_one_server_is_seen_by_a_watch_and_a_list_on_another(
    pair: tuple[EtcdStore, EtcdStore],
) -> None:
    a, b = pair
    await b.list("configmaps/")
    async with aclosing(b.watch("configmaps/", b.current_revision())) as events:
        made = await a.create("configmaps/ns/x", cm("x"))
        ev = await next_event(events)
    assert (ev.type, ev.revision) == ("ADDED", int(made["metadata"]["resourceVersion"]))
    made = await a.create("configmaps/ns/y", cm("y"))
    items, rev = await b.list("configmaps/ns/")  # at once: a consistent read, not a stale cache
    assert [i["metadata"]["name"] for i in items] == ["x", "y"]
    assert rev >= int(made["metadata"]["resourceVersion"])


async def test_optimistic_concurrency_holds_across_servers(
    pair: tuple[EtcdStore, EtcdStore],
) -> None:
    a, b = pair
    made = await a.create("configmaps/ns/x", cm("x"))
    seen_by_b = await b.get("configmaps/ns/x")
    await a.update(
        "configmaps/ns/x", cm("x", data={"k": "a"}), expected_rv=made["metadata"]["resourceVersion"]
    )
    with pytest.raises(Conflict):
        await b.update(
            "configmaps/ns/x",
            cm("x", data={"k": "b"}),
            expected_rv=seen_by_b["metadata"]["resourceVersion"],
        )
    assert (await b.get("configmaps/ns/x"))["data"] == {"k": "a"}


async def test_an_index_and_resource_revisions_follow_the_other_servers_writes(
    pair: tuple[EtcdStore, EtcdStore],
) -> None:
    a, b = pair
    b.add_index("pods/", "spec.nodeName", lambda o: str(o["spec"].get("nodeName") or ""))
    await b.list("pods/")
    roles = b.resource_revision("roles")
    await a.create("pods/ns/p", {"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}})
    made = await a.create("roles/ns/r", cm("r"))
    page = await b.list_page(
        "pods/", match=lambda o: o["spec"]["nodeName"] == "n1", index=("spec.nodeName", "n1")
    )
    assert [o["metadata"]["name"] for o in page.objects or []] == ["p"]
    assert b.resource_revision("roles") == int(made["metadata"]["resourceVersion"]) > roles


async def test_writes_outside_kubelites_prefix_do_not_hold_lists_up(
    config: EtcdConfig,
) -> None:
    store = EtcdStore(config)
    other = EtcdClient(config)
    try:
        await store.create("configmaps/ns/x", cm("x"))
        for i in range(3):  # etcd's revision moves; the store's watch never hears of it
            await other.txn(txn([], [put_op(f"/elsewhere/{i}".encode(), b"v")]), mutating=True)
        started = time.monotonic()
        items, rev = await store.list("configmaps/")
        assert [i["metadata"]["name"] for i in items] == ["x"]
        assert rev == await store.etcd_revision()
        assert time.monotonic() - started < 2
    finally:
        await other.close()
        await store.close()


async def test_a_list_at_a_revision_not_reached_yet_waits_for_it_then_gives_up(
    config: EtcdConfig,
) -> None:
    store = EtcdStore(config, sync_timeout=1.0)
    other = EtcdStore(config)
    try:
        await store.create("configmaps/ns/a", cm("a"))
        soon = store.current_revision() + 1

        async def write_soon() -> None:
            await asyncio.sleep(0.3)
            await other.create("configmaps/ns/b", cm("b"))

        writing = asyncio.create_task(write_soon())
        page = await store.list_page("configmaps/", revision=soon, limit=10)
        await writing
        assert [json.loads(t)["metadata"]["name"] for t in page.texts] == ["a", "b"]
        with pytest.raises(Unavailable):
            await store.list_page("configmaps/", revision=soon + 1000, limit=10)
    finally:
        await store.close()
        await other.close()


async def test_a_mirror_behind_etcds_compaction_reloads_and_ends_open_watches(
    pair: tuple[EtcdStore, EtcdStore],
) -> None:
    a, b = pair
    await a.create("configmaps/ns/old", cm("old"))
    await b.list("configmaps/")
    async with aclosing(b.watch("configmaps/", b.current_revision())) as events:
        follower = b._follower  # what a long loss of every member looks like: B's watch stops
        assert follower is not None
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        await a.delete("configmaps/ns/old")
        await a.create("configmaps/ns/new", cm("new"))
        await a.compact(a.current_revision())  # ...while etcd compacts past it
        b._follower = asyncio.create_task(b._follow())
        with pytest.raises(Compacted):
            await next_event(events)
    items, _ = await b.list("configmaps/")
    assert [i["metadata"]["name"] for i in items] == ["new"]
    assert b.oldest_revision() >= a.current_revision()


async def test_compaction_rounds_are_shared_between_servers(
    pair: tuple[EtcdStore, EtcdStore], config: EtcdConfig
) -> None:
    a, b = pair
    fast = EtcdConfig(endpoints=config.endpoints, prefix=config.prefix, compaction_interval=0.3)
    a.config = b.config = fast
    first = await a.create("configmaps/ns/x", cm("x"))
    await b.list("configmaps/")
    tasks = [asyncio.create_task(s.maintain()) for s in (a, b)]
    try:
        for i in range(12):  # about ten rounds of each, with writes between them
            await a.update("configmaps/ns/x", cm("x", n=i))
            await asyncio.sleep(0.15)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    held = await a.client.range(range_request(a.keys.compaction_key))
    rounds = held.kvs[0].version
    assert 3 <= rounds <= 8, rounds  # one winner per 0.3 s round, not one per server
    with pytest.raises(RevisionCompacted):
        await a.client.range(
            range_request(
                a.keys.etcd_key("configmaps/ns/x"),
                revision=int(first["metadata"]["resourceVersion"]),
            )
        )


async def test_client_certificates_are_required_and_used(tmp_path: Path) -> None:
    tls = ClientTLS.make(tmp_path / "pki")
    cluster = EtcdCluster(tmp_path / "etcd", size=1, tls=tls)
    cluster.start()
    try:
        url = cluster.store_url + "/tls"
        good = parse_etcd_url(
            url, ca_file=str(tls.ca), cert_file=str(tls.client_cert), key_file=str(tls.client_key)
        )
        store = EtcdStore(good)
        try:
            await store.create("configmaps/ns/x", cm("x"))
            assert [i["metadata"]["name"] for i in (await store.list("configmaps/"))[0]] == ["x"]
        finally:
            await store.close()
        anonymous = parse_etcd_url(url, ca_file=str(tls.ca))
        refused = EtcdStore(anonymous, client=EtcdClient(anonymous, timeout=2, retry_for=0.5))
        try:
            with pytest.raises((EtcdError, Unavailable)):
                await refused.get("configmaps/ns/x")
        finally:
            await refused.close()
    finally:
        cluster.stop()


async def test_an_etcd_out_of_reach_is_unavailable_naming_the_operation() -> None:
    """What the API server then answers as a ServerTimeout with Retry-After."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the socket is closed
    nowhere = parse_etcd_url(f"etcd://127.0.0.1:{port}")
    store = EtcdStore(nowhere, client=EtcdClient(nowhere, timeout=1, retry_for=0.3))
    try:
        with pytest.raises(Unavailable) as got:
            await store.create("configmaps/ns/x", cm("x"))
        assert (got.value.operation, got.value.resource) == ("create", "configmaps")
        with pytest.raises(Unavailable) as got:
            await store.get("configmaps/ns/x")
        assert got.value.operation == "get"
    finally:
        await store.close()


# -- a 3-member cluster, members killed under load -----------------------------------------------
@pytest.fixture
def three(tmp_path: Path) -> Iterator[EtcdCluster]:
    cluster = EtcdCluster(tmp_path / "etcd3", size=3)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def _writer(store: EtcdStore, acked: dict[str, int], stop: asyncio.Event) -> int:
    failed = 0
    i = 0
    while not stop.is_set():
        name = f"c{i:05d}"
        i += 1
        try:
            made = await store.create(f"configmaps/ns/{name}", cm(name))
            acked[name] = int(made["metadata"]["resourceVersion"])
        except (EtcdError, Unavailable):
            failed += 1  # not acknowledged: may or may not be there
        await asyncio.sleep(0.005)
    return failed


async def test_a_killed_member_loses_no_acknowledged_write_and_watches_resume(
    three: EtcdCluster,
) -> None:
    store = EtcdStore(parse_etcd_url(three.store_url))
    watcher = EtcdStore(parse_etcd_url(three.store_url))
    acked: dict[str, int] = {}
    seen: list[tuple[str, int]] = []

    async def watch() -> None:
        async with aclosing(watcher.watch("configmaps/", watcher.current_revision())) as evs:
            async for ev in evs:
                seen.append((ev.type, ev.revision))

    async def progress(writes: int = 20, within: float = 30) -> None:
        """Until ``writes`` more are acknowledged (a write in flight when the leader dies
        waits out its timeout first)."""
        target = len(acked) + writes
        deadline = time.monotonic() + within
        while len(acked) < target:
            assert time.monotonic() < deadline, f"writes stalled at {len(acked)}"
            await asyncio.sleep(0.05)

    stop = asyncio.Event()
    await watcher.list("configmaps/")
    watching = asyncio.create_task(watch())
    writing = asyncio.create_task(_writer(store, acked, stop))
    try:
        await progress()
        # the member the watch goes through, back again, then whichever leads
        talked_to = [three.client_url(m) for m in three.members].index(watcher.client.endpoint)
        three.kill(talked_to)
        await progress()
        three.restart(talked_to)
        await progress()
        leader = three.leader()
        assert leader is not None
        three.kill(leader)
        await progress()
        stop.set()
        await writing
        items, _ = await store.list("configmaps/ns/")
        stored = {i["metadata"]["name"]: int(i["metadata"]["resourceVersion"]) for i in items}
        assert set(acked) <= set(stored)
        assert all(stored[n] == rv for n, rv in acked.items())
        last = max(acked.values())
        for _ in range(100):
            if seen and seen[-1][1] >= last:
                break
            await asyncio.sleep(0.05)
        revisions = [r for _, r in seen]
        assert revisions == sorted(set(revisions))  # in order, none twice
        assert set(acked.values()) <= set(revisions)  # every acknowledged write was watched
    finally:
        stop.set()
        for task in (writing, watching):
            task.cancel()
        await asyncio.gather(writing, watching, return_exceptions=True)
        await store.close()
        await watcher.close()
