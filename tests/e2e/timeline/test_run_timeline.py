"""``kubelite run --timeline`` on the init-and-sidecar example: the picture is written when
the run ends, by its ``--timeout`` or by Ctrl-C, as SVG (its lanes by id) or PNG (it decodes)."""

from __future__ import annotations

import io
import re
import signal
from pathlib import Path

import pytest

from tests.e2e.run.conftest import StartRun

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "init-and-sidecar.yaml"


def test_the_svg_is_written_when_the_timeout_ends_the_run(
    kubelite_run: StartRun, tmp_path: Path
) -> None:
    out = tmp_path / "out.svg"
    run = kubelite_run(EXAMPLE, timeout=6, extra=("--timeline", str(out)))
    assert run.wait(90) == 0, run.screen()
    assert f"timeline of web-with-monitor written to {out}" in run.out.text()
    svg = out.read_text()
    ids = set(re.findall(r'<g id="([^"]+)"', svg))
    assert {"lane-write-config", "lane-monitor", "lane-app", "legend"} <= ids
    assert {"band-Phase", "band-Initialized", "band-Ready", "mark-deletion-0"} <= ids
    assert {"mark-sigterm-app-0", "mark-sigterm-monitor-0", "mark-exit-write-config-0"} <= ids


def test_the_png_is_written_after_ctrl_c(kubelite_run: StartRun, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "out.png"
    run = kubelite_run(EXAMPLE, timeout=None, extra=("--timeline", str(out)))
    run.wait_for(r"web-with-monitor\s+2/2\s+Running", timeout=60)
    run.signal(signal.SIGINT)
    assert run.wait(60) == 0, run.screen()
    image = Image.open(io.BytesIO(out.read_bytes()))
    image.load()
    assert image.format == "PNG" and image.size[0] == 1650


def test_a_timeline_file_that_is_not_svg_or_png_is_refused(
    kubelite_run: StartRun, tmp_path: Path
) -> None:
    run = kubelite_run(EXAMPLE, timeout=1, extra=("--timeline", str(tmp_path / "out.gif")))
    assert run.wait(30) == 2
    assert "name a .svg, .png or .json file" in run.err.text()
