"""Running ``kubelite run`` as a user does, and reading its screen.

``KubeliteRun`` starts the command in its own session with its stdout and stderr read line by
line on threads, each line stamped with the monotonic time it arrived, so a test can wait for a
line, send a signal, and measure how long the shutdown took. ``Screen`` parses what it printed:
the ``kubectl get pod -w``-like rows and the ``[pod/container]`` log lines.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.e2e.netranges import unique_ranges

ROW = re.compile(
    r"^(?P<time>\d\d:\d\d:\d\d)\s+(?P<name>\S+)\s+(?P<ready>\d+/\d+)\s+(?P<status>\S+)\s+"
    r"(?P<restarts>\d+)(?: \((?P<ago>[^)]*) ago\))?$"
)
LOG = re.compile(r"^\[(?P<pod>[^/\]]+)/(?P<container>[^\]]+)\] (?P<text>.*)$")


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    ready: str
    status: str
    restarts: int


@dataclass
class Stream:
    lines: list[tuple[float, str]] = field(default_factory=list)
    closed: threading.Event = field(default_factory=threading.Event)

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


def _pump(pipe: IO[str], into: Stream) -> None:
    for line in pipe:
        into.lines.append((time.monotonic(), line.rstrip("\n")))
    into.closed.set()


class KubeliteRun:
    """One ``kubelite run`` subprocess (its own session, so signals reach only it)."""

    def __init__(
        self,
        files: list[Path],
        *,
        data_dir: Path,
        registry_config: Path,
        timeout: float | None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.ranges = unique_ranges()
        argv = [
            sys.executable, "-m", "kubelite", "run",
            "--data-dir", str(data_dir), "--registry-config", str(registry_config),
            *self.ranges.flags(),
            *(("--timeout", f"{timeout:g}") if timeout is not None else ()),
            *extra, *(str(f) for f in files),
        ]  # fmt: skip
        self.data_dir = data_dir
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.out, self.err = Stream(), Stream()
        self.ended: float | None = None
        for pipe, stream in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            assert pipe is not None
            threading.Thread(target=_pump, args=(pipe, stream), daemon=True).start()

    # ------------------------------------------------------------------ driving it

    def wait_for(self, pattern: str, timeout: float = 30) -> float:
        """Wait until a stdout line matches ``pattern`` (a regex); return its arrival time."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            lines = self.out.lines
            for at, line in lines[seen:]:
                if rx.search(line):
                    return at
            seen = len(lines)
            if self.out.closed.is_set() and seen == len(self.out.lines):
                break
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n{self.screen()}")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        """Wait for the exit (and for both pipes to be drained); return the exit code."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"kubelite run still running after {timeout} s:\n{self.screen()}"
            ) from None
        self.ended = time.monotonic()
        self.out.closed.wait(10)
        self.err.closed.wait(10)
        return code

    def kill(self) -> None:
        """SIGKILL by PID (only this process: the session is its own)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def close(self) -> None:
        """Kill if still running, drain and close the pipes."""
        self.kill()
        for pipe, stream in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            stream.closed.wait(10)
            if pipe is not None:
                pipe.close()

    # ------------------------------------------------------------------ reading it

    def screen(self) -> str:
        return f"--- stdout\n{self.out.text()}\n--- stderr\n{self.err.text()}"

    def rows(self, pod: str) -> list[Row]:
        found = []
        for _, line in self.out.lines:
            m = ROW.match(line)
            if m and m["name"] == pod:
                found.append(Row(pod, m["ready"], m["status"], int(m["restarts"])))
        return found

    def statuses(self, pod: str) -> list[str]:
        """The STATUS column as it changed (repeats of the same value collapsed)."""
        out: list[str] = []
        for row in self.rows(pod):
            if not out or out[-1] != row.status:
                out.append(row.status)
        return out

    def logs(self, pod: str, container: str) -> list[str]:
        found = []
        for _, line in self.out.lines:
            m = LOG.match(line)
            if m and m["pod"] == pod and m["container"] == container:
                found.append(m["text"])
        return found

    def index(self, pattern: str) -> int:
        """Position of the first stdout line matching ``pattern`` (-1 if none)."""
        rx = re.compile(pattern)
        for i, (_, line) in enumerate(self.out.lines):
            if rx.search(line):
                return i
        return -1

    def arrival(self, pattern: str) -> float:
        i = self.index(pattern)
        assert i >= 0, f"no line matching {pattern!r}:\n{self.screen()}"
        return self.out.lines[i][0]


def in_order(seen: list[str], expected: list[str]) -> bool:
    """True when ``expected`` occurs in ``seen`` in this order (other items may come between)."""
    it = iter(seen)
    return all(any(s == e for s in it) for e in expected)
