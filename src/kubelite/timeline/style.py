"""How the lifecycle picture looks: sizes (inches and points, so it prints as it shows), the
colour-blind-safe palette of Okabe and Ito, the style of each span state, and the legend's
entries (only what a picture shows).

Every failure has a second cue besides its colour: hatching for failed spans and hooks, a
cross for failed probes, start failures and SIGKILL.
"""

from __future__ import annotations

from typing import Any

from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from kubelite.timeline import layout as lay

# Okabe & Ito's palette.
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
BLACK = "#000000"
GREY = "#7F7F7F"
DARK = "#4D4D4D"
LIGHT = "#D9D9D9"
SHADE = "#F4F4F4"
PALE_SKY = "#D4ECF9"  # sky blue, paled: created, about to run
FAILED_TEXT = "#A03A00"  # vermillion, darkened to read on white

DPI = 150  # PNG pixels per inch
WIDTH = 11.0  # inches
LEFT = 2.1  # inches for the lane labels
RIGHT = 0.9  # inches for the probe row names
TOP = 0.72  # inches for the title and the pod marks' labels
AXIS = 0.55  # inches for the time axis and its label
LEGEND_ROW = 0.17  # inches per row of the legend
LEGEND_COLUMNS = 4
BAND_H = 0.2  # inches per band row
LANE_H = 0.7  # inches per lane
GAP = 0.18  # inches between the bands and the lanes
FONT = 9.0  # points
SMALL = 8.0  # points: the smallest text there is
TITLE = 11.0

# Span state -> (face colour, hatch, edge and hatch colour, bar height as a share of the bar)
STATE_STYLE: dict[str, tuple[str, str, str, float]] = {
    lay.PULLING: (YELLOW, "....", GREY, 1.0),
    lay.CREATED: (PALE_SKY, "", GREY, 1.0),
    lay.RUNNING: (SKY, "", BLUE, 1.0),
    lay.READY: (GREEN, "", BLACK, 1.0),
    lay.EXITED_OK: (LIGHT, "", GREY, 0.45),
    lay.EXITED_FAILED: (VERMILLION, "////", "#5C2200", 0.45),
    lay.BACKING_OFF: (ORANGE, "xxx", "#6B4700", 0.7),
}
STATE_WORDS = {
    lay.PULLING: "pulling image",
    lay.CREATED: "created, starting",
    lay.RUNNING: "running",
    lay.READY: "running and ready",
    lay.EXITED_OK: "exited 0",
    lay.EXITED_FAILED: "exited, failed",
    lay.BACKING_OFF: "back-off before a restart",
}
PHASE_COLOURS = {"Pending": YELLOW, "Running": SKY, "Succeeded": GREEN, "Failed": VERMILLION}
SANDBOX_COLOURS = {"creating": YELLOW, "ready": SKY, "failed": VERMILLION, "stopped": LIGHT}
DARK_FACES = frozenset({BLUE, VERMILLION, GREEN})  # white text on these

RC: dict[Any, Any] = {
    "svg.hashsalt": "kubelite-timeline",  # the same layout gives the same SVG
    "svg.fonttype": "path",
    "font.size": FONT,
    "font.family": "DejaVu Sans",
    "hatch.linewidth": 0.8,
    "axes.linewidth": 0.6,
}


def band_style(row: str, value: str) -> tuple[str, str]:
    """(face colour, hatch) of a band segment."""
    if row == lay.PHASE_ROW:
        return PHASE_COLOURS.get(value, LIGHT), "////" if value == "Failed" else ""
    if row == lay.SANDBOX_ROW:
        return SANDBOX_COLOURS.get(value, LIGHT), "////" if value == "failed" else ""
    if value == "True":
        return GREEN, ""
    if value == "False":
        return "white", "////"
    return LIGHT, "...."


def _marker(label: str, **style: Any) -> Line2D:
    return Line2D([], [], linestyle="none", label=label, **style)


def legend_handles(layout: lay.Layout) -> list[Any]:
    """The legend's entries, for what this layout shows."""
    handles: list[Any] = []
    states = {s.state for s in layout.spans} or {lay.RUNNING}
    for state in lay.SPAN_STATES:
        if state in states:
            face, hatch, edge, _ = STATE_STYLE[state]
            handles.append(
                Patch(facecolor=face, hatch=hatch, edgecolor=edge, label=STATE_WORDS[state])
            )
    if layout.hooks:
        handles.append(Patch(facecolor=PURPLE, edgecolor=PURPLE, label="postStart / preStop hook"))
    if any(t.ok for t in layout.probes):
        handles.append(_marker("probe succeeded", color=DARK, marker="|", markersize=8))
    if any(not t.ok for t in layout.probes):
        handles.append(_marker("probe failed", color=VERMILLION, marker="x", markersize=6))
    kinds = {m.kind for m in layout.marks}
    if lay.KILL in kinds:
        handles.append(
            _marker(
                "kill requested",
                marker="D",
                markerfacecolor="white",
                markeredgecolor=BLACK,
                markersize=5,
            )
        )
    if layout.graces:
        handles.append(Line2D([], [], color=BLACK, linestyle=(0, (1, 1.5)), label="grace period"))
    if lay.SIGTERM in kinds:
        handles.append(_marker("stop signal (TERM)", marker="v", color=BLACK, markersize=6))
    if lay.SIGKILL in kinds:
        handles.append(
            _marker("SIGKILL", marker="X", color=VERMILLION, markeredgecolor=BLACK, markersize=7)
        )
    if kinds & {lay.START_FAILED, lay.PULL_FAILED}:
        handles.append(
            _marker("start failed", marker="x", color=VERMILLION, markeredgewidth=1.5, markersize=6)
        )
    if any(b.name not in (lay.PHASE_ROW, lay.SANDBOX_ROW) for b in layout.bands):
        handles.append(Patch(facecolor=GREEN, edgecolor=GREY, label="condition True"))
        handles.append(
            Patch(facecolor="white", hatch="////", edgecolor=GREY, label="condition False")
        )
    if layout.axis.squeezed:
        handles.append(
            Patch(
                facecolor="white",
                edgecolor=GREY,
                linestyle=(0, (2, 2)),
                label="quiet time, drawn shorter",
            )
        )
    return handles
