"""Pod sandboxes: the namespaces, /dev/shm, per-pod /etc files and cgroup parent shared by
all containers of one pod (VOL-7, VOL-8).

Set-up is "acquire; register its undo" on an AsyncExitStack, kept only when every step
succeeded, so a failed sandbox leaves nothing behind. Stopping tears down namespaces and the
pause process but keeps the record; removing also deletes the cgroup parent and the folder.
"""

from __future__ import annotations

import asyncio
import shutil
from contextlib import AsyncExitStack
from pathlib import Path

from kubelite.clock import Clock
from kubelite.runtime import etcfiles, mounts, namespaces
from kubelite.runtime.cgroups import PodCgroups
from kubelite.runtime.interface import SandboxConfig, SandboxError, SandboxStatus
from kubelite.runtime.network import PodNetwork, loopback_up
from kubelite.runtime.ocispec import Namespaces
from kubelite.runtime.state import RecordCache, SandboxRecord, new_id, save

SHM_SIZE = 64 * 1024 * 1024
HOST_SHM = Path("/dev/shm")  # a hostIPC pod's /dev/shm: the node's own, as containerd gives it


def _pod_of(record: SandboxRecord) -> str:
    return record.pod_uid


class Sandboxes:
    """Sandbox records under ``<runtime_dir>/sandboxes/<id>``."""

    def __init__(
        self, *, runtime_dir: Path, cgroups: PodCgroups, network: PodNetwork, clock: Clock
    ) -> None:
        self.root = runtime_dir / "sandboxes"
        self.cgroups = cgroups
        self.network = network
        self.clock = clock
        self._records = RecordCache(SandboxRecord)
        self._root = str(self.root)

    def dir(self, sandbox_id: str) -> Path:
        return self.root / sandbox_id

    def _record_path(self, sandbox_id: str) -> str:
        return f"{self._root}/{sandbox_id}/sandbox.json"  # str: hot in every listing

    def load(self, sandbox_id: str) -> SandboxRecord | None:
        if not sandbox_id or "/" in sandbox_id:
            return None
        return self._records.load(self._record_path(sandbox_id))

    def all(self, pod_uid: str | None = None) -> list[SandboxRecord]:
        """Every sandbox, or one pod's."""
        found = self._records.scan(self._root, "sandbox.json", _pod_of, pod_uid)
        return sorted(found, key=lambda r: r.created_at)

    def namespaces(self, record: SandboxRecord) -> Namespaces:
        d = self.dir(record.id)
        pid = f"/proc/{record.pause_pid}/ns/pid" if record.share_pid else None
        own = not record.host_network  # host networking: the node's network and UTS
        return Namespaces(
            network=str(namespaces.ns_path(d, "net")) if own else None,
            ipc=None if record.host_ipc else str(namespaces.ns_path(d, "ipc")),
            uts=str(namespaces.ns_path(d, "uts")) if own else None,
            pid=pid,
            host_pid=record.host_pid,
        )

    @staticmethod
    def _kinds(record: SandboxRecord) -> tuple[str, ...]:
        """The namespaces the sandbox makes; the others are the node's."""
        return namespaces.own_kinds(host_network=record.host_network, host_ipc=record.host_ipc)

    def _netns(self, record: SandboxRecord) -> str:
        if record.host_network:
            return ""
        return str(namespaces.ns_path(self.dir(record.id), "net"))

    def shm_path(self, sandbox_id: str) -> Path:
        """The pod's own /dev/shm (not used with hostIPC: see ``shm_for``)."""
        return self.dir(sandbox_id) / "shm"

    def shm_for(self, record: SandboxRecord) -> Path:
        """What the pod's containers get as /dev/shm."""
        return HOST_SHM if record.host_ipc else self.shm_path(record.id)

    def ready(self, record: SandboxRecord) -> bool:
        if record.stopped_at is not None:
            return False
        if not namespaces.namespaces_alive(self.dir(record.id), self._kinds(record)):
            return False
        if record.share_pid and record.pause_pid is not None:
            pause = namespaces.PauseProcess(record.pause_pid, record.pause_start or 0)
            return namespaces.pause_alive(pause)
        return True

    def status(self, record: SandboxRecord) -> SandboxStatus:
        return SandboxStatus(
            id=record.id,
            pod_uid=record.pod_uid,
            pod_name=record.pod_name,
            namespace=record.namespace,
            attempt=record.attempt,
            ready=self.ready(record),
            created_at=record.created_at,
            ip=record.ip,
            netns_path=self._netns(record),
            labels=dict(record.labels),
            host_network=record.host_network,
        )

    async def create(self, config: SandboxConfig) -> str:
        sandbox_id = new_id()
        d = self.dir(sandbox_id)
        record = SandboxRecord(
            id=sandbox_id,
            pod_uid=config.pod_uid,
            pod_name=config.pod_name,
            namespace=config.namespace,
            attempt=config.attempt,
            hostname=config.hostname,
            created_at=self.clock.now(),
            share_pid=config.share_process_namespace,
            labels=dict(config.labels),
            host_network=config.host_network,
            host_pid=config.host_pid,
            host_ipc=config.host_ipc,
        )
        if config.host_pid and config.share_process_namespace:  # VAL-18, in case it got past
            raise SandboxError("ShareProcessNamespace and HostPID cannot both be enabled")
        async with AsyncExitStack() as stack:
            d.mkdir(mode=0o700, parents=True)
            stack.callback(shutil.rmtree, d, ignore_errors=True)
            try:
                # 1. network, IPC and UTS namespaces, hostname set (VOL-7); with host
                #    networking only IPC is the pod's own, and with hostIPC not even that
                stack.callback(namespaces.remove_namespaces, d)
                await namespaces.create_namespaces(d, config.hostname, self._kinds(record))
                # 2. loopback, then the pod network and its IP
                if not config.host_network:
                    netns = self._netns(record)
                    loopback_up(netns)
                    stack.push_async_callback(self.network.detach, sandbox_id, netns)
                    record.ip = (await self.network.attach(sandbox_id, netns, config)).ip
                # 3. one /dev/shm for the pod (shared IPC: POSIX shared memory); the node's
                #    own with hostIPC
                if not config.host_ipc:
                    shm = self.shm_path(sandbox_id)
                    shm.mkdir()
                    flags = mounts.MS_NOSUID | mounts.MS_NODEV | mounts.MS_NOEXEC
                    mounts.mount_tmpfs(shm, size=SHM_SIZE, mode=0o1777, flags=flags)
                    stack.callback(mounts.unmount, shm)
                # 4. a shared PID namespace needs a living init (VOL-8)
                if config.share_process_namespace:
                    pause = await namespaces.start_pause(d)
                    stack.callback(namespaces.stop_pause, pause)
                    record.pause_pid, record.pause_start = pause.pid, pause.start_time
                # 5. the pod-level cgroup parent with the pod's limits
                stack.callback(self.cgroups.remove_pod, sandbox_id)
                self.cgroups.create_pod(
                    sandbox_id, memory_limit=config.memory_limit,
                    cpu_quota=config.cpu_quota, cpu_period=config.cpu_period,
                    pids_limit=config.pids_limit,
                )  # fmt: skip
                # 6. /etc/hosts, /etc/hostname, /etc/resolv.conf (VOL-6)
                etcfiles.write_etc_files(
                    d, config.hostname, record.ip, config.host_aliases, config.dns,
                    host_network=config.host_network, fqdn=config.fqdn,
                )  # fmt: skip
                save(d / "sandbox.json", record)
            except SandboxError:
                raise
            except OSError as e:
                raise SandboxError(f"failed to set up sandbox: {e}") from e
            stack.pop_all()
        return sandbox_id

    async def stop(self, record: SandboxRecord) -> None:
        """Tear down namespaces, /dev/shm and the pause process; keep the record."""
        d = self.dir(record.id)
        if not record.host_network:
            await self.network.detach(record.id, self._netns(record))
        namespaces.remove_namespaces(d)
        if not record.host_ipc:  # never the node's own /dev/shm
            mounts.unmount(self.shm_path(record.id))
        if record.pause_pid is not None:
            namespaces.stop_pause(
                namespaces.PauseProcess(record.pause_pid, record.pause_start or 0)
            )
        if record.stopped_at is None:
            record.stopped_at = self.clock.now()
            save(d / "sandbox.json", record)

    async def remove(self, record: SandboxRecord) -> None:
        """After ``stop`` and after its containers are gone: the cgroup parent and folder."""
        d = self.dir(record.id)
        if record.pause_pid is not None:
            pause = namespaces.PauseProcess(record.pause_pid, record.pause_start or 0)
            for _ in range(1000):  # the kernel needs a moment to reap the namespace's init
                if not namespaces.pause_alive(pause):
                    break
                await asyncio.sleep(0.001)
        self._forget(d, record.id)

    def _forget(self, d: Path, sandbox_id: str) -> None:
        mounts.unmount_all_under(d)
        self.cgroups.remove_pod(sandbox_id)
        shutil.rmtree(d, ignore_errors=True)
        self._records.forget(self._record_path(sandbox_id))
