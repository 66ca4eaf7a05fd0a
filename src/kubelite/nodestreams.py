"""The node side of ``pods/log`` and ``pods/exec``: the API server's LogSource and
ExecBackend, served from this node's log files and runtime.

It sits between the layers on purpose: it implements the API's Protocols with the runtime's
readers, so neither the API nor the agent has to know the other. Messages for containers that
cannot be served are the kubelet's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from kubelite.agent.containerconfig import log_path
from kubelite.api.streams import ExecBackend, ExecIO, ExecRequest, LogOptions, LogSource
from kubelite.api.streams import StreamUnavailable as Unavailable
from kubelite.clock import Clock
from kubelite.runtime import logs
from kubelite.runtime.interface import ContainerState, Runtime, RuntimeError_


def _status_of(pod: dict[str, Any], container: str) -> dict[str, Any] | None:
    status = pod.get("status") or {}
    for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        for cs in status.get(key) or []:
            if cs.get("name") == container:
                return dict(cs)
    return None


def _runtime_id(container_id: str) -> str:
    return container_id.split("://", 1)[-1]


class NodeStreams(LogSource, ExecBackend):
    def __init__(self, *, runtime: Runtime, pod_logs_dir: Path, clock: Clock) -> None:
        self._runtime = runtime
        self._logs_dir = pod_logs_dir
        self._clock = clock

    # ------------------------------------------------------------------ logs

    def stream(self, pod: dict[str, Any], opts: LogOptions) -> AsyncIterator[bytes]:
        path, cid = self._log_target(pod, opts)  # raises before the first byte
        return self._stream(path, cid, opts)

    def _log_target(self, pod: dict[str, Any], opts: LogOptions) -> tuple[Path, str]:
        name, pod_name = opts.container, pod["metadata"]["name"]
        cs = _status_of(pod, name)
        if cs is None or not cs.get("containerID"):
            waiting = ((cs or {}).get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason") or "ContainerCreating"
            raise Unavailable(
                f'container "{name}" in pod "{pod_name}" is waiting to start: {reason}'
            )
        restarts = int(cs.get("restartCount") or 0)
        if opts.previous:
            # The kubelet serves the instance lastState names. Waiting after a crash (CS-3),
            # that is the newest instance itself: its log is <restartCount>.log, and the one
            # before it may be gone already (container GC keeps one dead instance).
            last = (cs.get("lastState") or {}).get("terminated") or {}
            newest = bool(last) and last.get("containerID") == cs["containerID"]
            if not last or (restarts == 0 and not newest):
                raise Unavailable(
                    f'previous terminated container "{name}" in pod "{pod_name}" not found'
                )
            attempt = restarts if newest else restarts - 1
            return log_path(self._logs_dir, pod, name, attempt), ""
        return log_path(self._logs_dir, pod, name, restarts), _runtime_id(cs["containerID"])

    async def _stream(self, path: Path, cid: str, opts: LogOptions) -> AsyncIterator[bytes]:
        since = opts.since_time
        if since is None and opts.since_seconds is not None:
            since = self._clock.now() - opts.since_seconds
        ropts = logs.LogOptions(
            timestamps=opts.timestamps, tail=opts.tail_lines, since=since,
            limit_bytes=opts.limit_bytes,
        )  # fmt: skip
        if not opts.follow or not cid:
            yield logs.read_log(path, ropts)
            return

        async def running() -> bool:
            with contextlib.suppress(RuntimeError_):
                status = await self._runtime.container_status(cid)
                return status.state is ContainerState.RUNNING
            return False

        async for chunk in logs.follow_log(path, ropts, running):
            yield chunk

    # ------------------------------------------------------------------ exec

    async def run(self, request: ExecRequest, io: ExecIO) -> int:
        cs = _status_of(request.pod, request.container)
        running = cs is not None and "running" in (cs.get("state") or {})
        if cs is None or not running or not cs.get("containerID"):
            raise Unavailable(f'container not found ("{request.container}")')
        try:
            session = await self._runtime.exec_stream(
                _runtime_id(cs["containerID"]), request.command, tty=request.tty,
                stdin=request.stdin,
            )  # fmt: skip
        except RuntimeError_ as err:
            raise Unavailable(str(err)) from err

        async def pump_out(stream: AsyncIterator[bytes], write: Any) -> None:
            async for data in stream:
                await write(data)

        async def pump_in() -> None:
            while (data := await io.stdin.get()) is not None:
                await session.write_stdin(data)
            await session.close_stdin()

        async def pump_resize() -> None:
            while True:
                width, height = await io.resize.get()
                await session.resize(width, height)

        helpers = [asyncio.create_task(pump_resize())]
        if request.stdin:
            helpers.append(asyncio.create_task(pump_in()))
        try:
            await asyncio.gather(
                pump_out(session.stdout(), io.write_stdout),
                pump_out(session.stderr(), io.write_stderr),
            )
            return await session.wait()
        except asyncio.CancelledError:
            await session.kill()
            raise
        finally:
            for t in helpers:
                t.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
