"""The picture's time axis: linear where things happen, squeezed where nothing does.

A pod's life is mostly quiet: init containers run for milliseconds, then the app runs for
hours, then the deletion plays out in a second. On one linear axis the two moments a reader
wants to see (the start order, the stop order) would be slivers at either end. So each long
quiet stretch, with no fact but probe results in it, is drawn in a fixed narrow piece and
labelled with its real length; the busy stretches share the rest of the width at one common
scale, so durations stay comparable between them. Pure.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

GAP_MIN = 0.5  # seconds: a quiet stretch shorter than this is never squeezed
GAP_SHARE = 0.4  # ... nor one shorter than this share of the time still drawn to scale
MAX_SQUEEZED = 3  # quiet stretches squeezed at most, the longest first
GAP_WIDTH = 0.07  # of the axis width: what one squeezed stretch is drawn in
MARGIN = 0.03  # of the axis width: left after the end, at the last piece's scale
PAD_SHARE = 0.15  # of a busy stretch's length kept to scale on both sides of it ...
PAD_MIN, PAD_MAX = 0.03, 0.4  # ... within these many seconds
MIN_BUSY = 0.3  # of the axis width: a busy stretch with several facts is drawn this wide


@dataclass(frozen=True, slots=True)
class Piece:
    """Seconds ``start``..``end`` drawn at axis fractions ``x0``..``x1``."""

    start: float
    end: float
    x0: float
    x1: float
    squeezed: bool = False

    def x(self, t: float) -> float:
        if self.end <= self.start:
            return self.x0
        return self.x0 + (t - self.start) * (self.x1 - self.x0) / (self.end - self.start)


@dataclass(frozen=True, slots=True)
class TimeAxis:
    pieces: tuple[Piece, ...]

    @property
    def end(self) -> float:
        return self.pieces[-1].end if self.pieces else 0.0

    def x(self, t: float) -> float:
        """Where second ``t`` is drawn, as a fraction of the axis width (clamped to it)."""
        if not self.pieces:
            return 0.0
        starts = [p.start for p in self.pieces]
        i = max(bisect.bisect_right(starts, t) - 1, 0)
        return min(max(self.pieces[i].x(t), 0.0), 1.0)

    def width(self, start: float, end: float) -> float:
        return self.x(end) - self.x(start)

    @property
    def squeezed(self) -> tuple[Piece, ...]:
        return tuple(p for p in self.pieces if p.squeezed)


def linear(end: float) -> TimeAxis:
    return TimeAxis(
        (Piece(0.0, end, 0.0, 1.0 - MARGIN), Piece(end, end / (1 - MARGIN), 1.0 - MARGIN, 1.0))
    )


def _quiet(moments: list[float]) -> list[tuple[float, float]]:
    """The gaps between ``moments`` to squeeze: repeatedly the longest, while it is long
    (``GAP_MIN``) and a large share (``GAP_SHARE``) of the time left to scale."""
    gaps = sorted(((b - a, a, b) for a, b in itertools.pairwise(moments)), reverse=True)
    scaled = moments[-1] - moments[0]
    chosen: list[tuple[float, float]] = []
    for length, a, b in gaps[:MAX_SQUEEZED]:
        if length < GAP_MIN or length < GAP_SHARE * scaled:
            break
        chosen.append((a, b))
        scaled -= length
    return sorted(chosen)


def _padded(quiet: list[tuple[float, float]], end: float) -> list[tuple[float, float]]:
    """Each squeezed gap shrunk at both ends by a pad of the busy stretch beside it, so what
    happens at its edges stays to scale."""
    edges = [0.0, *(x for gap in quiet for x in gap), end]
    busy = [edges[i + 1] - edges[i] for i in range(0, len(edges), 2)]  # stretches between gaps
    out = []
    for i, (a, b) in enumerate(quiet):
        left = min(max(PAD_SHARE * busy[i], PAD_MIN), PAD_MAX)
        right = min(max(PAD_SHARE * busy[i + 1], PAD_MIN), PAD_MAX)
        room = (b - a) / 3
        out.append((a + min(left, room), b - min(right, room)))
    return out


def _widths(stretches: list[tuple[float, float]], moments: list[float], room: float) -> list[float]:
    """How wide each busy stretch is drawn, out of ``room``: to one common scale, except that
    a stretch where several things happen gets ``MIN_BUSY`` of it at least (a deletion that
    plays out in 50 ms beside a start-up of a second), the others giving way in proportion."""
    total = sum(b - a for a, b in stretches) or 1.0
    widths = [room * (b - a) / total for a, b in stretches]
    eventful = [sum(1 for t in moments if a <= t <= b) > 1 for a, b in stretches]
    small = [i for i, w in enumerate(widths) if eventful[i] and w < room * MIN_BUSY]
    if not small or len(small) * MIN_BUSY >= 1.0:
        return widths
    rest = sum(w for i, w in enumerate(widths) if i not in small)
    keep = room * (1.0 - MIN_BUSY * len(small))
    return [room * MIN_BUSY if i in small else w * keep / rest for i, w in enumerate(widths)]


def time_axis(busy: Iterable[float], end: float) -> TimeAxis:
    """The axis over 0..``end`` seconds (and a small margin after), with the long quiet
    stretches between ``busy`` moments squeezed (``_quiet``) and the busy ones between them
    drawn to scale (``_widths``)."""
    if end <= 0:
        end = 1.0
    moments = sorted({min(max(t, 0.0), end) for t in busy} | {0.0, end})
    quiet = _padded(_quiet(moments), end)
    edges = [0.0, *(x for gap in quiet for x in gap), end]
    stretches = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2)]
    room = 1.0 - MARGIN - GAP_WIDTH * len(quiet)
    widths = _widths(stretches, moments, room)
    pieces: list[Piece] = []
    x = 0.0
    for i, (a, b) in enumerate(stretches):
        if b > a:
            pieces.append(Piece(a, b, x, x + widths[i]))
            x += widths[i]
        if i < len(quiet):
            gap_a, gap_b = quiet[i]
            pieces.append(Piece(gap_a, gap_b, x, x + GAP_WIDTH, squeezed=True))
            x += GAP_WIDTH
    last = next(p for p in reversed(pieces) if not p.squeezed)
    scale = (last.x1 - last.x0) / (last.end - last.start) if last.end > last.start else 1.0
    pieces.append(Piece(end, end + (1.0 - x) / scale, x, 1.0))  # the margin
    return TimeAxis(tuple(pieces))
