"""The pod lifecycle picture: a timeline of one pod's containers, probes, hooks and
conditions, drawn from its ``PodLifecycle`` record (``record``).

``layout`` turns a record into lanes, spans, marks and bands (pure); ``draw`` paints a layout
with matplotlib, which is imported only when a picture is asked for, so ``kubelite up``'s
start-up never pays for it. ``render`` is the one call the rest of kubelite needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Format = Literal["svg", "png"]


def render(record: Mapping[str, Any], fmt: Format, *, now: float | None = None) -> bytes:
    """The picture of a ``PodLifecycle`` object (a dict, as the API returns it) as SVG or PNG
    bytes. ``now`` (seconds since the epoch): draw a pod still running up to then (by default
    up to its last fact). Raises ``ValueError`` for another format."""
    from kubelite.timeline.draw import draw
    from kubelite.timeline.layout import layout

    return draw(layout(record, now=now), fmt)


__all__ = ["Format", "render"]
