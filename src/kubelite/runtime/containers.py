"""Containers: create (bundle), start (conmon + runc), stop, remove, and their status.

A container's folder ``<runtime_dir>/containers/<id>`` holds its record, ``config.json``,
the rootfs the RootfsProvider mounted, and conmon's files. Status is derived from recorded
facts and from what conmon wrote (``exit``, ``oom``), so it reads the same after a restart of
kubelite. ``runc create`` runs at start time, as containerd does, so a process that cannot be
executed ends as reason StartError with exit code 128 (TERM-3).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path

from kubelite.clock import Clock
from kubelite.images.interface import ImageConfig, ImageError, RootfsProvider
from kubelite.runtime import attach, bundle, conmon, diskusage, namespaces, ocispec, seccomp, users
from kubelite.runtime.cgroups import PodCgroups
from kubelite.runtime.host import bounding_capabilities, host_devices
from kubelite.runtime.interface import (
    ContainerConfig,
    ContainerState,
    ContainerStatus,
    CreateContainerError,
    EventKind,
    NotFound,
    RuntimeError_,
    SeccompProfile,
    StartContainerError,
)
from kubelite.runtime.runc_cli import Runc
from kubelite.runtime.sandbox import Sandboxes
from kubelite.runtime.state import (
    ContainerRecord,
    RecordCache,
    SandboxRecord,
    new_id,
    save,
    write_json,
)
from kubelite.runtime.volumes import read_manifest

EventSink = Callable[[EventKind, str, str], None]
_RUNC_MSG = re.compile(r'msg="((?:[^"\\]|\\.)*)"')
# A container's folder holds its config.json, whose env may carry Secret values: root only.
CONTAINER_DIR_MODE = 0o700
SPEC_MODE = 0o600


def _sandbox_of(record: ContainerRecord) -> str:
    return record.sandbox_id


def _runc_message(text: str) -> str:
    """runc logs ``time=… level=error msg="…"``; keep the message only."""
    found = _RUNC_MSG.findall(text)
    return found[-1].replace('\\"', '"') if found else text.strip()


class Containers:
    def __init__(
        self,
        *,
        runtime_dir: Path,
        pods_dir: Path,
        runc: Runc,
        rootfs: RootfsProvider,
        cgroups: PodCgroups,
        sandboxes: Sandboxes,
        clock: Clock,
        on_event: EventSink,
        oom_score_adj_floor: int | None = None,
    ) -> None:
        self.root = runtime_dir / "containers"
        self.exit_dir = runtime_dir / "exits"
        self.socket_dir = runtime_dir / "s"
        self.pods_dir = pods_dir
        self.runc = runc
        self.rootfs = rootfs
        self.cgroups = cgroups
        self.sandboxes = sandboxes
        self.clock = clock
        self.on_event = on_event
        self.oom_score_adj_floor = oom_score_adj_floor
        self.arch = seccomp.machine()
        self._records = RecordCache(ContainerRecord)
        self._root = str(self.root)

    # ------------------------------------------------------------------ records

    def dir(self, container_id: str) -> Path:
        return self.root / container_id

    def _record_path(self, container_id: str) -> str:
        return f"{self._root}/{container_id}/container.json"  # str: hot in every listing

    def load(self, container_id: str) -> ContainerRecord | None:
        if not container_id or "/" in container_id:
            return None
        return self._records.load(self._record_path(container_id))

    def get(self, container_id: str) -> ContainerRecord:
        record = self.load(container_id)
        if record is None:
            raise NotFound(f"container {container_id!r} not found")
        return record

    def all(self, sandbox_id: str | None = None) -> list[ContainerRecord]:
        """Every container, or those of one sandbox (a container never changes sandbox)."""
        found = self._records.scan(self._root, "container.json", _sandbox_of, sandbox_id)
        return sorted(found, key=lambda r: r.created_at)

    def paths(self, record: ContainerRecord) -> conmon.ConmonPaths:
        d = self.dir(record.id)
        return conmon.ConmonPaths(
            bundle=d, persist=d / "conmon", exit_dir=self.exit_dir, socket_dir=self.socket_dir,
            runc_root=self.runc.root, log_path=Path(record.log_path),
        )  # fmt: skip

    # ------------------------------------------------------------------ status

    def exit_code(self, record: ContainerRecord) -> int | None:
        try:
            return int(self.paths(record).exit_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def pid(self, record: ContainerRecord) -> int | None:
        try:
            return int(self.paths(record).pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _conmon_alive(self, record: ContainerRecord) -> bool:
        try:
            pid = int(self.paths(record).conmon_pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return False
        return namespaces.proc_start_time(pid) is not None

    def state(self, record: ContainerRecord) -> ContainerState:
        if record.exit_code is not None or self.exit_code(record) is not None:
            return ContainerState.EXITED
        if record.started_at is None:
            return ContainerState.CREATED
        return ContainerState.RUNNING if self._conmon_alive(record) else ContainerState.UNKNOWN

    def status(self, record: ContainerRecord) -> ContainerStatus:
        state = self.state(record)
        finished, code, reason, message = (record.finished_at, record.exit_code, record.reason,
                                           record.message)  # fmt: skip
        if code is None and state is ContainerState.EXITED:
            paths = self.paths(record)
            code = self.exit_code(record)
            finished = paths.exit_file.stat().st_mtime
            if record.started_at is not None:
                # A file's mtime comes from the kernel's coarse clock, a tick (~4 ms) behind
                # the time the start was stamped with: a container that exits at once must
                # still not finish before it started.
                finished = max(finished, record.started_at)
            oom = paths.oom_file.exists() or (paths.bundle / "oom").exists()
            # TERM-3: containerd's reasons
            reason = "OOMKilled" if oom else ("Completed" if code == 0 else "Error")
        return ContainerStatus(
            id=record.id,
            sandbox_id=record.sandbox_id,
            name=record.name,
            attempt=record.attempt,
            state=state,
            image=record.image,
            image_id=record.image_id,
            created_at=record.created_at,
            started_at=record.started_at,
            finished_at=finished,
            exit_code=code,
            reason=reason,
            message=message,
            log_path=Path(record.log_path),
            termination_message_file=(
                Path(record.termination_message_file) if record.termination_message_file else None
            ),
            labels=dict(record.labels),
        )

    # ------------------------------------------------------------------ create

    async def create(self, sandbox_id: str, config: ContainerConfig) -> str:
        sandbox = self.sandboxes.load(sandbox_id)
        if sandbox is None:
            raise NotFound(f"sandbox {sandbox_id!r} not found")
        if not self.sandboxes.ready(sandbox):
            raise CreateContainerError(f"sandbox {sandbox_id[:12]} is not ready")
        try:
            image = self.rootfs.image_config(config.image)
            image_id = self.rootfs.image_id(config.image)
        except ImageError as e:
            raise CreateContainerError(str(e)) from e
        pod_label = f"{sandbox.pod_name}_{sandbox.namespace}({sandbox.pod_uid})"
        users.check_run_as_non_root(image.user, config.security, pod_label, config.name)
        # Mount checks first: they need nothing mounted and fail fast (VOL-5, VOL-6).
        manifest = read_manifest(self.pods_dir, sandbox.pod_uid)
        vol_mounts = bundle.volume_mounts(config.name, config.mounts, manifest)
        profile = load_seccomp_profile(config.security.seccomp)
        ns = self._namespaces_for(sandbox, config)
        try:
            return await self._create(sandbox, config, image, image_id, vol_mounts, profile, ns)
        except OSError as e:
            raise CreateContainerError(f"failed to create container {config.name}: {e}") from e

    async def _create(
        self,
        sandbox: SandboxRecord,
        config: ContainerConfig,
        image: ImageConfig,
        image_id: str,
        vol_mounts: list[ocispec.Mount],
        profile: dict[str, object] | None,
        ns: ocispec.Namespaces,
    ) -> str:
        """Bundle, rootfs and record; every step is undone if a later one fails."""
        sandbox_id = sandbox.id
        container_id = new_id()
        d = self.dir(container_id)
        async with AsyncExitStack() as stack:
            d.mkdir(mode=CONTAINER_DIR_MODE, parents=True)
            stack.callback(shutil.rmtree, d, ignore_errors=True)
            stack.push_async_callback(self.rootfs.unmount_rootfs, d)
            rootfs = await self.rootfs.mount_rootfs(config.image, d)
            user = users.resolve_user(image.user, config.security, users.read_account_files(rootfs))
            tm_file = bundle.make_termination_file(
                self.pods_dir, sandbox.pod_uid, config.name, container_id[:16]
            )  # TM-1
            stack.callback(tm_file.unlink, missing_ok=True)
            taken = {m.destination for m in vol_mounts}
            extra = [
                *bundle.etc_mounts(self.sandboxes.dir(sandbox_id), taken),
                ocispec.Mount(config.termination_message_path, str(tm_file)),
            ]
            cgroup_path = self.cgroups.container_path(sandbox_id, container_id)
            spec = ocispec.build_spec(
                ocispec.SpecInputs(
                    config=config, image=image, rootfs=str(rootfs), user=user,
                    namespaces=ns, cgroups_path=cgroup_path,
                    mounts=(*vol_mounts, *extra),
                    shm_path=str(self.sandboxes.shm_for(sandbox)),
                    swap_limit=self.cgroups.swap_accounting,
                    host_devices=tuple(host_devices()) if config.security.privileged else (),
                    available_capabilities=bounding_capabilities(ocispec.ALL_CAPABILITIES),
                    localhost_seccomp=profile, arch=self.arch,
                    oom_score_adj_floor=self.oom_score_adj_floor,
                )
            )  # fmt: skip
            write_json(d / "config.json", spec, mode=SPEC_MODE)
            record = ContainerRecord(
                id=container_id, sandbox_id=sandbox_id, pod_uid=sandbox.pod_uid,
                name=config.name, attempt=config.attempt, image=config.image,
                image_id=image_id, created_at=self.clock.now(),
                log_path=str(config.log_path if config.log_path != Path() else d / "console.log"),
                cgroup_path=cgroup_path, stop_signal=ocispec.stop_signal(config, image),
                tty=config.tty, termination_message_file=str(tm_file),
                labels=dict(config.labels),
            )  # fmt: skip
            attach.save_stdio(d, attach.Stdio.of(config))
            save(d / "container.json", record)
            stack.pop_all()
        return container_id

    def _namespaces_for(
        self, sandbox: SandboxRecord, config: ContainerConfig
    ) -> ocispec.Namespaces:
        """The sandbox's namespaces, with the PID namespace of the container the config targets
        (``ContainerConfig.pid_target``), which must be running in the same sandbox."""
        ns = self.sandboxes.namespaces(sandbox)
        target_id = config.pid_target
        if not target_id:
            return ns
        target = self.load(target_id)
        alive = (
            target is not None
            and target.sandbox_id == sandbox.id
            and self.state(target) is ContainerState.RUNNING
        )
        pid = self.host_pid(target) if target is not None and alive else None
        if pid is None:
            raise CreateContainerError(
                f"failed to join the PID namespace of container {target_id[:12]}: "
                "it is not running in this pod"
            )
        return ocispec.with_target_pid(ns, pid)

    # ------------------------------------------------------------------ start

    async def start(self, container_id: str) -> None:
        record = self.get(container_id)
        if record.started_at is not None or record.exit_code is not None:
            state = self.state(record).value
            raise StartContainerError(f"container {container_id[:12]} is {state}")
        paths = self.paths(record)
        try:
            # A conmon already monitoring this id means a previous start was interrupted
            # after `runc create` (e.g. kubelite restarted): only `runc start` is missing.
            if not self._conmon_alive(record):
                stdio = attach.load_stdio(self.dir(record.id)).conmon_args()
                pid: int | None = await conmon.create_under_conmon(
                    record.id, record.name, paths, tty=record.tty, stdio=stdio
                )
            else:
                pid = self.pid(record)
            started_at = self.clock.now()
            await self.runc.start(record.id, pid)
        except (CreateContainerError, StartContainerError) as e:
            # TERM-3: a container that could not start ends with StartError, exit 128.
            await self.runc.delete(record.id)
            self._record_exit(record, 128, "StartError", _runc_message(str(e)))
            raise StartContainerError(record.message) from e
        record.started_at = started_at
        save(self.dir(record.id) / "container.json", record)
        self.on_event(EventKind.STARTED, record.id, record.sandbox_id)

    # ------------------------------------------------------------------ stop / remove

    async def wait_exit(self, record: ContainerRecord, timeout: float) -> bool:
        """Poll conmon's exit file; True once the container has exited."""
        # Real time, not self.clock: the processes we wait for live in real time.
        deadline = time.monotonic() + timeout
        exit_file = self.paths(record).exit_file
        while True:
            if exit_file.exists():
                return True
            if not self._conmon_alive(record) and not exit_file.exists():
                return exit_file.exists()
            now = time.monotonic()
            if now >= deadline:
                return False
            # short polls first: most waits end within milliseconds (bench/runtime.py)
            waited = timeout - (deadline - now)
            await asyncio.sleep(0.001 if waited < 0.2 else 0.01)

    async def stop(self, container_id: str, timeout: float, signal: str = "") -> None:
        """TERM-2 step 5: the stop signal, ``timeout`` seconds, then SIGKILL. A container
        that never ran, or whose conmon is gone, is killed and recorded as exited (137)."""
        record = self.load(container_id)
        if record is None:
            return
        state = self.state(record)
        if state is ContainerState.EXITED:
            return
        if state is not ContainerState.RUNNING:
            await self.runc.kill(record.id, "SIGKILL", all_processes=True)
            if not (self._conmon_alive(record) and await self.wait_exit(record, 10.0)):
                self._record_exit(record, 137, "Error")
            return
        sig = ocispec.normalise_signal(signal or record.stop_signal)
        if (
            timeout > 0
            and sig not in ("SIGKILL", "9")
            and await self.runc.kill(record.id, sig)
            and await self.wait_exit(record, timeout)
        ):
            return
        await self.runc.kill(record.id, "SIGKILL")
        if not await self.wait_exit(record, 10.0):
            await self.runc.kill(record.id, "SIGKILL", all_processes=True)
            if not await self.wait_exit(record, 10.0):
                raise RuntimeError_(f"container {container_id[:12]} did not exit after SIGKILL")

    def _record_exit(
        self, record: ContainerRecord, code: int, reason: str, message: str = ""
    ) -> None:
        """An outcome conmon cannot report (no start, or no conmon any more)."""
        record.exit_code, record.reason, record.message = code, reason, message
        record.finished_at = self.clock.now()
        save(self.dir(record.id) / "container.json", record)
        self.on_event(EventKind.EXITED, record.id, record.sandbox_id)

    async def remove(self, container_id: str) -> None:
        record = self.load(container_id)
        if record is None:
            return
        if self.state(record) is ContainerState.RUNNING:
            await self.stop(container_id, 0)
        await self.runc.delete(record.id)
        await self.rootfs.unmount_rootfs(self.dir(record.id))
        self._forget(record)
        self.on_event(EventKind.REMOVED, record.id, record.sandbox_id)

    def _forget(self, record: ContainerRecord) -> None:
        """Delete every file of a container that has been deleted from runc."""
        self.cgroups.remove_container(record.sandbox_id, record.id)
        (self.exit_dir / record.id).unlink(missing_ok=True)
        if record.termination_message_file:
            Path(record.termination_message_file).unlink(missing_ok=True)
        link = self.socket_link(record)
        if link.is_symlink():
            link.unlink()
        shutil.rmtree(self.dir(record.id), ignore_errors=True)
        self._records.forget(self._record_path(record.id))

    # ------------------------------------------------------------------ disk usage

    def disk_usage(self, record: ContainerRecord) -> int:
        """The container's writable layer (and its small files) plus its log files: what the
        kubelet counts against the container's ephemeral-storage limit (VOL-3)."""
        d = self.dir(record.id)
        own = diskusage.usage(d, one_file_system=True)
        logs = Path(record.log_path).parent  # every instance's logs of this container name
        return own + (0 if logs.is_relative_to(d) else diskusage.usage(logs))

    def socket_link(self, record: ContainerRecord) -> Path:
        """Where conmon keeps the container's attach socket (a link to its folder)."""
        return self.socket_dir / record.id[:12]

    def host_pid(self, record: ContainerRecord) -> int | None:
        pid = self.pid(record)
        return pid if pid and os.path.exists(f"/proc/{pid}") else None


def load_seccomp_profile(profile: SeccompProfile) -> dict[str, object] | None:
    """Read a Localhost profile, with containerd's error when it cannot be read (the kubelet
    shows it as a CreateContainerError)."""
    if profile.type != "Localhost":
        return None
    path = profile.path
    try:
        text = Path(path).read_text()
    except OSError as e:
        detail = f"open {path}: {(e.strerror or str(e)).lower()}"
        raise CreateContainerError(
            f'failed to create containerd container: cannot load seccomp profile "{path}": {detail}'
        ) from e
    try:
        return seccomp.localhost_profile(text)
    except seccomp.ProfileError as e:
        raise CreateContainerError(
            f'failed to create containerd container: cannot load seccomp profile "{path}": {e}'
        ) from e
