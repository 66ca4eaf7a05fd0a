"""The live view of ``kubelite run``: each pod's STATUS as ``kubectl get pod -w`` shows it,
one timestamped line per transition, and the containers' logs prefixed by their names.

It only observes: it is fed pod status updates and events by the static source, and follows
log files by the paths the agent lays out (SYNC-7).

Log lines appear in the order the containers ran. A follower starts only when a status update
carries its container's ID, and one update may carry a finished init container and the app
that started after it; so each pod's followers form a chain: a regular init container runs
alone (INIT-1), and nothing started after it prints before its log has been read to the end.
Native sidecars and app containers run side by side, and their lines interleave as written.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from kubelite.agent.eventtext import Event
from kubelite.clock import Clock
from kubelite.model.podprint import pod_row
from kubelite.runtime.logs import log_path

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
        # per pod UID: the follower of the latest regular init container instance
        self._barrier: dict[str, asyncio.Task[None]] = {}
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
        spec = pod.get("spec") or {}
        inits_spec = spec.get("initContainers") or []
        sequential = {  # regular init containers: each runs alone, to completion (INIT-1)
            c["name"] for c in inits_spec if c.get("restartPolicy") != "Always"
        }
        uid = pod["metadata"]["uid"]
        inits = [(cs, cs["name"] in sequential) for cs in status.get("initContainerStatuses") or []]
        apps = [(cs, False) for cs in status.get("containerStatuses") or []]
        for cs, alone in inits + apps:  # the order they ran in
            for cid, attempt, running in _instances(cs):
                key = (uid, cs["name"], cid)
                if key not in self._followers:
                    stop = asyncio.Event()
                    self._followers[key] = stop
                    path = log_path(self._logs_dir, pod, cs["name"], attempt)
                    prefix = f"[{pod['metadata']['name']}/{cs['name']}] "
                    after = self._barrier.get(uid)
                    task = asyncio.get_running_loop().create_task(
                        self._print_log(path, stop, prefix, after)
                    )
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                    if alone:
                        self._barrier[uid] = task
                if not running:
                    self._followers[key].set()

    async def _print_log(
        self, path: Path, stop: asyncio.Event, prefix: str, after: asyncio.Task[None] | None
    ) -> None:
        if after is not None:  # an earlier init container's lines come first, all of them
            await asyncio.wait({after})
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


def _instances(cs: dict[str, Any]) -> list[tuple[str, int, bool]]:
    """(container ID, restart count, running) of the instances a container status names: the
    previous one (``lastState``) first, then the current one. A quick restart may replace an
    instance before any status showed it as current; its lines are printed all the same."""
    out = []
    count = int(cs.get("restartCount", 0))
    last = (cs.get("lastState") or {}).get("terminated") or {}
    if last.get("containerID") and count > 0:
        out.append((str(last["containerID"]), count - 1, False))
    if cs.get("containerID"):
        out.append((str(cs["containerID"]), count, "running" in (cs.get("state") or {})))
    return out
