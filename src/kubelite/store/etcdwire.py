"""etcd's v3 API as its JSON gateway speaks it: request bodies, decoded replies, typed errors.

The gateway (``POST /v3/kv/range`` …) takes and returns the protobuf messages of etcd's gRPC
API in proto3's JSON mapping: keys and values base64, 64-bit integers as strings, and fields
left out when they hold their zero value (``"succeeded"`` is absent from a failed txn,
``"count"`` from an empty range, ``"type"`` from a PUT event). A failure is
``{"error": …, "code": <gRPC code>, "message": …}``.

etcd's errors have no identity on the wire but their gRPC code and description: its own Go
client maps descriptions to typed errors the same way (``rpctypes``). ``error_from`` does that
once, here; everything above branches on the error types.

Pure: building and reading dicts, no I/O.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.store.interface import StorageError

JSON = dict[str, Any]

# gRPC status codes the gateway reports
UNAVAILABLE = 14
DEADLINE_EXCEEDED = 4
OUT_OF_RANGE = 11

COMPACTED_DESC = "etcdserver: mvcc: required revision has been compacted"
FUTURE_REV_DESC = "etcdserver: mvcc: required revision is a future revision"


# -- errors ------------------------------------------------------------------------------------
class EtcdError(StorageError):
    """etcd refused or failed a request (its gRPC code and description)."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__("", message)
        self.code = code


class EtcdUnavailable(EtcdError):
    """No member could answer now (down, no leader, timed out): trying again may help. For a
    write, whether it was applied is unknown."""


class RevisionCompacted(EtcdError):
    """The revision asked for is older than etcd's compacted revision."""


class FutureRevision(EtcdError):
    """The revision asked for is newer than etcd's current one."""


def error_from(body: Mapping[str, Any], status: int = 0) -> EtcdError:
    """The typed error of a gateway failure body (``status``: its HTTP status)."""
    message = str(body.get("message") or body.get("error") or f"etcd answered HTTP {status}")
    code = int(body.get("code") or 0)
    if message == COMPACTED_DESC:
        return RevisionCompacted(message, code)
    if message == FUTURE_REV_DESC:
        return FutureRevision(message, code)
    if code in (UNAVAILABLE, DEADLINE_EXCEEDED) or (not code and status >= 500):
        return EtcdUnavailable(message, code)
    return EtcdError(message, code)


# -- encoding ------------------------------------------------------------------------------------
def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def prefix_range_end(prefix: bytes) -> bytes:
    """The first key after every key starting with ``prefix`` (etcd's ``WithPrefix``)."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\x00"  # every key


def _int(value: Any) -> int:
    return int(value) if value else 0


# -- replies -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KeyValue:
    key: bytes
    value: bytes
    create_revision: int
    mod_revision: int
    version: int


def key_value(d: Mapping[str, Any]) -> KeyValue:
    return KeyValue(
        key=unb64(d.get("key")),
        value=unb64(d.get("value")),
        create_revision=_int(d.get("create_revision")),
        mod_revision=_int(d.get("mod_revision")),
        version=_int(d.get("version")),
    )


def header_revision(body: Mapping[str, Any]) -> int:
    return _int((body.get("header") or {}).get("revision"))


@dataclass(frozen=True, slots=True)
class RangeResult:
    revision: int  # the store's revision the range was read at
    kvs: tuple[KeyValue, ...]
    count: int  # keys in the range, before ``limit`` and the mod-revision filters
    more: bool


def range_result(body: Mapping[str, Any]) -> RangeResult:
    return RangeResult(
        revision=header_revision(body),
        kvs=tuple(key_value(kv) for kv in body.get("kvs") or ()),
        count=_int(body.get("count")),
        more=bool(body.get("more")),
    )


@dataclass(frozen=True, slots=True)
class TxnResult:
    revision: int  # after the txn: the revision of its writes, if it wrote
    succeeded: bool
    responses: tuple[JSON, ...]

    def kvs(self, i: int) -> tuple[KeyValue, ...]:
        """The keys read by the ``i``-th operation (a range), or deleted by it (a delete with
        ``prev_kv``)."""
        op = self.responses[i] if i < len(self.responses) else {}
        inner = op.get("response_range") or op.get("response_delete_range") or {}
        kvs = inner.get("kvs") or inner.get("prev_kvs") or ()
        return tuple(key_value(kv) for kv in kvs)


def txn_result(body: Mapping[str, Any]) -> TxnResult:
    return TxnResult(
        revision=header_revision(body),
        succeeded=bool(body.get("succeeded")),
        responses=tuple(body.get("responses") or ()),
    )


@dataclass(frozen=True, slots=True)
class WatchChange:
    deleted: bool
    kv: KeyValue  # for a delete: the key and the deletion's revision (``mod_revision``)


@dataclass(frozen=True, slots=True)
class WatchReply:
    revision: int
    changes: tuple[WatchChange, ...] = ()
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0  # set when the watch was canceled for asking a compacted one
    cancel_reason: str = ""


def watch_reply(line: Mapping[str, Any]) -> WatchReply:
    """One message of a watch stream (``{"result": …}``); ``EtcdError`` for ``{"error": …}``."""
    if "error" in line and "result" not in line:
        err = line["error"]
        raise error_from(err if isinstance(err, Mapping) else line)
    body = line.get("result") or {}
    changes = tuple(
        WatchChange(deleted=ev.get("type") == "DELETE", kv=key_value(ev.get("kv") or {}))
        for ev in body.get("events") or ()
    )
    return WatchReply(
        revision=header_revision(body),
        changes=changes,
        created=bool(body.get("created")),
        canceled=bool(body.get("canceled")),
        compact_revision=_int(body.get("compact_revision")),
        cancel_reason=str(body.get("cancel_reason") or ""),
    )


# -- requests ------------------------------------------------------------------------------------
def range_request(
    key: bytes,
    end: bytes | None = None,
    *,
    revision: int = 0,
    limit: int = 0,
    keys_only: bool = False,
    count_only: bool = False,
    min_mod_revision: int = 0,
) -> JSON:
    """A range of keys ``[key, end)`` (``key`` alone without ``end``); ``revision`` 0 reads
    the latest, linearizably."""
    req: JSON = {"key": b64(key)}
    if end is not None:
        req["range_end"] = b64(end)
    if revision:
        req["revision"] = str(revision)
    if limit:
        req["limit"] = str(limit)
    if keys_only:
        req["keys_only"] = True
    if count_only:
        req["count_only"] = True
    if min_mod_revision:
        req["min_mod_revision"] = str(min_mod_revision)
    return req


def put_op(key: bytes, value: bytes) -> JSON:
    return {"request_put": {"key": b64(key), "value": b64(value)}}


def get_op(key: bytes) -> JSON:
    return {"request_range": {"key": b64(key)}}


def delete_op(key: bytes) -> JSON:
    return {"request_delete_range": {"key": b64(key), "prev_kv": True}}


def absent(key: bytes) -> JSON:
    """The key has never been created (or was deleted since): etcd's ``create_revision == 0``."""
    return {"key": b64(key), "target": "CREATE", "result": "EQUAL", "create_revision": "0"}


def present(key: bytes) -> JSON:
    return {"key": b64(key), "target": "CREATE", "result": "GREATER", "create_revision": "0"}


def modified_at(key: bytes, revision: int) -> JSON:
    """The key's last write was at ``revision`` (the resourceVersion precondition)."""
    return {"key": b64(key), "target": "MOD", "result": "EQUAL", "mod_revision": str(revision)}


def version_is(key: bytes, version: int) -> JSON:
    """The key has been written ``version`` times since it was created (0: absent)."""
    return {"key": b64(key), "target": "VERSION", "result": "EQUAL", "version": str(version)}


def txn(compare: Sequence[JSON], success: Sequence[JSON], failure: Sequence[JSON] = ()) -> JSON:
    return {"compare": list(compare), "success": list(success), "failure": list(failure)}


def watch_request(key: bytes, end: bytes, start_revision: int) -> JSON:
    return {
        "create_request": {
            "key": b64(key),
            "range_end": b64(end),
            "start_revision": str(start_revision),
        }
    }
