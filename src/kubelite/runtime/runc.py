"""The real Runtime: pod sandboxes of namespaces, containers of runc under conmon.

This class only composes the parts (sandboxes, containers, volumes, exec, events); each part
keeps its state in files under ``Settings.runtime_dir``, so a second RuncRuntime on the same
data directory adopts everything the first one left running, and ``close`` stops nothing.

    runtime = RuncRuntime(settings, rootfs=provider)   # clock= and network= are optional

The clock only stamps times (created, started, events); waits for real processes use real
time whatever clock is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import Sequence

from kubelite.clock import Clock, SystemClock
from kubelite.images.interface import RootfsProvider
from kubelite.runtime import attach as attaching
from kubelite.runtime import exec as execs
from kubelite.runtime import volumes
from kubelite.runtime.cgroups import PodCgroups
from kubelite.runtime.containers import Containers
from kubelite.runtime.dirwatch import DirWatch
from kubelite.runtime.host import read_oom_score_adj_floor
from kubelite.runtime.interface import (
    ContainerConfig,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    EventKind,
    ExecResult,
    ExecSession,
    PodStorage,
    RuntimeError_,
    RuntimeEvent,
    RuntimeEvents,
    RuntimeInfo,
    SandboxConfig,
    SandboxStatus,
    VolumeSpec,
)
from kubelite.runtime.mounts import mounts_under, unmount_all_under
from kubelite.runtime.network import LoopbackNetwork, PodNetwork
from kubelite.runtime.runc_cli import Runc
from kubelite.runtime.sandbox import Sandboxes
from kubelite.runtime.state import ContainerRecord
from kubelite.settings import Settings

# Exits are noticed through inotify on conmon's exit folder (dirwatch); the poll is the
# fallback for a kernel out of inotify watches, and a safety net.
EXIT_POLL_SECONDS = 0.05
EXIT_POLL_WATCHED = 1.0


class RuncRuntime:
    def __init__(
        self,
        settings: Settings,
        rootfs: RootfsProvider,
        *,
        clock: Clock | None = None,
        network: PodNetwork | None = None,
        collect_orphans: bool = True,
    ) -> None:
        """``collect_orphans=False`` for a reader beside the owner (an API server serving logs
        and exec while a separate ``kubelite agent`` runs pods): it must not delete the
        half-made folders of a container the owner is creating right now."""
        self.settings = settings
        self.clock = clock or SystemClock()
        settings.make_data_dir()
        for d in (settings.runtime_dir, settings.runc_root, settings.pods_dir):
            d.mkdir(mode=0o700, exist_ok=True)
            os.chmod(d, 0o700)  # what lies below holds Secrets: root only, whatever was before
        self._info = RuntimeInfo(oom_score_adj_floor=read_oom_score_adj_floor())
        self.cgroups = PodCgroups(settings.data_dir)
        self.runc = Runc(settings.runc_root)
        self.sandboxes = Sandboxes(
            runtime_dir=settings.runtime_dir, cgroups=self.cgroups,
            network=network or LoopbackNetwork(), clock=self.clock,
        )  # fmt: skip
        self.containers = Containers(
            runtime_dir=settings.runtime_dir, pods_dir=settings.pods_dir, runc=self.runc,
            rootfs=rootfs, cgroups=self.cgroups, sandboxes=self.sandboxes, clock=self.clock,
            on_event=self._publish, oom_score_adj_floor=self._info.oom_score_adj_floor,
        )  # fmt: skip
        self._subscribers: list[asyncio.Queue[RuntimeEvent | None]] = []
        self._closed = False
        if collect_orphans:
            self._collect_orphans()

    def _collect_orphans(self) -> None:
        """Folders a crash left half-made (no record written yet): unmount and delete them,
        and a half-made sandbox's pod cgroup (made just before its record is written), so a
        kill -9 in that moment leaves no cgroup behind. A data directory belongs to one
        kubelite, so nothing else is creating them now."""
        for root, record in (
            (self.containers.root, "container.json"),
            (self.sandboxes.root, "sandbox.json"),
        ):
            if not root.is_dir():
                continue
            for d in root.iterdir():
                if d.is_dir() and not (d / record).exists():
                    unmount_all_under(d)
                    if record == "sandbox.json":
                        with contextlib.suppress(OSError):  # no process is in it: best effort
                            self.cgroups.remove_pod(d.name)
                    if not mounts_under(d):
                        shutil.rmtree(d, ignore_errors=True)

    # ------------------------------------------------------------------ sandboxes

    async def run_sandbox(self, config: SandboxConfig) -> str:
        return await self.sandboxes.create(config)

    async def stop_sandbox(self, sandbox_id: str) -> None:
        record = self.sandboxes.load(sandbox_id)
        if record is None:
            return
        mine = [c for c in self.containers.all() if c.sandbox_id == sandbox_id]
        await asyncio.gather(*(self.containers.stop(c.id, 0) for c in mine))
        await self.sandboxes.stop(record)

    async def remove_sandbox(self, sandbox_id: str) -> None:
        record = self.sandboxes.load(sandbox_id)
        if record is None:
            return
        await self.stop_sandbox(sandbox_id)
        mine = [c for c in self.containers.all() if c.sandbox_id == sandbox_id]
        await asyncio.gather(*(self.containers.remove(c.id) for c in mine))
        await self.sandboxes.remove(record)
        if not self.sandboxes.all(record.pod_uid):
            volumes.release_memory_files(self.settings.pods_dir, record.pod_uid)

    async def list_sandboxes(self, pod_uid: str | None = None) -> list[SandboxStatus]:
        return [self.sandboxes.status(r) for r in self.sandboxes.all(pod_uid)]

    # ------------------------------------------------------------------ volumes

    async def prepare_volumes(
        self, pod_uid: str, volumes_: Sequence[VolumeSpec], *, fs_group: int | None = None
    ) -> None:
        try:
            volumes.prepare_pod_volumes(self.settings.pods_dir, pod_uid, volumes_, fs_group)
        except OSError as e:
            raise RuntimeError_(f"failed to prepare volumes of pod {pod_uid}: {e}") from e

    async def remove_volumes(self, pod_uid: str) -> None:
        volumes.remove_pod_volumes(self.settings.pods_dir, pod_uid)

    # ------------------------------------------------------------------ containers

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        return await self.containers.create(sandbox_id, config)

    async def start_container(self, container_id: str) -> None:
        await self.containers.start(container_id)

    async def stop_container(self, container_id: str, timeout: float, signal: str = "") -> None:
        await self.containers.stop(container_id, timeout, signal)

    async def remove_container(self, container_id: str) -> None:
        await self.containers.remove(container_id)

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        return [self.containers.status(r) for r in self.containers.all(sandbox_id)]

    async def container_status(self, container_id: str) -> ContainerStatus:
        return self.containers.status(self.containers.get(container_id))

    async def container_stats(self, container_id: str) -> ContainerStats:
        record = self.containers.get(container_id)
        return ContainerStats(
            memory_bytes=self.cgroups.memory_usage(record.cgroup_path),
            cpu_usage_ns=self.cgroups.cpu_usage_ns(record.cgroup_path),
            working_set_bytes=self.cgroups.working_set(record.cgroup_path),
        )

    async def pod_storage(self, pod_uid: str) -> PodStorage:
        """Walks the folders (a ``du``), in a thread: a full emptyDir can be many files."""
        return await asyncio.to_thread(self._pod_storage, pod_uid)

    def _pod_storage(self, pod_uid: str) -> PodStorage:
        latest: dict[str, ContainerRecord] = {}
        for sandbox in self.sandboxes.all(pod_uid):
            for c in self.containers.all(sandbox.id):
                if c.name not in latest or c.created_at >= latest[c.name].created_at:
                    latest[c.name] = c
        return PodStorage(
            volumes=volumes.empty_dir_usage(self.settings.pods_dir, pod_uid),
            containers={n: self.containers.disk_usage(c) for n, c in latest.items()},
        )

    async def info(self) -> RuntimeInfo:
        return self._info

    async def wait_container(self, container_id: str, timeout: float) -> bool:
        """Not part of the Protocol: True once the container has exited (tests, bench)."""
        record = self.containers.get(container_id)
        return await self.containers.wait_exit(record, timeout)

    # ------------------------------------------------------------------ exec

    def _running(self, container_id: str) -> None:
        record = self.containers.get(container_id)
        if self.containers.state(record) is not ContainerState.RUNNING:
            raise RuntimeError_(f"container {container_id[:12]} is not running")

    async def exec_sync(
        self, container_id: str, argv: Sequence[str], *, timeout: float | None = None
    ) -> ExecResult:
        self._running(container_id)
        work = self.containers.dir(container_id) / "exec"
        return await execs.exec_sync(self.runc, container_id, argv, work, timeout)

    async def exec_stream(
        self, container_id: str, argv: Sequence[str], *, tty: bool = False, stdin: bool = False
    ) -> ExecSession:
        self._running(container_id)
        work = self.containers.dir(container_id) / "exec"
        return await execs.exec_stream(self.runc, container_id, argv, work, tty=tty, stdin=stdin)

    async def attach(self, container_id: str) -> ExecSession:
        self._running(container_id)
        link = self.containers.socket_link(self.containers.get(container_id))
        return await attaching.attach(link, self.containers.dir(container_id))

    # ------------------------------------------------------------------ events

    def _publish(self, kind: EventKind, container_id: str, sandbox_id: str) -> None:
        event = RuntimeEvent(kind, container_id, sandbox_id, self.clock.now())
        for queue in self._subscribers:
            queue.put_nowait(event)

    def events(self) -> RuntimeEvents:
        """Started/removed as they happen; exits from conmon's exit folder, as inotify
        reports it written (polled where inotify is unavailable). The subscription starts at
        this call, not at the first iteration."""
        return _EventStream(self)

    async def close(self) -> None:
        """End the event streams. Containers keep running: conmon monitors them."""
        self._closed = True
        for queue in self._subscribers:
            queue.put_nowait(None)


# Put on a subscriber's queue by the exit watch: "look at the exit folder now".
_SCAN = RuntimeEvent(EventKind.EXITED, "", "", 0.0)


class _EventStream:
    """One subscriber's view of the runtime's events (see ``RuncRuntime.events``)."""

    def __init__(self, runtime: RuncRuntime) -> None:
        self._runtime = runtime
        self._queue: asyncio.Queue[RuntimeEvent | None] = asyncio.Queue()
        if runtime._closed:
            self._queue.put_nowait(None)
        self._pending: list[RuntimeEvent] = []
        self._exit_dir = runtime.containers.exit_dir
        self._exit_dir.mkdir(parents=True, exist_ok=True)
        self._seen = set(os.listdir(self._exit_dir))
        self._watch: DirWatch | None = None
        self._watching = False
        runtime._subscribers.append(self._queue)

    def __aiter__(self) -> _EventStream:
        return self

    def _scan_exits(self) -> None:
        names = set(os.listdir(self._exit_dir))
        new, self._seen = names - self._seen, names  # removed containers drop out of _seen
        for name in sorted(new):
            record = self._runtime.containers.load(name)
            try:
                at = (self._exit_dir / name).stat().st_mtime
            except FileNotFoundError:
                continue
            if record is not None:
                self._pending.append(RuntimeEvent(EventKind.EXITED, name, record.sandbox_id, at))

    def _watch_exits(self) -> float:
        """Start the inotify watch on first use (it needs the running loop); returns the poll
        interval that goes with it."""
        if not self._watching:
            self._watching = True
            self._watch = DirWatch.open(self._exit_dir)
            if self._watch is not None:
                self._watch.on_change(self._exits_written)
        return EXIT_POLL_WATCHED if self._watch is not None else EXIT_POLL_SECONDS

    def _exits_written(self) -> None:
        if self._queue.empty():
            self._queue.put_nowait(_SCAN)

    async def __anext__(self) -> RuntimeEvent:
        poll = self._watch_exits()
        while True:
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if item is not _SCAN:
                    return self._event(item)
            self._scan_exits()
            if self._pending:
                return self._pending.pop(0)
            try:
                item = await asyncio.wait_for(self._queue.get(), poll)
            except TimeoutError:
                continue
            if item is not _SCAN:
                return self._event(item)

    def _event(self, item: RuntimeEvent | None) -> RuntimeEvent:
        if item is None:  # the runtime was closed
            self._close_watch()
            self._queue.put_nowait(None)
            raise StopAsyncIteration
        return item

    def _close_watch(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None

    async def aclose(self) -> None:
        self._close_watch()
        if self._queue in self._runtime._subscribers:
            self._runtime._subscribers.remove(self._queue)
