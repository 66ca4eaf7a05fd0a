"""The namespaces a sandbox holds for its containers, kept without any long-lived process.

Network, IPC and UTS namespaces are made persistent by util-linux ``unshare --net=FILE …``,
which bind-mounts each namespace onto a file in the sandbox folder; containers join them by
path. A shared PID namespace (VOL-8) cannot outlive its init, so only then a tiny pause
process (the host's own Python, no image needed) is PID 1: it reaps orphans and ignores
SIGTERM. Teardown unmounts the files and kills the pause: no process, no mount remains.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from kubelite.runtime import mounts
from kubelite.runtime.interface import SandboxError

NS_KINDS = ("net", "ipc", "uts")
# With host networking the pod shares the node's network and UTS namespaces (its hostname is
# the node's, as a kubelet does it); only IPC is its own.
HOST_NETWORK_KINDS = ("ipc",)


def own_kinds(*, host_network: bool, host_ipc: bool) -> tuple[str, ...]:
    """The namespaces a sandbox makes for itself; hostNetwork keeps the node's network and
    UTS, hostIPC the node's IPC. (hostPID needs nothing here: a container's PID namespace is
    its own, or the pause's with VOL-8, unless it takes the node's.)"""
    kinds = HOST_NETWORK_KINDS if host_network else NS_KINDS
    return tuple(k for k in kinds if not (host_ipc and k == "ipc"))


_FLAGS = {"net": 0x40000000, "ipc": 0x08000000, "uts": 0x04000000}  # CLONE_NEW*

# PID 1 of a shared PID namespace: records its host pid (readlink of the host's /proc/self),
# reaps every orphan, and waits for SIGKILL.
_PAUSE = """
import os, signal, sys
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    f.write(os.readlink("/proc/self"))
os.rename(tmp, sys.argv[1])
def reap(*_):
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass
signal.signal(signal.SIGCHLD, reap)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
os.closerange(3, 1024)
while True:
    signal.pause()
"""


@dataclass(frozen=True, slots=True)
class PauseProcess:
    pid: int
    start_time: int  # /proc/<pid>/stat field 22, guards against pid reuse


def ns_dir(sandbox_dir: Path) -> Path:
    return sandbox_dir / "ns"


def ns_path(sandbox_dir: Path, kind: str) -> Path:
    return ns_dir(sandbox_dir) / kind


MS_BIND = 0x1000

_libc = ctypes.CDLL(None, use_errno=True)
_libc.unshare.argtypes = [ctypes.c_int]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _unshare_and_bind(d: Path, hostname: str, kinds: tuple[str, ...]) -> None:
    """In a thread of its own: new namespaces of ``kinds`` for this thread only (unshare(2)
    of these kinds is per thread), the hostname set in a new UTS namespace, and each
    namespace bind-mounted onto its file so that it outlives the thread, as ``unshare
    --net=FILE`` does."""
    flags = 0
    for kind in kinds:
        flags |= _FLAGS[kind]
    _check(_libc.unshare(flags), "unshare")
    if "uts" in kinds:
        name = hostname.encode()
        _check(_libc.sethostname(name, len(name)), "sethostname")
    for kind in kinds:
        mounts.mount(f"/proc/thread-self/ns/{kind}", d / kind, "", "", MS_BIND)


async def create_namespaces(
    sandbox_dir: Path, hostname: str, kinds: tuple[str, ...] = NS_KINDS
) -> None:
    """Make persistent namespaces (net/ipc/uts by default) and set the pod's hostname
    (VOL-7), in a short-lived thread (a process of util-linux ``unshare`` cost ~3 ms of
    every sandbox)."""
    d = ns_dir(sandbox_dir)
    d.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        (d / kind).touch()
    failure: list[OSError] = []

    def make() -> None:
        try:
            _unshare_and_bind(d, hostname, kinds)
        except OSError as err:
            failure.append(err)

    # A fresh thread that ends right after: its namespaces never leak into a pool.
    t = threading.Thread(target=make, name="sandbox-namespaces", daemon=True)
    t.start()
    t.join()
    if failure:
        remove_namespaces(sandbox_dir)
        raise SandboxError(f"failed to create the pod's namespaces: {failure[0]}")


def remove_namespaces(sandbox_dir: Path) -> None:
    """Unmount the namespace files (the kernel frees each namespace with its last user)."""
    d = ns_dir(sandbox_dir)
    for kind in NS_KINDS:
        mounts.unmount(d / kind)
        try:
            (d / kind).unlink()
        except FileNotFoundError:
            pass


def namespaces_alive(sandbox_dir: Path, kinds: tuple[str, ...] = NS_KINDS) -> bool:
    """Each namespace file still has its namespace bound on it: a bind mount of nsfs shows
    another device than the folder it sits in (a stat each, where reading mountinfo cost a
    pass over every mount of the node)."""
    d = ns_dir(sandbox_dir)
    try:
        folder = os.stat(d).st_dev
        return all(os.stat(d / kind).st_dev != folder for kind in kinds)
    except (FileNotFoundError, NotADirectoryError):
        return False


def proc_start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


async def start_pause(sandbox_dir: Path) -> PauseProcess:
    """Start PID 1 of a new PID namespace, detached from us (``setsid -f``) so that it
    survives a restart of kubelite and is never our zombie."""
    pid_file = sandbox_dir / "pause.pid"
    pid_file.unlink(missing_ok=True)
    # stdio to /dev/null: the pause must not hold our pipes open after setsid returns
    proc = await asyncio.create_subprocess_exec(
        "setsid", "-f", "unshare", "--pid", "--fork", "--kill-child", "--",
        sys.executable, "-S", "-c", _PAUSE, str(pid_file),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    if await proc.wait() != 0:
        raise SandboxError("could not start the pause process of the shared PID namespace")
    for _ in range(500):
        if pid_file.exists():
            pid = int(pid_file.read_text())
            start = proc_start_time(pid)
            if start is not None:
                return PauseProcess(pid, start)
        await asyncio.sleep(0.005)
    raise SandboxError("the pause process of the shared PID namespace did not start")


def pause_alive(pause: PauseProcess) -> bool:
    return proc_start_time(pause.pid) == pause.start_time


def stop_pause(pause: PauseProcess) -> None:
    """SIGKILL the namespace's init: the kernel then kills everything left inside it."""
    if pause_alive(pause):
        try:
            os.kill(pause.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
