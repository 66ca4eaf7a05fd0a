"""A throw-away local image registry: Debian's ``docker-registry`` as a child process.

Tests and the demo pull from it instead of Docker Hub (there is no internet here). It listens
on 127.0.0.1 only, keeps its storage and log under one directory, and is stopped by the PID
we started, never by name.

CLI::

    python3 -m devtools.registry start --dir D --port 5000   # background; writes D/registry.pid
    python3 -m devtools.registry stop --dir D
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PID_FILE = "registry.pid"
CONFIG_TEMPLATE = """\
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalRegistry:
    """A running registry. ``address`` is "127.0.0.1:PORT"; ``log`` its combined output."""

    pid: int
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "registry.log"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the registry by its PID (SIGTERM, then SIGKILL). Idempotent."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            return
        _stop_pid(self.pid, timeout)


def _is_registry(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"docker-registry" in cmdline.split(b"\0")[0]


def _stop_pid(pid: int, timeout: float) -> None:
    if not _is_registry(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_registry(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _is_registry(pid):
        os.kill(pid, signal.SIGKILL)


def wait_ready(
    address: str, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until ``GET http://address/v2/`` answers 200."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://{address}/v2/", timeout=1) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"registry at {address} did not answer /v2/ in {timeout}s")
        time.sleep(0.05)


def start(directory: Path, port: int | None = None, *, detach: bool = False) -> LocalRegistry:
    """Start ``docker-registry`` with storage in ``directory/data``; wait until it answers.

    ``detach`` puts it in its own session (the CLI's background mode) and writes a pid file.
    """
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed (Debian package docker-registry)")
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as e:
            raise RuntimeError(f"127.0.0.1:{port} is already in use") from e
    config = directory / "config.yml"
    config.write_text(CONFIG_TEMPLATE.format(root=directory / "data", port=port))
    with open(directory / "registry.log", "ab") as log:
        proc = subprocess.Popen(
            [binary, "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=detach,
        )
    reg = LocalRegistry(pid=proc.pid, port=port, directory=directory, process=proc)
    try:
        wait_ready(reg.address, proc=proc)
    except RuntimeError as e:
        reg.stop()
        tail = reg.log.read_text(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"{e}; its log ends with: {' | '.join(tail)}") from None
    except BaseException:
        reg.stop()
        raise
    if detach:
        (directory / PID_FILE).write_text(f"{proc.pid} {port}\n")
    return reg


def stop(directory: Path) -> bool:
    """Stop the registry whose pid file is in ``directory``. False if none was running."""
    pid_file = directory / PID_FILE
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    running = _is_registry(pid)
    _stop_pid(pid, 10.0)
    pid_file.unlink(missing_ok=True)
    return running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m devtools.registry", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="start a registry in the background")
    s.add_argument("--dir", required=True, type=Path)
    s.add_argument("--port", type=int, default=5000)
    t = sub.add_parser("stop", help="stop the registry started with --dir")
    t.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "start":
        reg = start(args.dir, args.port, detach=True)
        reg.process = None  # outlives us; stopped later through the pid file
        print(reg.address)
        return 0
    return 0 if stop(args.dir) else 1


if __name__ == "__main__":
    sys.exit(main())
