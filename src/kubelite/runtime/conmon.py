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
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kubelite.runtime.interface import CreateContainerError
from kubelite.runtime.process import spawn, wait_process


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

    @property
    def runtime_log(self) -> Path:
        """runc's own log (JSON lines): where runc's init reports why it could not start."""
        return self.persist / "runc.log"


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise CreateContainerError(f"{name} not found on PATH")
    return path


def conmon_argv(
    container_id: str, name: str, paths: ConmonPaths, *, tty: bool, stdio: Sequence[str] = ()
) -> list[str]:
    """``stdio``: conmon's stdin flags for the container (``attach.Stdio.conmon_args``)."""
    argv = [
        _binary("conmon"),
        "--api-version", "1",
        "-c", container_id,
        "-u", container_id[:12],
        "-n", name,
        "-r", _binary("runc"),
        "--runtime-arg", "--root",
        "--runtime-arg", str(paths.runc_root),
        "--runtime-arg", "--log",
        "--runtime-arg", str(paths.runtime_log),
        "--runtime-arg", "--log-format",
        "--runtime-arg", "json",
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
    argv.extend(stdio)
    return argv


async def create_under_conmon(
    container_id: str, name: str, paths: ConmonPaths, *, tty: bool, stdio: Sequence[str] = ()
) -> int:
    """Run ``runc create`` under a fresh conmon; return the container's host pid.

    Raises CreateContainerError with runc's message when the container cannot be created
    (e.g. the executable does not exist)."""
    for d in (paths.persist, paths.exit_dir, paths.socket_dir, paths.log_path.parent):
        d.mkdir(parents=True, exist_ok=True)
    read_fd, write_fd = os.pipe()
    try:
        env = {**os.environ, "_OCI_SYNCPIPE": str(write_fd)}
        # conmon forks its monitor and exits at once; the monitor answers on the sync pipe
        # after `runc create`: {"data": <pid>} or {"data": -1, "message": ...}.
        argv = conmon_argv(container_id, name, paths, tty=tty, stdio=stdio)
        proc = _start_conmon(argv, env, write_fd, paths.persist)
        os.close(write_fd)
        write_fd = -1
        sync = asyncio.ensure_future(_read_message(read_fd))
        try:
            rc = await wait_process(proc)
            msg = await sync
        finally:
            sync.cancel()
    finally:
        if write_fd >= 0:
            os.close(write_fd)
        os.close(read_fd)
    if rc != 0:
        text = (paths.persist / "conmon.err").read_text(errors="replace").strip()
        raise CreateContainerError(f"conmon failed: {text or f'exit {rc}'}")
    pid = msg.get("data")
    if not isinstance(pid, int) or pid <= 0:
        text = str(msg.get("message") or "runc create failed").strip()
        raise CreateContainerError(with_causes(text, read_runtime_log(paths.runtime_log)))
    return pid


def read_runtime_log(path: Path) -> list[tuple[str, str]]:
    """(level, msg) of each JSON line of runc's log; unreadable lines are skipped."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append((str(entry.get("level", "")), str(entry.get("msg", ""))))
    return out


def with_causes(message: str, log: list[tuple[str, str]]) -> str:
    """runc's last error often only says a step failed ("can't get final child's PID from
    pipe: EOF"); the reason is a fatal line its init wrote before (``nsexec[…]: failed to
    update /proc/self/oom_score_adj: Permission denied``). Keep both: the message, then every
    fatal cause it does not already contain."""
    causes = [
        msg for level, msg in log
        if level == "fatal" and msg and msg not in message
    ]  # fmt: skip
    return f"{message}: {'; '.join(dict.fromkeys(causes))}" if causes else message


def _start_conmon(
    argv: list[str], env: dict[str, str], sync_fd: int, persist: Path
) -> subprocess.Popen[bytes]:
    with open(persist / "conmon.err", "wb") as err:
        return spawn(argv, stdout=subprocess.DEVNULL, stderr=err, env=env, pass_fds=(sync_fd,),
                     cwd=str(persist))  # fmt: skip


async def _read_message(fd: int) -> dict[str, object]:
    """The first JSON message on the sync pipe (conmon may keep the pipe open after it)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[dict[str, object]] = loop.create_future()
    buf = bytearray()

    def readable() -> None:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        buf.extend(chunk)
        msg = _parse(bytes(buf))
        if msg is not None and not done.done():
            done.set_result(msg)
        elif not chunk and not done.done():
            text = buf.decode(errors="replace").strip()
            done.set_result({"data": -1, "message": text or "conmon exited without an answer"})

    os.set_blocking(fd, False)
    loop.add_reader(fd, readable)
    try:
        return await done
    finally:
        loop.remove_reader(fd)


def _parse(data: bytes) -> dict[str, object] | None:
    for line in data.decode(errors="replace").splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict):
            return msg
    return None
