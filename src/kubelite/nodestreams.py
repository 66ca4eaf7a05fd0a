"""The node side of ``pods/log``, ``exec``, ``attach`` and ``portforward``: the API server's
LogSource and ExecBackend, served from this node's log files, runtime and pod namespaces.

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

from kubelite.api.streams import (
    AttachRequest,
    ExecBackend,
    ExecRequest,
    LogOptions,
    LogSource,
    PortDialer,
    RemoteProcess,
)
from kubelite.api.streams import StreamUnavailable as Unavailable
from kubelite.clock import Clock
from kubelite.runtime import logs, netdial
from kubelite.runtime.interface import ContainerState, Runtime, RuntimeError_
from kubelite.runtime.logs import log_path

FORWARD_BUFFER = 1 << 20  # a forwarded connection's read buffer
# The kubelet's words for the commonest waiting reasons in a log request's refusal.
_WAITING_WORDS = {
    "ErrImagePull": "image can't be pulled",
    "ImagePullBackOff": "trying and failing to pull image",
}


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
        """The log file of the instance the kubelet would read (its
        ``validateContainerLogStatus``), and the container to follow ("" when it is over);
        the kubelet's message when there is none."""
        name, pod_name = opts.container, pod["metadata"]["name"]
        where = f'container "{name}" in pod "{pod_name}"'
        cs = _status_of(pod, name)
        if cs is None:  # not reported yet: the kubelet reports it waiting at once
            raise Unavailable(f"{where} is waiting to start: ContainerCreating")
        state = cs.get("state") or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        restarts = int(cs.get("restartCount") or 0)
        current = str(cs.get("containerID") or "")
        # Waiting after a crash (CS-3), lastState is the newest instance itself, whose log is
        # <restartCount>.log; the one before it may be gone already (container GC keeps one).
        newest = bool(last.get("containerID")) and last.get("containerID") == current
        last_attempt = restarts if newest else restarts - 1
        if opts.previous:
            if not last.get("containerID") or last_attempt < 0:
                raise Unavailable(
                    f'previous terminated container "{name}" in pod "{pod_name}" not found'
                )
            return log_path(self._logs_dir, pod, name, last_attempt), ""
        if "running" in state and current:
            return log_path(self._logs_dir, pod, name, restarts), _runtime_id(current)
        if "terminated" in state:
            if (state["terminated"] or {}).get("containerID"):
                return log_path(self._logs_dir, pod, name, restarts), ""
            if last.get("containerID") and last_attempt >= 0:
                return log_path(self._logs_dir, pod, name, last_attempt), ""
            raise Unavailable(f"{where} is terminated")
        if last:
            if not last.get("containerID") or last_attempt < 0:
                raise Unavailable(f"{where} is terminated")
            return log_path(self._logs_dir, pod, name, last_attempt), ""
        if "waiting" in state:
            reason = (state["waiting"] or {}).get("reason") or ""
            why = _WAITING_WORDS.get(reason, reason)
            raise Unavailable(f"{where} is waiting to start: {why}")
        raise Unavailable(f"{where} is waiting to start - no logs yet")

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

    # ------------------------------------------------------------------ exec, attach

    def _running_id(self, pod: dict[str, Any], container: str) -> str | None:
        cs = _status_of(pod, container)
        running = cs is not None and "running" in (cs.get("state") or {})
        if cs is None or not running or not cs.get("containerID"):
            return None
        return _runtime_id(cs["containerID"])

    async def exec(self, request: ExecRequest) -> RemoteProcess:
        """The kubelet's GetExec: the container must be running."""
        cid = self._running_id(request.pod, request.container)
        if cid is None:
            raise Unavailable(f'container not found ("{request.container}")')
        try:
            return await self._runtime.exec_stream(
                cid, request.command, tty=request.tty, stdin=request.stdin
            )
        except RuntimeError_ as err:
            raise Unavailable(f'container not found ("{request.container}")') from err

    async def attach(self, request: AttachRequest) -> RemoteProcess:
        """The kubelet's GetAttach: the container must be running."""
        cid = self._running_id(request.pod, request.container)
        missing = f"container {request.container} not found in pod {_full_name(request.pod)}"
        if cid is None:
            raise Unavailable(missing)
        try:
            return await self._runtime.attach(cid)
        except RuntimeError_ as err:
            raise Unavailable(missing) from err

    # ------------------------------------------------------------------ port-forward

    async def port_forward(self, pod: dict[str, Any]) -> PortDialer:
        """The kubelet's GetPortForward: the pod must have a sandbox here."""
        uid = str(pod["metadata"].get("uid", ""))
        ready = [s for s in await self._runtime.list_sandboxes(uid) if s.ready]
        if not ready:
            raise Unavailable(f'pod not found ("{_full_name(pod)}")')
        sandbox = max(ready, key=lambda s: s.created_at)
        return SandboxDialer(sandbox.id, sandbox.netns_path)


def _full_name(pod: dict[str, Any]) -> str:
    meta = pod["metadata"]
    return f"{meta['name']}_{meta.get('namespace', 'default')}"


class SandboxDialer(PortDialer):
    """Connections to ``localhost`` inside a sandbox's network namespace, as containerd's
    port-forward makes them (the node's own namespace for a host-network pod)."""

    def __init__(self, sandbox_id: str, netns_path: str) -> None:
        self.sandbox_id = sandbox_id
        self.netns_path = netns_path

    async def connect(self, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await netdial.dial_localhost(self.netns_path or None, port, limit=FORWARD_BUFFER)
        except netdial.LocalhostUnreachable as err:
            cause = (
                f"failed to connect to localhost:{port} inside namespace "
                f'"{self.sandbox_id}", IPv4: {err.ipv4} IPv6 {err.ipv6} '
            )
        except OSError as err:  # the namespace itself is gone
            cause = str(err)
        raise Unavailable(
            f"error forwarding port {port} to pod {self.sandbox_id}, uid : failed to execute "
            f'portforward in network namespace "{self.netns_path}": {cause}'
        )
