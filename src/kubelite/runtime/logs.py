"""Where container logs live, and reading the CRI-format logs that conmon writes.

The layout is the kubelet's (``pod_log_dir``, ``container_log_path``): the agent names each
container's file when it creates the container, ``pods/log`` and the run view find it again,
and the GC removes it with its instance. Each line of
``<podLogsDir>/<ns>_<pod>_<uid>/<container>/<restartCount>.log`` is
``<RFC3339Nano time> <stdout|stderr> <F|P> <text>``; ``P`` marks a fragment of a longer line
whose end follows in later records. ``pods/log`` and ``kubelite run`` read through here:
whole file, tail N lines, since a time, with or without timestamps, limited bytes, and a
follow mode that ends when the container exits. Parsing is pure; the readers do file I/O.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO


def pod_log_dir(pod_logs_dir: Path, namespace: str, name: str, uid: str) -> Path:
    """``<podLogsDir>/<ns>_<pod>_<uid>``: one pod's folder, as the kubelet lays it out."""
    return pod_logs_dir / f"{namespace}_{name}_{uid}"


def container_log_path(pod_dir: Path, container: str, attempt: int) -> Path:
    """``<pod folder>/<container>/<restartCount>.log`` (SYNC-7: the count is the attempt)."""
    return pod_dir / container / f"{attempt}.log"


def log_path(pod_logs_dir: Path, pod: Mapping[str, Any], container: str, attempt: int) -> Path:
    """The log file of one instance of a container of ``pod`` (a Pod object)."""
    meta = pod.get("metadata") or {}
    folder = pod_log_dir(
        pod_logs_dir,
        str(meta.get("namespace", "default")),
        str(meta.get("name", "")),
        str(meta.get("uid", "")),
    )
    return container_log_path(folder, container, attempt)


@dataclass(frozen=True, slots=True)
class LogRecord:
    time_ns: int  # nanoseconds since the epoch
    stream: str  # "stdout" or "stderr"
    partial: bool  # a "P" fragment: the line continues in the next record of this stream
    text: bytes  # without the trailing newline


@dataclass(frozen=True, slots=True)
class LogOptions:
    timestamps: bool = False
    tail: int | None = None  # last N lines; None = all
    since: float | None = None  # seconds since the epoch; older lines are skipped
    limit_bytes: int | None = None
    streams: frozenset[str] = frozenset({"stdout", "stderr"})


def parse_time_ns(text: str) -> int:
    """RFC 3339 with up to nanosecond fraction and ``Z`` or an offset → ns since the epoch."""
    t = text
    offset = 0
    if t.endswith("Z"):
        t = t[:-1]
    elif len(t) > 6 and t[-6] in "+-" and t[-3] == ":":
        sign = 1 if t[-6] == "+" else -1
        offset = sign * (int(t[-5:-3]) * 3600 + int(t[-2:]) * 60)
        t = t[:-6]
    base, _, frac = t.partition(".")
    whole = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    ns = int((frac + "000000000")[:9]) if frac else 0
    return (int(whole.timestamp()) - offset) * 1_000_000_000 + ns


def format_time_ns(ns: int) -> str:
    """RFC3339Nano in UTC, trailing zeros of the fraction trimmed (as Go prints it)."""
    secs, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}".rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


def parse_record(raw: bytes) -> LogRecord | None:
    """One line of a CRI log file (without its newline); None when malformed."""
    parts = raw.split(b" ", 3)
    if len(parts) < 3:
        return None
    ts, stream, tag = parts[0], parts[1], parts[2]
    text = parts[3] if len(parts) == 4 else b""
    if stream not in (b"stdout", b"stderr") or tag not in (b"F", b"P"):
        return None
    try:
        time_ns = parse_time_ns(ts.decode())
    except ValueError:
        return None
    return LogRecord(time_ns, stream.decode(), tag == b"P", text)


def join_partials(records: Iterable[LogRecord]) -> Iterator[LogRecord]:
    """Merge ``P`` fragments with the rest of their line (per stream); the joined line keeps
    the time of its first fragment. A trailing unfinished fragment is yielded as it is."""
    pending: dict[str, list[LogRecord]] = {}
    for rec in records:
        parts = pending.setdefault(rec.stream, [])
        parts.append(rec)
        if rec.partial:
            continue
        del pending[rec.stream]
        yield LogRecord(parts[0].time_ns, rec.stream, False, b"".join(p.text for p in parts))
    for parts in pending.values():
        yield LogRecord(parts[0].time_ns, parts[0].stream, True, b"".join(p.text for p in parts))


def render(record: LogRecord, timestamps: bool) -> bytes:
    prefix = format_time_ns(record.time_ns).encode() + b" " if timestamps else b""
    return prefix + record.text + (b"" if record.partial else b"\n")


def _records(data: bytes) -> Iterator[LogRecord]:
    for raw in data.split(b"\n"):
        if raw:
            rec = parse_record(raw)
            if rec is not None:
                yield rec


def select(records: Iterable[LogRecord], opts: LogOptions) -> list[LogRecord]:
    """Joined lines of the chosen streams, newer than ``since``, the last ``tail`` of them."""
    since_ns = int(opts.since * 1e9) if opts.since is not None else None
    lines: Iterable[LogRecord] = (
        r
        for r in join_partials(r for r in records if r.stream in opts.streams)
        if since_ns is None or r.time_ns >= since_ns
    )
    if opts.tail is not None:
        return list(deque(lines, maxlen=max(opts.tail, 0)))
    return list(lines)


def format_logs(data: bytes, opts: LogOptions) -> bytes:
    """The text ``kubectl logs`` shows for a whole CRI log file's contents (pure)."""
    out = b"".join(render(r, opts.timestamps) for r in select(_records(data), opts))
    return out[: opts.limit_bytes] if opts.limit_bytes is not None else out


def read_log(path: Path, opts: LogOptions = LogOptions()) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return b""
    return format_logs(data, opts)


class _OpenLog:
    """A log file held open from the first moment it exists: a file deleted while followed
    (container GC, pod removal) can still be read to its end."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: BinaryIO | None = None

    def read(self) -> bytes:
        if self._file is None:
            try:
                self._file = open(self._path, "rb")  # noqa: SIM115 - held across polls
            except FileNotFoundError:
                return b""
        return self._file.read()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


async def follow_log(
    path: Path,
    opts: LogOptions,
    running: Callable[[], Awaitable[bool]],
    *,
    poll: float = 0.1,
) -> AsyncIterator[bytes]:
    """Yield the selected lines, then new ones as they are written, until the container has
    exited and the file is drained. ``limit_bytes`` bounds the total."""
    log = _OpenLog(path)
    try:
        async for piece in _follow(log, opts, running, poll):
            yield piece
    finally:
        log.close()


async def _follow(
    log: _OpenLog, opts: LogOptions, running: Callable[[], Awaitable[bool]], poll: float
) -> AsyncIterator[bytes]:
    sent = 0
    first = True
    buf = b""
    pending: dict[str, list[LogRecord]] = {}
    since_ns = int(opts.since * 1e9) if opts.since is not None else None
    while True:
        alive = await running()
        chunk = log.read()
        buf += chunk
        complete, _, buf = buf.rpartition(b"\n")
        out: list[bytes] = []
        if first:
            # The initial read honours tail/since like a plain read; an unfinished line at
            # the end waits for its remaining fragments.
            first = False
            recs = [r for r in _records(complete) if r.stream in opts.streams]
            done: list[LogRecord] = []
            for r in recs:
                pending.setdefault(r.stream, []).append(r)
                if not r.partial:
                    done.extend(pending.pop(r.stream))
            out = [render(r, opts.timestamps) for r in select(done, opts)]
        else:
            for r in _records(complete):
                if r.stream not in opts.streams:
                    continue
                parts = pending.setdefault(r.stream, [])
                parts.append(r)
                if r.partial:
                    continue
                del pending[r.stream]
                line = LogRecord(parts[0].time_ns, r.stream, False,
                                 b"".join(p.text for p in parts))  # fmt: skip
                if since_ns is None or line.time_ns >= since_ns:
                    out.append(render(line, opts.timestamps))
        for piece in out:
            if opts.limit_bytes is not None:
                piece = piece[: max(0, opts.limit_bytes - sent)]
            if piece:
                sent += len(piece)
                yield piece
            if opts.limit_bytes is not None and sent >= opts.limit_bytes:
                return
        if not alive and not chunk:
            # the container is gone: an unfinished last line is all there will ever be
            tail = b"".join(
                render(LogRecord(p[0].time_ns, p[0].stream, True, b"".join(x.text for x in p)),
                       opts.timestamps)
                for p in pending.values() if p
            )  # fmt: skip
            if opts.limit_bytes is not None:
                tail = tail[: max(0, opts.limit_bytes - sent)]
            if tail:
                yield tail
            return
        if not chunk:
            await asyncio.sleep(poll)
