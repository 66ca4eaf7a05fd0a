"""A pod's lifecycle record laid out for drawing: lanes, spans, marks, probe ticks, hook spans,
grace windows and the pod's bands, on one time axis in seconds from the record's first fact.

Pure: the same record (and ``now``) gives the same layout, element for element, so the
picture's structure can be tested without drawing it. Every element carries the id the
drawing gives its SVG group (``lane-<container>``, ``span-<container>-<n>``,
``probe-<kind>-<container>-<n>``, ``band-<row>`` …), numbered from 0 in time order.

Each container's facts are read as a small state machine: pulling → created → running
(→ ready while the pod's status says so) → exited, then back-off until the next instance is
created. A span still open when the record ends runs to its end and says so (``open``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kubelite.timeline import record as rec
from kubelite.timeline.axis import TimeAxis, linear, time_axis

# Span states (the drawing's colours and hatches key on these).
PULLING = "pulling"
CREATED = "created"
RUNNING = "running"
READY = "ready"
EXITED_OK = "exited-ok"
EXITED_FAILED = "exited-failed"
BACKING_OFF = "backoff"
SPAN_STATES = (PULLING, CREATED, RUNNING, READY, EXITED_OK, EXITED_FAILED, BACKING_OFF)

# Mark kinds.
EXIT = "exit"
KILL = "kill"
SIGTERM = "sigterm"
SIGKILL = "sigkill"
START_FAILED = "start-failed"
PULL_FAILED = "pull-failed"
DELETION = "deletion"
FINISHED = "finished"

# Band rows above the lanes, top to bottom.
PHASE_ROW = "Phase"
SANDBOX_ROW = "Sandbox"
BAND_ROWS = (PHASE_ROW, SANDBOX_ROW, *rec.CONDITIONS)

MIN_EXTENT = 1.0  # seconds: a record shorter than this is drawn over this much


@dataclass(frozen=True, slots=True)
class Lane:
    id: str
    container: str
    kind: str  # init | sidecar | app | ephemeral (record.KIND_ORDER), or "" if not known
    index: int
    label: str  # the container's name
    detail: str  # its kind as a reader says it: "init container 1", "native sidecar" …
    row: int  # 0 is the top lane


@dataclass(frozen=True, slots=True)
class Span:
    id: str
    container: str
    start: float
    end: float
    state: str  # one of SPAN_STATES
    attempt: int | None = None
    label: str = ""
    open: bool = False  # still going when the record ends


@dataclass(frozen=True, slots=True)
class HookSpan:
    id: str
    container: str
    hook: str  # postStart | preStop
    start: float
    end: float
    outcome: str  # Succeeded | Failed | CutShort | "" (still running)


@dataclass(frozen=True, slots=True)
class ProbeTick:
    id: str
    container: str
    probe: str  # startup | readiness | liveness
    at: float
    ok: bool
    result: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class Mark:
    id: str
    container: str  # "" for the pod's own marks (drawn across every lane)
    at: float
    kind: str  # EXIT, KILL, SIGTERM, SIGKILL, START_FAILED, PULL_FAILED, DELETION, FINISHED
    label: str = ""
    failed: bool = False


@dataclass(frozen=True, slots=True)
class Grace:
    """The grace period a kill was given: from the request to when SIGKILL would come."""

    id: str
    container: str
    start: float
    end: float
    seconds: float


@dataclass(frozen=True, slots=True)
class BandSegment:
    id: str
    start: float
    end: float
    value: str  # a phase, True/False/Unknown, or the sandbox's state
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Band:
    id: str
    name: str
    segments: tuple[BandSegment, ...]


@dataclass(frozen=True, slots=True)
class Layout:
    title: str
    t0: int  # microseconds since the epoch at x = 0
    end: float  # seconds: the axis runs from 0 to here
    lanes: tuple[Lane, ...] = ()
    spans: tuple[Span, ...] = ()
    hooks: tuple[HookSpan, ...] = ()
    probes: tuple[ProbeTick, ...] = ()
    marks: tuple[Mark, ...] = ()
    graces: tuple[Grace, ...] = ()
    bands: tuple[Band, ...] = ()
    dropped: int = 0
    axis: TimeAxis = field(default_factory=lambda: linear(MIN_EXTENT))
    starts_at_creation: bool = False  # x = 0 is the pod's creation

    def lane(self, container: str) -> Lane | None:
        return next((lane for lane in self.lanes if lane.container == container), None)


def layout(record: Mapping[str, Any], *, now: float | None = None) -> Layout:
    """The layout of a PodLifecycle object. ``now`` (seconds since the epoch): where open spans
    end, for a pod still running; by default at the last fact."""
    facts = sorted(rec.facts(record), key=lambda f: int(f["at"]))
    meta = record.get("metadata") or {}
    title = f"{meta.get('namespace', 'default')}/{meta.get('name', '')}"
    if not facts:
        return Layout(title=title, t0=0, end=MIN_EXTENT, lanes=_lanes(record, []))
    t0 = int(facts[0]["at"])
    last = max(max(int(f["at"]), _int(f.get("last"))) for f in facts)
    end = max((last - t0) / 1e6, MIN_EXTENT)
    if now is not None:
        end = max(end, now - t0 / 1e6)
    lanes = _lanes(record, facts)
    builder = _Builder(t0=t0, end=end)
    for f in facts:
        builder.add(f)
    # successful probe results are no reason to keep a stretch of time wide (they tick all
    # along); failures are
    busy = [builder.t(int(f["at"])) for f in facts if f["type"] != rec.PROBE]
    for f in facts:
        if f["type"] == rec.PROBE and f.get("result") not in rec.PROBE_OK:
            busy += [builder.t(int(f["at"])), builder.t(_int(f.get("last")) or int(f["at"]))]
    built = builder.finish(title, lanes, _int(record.get("droppedFacts")))
    created = any(f["type"] == rec.POD_CREATED and int(f["at"]) == t0 for f in facts)
    return replace(built, axis=time_axis(busy, end), starts_at_creation=created)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _lanes(record: Mapping[str, Any], facts: Sequence[Mapping[str, Any]]) -> tuple[Lane, ...]:
    """One lane per container of the table, then any the facts name that the table lacks;
    ordered init, sidecar, app, ephemeral, each by its index in the spec."""
    known: dict[str, tuple[str, int]] = {}
    for c in rec.containers(record):
        known.setdefault(str(c["name"]), (str(c.get("kind") or ""), _int(c.get("index"))))
    for f in facts:
        name = f.get("container")
        if isinstance(name, str) and name and name not in known:
            known[name] = ("", len(known))
    ordered = sorted(known.items(), key=lambda kv: (rec.kind_rank(kv[1][0]), kv[1][1]))
    return tuple(
        Lane(
            id=f"lane-{name}",
            container=name,
            kind=kind,
            index=index,
            label=name,
            detail=_kind_words(kind, index),
            row=row,
        )
        for row, (name, (kind, index)) in enumerate(ordered)
    )


def _kind_words(kind: str, index: int) -> str:
    if kind == rec.INIT:
        return f"init container {index + 1}"
    if kind == rec.SIDECAR:
        return f"native sidecar (init {index + 1})"
    if kind == rec.APP:
        return "app container"
    if kind == rec.EPHEMERAL:
        return "ephemeral container"
    return "container"


@dataclass(slots=True)
class _Open:
    start: float
    state: str
    attempt: int | None = None
    label: str = ""


@dataclass(slots=True)
class _Lane:
    """One container's state while its facts are read."""

    span: _Open | None = None
    hook: tuple[str, float] | None = None
    backoff_until: float | None = None
    spans: list[Span] = field(default_factory=list)


@dataclass(slots=True)
class _Builder:
    t0: int
    end: float
    lanes: dict[str, _Lane] = field(default_factory=dict)
    hooks: list[HookSpan] = field(default_factory=list)
    probes: list[ProbeTick] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    graces: list[Grace] = field(default_factory=list)
    rows: dict[str, list[tuple[float, str, str]]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    # ------------------------------------------------------------------ helpers

    def t(self, micros: int) -> float:
        return (micros - self.t0) / 1e6

    def next_id(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0)
        self.counters[prefix] = n + 1
        return f"{prefix}-{n}"

    def lane(self, name: str) -> _Lane:
        return self.lanes.setdefault(name, _Lane())

    def open_span(self, name: str, at: float, state: str, attempt: int | None = None) -> None:
        self.close_span(name, at)
        self.lane(name).span = _Open(at, state, attempt)

    def close_span(self, name: str, at: float, *, is_open: bool = False) -> None:
        lane = self.lane(name)
        span = lane.span
        if span is None:
            return
        lane.span = None
        end = max(at, span.start)
        if span.state == BACKING_OFF and lane.backoff_until is not None:
            end = min(end, max(lane.backoff_until, span.start))
            is_open = is_open and lane.backoff_until > self.end
        lane.spans.append(
            Span(
                id=self.next_id(f"span-{name}"),
                container=name,
                start=span.start,
                end=end,
                state=span.state,
                attempt=span.attempt,
                label=span.label,
                open=is_open,
            )
        )

    def mark(self, name: str, at: float, kind: str, label: str = "", failed: bool = False) -> None:
        prefix = f"mark-{kind}-{name}" if name else f"mark-{kind}"
        self.marks.append(Mark(self.next_id(prefix), name, at, kind, label, failed))

    # ------------------------------------------------------------------ facts

    def add(self, f: Mapping[str, Any]) -> None:
        kind = str(f["type"])
        at = self.t(int(f["at"]))
        name = f.get("container")
        if isinstance(name, str) and name:
            self.container_fact(name, kind, at, f)
        else:
            self.pod_fact(kind, at, f)

    def pod_fact(self, kind: str, at: float, f: Mapping[str, Any]) -> None:
        if kind == rec.PHASE_CHANGED:
            self.row(PHASE_ROW, at, str(f.get("phase", "")), str(f.get("reason") or ""))
        elif kind == rec.CONDITION_CHANGED:
            row = str(f.get("condition", ""))
            self.row(row, at, str(f.get("status", "")), str(f.get("reason") or ""))
        elif kind == rec.SANDBOX_CREATING:
            self.row(SANDBOX_ROW, at, "creating")
        elif kind == rec.SANDBOX_READY:
            self.row(SANDBOX_ROW, at, "ready", str(f.get("ip") or ""))
        elif kind == rec.SANDBOX_FAILED:
            self.row(SANDBOX_ROW, at, "failed", str(f.get("message") or ""))
        elif kind == rec.SANDBOX_STOPPED:
            self.row(SANDBOX_ROW, at, "stopped")
        elif kind == rec.DELETION_REQUESTED:
            grace = f.get("gracePeriodSeconds")
            label = f"deletion requested (grace {grace}s)" if grace is not None else "deleted"
            self.mark("", at, DELETION, label)
        elif kind == rec.POD_FINISHED:
            self.mark("", at, FINISHED, "all stopped")

    def row(self, name: str, at: float, value: str, reason: str = "") -> None:
        entries = self.rows.setdefault(name, [])
        if entries and entries[-1][1] == value:
            return  # no change: the segment goes on
        entries.append((at, value, reason))

    def container_fact(self, name: str, kind: str, at: float, f: Mapping[str, Any]) -> None:
        lane = self.lane(name)
        attempt = f.get("attempt")
        attempt = attempt if isinstance(attempt, int) else None
        if kind == rec.IMAGE_PULLING:
            self.open_span(name, at, PULLING)
        elif kind == rec.IMAGE_PULLED:
            if lane.span is not None and lane.span.state == PULLING:
                self.close_span(name, at)
        elif kind == rec.IMAGE_PULL_FAILED:
            if lane.span is not None and lane.span.state == PULLING:
                self.close_span(name, at)
            self.mark(name, at, PULL_FAILED, "pull failed", failed=True)
        elif kind == rec.CONTAINER_CREATED:
            self.open_span(name, at, CREATED, attempt)
            lane.backoff_until = None
        elif kind == rec.CONTAINER_STARTED:
            self.open_span(name, at, RUNNING, attempt)
        elif kind == rec.CONTAINER_READY:
            span = lane.span
            if span is not None and span.state in (RUNNING, READY):
                state = READY if f.get("ready") is True else RUNNING
                if state != span.state:
                    self.open_span(name, at, state, span.attempt)
        elif kind == rec.CONTAINER_EXITED:
            self.exited(name, at, f, attempt)
        elif kind == rec.BACK_OFF:
            self.back_off(name, at, f)
        elif kind == rec.START_FAILED:
            self.mark(name, at, START_FAILED, str(f.get("reason") or "start failed"), failed=True)
        elif kind == rec.KILL_REQUESTED:
            self.kill(name, at, f)
        elif kind == rec.SIGNAL_SENT:
            signal = str(f.get("signal") or "")
            mark = SIGKILL if signal in ("SIGKILL", "KILL", "9") else SIGTERM
            self.mark(name, at, mark, signal or "signal", failed=mark == SIGKILL)
        elif kind == rec.HOOK_STARTED:
            self.close_hook(name, at, "")
            lane.hook = (str(f.get("hook") or ""), at)
        elif kind == rec.HOOK_FINISHED:
            self.close_hook(name, at, str(f.get("outcome") or ""))
        elif kind == rec.PROBE:
            self.probe(name, at, f)

    def exited(self, name: str, at: float, f: Mapping[str, Any], attempt: int | None) -> None:
        code = f.get("exitCode")
        ok = code == 0
        self.close_span(name, at)
        label = f"exit {code}" if code is not None else "exited"
        signal = f.get("signal")
        if signal:
            label += f" ({signal})"
        elif f.get("reason") and f.get("reason") not in ("Completed", "Error"):
            label += f" ({f.get('reason')})"
        self.mark(name, at, EXIT, label, failed=not ok)
        self.lane(name).span = _Open(at, EXITED_OK if ok else EXITED_FAILED, attempt, label)

    def back_off(self, name: str, at: float, f: Mapping[str, Any]) -> None:
        lane = self.lane(name)
        if lane.span is not None and lane.span.state == BACKING_OFF:
            return  # the same wait, said again
        seconds = f.get("seconds")
        wait = float(seconds) if isinstance(seconds, int | float) else 0.0
        attempt = lane.span.attempt if lane.span is not None else None
        self.close_span(name, at)
        lane.span = _Open(at, BACKING_OFF, attempt, f"back-off {wait:g}s")
        lane.backoff_until = at + wait

    def kill(self, name: str, at: float, f: Mapping[str, Any]) -> None:
        grace = f.get("gracePeriodSeconds")
        reason = str(f.get("reason") or "")
        self.mark(name, at, KILL, reason or "kill")
        if isinstance(grace, int | float) and not isinstance(grace, bool) and grace > 0:
            gid = self.next_id(f"grace-{name}")
            self.graces.append(Grace(gid, name, at, at + float(grace), float(grace)))

    def close_hook(self, name: str, at: float, outcome: str) -> None:
        lane = self.lane(name)
        if lane.hook is None:
            return
        hook, start = lane.hook
        lane.hook = None
        hid = self.next_id(f"hook-{name}")
        self.hooks.append(HookSpan(hid, name, hook, start, max(at, start), outcome))

    def probe(self, name: str, at: float, f: Mapping[str, Any]) -> None:
        kind = str(f.get("probe") or "")
        result = str(f.get("result") or "")
        count = max(_int(f.get("count")), 1)
        last = self.t(_int(f.get("last"))) if _int(f.get("last")) else at
        step = (last - at) / (count - 1) if count > 1 else 0.0
        message = str(f.get("message") or "")
        for i in range(count):
            pid = self.next_id(f"probe-{kind}-{name}")
            tick_at = at + i * step
            ok = result in rec.PROBE_OK
            self.probes.append(ProbeTick(pid, name, kind, tick_at, ok, result, message))

    # ------------------------------------------------------------------ the end

    def finish(self, title: str, lanes: tuple[Lane, ...], dropped: int) -> Layout:
        for name, lane in self.lanes.items():
            if lane.span is not None:
                still = lane.span.state not in (EXITED_OK, EXITED_FAILED)
                self.close_span(name, self.end, is_open=still)
            if lane.hook is not None:
                self.close_hook(name, self.end, "")
        spans = tuple(s for lane in self.lanes.values() for s in lane.spans)
        return Layout(
            title=title,
            t0=self.t0,
            end=self.end,
            lanes=lanes,
            spans=tuple(sorted(spans, key=lambda s: (s.start, s.id))),
            hooks=tuple(self.hooks),
            probes=tuple(self.probes),
            marks=tuple(self.marks),
            graces=tuple(self.graces),
            bands=self.bands(),
            dropped=dropped,
        )

    def bands(self) -> tuple[Band, ...]:
        out = []
        for name in BAND_ROWS:
            entries = self.rows.get(name)
            if not entries:
                continue
            segments = []
            for i, (start, value, reason) in enumerate(entries):
                stop = entries[i + 1][0] if i + 1 < len(entries) else self.end
                segments.append(BandSegment(f"band-{name}-{i}", start, stop, value, reason))
            out.append(Band(f"band-{name}", name, tuple(segments)))
        return tuple(out)
