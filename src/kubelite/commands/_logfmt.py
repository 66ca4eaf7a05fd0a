"""kubelite's log lines: levelled and structured, one ``key=value`` record per line (logfmt).

``time=2024-05-01T10:00:00.123Z level=warning logger=kubelite.api.server msg="request
failed: …"``; a traceback follows its record, indented. ``--log-level`` (every command takes
it) picks the lowest level shown; warnings and errors are always what ``kubelite up`` prints
for a failed request or a pod that fails to start.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _quote(value: str) -> str:
    """Bare when it is one plain word, else double-quoted with ``\\`` and ``"`` escaped."""
    if value and all(c.isalnum() or c in "-._/:@" for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        millis = int(record.msecs)
        line = (
            f"time={stamp}.{millis:03d}Z level={record.levelname.lower()} "
            f"logger={_quote(record.name)} msg={_quote(record.getMessage())}"
        )
        if record.exc_info:
            trace = self.formatException(record.exc_info)
            line += "\n" + "\n".join("    " + t for t in trace.splitlines())
        return line


def level_of(name: str) -> int:
    """``info``, ``INFO`` or a number; raises ValueError for anything else."""
    upper = name.strip().upper()
    if upper in LEVELS:
        return int(getattr(logging, upper))
    if upper == "WARN":
        return logging.WARNING
    if upper.isdigit():
        return int(upper)
    raise ValueError(f"unknown log level {name!r} (one of {', '.join(LEVELS)})")


class LogfmtHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure`` installs (and replaces when called again)."""


def configure(level: str, stream: TextIO | None = None) -> LogfmtHandler:
    """Send every logger's records at ``level`` and above to ``stream`` (stderr) as logfmt;
    the handler a previous call installed goes, other handlers stay."""
    threshold = level_of(level)
    handler = LogfmtHandler(stream or sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, LogfmtHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return handler
