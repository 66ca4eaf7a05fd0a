"""Starting a container under conmon, the monitor that outlives kubelite.

conmon runs ``runc create``, reports the container's pid on a sync pipe, daemonizes, copies
the container's stdout/stderr into the CRI log file, and when the container exits writes its
exit status (128+n after a signal) to ``<exit_dir>/<id>`` and ``<persist_dir>/exit``, plus an
``oom`` file when the kernel OOM-killed it. Those files are how the runtime learns of exits,
including exits that happen while kubelite is down.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from kubelite.runtime.interface import CreateContainerError


@dataclass(frozen=True, slots=True)
class ConmonPaths:
    bundle: Path  # holds config.json
    persist: Path  # conmon writes exit, oom and the pid files here
    exit_dir: Path  # shared by all containers: one file per container id
    socket_dir: Path  # short folder for conmon's attach socket symlinks
    runc_root: Path
    log_path: Path

    @property
    def exit_file(self) -> Path:
        return self.persist / "exit"

    @property
    def oom_file(self) -> Path:
        return self.persist / "oom"

    @property
    def pid_file(self) -> Path:
        return self.persist / "pid"

    @property
    def conmon_pid_file(self) -> Path:
        return self.persist / "conmon.pid"


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CreateContainerError(f"{name} not found on PATH")
    return path


def conmon_argv(container_id: str, name: str, paths: ConmonPaths, *, tty: bool) -> list[str]:
    argv = [
        _binary("conmon"),
        "--api-version", "1",
        "-c", container_id,
        "-u", container_id[:12],
        "-n", name,
        "-r", _binary("runc"),
        "--runtime-arg", "--root",
        "--runtime-arg", str(paths.runc_root),
        "-b", str(paths.bundle),
        "-p", str(paths.pid_file),
        "-P", str(paths.conmon_pid_file),
        "-0", str(paths.persist),
        "--exit-dir", str(paths.exit_dir),
        "--socket-dir-path", str(paths.socket_dir),
        "-l", f"k8s-file:{paths.log_path}",
        "--log-level", "error",
    ]  # fmt: skip
    if tty:
        argv.append("-t")
    return argv


def _read_sync_message(fd: int) -> dict[str, object]:
    """Block until conmon writes one JSON message or closes the pipe."""
    data = b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
        try:
            msg: dict[str, object] = json.loads(data)
            return msg
        except ValueError:
            continue
    return {"data": -1, "message": data.decode(errors="replace") or "conmon exited early"}


async def create_under_conmon(
    container_id: str, name: str, paths: ConmonPaths, *, tty: bool
) -> int:
    """Run ``runc create`` under a fresh conmon; return the container's host pid.

    Raises CreateContainerError with runc's message when the container cannot be created
    (e.g. the executable does not exist)."""
    paths.persist.mkdir(parents=True, exist_ok=True)
    paths.exit_dir.mkdir(parents=True, exist_ok=True)
    paths.socket_dir.mkdir(parents=True, exist_ok=True)
    paths.log_path.parent.mkdir(parents=True, exist_ok=True)
    read_fd, write_fd = os.pipe()
    try:
        env = {**os.environ, "_OCI_SYNCPIPE": str(write_fd)}
        proc = await asyncio.create_subprocess_exec(
            *conmon_argv(container_id, name, paths, tty=tty),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(write_fd,),
            env=env,
            cwd=str(paths.persist),
        )
        os.close(write_fd)
        write_fd = -1
        _, err = await proc.communicate()
        if proc.returncode != 0:
            raise CreateContainerError(f"conmon failed: {err.decode(errors='replace').strip()}")
        msg = await asyncio.to_thread(_read_sync_message, read_fd)
    finally:
        os.close(read_fd)
        if write_fd >= 0:
            os.close(write_fd)
    pid = msg.get("data")
    if not isinstance(pid, int) or pid <= 0:
        raise CreateContainerError(str(msg.get("message") or "runc create failed").strip())
    return pid
