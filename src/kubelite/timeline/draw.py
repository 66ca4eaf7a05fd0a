"""Painting a ``Layout`` with matplotlib, as SVG or PNG.

One figure: the pod's bands (phase, sandbox, conditions) on top, then one lane per container,
on a shared time axis (``axis``: quiet stretches drawn shorter, with their real length
written on them); a legend below. Looks (sizes, palette, legend) are ``style``'s. Each drawn
element gets its layout id as its SVG group id (``set_gid``), so tests and the web view find
lanes, spans, probe ticks and bands by id.

matplotlib is imported here only, and this module only when a picture is drawn.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import blended_transform_factory

from kubelite.timeline import layout as lay
from kubelite.timeline import record as rec
from kubelite.timeline import style as st

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MANY_TICKS = 1500  # beyond this, probe ticks are drawn per probe row, not one by one
NUDGE = 0.004  # of the axis width: text beside a mark
MIN_TICK_GAP = 0.05  # of the axis width: between two tick labels at least


def figure_size(layout: lay.Layout) -> tuple[float, float]:
    """The picture's size in inches: fixed width, height from the bands, lanes and legend
    (a whole number of pixels, a quarter pixel over, so that rounding never loses one)."""
    rows = len(layout.bands) * st.BAND_H + st.GAP + max(len(layout.lanes), 1) * st.LANE_H
    pixels = math.ceil((st.TOP + rows + _bottom(layout)) * st.DPI)
    return st.WIDTH, (pixels + 0.25) / st.DPI


def pixel_size(layout: lay.Layout) -> tuple[int, int]:
    """The PNG's size in pixels."""
    w, h = figure_size(layout)
    return int(w * st.DPI), int(h * st.DPI)


def _bottom(layout: lay.Layout) -> float:
    entries = len(st.legend_handles(layout))
    return st.AXIS + st.LEGEND_ROW * -(-entries // st.LEGEND_COLUMNS) + 0.12


def draw(layout: lay.Layout, fmt: str) -> bytes:
    """The picture as SVG or PNG bytes."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"unknown picture format {fmt!r}: svg or png")
    with matplotlib.rc_context(st.RC):
        fig = _figure(layout)
        out = io.BytesIO()
        metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": "kubelite"}
        fig.savefig(out, format=fmt, dpi=st.DPI, metadata=metadata)
    return out.getvalue()


# ---------------------------------------------------------------------------- the figure


class _Canvas:
    """The axes, and where each band and lane sits: y in inches from the top (1 unit = 1
    inch), x as a fraction of the axis width (``x`` maps seconds through the time axis)."""

    def __init__(self, ax: Axes, layout: lay.Layout) -> None:
        self.ax = ax
        self.layout = layout
        self.band = {b.name: i * st.BAND_H for i, b in enumerate(layout.bands)}
        top = len(layout.bands) * st.BAND_H + (st.GAP if layout.bands else 0.0)
        self.lane = {ln.container: top + ln.row * st.LANE_H for ln in layout.lanes}
        self.bottom = top + max(len(layout.lanes), 1) * st.LANE_H
        self.labels = blended_transform_factory(ax.transAxes, ax.transData)

    def x(self, t: float) -> float:
        return self.layout.axis.x(t)

    def span(self, start: float, end: float, least: float = 0.002) -> tuple[float, float]:
        """(x, width) of seconds ``start``..``end``, at least ``least`` wide."""
        x = self.x(start)
        return x, max(self.x(end) - x, least)

    # A lane, top to bottom (shares of its height): the grace line, the hook bar, the state
    # bar, the probe rows.
    def grace_y(self, container: str) -> float:
        return self.lane[container] + 0.09 * st.LANE_H

    def hook(self, container: str) -> tuple[float, float]:
        return self.lane[container] + 0.13 * st.LANE_H, 0.07 * st.LANE_H

    def bar(self, container: str) -> tuple[float, float]:
        """(top, height) of a container's state bar."""
        return self.lane[container] + 0.25 * st.LANE_H, 0.3 * st.LANE_H

    def probe_row(self, container: str, slot: int, slots: int) -> tuple[float, float]:
        """(top, height) of probe row ``slot`` of ``slots`` under the bar."""
        top = self.lane[container] + 0.6 * st.LANE_H
        height = 0.35 * st.LANE_H / max(slots, 1)
        return top + slot * height, height


def _figure(layout: lay.Layout) -> Figure:
    w, h = figure_size(layout)
    fig = Figure(figsize=(w, h), dpi=st.DPI)
    bottom = _bottom(layout)
    ax = fig.add_axes(
        (st.LEFT / w, bottom / h, (w - st.LEFT - st.RIGHT) / w, (h - st.TOP - bottom) / h)
    )
    canvas = _Canvas(ax, layout)
    ax.set_xlim(0, 1)
    ax.set_ylim(canvas.bottom, 0)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(_axis_label(layout), fontsize=st.FONT)
    fig.suptitle(
        f"Pod {layout.title}: lifecycle", x=st.LEFT / w, ha="left", fontsize=st.TITLE,
        fontweight="bold",
    )  # fmt: skip
    _time_axis(canvas)
    _lanes(canvas)
    _bands(canvas)
    _spans(canvas)
    _hooks(canvas)
    _graces(canvas)
    _probes(canvas)
    _marks(canvas)
    legend = fig.legend(
        handles=st.legend_handles(layout), loc="lower left",
        bbox_to_anchor=(st.LEFT / w, 0.04 / h), ncol=st.LEGEND_COLUMNS, fontsize=st.SMALL,
        frameon=False, handlelength=2.2, columnspacing=1.6, borderaxespad=0.0, borderpad=0.0,
        labelspacing=0.3,
    )  # fmt: skip
    legend.set_gid("legend")
    return fig


def _axis_label(layout: lay.Layout) -> str:
    if not layout.t0:
        return "seconds"
    start = datetime.fromtimestamp(layout.t0 / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    since = "the pod was created" if layout.starts_at_creation else "the first fact"
    note = f"; {layout.dropped} older facts dropped" if layout.dropped else ""
    return f"seconds since {since} ({start}){note}"


def _seconds(t: float) -> str:
    return f"{t:.3f}".rstrip("0").rstrip(".") if t else "0"


def _time_axis(c: _Canvas) -> None:
    """Ticks per linear piece, in real seconds; each squeezed piece shaded, its edges dashed,
    its real length written on it."""
    ticks: list[float] = [0.0]
    labels: list[str] = ["0"]
    for piece in c.layout.axis.pieces:
        if piece.squeezed:
            c.ax.axvspan(piece.x0, piece.x1, facecolor="white", edgecolor="none", zorder=1.5)
            for x in (piece.x0, piece.x1):
                c.ax.axvline(x, color=st.GREY, linestyle=(0, (2, 2)), linewidth=0.6, zorder=1.6)
            length = _seconds(round(piece.end - piece.start, 1))
            c.ax.text(
                (piece.x0 + piece.x1) / 2, c.bottom, f"… {length} s …",
                ha="center", va="top", fontsize=st.SMALL, style="italic", color=st.DARK,
                clip_on=False, zorder=8,
            )  # fmt: skip
            continue
        share = piece.x1 - piece.x0
        if share < MIN_TICK_GAP:
            continue  # the margin, or a sliver between two squeezed stretches
        locator = MaxNLocator(nbins=max(2, round(share * 10)), steps=[1, 2, 2.5, 5, 10])
        for t in locator.tick_values(piece.start, piece.end):
            x = piece.x(t)
            near = ticks and x - ticks[-1] < MIN_TICK_GAP
            if piece.start - 1e-9 <= t <= piece.end + 1e-9 and not near:
                ticks.append(x)
                labels.append(_seconds(float(t)))
    c.ax.set_xticks(ticks, labels, fontsize=st.SMALL)
    c.ax.grid(axis="x", color=st.LIGHT, linewidth=0.5)
    c.ax.set_axisbelow(True)


def _lanes(c: _Canvas) -> None:
    """Lane backgrounds (every other one shaded) with the container's name and kind."""
    for lane in c.layout.lanes:
        top = c.lane[lane.container]
        face = st.SHADE if lane.row % 2 == 0 else "white"
        bg = Rectangle((0, top), 1, st.LANE_H, facecolor=face, edgecolor="none", zorder=0)
        bg.set_gid(lane.id)
        c.ax.add_patch(bg)
        name = c.ax.text(
            -0.012, top + 0.4 * st.LANE_H, lane.label, transform=c.labels, ha="right",
            va="center", fontsize=st.FONT, fontweight="bold", clip_on=False,
        )  # fmt: skip
        name.set_gid(f"label-{lane.container}")
        c.ax.text(
            -0.012, top + 0.7 * st.LANE_H, lane.detail, transform=c.labels, ha="right",
            va="center", fontsize=st.SMALL, color="#333333", clip_on=False,
        )  # fmt: skip


def _bands(c: _Canvas) -> None:
    for band in c.layout.bands:
        top, height = c.band[band.name] + 0.02, st.BAND_H - 0.04
        c.ax.text(
            -0.012, top + height / 2, band.name, transform=c.labels, ha="right", va="center",
            fontsize=st.SMALL, clip_on=False,
        )  # fmt: skip
        row = Rectangle((0, top), 1, height, facecolor="none", edgecolor="none")
        row.set_gid(band.id)  # the row itself, under its segments
        c.ax.add_patch(row)
        for seg in band.segments:
            face, hatch = st.band_style(band.name, seg.value)
            x, width = c.span(seg.start, seg.end, 0.0)
            patch = Rectangle(
                (x, top), width, height, facecolor=face, hatch=hatch, edgecolor=st.GREY,
                linewidth=0.4, zorder=2,
            )  # fmt: skip
            patch.set_gid(seg.id)
            c.ax.add_patch(patch)
            text = _band_text(band, seg)
            if width > 0.012 * len(text) + 0.01:
                c.ax.text(
                    x + NUDGE, top + height / 2, text, ha="left", va="center",
                    fontsize=st.SMALL, zorder=3, clip_on=True,
                    color="white" if face in st.DARK_FACES else st.BLACK,
                )  # fmt: skip


def _band_text(band: lay.Band, seg: lay.BandSegment) -> str:
    if band.name == lay.SANDBOX_ROW or (band.name == lay.PHASE_ROW and seg.value != "Failed"):
        return seg.value
    if seg.reason and seg.value != "True":
        return f"{seg.value}: {seg.reason}"
    return seg.value


def _spans(c: _Canvas) -> None:
    for span in c.layout.spans:
        if span.container not in c.lane:
            continue
        face, hatch, edge, share = st.STATE_STYLE.get(span.state, (st.LIGHT, "", st.GREY, 1.0))
        top, height = c.bar(span.container)
        inset = height * (1 - share) / 2
        x, width = c.span(span.start, span.end)
        patch = Rectangle(
            (x, top + inset), width, height - 2 * inset, facecolor=face, hatch=hatch,
            edgecolor=edge, linewidth=0.6, zorder=3,
        )  # fmt: skip
        patch.set_gid(span.id)
        c.ax.add_patch(patch)
        if span.open:  # still going when the record ends: an arrow head
            c.ax.plot(
                [x + width], [top + height / 2], marker=">", color=edge, markersize=5, zorder=4,
                clip_on=False,
            )  # fmt: skip
        text = ""
        if span.state == lay.BACKING_OFF:
            text = span.label
        elif span.state in (lay.RUNNING, lay.READY) and span.attempt:
            text = f"restart {span.attempt}"
        if text and width > 0.011 * len(text):
            middle = span.state == lay.BACKING_OFF  # clear of the exit code at its start
            c.ax.text(
                x + width / 2 if middle else x + NUDGE, top + height / 2, text,
                ha="center" if middle else "left", va="center", fontsize=st.SMALL,
                zorder=5, color="white" if face in st.DARK_FACES else st.BLACK,
                bbox=None if face != st.ORANGE else {"facecolor": "white", "edgecolor": "none",
                                                      "pad": 0.6, "alpha": 0.85},
            )  # fmt: skip


def _hooks(c: _Canvas) -> None:
    for hook in c.layout.hooks:
        if hook.container not in c.lane:
            continue
        top, height = c.hook(hook.container)
        failed = hook.outcome in (rec.HOOK_FAILED, rec.HOOK_CUT_SHORT)
        x, width = c.span(hook.start, hook.end, 0.003)
        patch = Rectangle(
            (x, top), width, height, facecolor=st.PURPLE, hatch="////" if failed else "",
            edgecolor=st.BLACK if failed else st.PURPLE, linewidth=0.5, zorder=4,
        )  # fmt: skip
        patch.set_gid(hook.id)
        c.ax.add_patch(patch)
        text = hook.hook + ("" if not failed else f" {hook.outcome.lower()}")
        # after the hook, unless a signal's label is there (a preStop's TERM): then before it
        after = x + width
        crowded = any(
            m.container == hook.container and m.kind in (lay.SIGTERM, lay.SIGKILL)
            and 0 <= c.x(m.at) - after < 0.012 * len(text)
            for m in c.layout.marks
        )  # fmt: skip
        c.ax.text(
            x - NUDGE if crowded else after + NUDGE, top + height / 2, text,
            ha="right" if crowded else "left", va="center", fontsize=st.SMALL,
            color="#6A3D5A", zorder=5,
        )  # fmt: skip


def _graces(c: _Canvas) -> None:
    """From the kill request (its diamond) a dotted line to when the grace runs out."""
    for grace in c.layout.graces:
        if grace.container not in c.lane:
            continue
        y = c.grace_y(grace.container)
        end = min(grace.end, c.layout.end)
        (line,) = c.ax.plot(
            [c.x(grace.start), c.x(end)], [y, y], color=st.BLACK, linestyle=(0, (1, 1.5)),
            linewidth=0.9, zorder=3,
        )  # fmt: skip
        line.set_gid(grace.id)
        if grace.end <= c.layout.end:
            c.ax.plot([c.x(end)] * 2, [y - 0.03, y + 0.03], color=st.BLACK, linewidth=0.9)


def _probes(c: _Canvas) -> None:
    kinds: dict[str, list[str]] = {}
    for tick in c.layout.probes:
        present = kinds.setdefault(tick.container, [])
        if tick.probe not in present:
            present.append(tick.probe)
    for container, present in kinds.items():
        present.sort(key=lambda k: rec.PROBE_KINDS.index(k) if k in rec.PROBE_KINDS else 9)
        if container not in c.lane:
            continue
        for slot, kind in enumerate(present):
            top, height = c.probe_row(container, slot, len(present))
            c.ax.text(
                1.006, top + height / 2, kind, transform=c.labels, ha="left", va="center",
                fontsize=st.SMALL, clip_on=False,
            )  # fmt: skip
    one_by_one = len(c.layout.probes) <= MANY_TICKS
    grouped: dict[tuple[str, str, bool], list[float]] = {}
    for tick in c.layout.probes:
        if tick.container not in c.lane:
            continue
        present = kinds[tick.container]
        top, height = c.probe_row(tick.container, present.index(tick.probe), len(present))
        if one_by_one:
            _tick(c, tick, top, height)
        else:
            grouped.setdefault((tick.container, tick.probe, tick.ok), []).append(tick.at)
    for (container, kind, ok), times in grouped.items():
        present = kinds[container]
        top, height = c.probe_row(container, present.index(kind), len(present))
        segments = [[(c.x(t), top + 0.1 * height), (c.x(t), top + 0.9 * height)] for t in times]
        lines = LineCollection(segments, colors=st.DARK if ok else st.VERMILLION, linewidths=0.8)
        lines.set_gid(f"probes-{kind}-{container}-{'ok' if ok else 'failed'}")
        c.ax.add_collection(lines)


def _tick(c: _Canvas, tick: lay.ProbeTick, top: float, height: float) -> None:
    x = c.x(tick.at)
    if tick.ok:
        (artist,) = c.ax.plot(
            [x, x], [top + 0.12 * height, top + 0.88 * height], color=st.DARK, linewidth=0.9,
            zorder=4,
        )  # fmt: skip
    else:
        (artist,) = c.ax.plot(
            [x], [top + height / 2], marker="x", color=st.VERMILLION, markersize=4.5,
            markeredgewidth=1.3, linestyle="none", zorder=5,
        )  # fmt: skip
    artist.set_gid(tick.id)


def _marks(c: _Canvas) -> None:
    placed: list[float] = []  # where the pod marks' labels went, to stagger close ones
    for mark in c.layout.marks:
        if not mark.container:
            x = c.x(mark.at)
            level = sum(1 for at in placed if abs(at - x) < 0.25)
            placed.append(x)
            _pod_mark(c, mark, level)
        elif mark.container in c.lane:
            for artist in _mark_artists(c, mark):
                artist.set_gid(mark.id)


def _mark_artists(c: _Canvas, mark: lay.Mark) -> Iterator[Any]:
    top, height = c.bar(mark.container)
    mid = top + height / 2
    x = c.x(mark.at)
    near_end = x > 0.9
    tx, ha = (x - NUDGE, "right") if near_end else (x + NUDGE, "left")
    white = {"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.85}
    if mark.kind == lay.EXIT:
        yield c.ax.text(
            tx, mid, mark.label, ha=ha, va="center", fontsize=st.SMALL, zorder=6, bbox=white,
            color=st.FAILED_TEXT if mark.failed else st.BLACK,
            fontweight="bold" if mark.failed else None,
        )  # fmt: skip
    elif mark.kind == lay.KILL:
        yield from c.ax.plot(
            [x], [c.grace_y(mark.container)], marker="D", markersize=4.5,
            markerfacecolor="white", markeredgecolor=st.BLACK, linestyle="none", zorder=6,
        )  # fmt: skip
    elif mark.kind == lay.SIGTERM:
        yield from c.ax.plot(
            [x], [top - 0.015], marker="v", markersize=6, color=st.BLACK, linestyle="none",
            zorder=6,
        )  # fmt: skip
        yield c.ax.text(
            x + NUDGE, top - 0.01, mark.label.removeprefix("SIG"), ha="left", va="bottom",
            fontsize=st.SMALL, zorder=6,
        )  # fmt: skip
    elif mark.kind == lay.SIGKILL:
        yield from c.ax.plot(
            [x], [mid], marker="X", markersize=7, color=st.VERMILLION, markeredgecolor=st.BLACK,
            markeredgewidth=0.6, linestyle="none", zorder=6,
        )  # fmt: skip
        yield c.ax.text(
            x + NUDGE, top - 0.01, "KILL", ha="left", va="bottom", fontsize=st.SMALL,
            color=st.FAILED_TEXT, fontweight="bold", zorder=6,
        )  # fmt: skip
    else:  # a failed start or pull
        yield from c.ax.plot(
            [x], [mid], marker="x", markersize=6, color=st.VERMILLION, markeredgewidth=1.5,
            linestyle="none", zorder=6,
        )  # fmt: skip
        yield c.ax.text(
            tx, top + height + 0.02, mark.label, ha=ha, va="top", fontsize=st.SMALL,
            color=st.FAILED_TEXT, zorder=6,
        )  # fmt: skip


def _pod_mark(c: _Canvas, mark: lay.Mark, level: int) -> None:
    """A line across the picture; its label above, a line higher than a close earlier one,
    and toward the middle when near an edge."""
    x = c.x(mark.at)
    style = (0, (4, 2)) if mark.kind == lay.DELETION else (0, (1, 2))
    line = c.ax.axvline(x, color=st.BLACK, linestyle=style, linewidth=0.9, zorder=7)
    line.set_gid(mark.id)
    ha = "right" if x > 0.8 else "left" if x < 0.2 else "center"
    c.ax.text(
        x, -0.04 - 0.17 * level, mark.label, ha=ha, va="bottom", fontsize=st.SMALL, zorder=7,
        clip_on=False,
    )  # fmt: skip
