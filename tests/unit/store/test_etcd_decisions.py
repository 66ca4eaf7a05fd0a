"""The etcd store's pure parts: keys and values, the compare-and-swap transaction of each write
and what its result means, the compactor's rounds, and the gateway's replies and errors."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kubelite.store.etcdcompaction import CompactorState, Round, next_round, round_txn
from kubelite.store.etcdkv import (
    KeySpace,
    Outcome,
    change_outcome,
    create_outcome,
    create_txn,
    decode_object,
    decode_text,
    delete_txn,
    encode_value,
    expected_revision,
    update_txn,
)
from kubelite.store.etcdwire import (
    EtcdError,
    EtcdUnavailable,
    FutureRevision,
    RevisionCompacted,
    error_from,
    prefix_range_end,
    txn_result,
    watch_reply,
)

KEYS = KeySpace("/kubelite/")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def kv(key: str, value: str = "", mod: int = 5, version: int = 1) -> dict[str, Any]:
    return {"key": b64(key), "value": b64(value), "mod_revision": str(mod), "version": str(version)}


# -- keys and values -----------------------------------------------------------------------------
def test_store_keys_live_under_the_prefix_and_bookkeeping_keys_hold_no_object() -> None:
    assert KEYS.etcd_key("pods/ns/a") == b"/kubelite/pods/ns/a"
    assert KEYS.store_key(b"/kubelite/pods/ns/a") == "pods/ns/a"
    assert KEYS.store_key(KEYS.compaction_key) is None
    assert KEYS.store_key(b"/other/pods/ns/a") is None
    assert KEYS.range_of("pods/") == (b"/kubelite/pods/", b"/kubelite/pods0")
    assert (KEYS.begin, KEYS.end) == (b"/kubelite/", b"/kubelite0")


@pytest.mark.parametrize(
    ("prefix", "end"),
    [(b"/a/", b"/a0"), (b"a\xff", b"b"), (b"\xff\xff", b"\x00")],
    ids=["the last byte is raised", "a top byte carries over", "all top bytes: every key"],
)
def test_a_prefix_range_ends_after_every_key_it_starts(prefix: bytes, end: bytes) -> None:
    assert prefix_range_end(prefix) == end


def test_a_value_is_stored_without_its_resource_version_and_read_with_the_keys() -> None:
    obj = {"metadata": {"name": "a", "resourceVersion": "7"}, "spec": {}}
    value = encode_value(obj)
    assert json.loads(value) == {"metadata": {"name": "a"}, "spec": {}}
    assert obj["metadata"]["resourceVersion"] == "7"  # the caller's object is left alone
    assert decode_object(value, 12)["metadata"] == {"name": "a", "resourceVersion": "12"}
    assert json.loads(decode_text(value, 12))["metadata"]["resourceVersion"] == "12"


@pytest.mark.parametrize(
    ("given", "expected"),
    [(None, None), ("", None), ("42", 42), ("0", 0), ("abc", 0), ("\uff14\uff12", 0)],
    ids=["none", "empty is none", "a revision", "zero", "not digits never match", "non-ascii"],
)
def test_a_resource_version_precondition_is_a_mod_revision(
    given: str | None, expected: int | None
) -> None:
    assert expected_revision(given) == expected


# -- writes --------------------------------------------------------------------------------------
def test_a_create_succeeds_only_where_the_key_was_never_created() -> None:
    body = create_txn(b"k", b"v")
    assert body["compare"] == [
        {"key": b64("k"), "target": "CREATE", "result": "EQUAL", "create_revision": "0"}
    ]
    assert body["success"] == [{"request_put": {"key": b64("k"), "value": b64("v")}}]


def test_an_update_needs_the_key_and_with_a_precondition_its_mod_revision() -> None:
    plain = update_txn(b"k", b"v", None)
    assert [c["target"] for c in plain["compare"]] == ["CREATE"]
    checked = update_txn(b"k", b"v", "9")
    assert checked["compare"][1] == {
        "key": b64("k"), "target": "MOD", "result": "EQUAL", "mod_revision": "9"
    }  # fmt: skip
    assert checked["failure"] == [{"request_range": {"key": b64("k")}}]


def test_a_delete_returns_what_it_deleted() -> None:
    body = delete_txn(b"k", "3")
    assert body["success"] == [{"request_delete_range": {"key": b64("k"), "prev_kv": True}}]
    assert len(body["compare"]) == 2


OUTCOMES = [
    ("a succeeded txn is done", {"succeeded": True}, Outcome.DONE),
    (
        "a failed txn that read the key back met a stale version",
        {"responses": [{"response_range": {"kvs": [kv("/kubelite/pods/ns/a")]}}]},
        Outcome.STALE,
    ),
    (
        "a failed txn that found no key met a missing object",
        {"responses": [{"response_range": {"header": {}}}]},
        Outcome.ABSENT,
    ),
]


@pytest.mark.parametrize(("case", "body", "outcome"), OUTCOMES, ids=[o[0] for o in OUTCOMES])
def test_an_update_or_delete_outcome_is_read_from_the_txn(
    case: str, body: dict[str, Any], outcome: Outcome
) -> None:
    assert change_outcome(txn_result({"header": {"revision": "8"}, **body})) is outcome


def test_a_failed_create_means_the_key_is_taken() -> None:
    assert create_outcome(txn_result({"header": {"revision": "8"}})) is Outcome.TAKEN


# -- compaction ----------------------------------------------------------------------------------
def won(revision: int) -> dict[str, Any]:
    return {"header": {"revision": str(revision)}, "succeeded": True}


def lost(revision: int, version: int) -> dict[str, Any]:
    held = kv("/kubelite/compact_rev_key", "10", version=version)
    return {
        "header": {"revision": str(revision)},
        "responses": [{"response_range": {"kvs": [held]}}],
    }


ROUNDS = [
    (
        "the first round won only starts the clock",
        CompactorState(0, 0), won(10), Round(CompactorState(1, 10), 0),
    ),
    (
        "a round won compacts what the previous round saw",
        CompactorState(1, 10), won(50), Round(CompactorState(2, 50), 10),
    ),
    (
        "a round lost learns the key's version and the revision",
        CompactorState(1, 10), lost(60, 4), Round(CompactorState(4, 60), 0),
    ),
    (
        "a lost round against a deleted key starts the count again",
        CompactorState(3, 10),
        {"header": {"revision": "70"}, "responses": [{"response_range": {}}]},
        Round(CompactorState(0, 70), 0),
    ),
]  # fmt: skip


@pytest.mark.parametrize(("case", "state", "body", "expected"), ROUNDS, ids=[r[0] for r in ROUNDS])
def test_the_compactor_decides_each_round_from_its_txn(
    case: str, state: CompactorState, body: dict[str, Any], expected: Round
) -> None:
    assert next_round(state, txn_result(body)) == expected


def test_a_round_compares_the_keys_version_and_writes_the_previous_revision() -> None:
    body = round_txn(KEYS, CompactorState(2, 40))
    key = b64("/kubelite/compact_rev_key")
    assert body["compare"] == [{"key": key, "target": "VERSION", "result": "EQUAL", "version": "2"}]
    assert body["success"] == [{"request_put": {"key": key, "value": b64("40")}}]


# -- the gateway's replies and errors ------------------------------------------------------------
ERRORS = [
    (
        "a compacted revision",
        {"code": 11, "message": "etcdserver: mvcc: required revision has been compacted"},
        RevisionCompacted,
    ),
    (
        "a future revision",
        {"code": 11, "message": "etcdserver: mvcc: required revision is a future revision"},
        FutureRevision,
    ),
    ("no leader", {"code": 14, "message": "etcdserver: no leader"}, EtcdUnavailable),
    ("a timeout", {"code": 14, "message": "etcdserver: request timed out"}, EtcdUnavailable),
    ("a deadline", {"code": 4, "message": "context deadline exceeded"}, EtcdUnavailable),
    ("a request too large", {"code": 3, "message": "etcdserver: request is too large"}, EtcdError),
]


@pytest.mark.parametrize(("case", "body", "kind"), ERRORS, ids=[e[0] for e in ERRORS])
def test_an_etcd_error_gets_its_type(case: str, body: dict[str, Any], kind: type) -> None:
    err = error_from(body, 400)
    assert type(err) is kind and str(err) == body["message"]


def test_a_watch_reply_lists_puts_and_deletes_in_order() -> None:
    reply = watch_reply(
        {
            "result": {
                "header": {"revision": "9"},
                "events": [
                    {"kv": {**kv("/kubelite/pods/ns/a", "{}", mod=8), "create_revision": "8"}},
                    {
                        "type": "DELETE",
                        "kv": {"key": b64("/kubelite/pods/ns/b"), "mod_revision": "9"},
                    },
                ],
            }
        }
    )
    assert reply.revision == 9 and not reply.canceled
    assert [(c.deleted, c.kv.key, c.kv.mod_revision) for c in reply.changes] == [
        (False, b"/kubelite/pods/ns/a", 8),
        (True, b"/kubelite/pods/ns/b", 9),
    ]
    assert reply.changes[0].kv.create_revision == 8


def test_a_watch_canceled_for_compaction_says_how_far() -> None:
    reply = watch_reply({"result": {"header": {}, "canceled": True, "compact_revision": "40"}})
    assert (reply.canceled, reply.compact_revision) == (True, 40)


def test_a_watch_error_message_is_raised() -> None:
    with pytest.raises(EtcdUnavailable):
        watch_reply({"error": {"code": 14, "message": "etcdserver: no leader"}})
