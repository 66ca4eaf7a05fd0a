"""Which text becomes a terminated container's message (TM-2), and restart counts recovered
from log file names (SYNC-7).

The executor does the reading (the file on the host, the container log); these functions only
choose and trim, so the rules stay testable without files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FILE_TAIL = 4096  # TM-2: last bytes of the termination-message file
LOG_LINES = 80  # TM-2: FallbackToLogsOnError reads the last 80 log lines …
LOG_TAIL = 2048  # … capped to their last 2048 bytes


def from_file(data: bytes) -> str:
    """TM-2: the last 4096 bytes of the termination-message file."""
    return data[-FILE_TAIL:].decode(errors="replace")


def from_logs(log_lines: Iterable[str]) -> str:
    """TM-2: the last 80 lines of the container log (message text only), last 2048 bytes."""
    lines = list(log_lines)[-LOG_LINES:]
    data = "".join(line if line.endswith("\n") else line + "\n" for line in lines).encode()
    return data[-LOG_TAIL:].decode(errors="replace")


def wants_logs(policy: str, exit_code: int, reason: str, file_text: str) -> bool:
    """TM-2: FallbackToLogsOnError with a non-zero exit, not ContainerCannotRun, empty file."""
    return (
        policy == "FallbackToLogsOnError"
        and exit_code != 0
        and reason != "ContainerCannotRun"
        and not file_text
    )


def file_error(host_path: str, err: str) -> str:
    return f"Error on reading termination log {host_path}: {err}"


def log_error(err: str) -> str:
    return f"Error on reading termination message from logs: {err}"


_LOG_NAME = re.compile(r"^(\d+)\.log$")


def restart_count_from_logs(file_names: Iterable[str]) -> int:
    """SYNC-7: with no earlier instance left, the highest ``<n>.log`` + 1, else 0."""
    counts = [int(m.group(1)) for name in file_names if (m := _LOG_NAME.match(name))]
    return max(counts) + 1 if counts else 0
