"""How kubelite's objects are kept in etcd: keys, values, and each write as one compare-and-swap
transaction.

Keys: a store key ``<resource>/<namespace>/<name>`` lives at ``<prefix><key>`` (UTF-8; etcd
orders keys by bytes, which for UTF-8 is the order of the strings). Values: the object's JSON
without ``metadata.resourceVersion``, which is etcd's ``mod_revision`` of the key and stamped
in on every read, as the API server's storage does: the revision of a write is known only once
etcd has made it.

Writes are transactions whose comparisons are the Store's preconditions, so two API servers
on one etcd can never both win: create when the key's ``create_revision == 0``; update and
delete when it exists and, with a resourceVersion precondition, its ``mod_revision`` is that
version. A failed transaction reads the key back, which tells NotFound from Conflict.

Pure: no I/O.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from kubelite.store.etcdwire import (
    JSON,
    TxnResult,
    absent,
    delete_op,
    get_op,
    modified_at,
    prefix_range_end,
    present,
    put_op,
    txn,
)


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class KeySpace:
    """kubelite's part of an etcd keyspace: everything under ``prefix``. Object keys always
    hold a ``/`` after the prefix; other keys under it (``compaction_key``) are kubelite's
    own bookkeeping."""

    prefix: str  # "/kubelite/"

    @property
    def begin(self) -> bytes:
        return self.prefix.encode()

    @property
    def end(self) -> bytes:
        return prefix_range_end(self.begin)

    @property
    def compaction_key(self) -> bytes:
        """The compactor's lease (``etcdcompaction``), inside the prefix so that every write
        kubelite makes is one its watch sees."""
        return (self.prefix + "compact_rev_key").encode()

    def etcd_key(self, key: str) -> bytes:
        return (self.prefix + key).encode()

    def range_of(self, prefix: str) -> tuple[bytes, bytes]:
        """The etcd range of the store keys under ``prefix``."""
        begin = self.etcd_key(prefix)
        return begin, prefix_range_end(begin)

    def store_key(self, etcd_key: bytes) -> str | None:
        """The store key of an etcd key, or None for a key that holds no object."""
        text = etcd_key.decode("utf-8", errors="replace")
        if not text.startswith(self.prefix):
            return None
        key = text[len(self.prefix) :]
        return key if "/" in key else None


def encode_value(obj: dict[str, Any]) -> bytes:
    """The object as stored: its JSON without ``metadata.resourceVersion`` (``obj`` is left
    as it is)."""
    md = obj.get("metadata")
    if isinstance(md, dict) and "resourceVersion" in md:
        obj = {**obj, "metadata": {k: v for k, v in md.items() if k != "resourceVersion"}}
    return dumps(obj).encode()


def decode_object(value: bytes | str, revision: int) -> dict[str, Any]:
    """A stored object, stamped with the revision it was written (or deleted) at."""
    obj: dict[str, Any] = json.loads(value)
    md = obj.get("metadata")
    if not isinstance(md, dict):
        md = obj["metadata"] = {}
    md["resourceVersion"] = str(revision)
    return obj


def decode_text(value: bytes | str, revision: int) -> str:
    """``decode_object`` as JSON text, the form the store keeps and lists hand out."""
    return dumps(decode_object(value, revision))


def expected_revision(expected_rv: str | None) -> int | None:
    """The ``mod_revision`` a resourceVersion precondition asks for; None for none. A version
    that is no revision at all (not digits) can never match: 0, which no existing key has."""
    if not expected_rv:
        return None
    return int(expected_rv) if expected_rv.isascii() and expected_rv.isdigit() else 0


def create_txn(key: bytes, value: bytes) -> JSON:
    return txn([absent(key)], [put_op(key, value)])


def update_txn(key: bytes, value: bytes, expected_rv: str | None) -> JSON:
    return txn(_preconditions(key, expected_rv), [put_op(key, value)], [get_op(key)])


def delete_txn(key: bytes, expected_rv: str | None) -> JSON:
    return txn(_preconditions(key, expected_rv), [delete_op(key)], [get_op(key)])


def _preconditions(key: bytes, expected_rv: str | None) -> list[JSON]:
    compare = [present(key)]
    expected = expected_revision(expected_rv)
    if expected is not None:
        compare.append(modified_at(key, expected))
    return compare


class Outcome(enum.Enum):
    DONE = "done"
    ABSENT = "absent"  # NotFound
    TAKEN = "taken"  # AlreadyExists
    STALE = "stale"  # Conflict: the resourceVersion precondition failed


def create_outcome(result: TxnResult) -> Outcome:
    return Outcome.DONE if result.succeeded else Outcome.TAKEN


def change_outcome(result: TxnResult) -> Outcome:
    """The outcome of an update or delete (the failure branch read the key back)."""
    if result.succeeded:
        return Outcome.DONE
    return Outcome.STALE if result.kvs(0) else Outcome.ABSENT
