"""Harnesses that let one Runtime contract suite drive every implementation.

A harness knows how to make a container that "runs N s then exits X" or "ignores SIGTERM" on
its runtime, how an exec answers, and how time passes: the fake scripts behaviour and moves a
ManualClock; the real runtime runs a shell in a small image and waits on the wall clock.

The fixtures that pick a harness per implementation are in conftest.py beside this file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol

import pytest

from kubelite.clock import ManualClock
from kubelite.runtime.fake import FakeRuntime
from kubelite.runtime.interface import ContainerConfig, Runtime

CONTRACT_LABEL = "kubelite.test/contract"  # sandboxes made by the suite, removed afterwards


class Harness(Protocol):
    runtime: Runtime

    def now(self) -> float: ...

    def container(
        self,
        name: str,
        *,
        runs: float | None = None,
        exit_code: int = 0,
        ignores_sigterm: bool = False,
    ) -> ContainerConfig: ...

    def exec_answers(
        self, argv: Sequence[str], exit_code: int, stdout: bytes, stderr: bytes
    ) -> None:
        """Make ``argv`` behave this way (a real shell command already does)."""
        ...

    async def elapse(self, seconds: float) -> None: ...


async def wait_until(h: Harness, check: Callable[[], Awaitable[bool]], within: float) -> None:
    """Let time pass in small steps until ``check`` holds; fail after ``within`` seconds."""
    start = h.now()
    while not await check():
        if h.now() - start > within:
            pytest.fail(f"condition not met within {within}s")
        await h.elapse(0.05)


class FakeHarness:
    def __init__(self, runtime: FakeRuntime, clock: ManualClock) -> None:
        self.runtime: Runtime = runtime
        self.fake = runtime
        self.clock = clock

    def now(self) -> float:
        return self.clock.now()

    def container(
        self,
        name: str,
        *,
        runs: float | None = None,
        exit_code: int = 0,
        ignores_sigterm: bool = False,
    ) -> ContainerConfig:
        self.fake.script(
            name, runs=runs, exit_code=exit_code, on_term=None if ignores_sigterm else 0.0
        )
        return ContainerConfig(name=name, attempt=0, image="contract/busybox:latest")

    def exec_answers(
        self, argv: Sequence[str], exit_code: int, stdout: bytes, stderr: bytes
    ) -> None:
        self.fake.script_exec(argv, exit_code=exit_code, stdout=stdout, stderr=stderr)

    async def elapse(self, seconds: float) -> None:
        await asyncio.sleep(0)  # let callers reach their waits before time moves
        await self.clock.advance(seconds)


class RealHarness:
    """Shell one-liners in a busybox-like image. PID 1 ignores signals it does not trap, so a
    container that should die on SIGTERM traps it explicitly."""

    def __init__(self, runtime: Runtime, image: str, log_dir: Path) -> None:
        self.runtime = runtime
        self.image = image
        self.log_dir = log_dir

    def now(self) -> float:
        return time.time()

    def container(
        self,
        name: str,
        *,
        runs: float | None = None,
        exit_code: int = 0,
        ignores_sigterm: bool = False,
    ) -> ContainerConfig:
        if runs is not None:
            script = f"sleep {runs}; exit {exit_code}"
        elif ignores_sigterm:
            script = "trap '' TERM; while true; do sleep 1; done"
        else:
            script = "trap 'exit 143' TERM; while true; do sleep 0.1; done"
        return ContainerConfig(
            name=name,
            attempt=0,
            image=self.image,
            command=("sh", "-c", script),
            log_path=self.log_dir / name / "0.log",
        )

    def exec_answers(
        self, argv: Sequence[str], exit_code: int, stdout: bytes, stderr: bytes
    ) -> None:
        return None

    async def elapse(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
