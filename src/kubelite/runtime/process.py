"""Running the host tools the runtime drives (runc, unshare, nsenter, ip, setsid).

One place that starts a short-lived tool, waits for it and turns a failure into the typed
runtime error the caller names, carrying the tool's own message.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kubelite.runtime.interface import RuntimeError_


@dataclass(frozen=True, slots=True)
class ToolResult:
    returncode: int
    stdout: bytes
    stderr: bytes


async def run_tool(
    *argv: str,
    error: type[RuntimeError_] = RuntimeError_,
    check: bool = True,
    stdin: bytes | None = None,
) -> ToolResult:
    """Run ``argv`` to completion. With ``check``, a non-zero exit raises ``error``."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin)
    rc = proc.returncode if proc.returncode is not None else -1
    if check and rc != 0:
        text = (err or out).decode(errors="replace").strip()
        raise error(f"{argv[0]} {argv[1] if len(argv) > 1 else ''}: {text or f'exit {rc}'}")
    return ToolResult(rc, out, err)
