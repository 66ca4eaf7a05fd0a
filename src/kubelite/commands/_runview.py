"""The live view of ``kubelite run``: each pod's STATUS as ``kubectl get pod -w`` shows it,
one timestamped line per transition, and the containers' logs prefixed by their names.

It only observes: it is fed pod status updates and events by the static source, and follows
log files by the paths the agent lays out (SYNC-7).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from kubelite.agent.containerconfig import log_path
from kubelite.agent.eventtext import Event
from kubelite.clock import Clock
from kubelite.model.podprint import pod_row

LogFollow = Callable[[Path, asyncio.Event], AsyncIterator[str]]


class RunView:
    def __init__(
        self,
        *,
        clock: Clock,
        pod_logs_dir: Path,
        follow: LogFollow,
        out: TextIO = sys.stdout,
        show_events: bool = False,
        show_logs: bool = True,
    ) -> None:
        self._clock = clock
        self._logs_dir = pod_logs_dir
        self._follow = follow
        self._out = out
        self._show_events = show_events
        self._show_logs = show_logs
        self._last: dict[str, tuple[str, str, str]] = {}
        self._followers: dict[tuple[str, str, str], asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._header = False
        self._width = 24

    def _stamp(self) -> str:
        return datetime.fromtimestamp(self._clock.now()).strftime("%H:%M:%S")

    def _line(self, text: str) -> None:
        self._out.write(text + "\n")
        self._out.flush()

    # ------------------------------------------------------------------ observers

    def on_status(self, pod: dict[str, Any]) -> None:
        name = pod["metadata"]["name"]
        row = pod_row(pod, self._clock.now())
        triple = (row.ready, row.status, row.restarts)
        if self._last.get(name) != triple:
            self._last[name] = triple
            self._width = max(self._width, len(name) + 2)
            if not self._header:
                self._header = True
                self._line(f"{'TIME':<10}{'NAME':<{self._width}}{'READY':<8}{'STATUS':<24}RESTARTS")
            self._line(  # a STATUS longer than its column still gets a space after it
                f"{self._stamp():<10}{name:<{self._width}}{row.ready:<8}{row.status:<23} "
                f"{row.restarts}"
            )
        if self._show_logs:
            self._follow_new_instances(pod)

    def on_event(self, pod: dict[str, Any], event: Event) -> None:
        if self._show_events:
            who = pod["metadata"]["name"]
            self._line(
                f"{self._stamp():<10}event {who}: {event.type} {event.reason}: {event.message}"
            )

    def phase_line(self, text: str) -> None:
        self._line(f"{self._stamp():<10}{text}")

    # ------------------------------------------------------------------ logs

    def _follow_new_instances(self, pod: dict[str, Any]) -> None:
        status = pod.get("status") or {}
        all_statuses = [
            *(status.get("initContainerStatuses") or []),
            *(status.get("containerStatuses") or []),
        ]
        for cs in all_statuses:
            cid = cs.get("containerID")
            if not cid:
                continue
            key = (pod["metadata"]["uid"], cs["name"], cid)
            running = "running" in (cs.get("state") or {})
            if key not in self._followers:
                stop = asyncio.Event()
                self._followers[key] = stop
                path = log_path(self._logs_dir, pod, cs["name"], int(cs.get("restartCount", 0)))
                prefix = f"[{pod['metadata']['name']}/{cs['name']}] "
                task = asyncio.get_running_loop().create_task(self._print_log(path, stop, prefix))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if not running:
                self._followers[key].set()

    async def _print_log(self, path: Path, stop: asyncio.Event, prefix: str) -> None:
        async for text in self._follow(path, stop):
            self._line(prefix + text)

    async def close(self) -> None:
        for stop in self._followers.values():
            stop.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
