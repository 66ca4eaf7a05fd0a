"""kubelite's log lines: one logfmt record per line, levelled."""

from __future__ import annotations

import io
import logging

import pytest

from kubelite.commands._logfmt import LogfmtFormatter, configure, level_of


def record(msg: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    r = logging.LogRecord("kubelite.api.server", level, __file__, 1, msg, args, None)
    r.created, r.msecs = 1_700_000_000.0, 123.0
    return r


@pytest.mark.parametrize(
    ("case", "msg", "expected"),
    [
        ("a plain word stays bare", "ready", "msg=ready"),
        ("spaces are quoted", "request failed: GET /api", 'msg="request failed: GET /api"'),
        ("quotes are escaped", 'pod "web"', 'msg="pod \\"web\\""'),
        ("a line break stays on the line", "a\nb", 'msg="a\\nb"'),
    ],
)
def test_a_record_is_one_logfmt_line(case: str, msg: str, expected: str) -> None:
    line = LogfmtFormatter().format(record(msg))
    assert line == (
        f"time=2023-11-14T22:13:20.123Z level=warning logger=kubelite.api.server {expected}"
    )


def test_the_level_chosen_hides_what_is_below_it() -> None:
    out = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure("error", out)
    try:
        logging.getLogger("kubelite.test").warning("hidden")
        logging.getLogger("kubelite.test").error("shown %d", 5)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert "hidden" not in out.getvalue()
    assert 'level=error logger=kubelite.test msg="shown 5"' in out.getvalue()


@pytest.mark.parametrize(("name", "level"), [("debug", 10), ("INFO", 20), ("warn", 30), ("40", 40)])
def test_levels_are_named_in_any_case(name: str, level: int) -> None:
    assert level_of(name) == level


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown log level"):
        level_of("loud")
