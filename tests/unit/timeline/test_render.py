"""The drawn picture: an SVG whose groups carry the layout's ids, a PNG that decodes to the
size the layout asks for, the same bytes for the same record."""

from __future__ import annotations

import io
import re

import pytest

from kubelite.timeline import draw, render, style
from kubelite.timeline import layout as lay
from tests.unit.timeline import records


def _ids(svg: bytes) -> set[str]:
    return {m.decode() for m in re.findall(rb'<g id="([^"]+)"', svg)}


@pytest.fixture(scope="module")
def svg() -> bytes:
    return render(records.init_and_sidecar(), "svg")


def test_the_svg_has_a_group_per_lane_span_probe_tick_and_band(svg: bytes) -> None:
    ids = _ids(svg)
    got = lay.layout(records.init_and_sidecar())
    assert {"lane-write-config", "lane-monitor", "lane-app"} <= ids
    assert {sp.id for sp in got.spans} <= ids
    assert {t.id for t in got.probes} <= ids
    assert {b.id for b in got.bands} <= ids
    assert {sg.id for b in got.bands for sg in b.segments} <= ids
    assert {"mark-deletion-0", "mark-sigterm-app-0", "mark-sigterm-monitor-0", "legend"} <= ids


def test_the_same_record_gives_the_same_svg(svg: bytes) -> None:
    assert render(records.init_and_sidecar(), "svg") == svg


def test_the_png_decodes_to_the_layout_size() -> None:
    from PIL import Image

    png = render(records.crash_loop(), "png")
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    assert image.size == draw.pixel_size(lay.layout(records.crash_loop()))


def test_more_lanes_make_a_taller_picture() -> None:
    small = draw.figure_size(lay.layout(records.crash_loop()))
    big = draw.figure_size(lay.layout(records.init_and_sidecar()))
    assert small[0] == big[0] and big[1] > small[1]


def test_text_is_never_under_8_points() -> None:
    assert min(style.FONT, style.SMALL) >= 8


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="svg or png"):
        render(records.crash_loop(), "gif")  # type: ignore[arg-type]


def test_importing_the_package_does_not_import_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, kubelite.timeline, kubelite.timeline.layout;print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
