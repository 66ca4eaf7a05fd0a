"""runc's command line, as the runtime uses it: start, kill, delete, state.

Always with ``--root`` pointing at kubelite's own runc state (Settings.runc_root), so the
host's containers and other kubelites are never touched. A start whose init is known is done
in-process through runc's exec FIFO (``execfifo``), with ``runc start`` as the fallback.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from kubelite.runtime import execfifo
from kubelite.runtime.interface import RuntimeError_, StartContainerError
from kubelite.runtime.process import run_tool


class Runc:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.binary = shutil.which("runc") or "runc"

    def argv(self, *args: str) -> list[str]:
        return [self.binary, "--root", str(self.root), *args]

    async def start(self, container_id: str, pid: int | None = None) -> None:
        """Run a created container's process. ``pid``: its init's host pid, when known (what
        ``runc create`` reported): then runc's exec FIFO is opened here, as ``runc start``
        would open it, and ``runc start`` itself only runs when that cannot settle it."""
        fifo = execfifo.fifo_path(self.root, container_id)
        if pid is not None and await execfifo.release(fifo, pid):
            return
        await run_tool(*self.argv("start", container_id), error=StartContainerError)

    async def kill(self, container_id: str, signal: str, *, all_processes: bool = False) -> bool:
        """Signal the container; False when it is not running (already stopped or gone)."""
        extra = ["--all"] if all_processes else []
        res = await run_tool(*self.argv("kill", *extra, container_id, signal), check=False)
        return res.returncode == 0

    async def delete(self, container_id: str) -> None:
        await run_tool(*self.argv("delete", "--force", container_id), check=False)

    async def state(self, container_id: str) -> dict[str, Any] | None:
        res = await run_tool(*self.argv("state", container_id), check=False)
        if res.returncode != 0:
            return None
        try:
            data: dict[str, Any] = json.loads(res.stdout)
        except ValueError as e:
            raise RuntimeError_(f"runc state {container_id}: {e}") from e
        return data
