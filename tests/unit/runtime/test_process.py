"""wait_process: awaiting a child through a pidfd, including a child that is already reaped."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess

from kubelite.runtime.process import spawn, wait_process


async def test_the_exit_status_of_a_child() -> None:
    proc = spawn(["sh", "-c", "exit 3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert await wait_process(proc) == 3


def test_a_child_that_kill_has_already_reaped() -> None:
    """Popen.kill polls first and so reaps a child that has just exited (an exec probe that
    timed out under load); waiting for it afterwards must not fail with ESRCH."""
    proc = spawn(["true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # exited, not yet reaped
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    assert asyncio.run(wait_process(proc)) == 0
