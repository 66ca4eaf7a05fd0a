"""Periodic compaction of etcd's history, as the kube-apiserver's compactor does it.

Every ``interval`` (``--etcd-compaction-interval``, 5 minutes by default) each API server
tries to take one round: a transaction that succeeds only if the compaction key's *version*
(how many times it was written) is still the one this server last saw. The winner writes the
revision it saw the round before and compacts etcd up to it, so what stays is one interval's
worth of history (between one and two intervals when the winner changes); every other server
fails the comparison, learns the key's version and the current revision, and tries again
next interval. Several API servers on one etcd thus compact once per interval between them,
and if the one that used to win dies, another takes over a round later.

::

    round n:   CAS version v -> v+1, value = rev(n-1)   then compact(rev(n-1))
    lost CAS:  remember (version, current revision) -> try again at round n+1

``next_round`` decides from a round's transaction result (pure); ``run_compactor`` acts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kubelite.clock import Clock
from kubelite.store.etcdkv import KeySpace
from kubelite.store.etcdwire import (
    JSON,
    EtcdError,
    RevisionCompacted,
    TxnResult,
    get_op,
    put_op,
    txn,
    version_is,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompactorState:
    version: int = 0  # the compaction key's version as this server last knew it
    revision: int = 0  # etcd's revision at the previous round (0: none yet)


@dataclass(frozen=True, slots=True)
class Round:
    state: CompactorState  # what the next round starts from
    compact_to: int = 0  # compact etcd up to this revision now (0: not this round)


def round_txn(keys: KeySpace, state: CompactorState) -> JSON:
    key = keys.compaction_key
    return txn(
        [version_is(key, state.version)],
        [put_op(key, str(state.revision).encode())],
        [get_op(key)],
    )


def next_round(state: CompactorState, result: TxnResult) -> Round:
    """What a round's transaction decided: compact the previous round's revision if this
    server won (never on its first round, which has none), else only catch up."""
    if not result.succeeded:
        held = result.kvs(0)
        version = held[0].version if held else 0
        return Round(CompactorState(version, result.revision))
    return Round(CompactorState(state.version + 1, result.revision), state.revision)


class Compactable(Protocol):
    async def txn(self, body: JSON, *, mutating: bool) -> TxnResult: ...

    async def compact(self, revision: int) -> None: ...


async def run_compactor(
    client: Compactable,
    keys: KeySpace,
    *,
    interval: float,
    clock: Clock,
    on_compacted: Callable[[int], None] | None = None,
) -> None:
    """Forever: one round every ``interval`` seconds; ``on_compacted`` hears of each
    compaction this server made. A failed round is logged and the next one tried."""
    state = CompactorState()
    while True:
        await clock.sleep(interval)
        try:
            decided = next_round(state, await client.txn(round_txn(keys, state), mutating=True))
            state = decided.state
            if decided.compact_to:
                try:
                    await client.compact(decided.compact_to)
                except RevisionCompacted:  # someone compacted further already
                    pass
                log.info("etcd: compacted history up to revision %d", decided.compact_to)
                if on_compacted is not None:
                    on_compacted(decided.compact_to)
        except EtcdError as exc:
            log.warning("etcd compaction round failed: %s", exc)
