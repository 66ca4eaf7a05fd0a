"""The Store on etcd: etcd holds the objects and orders every write; each API server keeps a
mirror of them (``etcdmirror``), fed by one watch, to list, index and watch from.

Revisions are etcd's: an object's resourceVersion is its key's ``mod_revision``, a list's is
the revision it was read at, and a watch resumes from one. So several API servers on one etcd
agree on every version, and any of them can serve any client.

* **Writes** are compare-and-swap transactions (``etcdkv``): etcd decides which of two racing
  writers wins, whichever API server each went through. Once etcd has acknowledged a write,
  the writer also waits until this server's mirror has it, so its own lists, watches and
  ``current_revision`` reflect it (as SQLite's store applies before it answers).
* **get** reads the key from etcd (linearizable, as the API server's GET without a
  resourceVersion).
* **Lists** come from the mirror once it is known to be current: etcd's revision is read
  (linearizably) and the mirror catches up to it (``EtcdMirror.caught_up``): the API server's
  "consistent read from cache". A page of an older revision (a continue token) is read from
  the mirror's history, or is ``Compacted``.
* **Indexes** (pods by ``spec.nodeName``): etcd has no secondary indexes, so the mirror keeps
  them (``MemoryStore``'s ``KeyIndex``), maintained from the watch like everything else; an
  indexed list costs the matching objects, not a scan of the kind. (A filtered range of etcd
  would read every pod of the cluster for each node's list.)
* **Watches** are served from the mirror's history; one that starts before it (before this
  server started, or beyond its size) gets ``Compacted`` and the client re-lists, as after the
  API server's "too old resource version".
* **Compaction** (``maintain``): the kube-apiserver's compactor (``etcdcompaction``), one
  round per ``--etcd-compaction-interval`` among all API servers; the mirror forgets the same
  history.

Started on first use (the first read, write or watch loads the mirror and starts its watch);
``close`` stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Iterator
from typing import Any

from kubelite.clock import Clock, SystemClock
from kubelite.store.broadcaster import DEFAULT_HISTORY
from kubelite.store.etcdclient import EtcdClient
from kubelite.store.etcdcompaction import run_compactor
from kubelite.store.etcdconfig import EtcdConfig
from kubelite.store.etcdkv import (
    KeySpace,
    Outcome,
    change_outcome,
    create_outcome,
    create_txn,
    decode_object,
    delete_txn,
    encode_value,
    update_txn,
)
from kubelite.store.etcdmirror import EtcdMirror
from kubelite.store.etcdwire import EtcdUnavailable, RevisionCompacted, range_request
from kubelite.store.interface import (
    AlreadyExists,
    Conflict,
    Match,
    NotFound,
    Page,
    Unavailable,
)
from kubelite.store.memtrim import ShrinkWatch, release_free_memory

log = logging.getLogger(__name__)


class EtcdStore(EtcdMirror):
    def __init__(
        self,
        config: EtcdConfig,
        *,
        history: int = DEFAULT_HISTORY,
        clock: Clock | None = None,
        client: EtcdClient | None = None,
        sync_timeout: float = 10.0,
    ) -> None:
        """``sync_timeout``: the longest a write or a list waits for the mirror."""
        super().__init__(
            client or EtcdClient(config),
            KeySpace(config.prefix),
            history=history,
            sync_timeout=sync_timeout,
        )
        self.config = config
        self._clock = clock or SystemClock()

    # -- reads -------------------------------------------------------------------------------------
    async def get(self, key: str) -> dict[str, Any]:
        with _reachable("get", key):
            got = await self.client.range(range_request(self.keys.etcd_key(key)))
        if not got.kvs:
            raise NotFound(key)
        return decode_object(got.kvs[0].value, got.kvs[0].mod_revision)

    async def list(self, prefix: str) -> tuple[list[dict[str, Any]], int]:
        page = await self.list_page(prefix)
        return [json.loads(t) for t in page.texts], page.revision

    async def list_page(
        self,
        prefix: str,
        *,
        start: str = "",
        limit: int = 0,
        revision: int = 0,
        match: Match | None = None,
        index: tuple[str, str] | None = None,
    ) -> Page:
        with _reachable("list", prefix):
            await self.ready()
            wanted = revision or await self.etcd_revision()
            if wanted > self._revision:
                await self.caught_up(prefix, wanted)
        page = await super().list_page(
            prefix, start=start, limit=limit, revision=revision, match=match, index=index
        )
        return page if page.revision >= wanted else dataclasses.replace(page, revision=wanted)

    # -- writes ------------------------------------------------------------------------------------
    async def create(self, key: str, obj: dict[str, Any]) -> dict[str, Any]:
        with _reachable("create", key):
            await self.ready()
            body = create_txn(self.keys.etcd_key(key), encode_value(obj))
            done = await self.client.txn(body, mutating=True)
        if create_outcome(done) is not Outcome.DONE:
            raise AlreadyExists(key)
        return await self._written(obj, done.revision)

    async def update(
        self, key: str, obj: dict[str, Any], *, expected_rv: str | None = None
    ) -> dict[str, Any]:
        with _reachable("update", key):
            await self.ready()
            body = update_txn(self.keys.etcd_key(key), encode_value(obj), expected_rv)
            done = await self.client.txn(body, mutating=True)
        _raise_for(change_outcome(done), key)
        return await self._written(obj, done.revision)

    async def delete(self, key: str, *, expected_rv: str | None = None) -> dict[str, Any]:
        with _reachable("delete", key):
            await self.ready()
            body = delete_txn(self.keys.etcd_key(key), expected_rv)
            done = await self.client.txn(body, mutating=True)
        _raise_for(change_outcome(done), key)
        gone = done.kvs(0)
        if not gone:
            raise NotFound(key)
        return await self._written(decode_object(gone[0].value, done.revision), done.revision)

    async def _written(self, obj: dict[str, Any], revision: int) -> dict[str, Any]:
        obj.setdefault("metadata", {})["resourceVersion"] = str(revision)
        if not await self.wait_for(revision, self.sync_timeout):
            log.warning("etcd store: revision %d is written, not yet seen by the watch", revision)
        return obj

    # -- compaction, lifetime ----------------------------------------------------------------------
    async def compact(self, revision: int) -> None:
        """Compact etcd's history (and the mirror's) up to ``revision``."""
        await self.ready()
        revision = min(revision, self._revision)
        with contextlib.suppress(RevisionCompacted):
            await self.client.compact(revision)
        await super().compact(revision)

    def _forget_history(self, revision: int) -> None:
        self._broadcaster.compact(min(revision, self._revision))

    async def maintain(self, check: float = 30.0) -> None:
        """Forever: the compactor's rounds (``config.compaction_interval``; none if 0) and,
        every ``check``, memory given back to the system once the mirror shrank a lot."""
        async with asyncio.TaskGroup() as tg:
            interval = self.config.compaction_interval
            if interval > 0:
                compactor = run_compactor(
                    self.client,
                    self.keys,
                    interval=interval,
                    clock=self._clock,
                    on_compacted=self._forget_history,
                )
                tg.create_task(compactor, name="etcd-compactor")
            tg.create_task(self._trim_memory(check), name="etcd-store-memtrim")

    async def _trim_memory(self, check: float) -> None:
        shrink = ShrinkWatch()
        while True:
            await self._clock.sleep(check)
            if shrink.due(self.stored_bytes()):
                log.info("store shrank; freed memory returned: %s", release_free_memory())

    async def close(self) -> None:
        """Stop following etcd and close the connections; idempotent."""
        await self.stop_following()
        await self.client.close()


def _raise_for(outcome: Outcome, key: str) -> None:
    if outcome is Outcome.ABSENT:
        raise NotFound(key)
    if outcome is Outcome.STALE:
        raise Conflict(key)


@contextlib.contextmanager
def _reachable(operation: str, key: str) -> Iterator[None]:
    """etcd out of reach becomes the store's ``Unavailable`` (what the API server answers as
    a ServerTimeout, which clients retry)."""
    try:
        yield
    except EtcdUnavailable as err:
        raise Unavailable(key, operation, str(err)) from err
