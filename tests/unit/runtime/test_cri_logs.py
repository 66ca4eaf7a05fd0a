"""CRI log lines: parsing, partial-line joining, tail/since/timestamps/limit."""

from __future__ import annotations

from pathlib import Path

from kubelite.runtime.logs import (
    LogOptions,
    LogRecord,
    follow_log,
    format_logs,
    format_time_ns,
    join_partials,
    parse_record,
    parse_time_ns,
)

T0 = "2024-01-02T03:04:05.000000001Z"
FILE = (
    b"2024-01-02T03:04:05.100000000+00:00 stdout F one\n"
    b"2024-01-02T03:04:06.000000000+00:00 stderr F oops\n"
    b"2024-01-02T03:04:07.000000000+00:00 stdout P par\n"
    b"2024-01-02T03:04:07.500000000+00:00 stdout P ti\n"
    b"2024-01-02T03:04:08.000000000+00:00 stdout F al\n"
    b"not a log line\n"
    b"2024-01-02T05:04:09.000000000+02:00 stdout F last\n"
)


def test_times_parse_with_nanoseconds_and_offsets() -> None:
    assert parse_time_ns(T0) % 1_000_000_000 == 1
    assert parse_time_ns("2024-01-02T05:04:05+02:00") == parse_time_ns("2024-01-02T03:04:05Z")
    assert format_time_ns(parse_time_ns(T0)) == T0
    assert format_time_ns(parse_time_ns("2024-01-02T03:04:05.500Z")) == "2024-01-02T03:04:05.5Z"
    assert format_time_ns(parse_time_ns("2024-01-02T03:04:05Z")) == "2024-01-02T03:04:05Z"


def test_a_record_keeps_spaces_and_an_empty_text() -> None:
    rec = parse_record(b"2024-01-02T03:04:05Z stdout F a  b ")
    assert rec is not None and (rec.stream, rec.partial, rec.text) == ("stdout", False, b"a  b ")
    empty = parse_record(b"2024-01-02T03:04:05Z stderr F")
    assert empty is not None and empty.text == b""


def test_malformed_records_are_skipped() -> None:
    assert parse_record(b"garbage") is None
    assert parse_record(b"2024-01-02T03:04:05Z stdin F x") is None
    assert parse_record(b"2024-01-02T03:04:05Z stdout X x") is None
    assert parse_record(b"yesterday stdout F x") is None


def test_partial_fragments_join_per_stream() -> None:
    recs = [
        LogRecord(1, "stdout", True, b"a"),
        LogRecord(2, "stderr", False, b"E"),
        LogRecord(3, "stdout", False, b"b"),
        LogRecord(4, "stdout", True, b"tail"),
    ]
    joined = list(join_partials(recs))
    assert [(r.time_ns, r.stream, r.text, r.partial) for r in joined] == [
        (2, "stderr", b"E", False),
        (1, "stdout", b"ab", False),
        (4, "stdout", b"tail", True),
    ]


def test_whole_file() -> None:
    assert format_logs(FILE, LogOptions()) == b"one\noops\npartial\nlast\n"


def test_tail_counts_joined_lines() -> None:
    assert format_logs(FILE, LogOptions(tail=2)) == b"partial\nlast\n"
    assert format_logs(FILE, LogOptions(tail=0)) == b""


def test_since_and_streams() -> None:
    since = parse_time_ns("2024-01-02T03:04:06Z") / 1e9
    assert format_logs(FILE, LogOptions(since=since)) == b"oops\npartial\nlast\n"
    assert format_logs(FILE, LogOptions(streams=frozenset({"stderr"}))) == b"oops\n"


def test_timestamps_and_limit_bytes() -> None:
    out = format_logs(FILE, LogOptions(timestamps=True, tail=1))
    assert out == b"2024-01-02T03:04:09Z last\n"
    assert format_logs(FILE, LogOptions(limit_bytes=6)) == b"one\noo"


def _append_then_delete(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)
    path.unlink()


async def test_a_followed_log_deleted_midway_is_still_read_to_its_end(tmp_path: Path) -> None:
    """Container GC may delete an exited instance's log while `logs -f` or the live view of
    `kubelite run` is still reading it: the follower holds the file open."""
    path = tmp_path / "0.log"
    path.write_bytes(b"2024-01-02T03:04:05Z stdout F first\n")
    polls = 0

    async def running() -> bool:
        nonlocal polls
        polls += 1
        if polls == 2:  # after the first read: the rest arrives, then the file is deleted
            _append_then_delete(path, b"2024-01-02T03:04:06Z stdout F second\n")
        return polls < 2

    got = [line async for line in follow_log(path, LogOptions(), running, poll=0.001)]
    assert got == [b"first\n", b"second\n"]
