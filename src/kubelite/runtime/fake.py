"""An in-memory Runtime for unit and component tests (design principle 5).

State lives in dicts; every call is recorded in order (``calls``); errors can be injected per
method (``fail_next``); containers follow scripts on the injected Clock, so with a
``ManualClock`` a test decides exactly when a container exits, how it answers the stop signal
and what an exec returns. Nothing here touches the operating system, except writing the
termination-message file when a ``data_dir`` is given.

Scripting, keyed by container name (and optionally attempt and pod name)::

    fake.script("app", runs=3.0, exit_code=1)            # exits 1, 3 s after it starts
    fake.script("app", attempt=2)                        # the third instance runs until stopped
    fake.script("app", on_term=None)                     # ignores SIGTERM: 137 when grace ends
    fake.script("app", on_term=20.0, term_exit_code=0)   # exits 0, 20 s after SIGTERM
    fake.script("app", runs=1.0, oom=True)               # OOMKilled, 137
    fake.script("app", start_error="exec: \"nope\": not found")  # StartError, 128
    fake.script_exec(["cat", "/ready"], exit_code=1, stdout=b"no", times=2)
    fake.script_attach("app", stdout=b"hello\n")         # what an attach to "app" shows
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import signal as signals
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kubelite.clock import Clock
from kubelite.images.interface import InvalidImageName
from kubelite.images.reference import parse_reference
from kubelite.runtime.interface import (
    ContainerConfig,
    ContainerState,
    ContainerStats,
    ContainerStatus,
    CreateContainerError,
    EventKind,
    ExecResult,
    NotFound,
    PodStorage,
    RuntimeError_,
    RuntimeEvent,
    RuntimeInfo,
    SandboxConfig,
    SandboxStatus,
    StartContainerError,
    VolumeSpec,
)


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Script:
    """How one container instance behaves. ``runs=None``: runs until it is stopped."""

    runs: float | None = None
    exit_code: int = 0
    oom: bool = False  # exits at ``runs`` with 137, reason OOMKilled (TERM-3)
    # Seconds from the stop signal to the exit; None = ignores it and is SIGKILLed (137).
    on_term: float | None = 0.0
    term_exit_code: int | None = None  # None: 128 + the signal number (143 for SIGTERM)
    start_error: str | None = None  # start fails: StartContainerError, record exited 128
    message: str = ""  # the runtime's own message on exit
    termination_message: str | None = None  # written to the message file (needs data_dir)
    memory_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ExecScript:
    exit_code: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    takes: float = 0.0  # virtual seconds the command runs
    times: int | None = None  # None: answers every matching call; else used up after n


class FakeExecSession:
    """A finished interactive exec: scripted output, then the exit code."""

    def __init__(self, result: ExecScript) -> None:
        self._result = result
        self.stdin = bytearray()
        self.resized: list[tuple[int, int]] = []
        self.killed = False

    async def write_stdin(self, data: bytes) -> None:
        self.stdin += data

    async def close_stdin(self) -> None:
        return None

    async def stdout(self) -> AsyncIterator[bytes]:
        if self._result.stdout:
            yield self._result.stdout

    async def stderr(self) -> AsyncIterator[bytes]:
        if self._result.stderr:
            yield self._result.stderr

    async def resize(self, columns: int, rows: int) -> None:
        self.resized.append((columns, rows))

    async def wait(self) -> int:
        return self._result.exit_code

    async def kill(self) -> None:
        self.killed = True


@dataclass(slots=True)
class _Sandbox:
    status: SandboxStatus
    config: SandboxConfig


@dataclass(slots=True)
class _Container:
    status: ContainerStatus
    config: ContainerConfig
    script: Script
    exited: asyncio.Event = field(default_factory=asyncio.Event)
    life: asyncio.Task[None] | None = None  # sleeps until the next scheduled exit


def _sig_number(name: str) -> int:
    key = name.upper() if name.upper().startswith("SIG") else "SIG" + name.upper()
    return int(signals.Signals[key])


class FakeRuntime:
    """Implements ``kubelite.runtime.interface.Runtime`` in memory. Close it (``await
    fake.close()`` or ``async with``) so its timer tasks end with the test."""

    def __init__(
        self, clock: Clock, *, data_dir: Path | None = None, info: RuntimeInfo | None = None
    ) -> None:
        self.clock = clock
        self.data_dir = data_dir
        self.runtime_info = info or RuntimeInfo()
        self.storage: dict[str, PodStorage] = {}  # pod uid -> what pod_storage reports
        self.calls: list[Call] = []
        self.sandboxes: dict[str, _Sandbox] = {}
        self.containers: dict[str, _Container] = {}
        self.volumes: dict[str, dict[str, VolumeSpec]] = {}
        self.image_ids: dict[str, str] = {}
        self._scripts: dict[tuple[str | None, str, int | None], Script] = {}
        self._execs: dict[tuple[str | None, tuple[str, ...]], deque[ExecScript]] = {}
        self._attaches: dict[str, ExecScript] = {}
        self._failures: dict[str, deque[BaseException]] = {}
        self._subscribers: list[asyncio.Queue[RuntimeEvent | None]] = []
        self._ids = itertools.count(1)
        self._closed = False

    async def __aenter__(self) -> FakeRuntime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ test controls

    def script(
        self, name: str, *, attempt: int | None = None, pod: str | None = None, **behaviour: Any
    ) -> Script:
        """Script container ``name`` (every attempt, or just ``attempt``; any pod or ``pod``)."""
        s = Script(**behaviour)
        self._scripts[(pod, name, attempt)] = s
        return s

    def script_exec(
        self, argv: Sequence[str], *, container: str | None = None, **result: Any
    ) -> None:
        """Queue a result for ``argv`` (in any container or in the one named ``container``).
        Entries with ``times`` are used up in order; one without answers for ever."""
        self._execs.setdefault((container, tuple(argv)), deque()).append(ExecScript(**result))

    def script_attach(self, container: str, **result: Any) -> None:
        """What an attach to containers named ``container`` shows (ExecScript fields)."""
        self._attaches[container] = ExecScript(**result)

    def fail_next(self, method: str, error: BaseException, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` raise ``error`` (after being recorded)."""
        self._failures.setdefault(method, deque()).extend([error] * times)

    def use_disk(
        self,
        pod_uid: str,
        *,
        volumes: Mapping[str, int] | None = None,
        containers: Mapping[str, int] | None = None,
    ) -> None:
        """What ``pod_storage`` reports for the pod from now on (bytes by volume and by
        container name); parts not given are kept."""
        old = self.storage.get(pod_uid, PodStorage())
        self.storage[pod_uid] = PodStorage(
            volumes=dict(old.volumes if volumes is None else volumes),
            containers=dict(old.containers if containers is None else containers),
        )

    def call_names(self) -> list[str]:
        return [c.method for c in self.calls]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def container_named(
        self, name: str, *, pod: str | None = None, attempt: int | None = None
    ) -> ContainerStatus:
        """The newest container called ``name`` (optionally of one pod / attempt)."""
        for c in reversed(self.containers.values()):
            sb = self.sandboxes.get(c.status.sandbox_id)
            if c.status.name != name or (attempt is not None and c.status.attempt != attempt):
                continue
            if pod is None or (sb is not None and sb.config.pod_name == pod):
                return c.status
        raise NotFound(f"no container named {name}")

    async def crash(self, container_id: str, exit_code: int = 1, *, oom: bool = False) -> None:
        """Make a running container exit now, as if its process died."""
        c = self._container(container_id)
        if c.status.state is ContainerState.RUNNING:
            self._exit(c, 137 if oom else exit_code, oom=oom)

    def kill_sandbox(self, sandbox_id: str) -> None:
        """Simulate a reboot: the sandbox is no longer ready and its containers are gone."""
        sb = self.sandboxes[sandbox_id]
        sb.status = replace(sb.status, ready=False)
        for cid in [cid for cid, c in self.containers.items() if c.status.sandbox_id == sandbox_id]:
            c = self.containers.pop(cid)
            self._cancel_life(c)
            c.exited.set()

    def set_unknown(self, container_id: str) -> None:
        """The runtime lost track of the container's state (CS-1 'unknown')."""
        c = self._container(container_id)
        self._cancel_life(c)
        c.status = replace(c.status, state=ContainerState.UNKNOWN)

    # ------------------------------------------------------------------ sandboxes

    async def run_sandbox(self, config: SandboxConfig) -> str:
        self._enter("run_sandbox", config)
        sid = self._new_id("sandbox")
        status = SandboxStatus(
            id=sid,
            pod_uid=config.pod_uid,
            pod_name=config.pod_name,
            namespace=config.namespace,
            attempt=config.attempt,
            ready=True,
            created_at=self.clock.now(),
            ip=None,
            netns_path=f"fake-netns/{sid[:12]}",  # not a real path: nothing to enter
            labels=dict(config.labels),
        )
        self.sandboxes[sid] = _Sandbox(status=status, config=config)
        return sid

    async def stop_sandbox(self, sandbox_id: str) -> None:
        self._enter("stop_sandbox", sandbox_id)
        sb = self.sandboxes.get(sandbox_id)
        if sb is None:
            return
        for c in list(self.containers.values()):
            if c.status.sandbox_id == sandbox_id and c.status.state is ContainerState.RUNNING:
                self._exit(c, 128 + _sig_number("SIGKILL"))
        sb.status = replace(sb.status, ready=False)

    async def remove_sandbox(self, sandbox_id: str) -> None:
        self._enter("remove_sandbox", sandbox_id)
        if sandbox_id not in self.sandboxes:
            return
        for cid, c in list(self.containers.items()):
            if c.status.sandbox_id == sandbox_id:
                if c.status.state is ContainerState.RUNNING:
                    self._exit(c, 128 + _sig_number("SIGKILL"))
                self._drop(cid)
        del self.sandboxes[sandbox_id]

    async def list_sandboxes(self, pod_uid: str | None = None) -> list[SandboxStatus]:
        self._enter("list_sandboxes")
        return [
            sb.status
            for sb in self.sandboxes.values()
            if pod_uid is None or sb.status.pod_uid == pod_uid
        ]

    # ------------------------------------------------------------------ volumes

    async def prepare_volumes(
        self, pod_uid: str, volumes: Sequence[VolumeSpec], *, fs_group: int | None = None
    ) -> None:
        self._enter("prepare_volumes", pod_uid, tuple(volumes), fs_group=fs_group)
        prepared = self.volumes.setdefault(pod_uid, {})
        for v in volumes:
            prepared[v.name] = v

    async def remove_volumes(self, pod_uid: str) -> None:
        self._enter("remove_volumes", pod_uid)
        self.volumes.pop(pod_uid, None)

    # ------------------------------------------------------------------ containers

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        self._enter("create_container", sandbox_id, config)
        sb = self.sandboxes.get(sandbox_id)
        if sb is None:
            raise NotFound(f"sandbox {sandbox_id} not found")
        if not sb.status.ready:
            raise CreateContainerError(f"sandbox {sandbox_id} is not ready")
        cid = self._new_id("container")
        message_file = None
        if self.data_dir is not None:
            message_file = self.data_dir / "termination" / cid
            message_file.parent.mkdir(parents=True, exist_ok=True)
            message_file.write_bytes(b"")
        status = ContainerStatus(
            id=cid,
            sandbox_id=sandbox_id,
            name=config.name,
            attempt=config.attempt,
            state=ContainerState.CREATED,
            image=config.image,
            image_id=self.image_ids.get(config.image) or _digest(config.image),
            created_at=self.clock.now(),
            log_path=config.log_path,
            termination_message_file=message_file,
            labels=dict(config.labels),
        )
        script = self._script_for(sb.config.pod_name, config.name, config.attempt)
        self.containers[cid] = _Container(status=status, config=config, script=script)
        return cid

    async def start_container(self, container_id: str) -> None:
        self._enter("start_container", container_id)
        c = self._container(container_id)
        if c.status.state is not ContainerState.CREATED:
            raise StartContainerError(f"container {container_id} is {c.status.state.value}")
        now = self.clock.now()
        if c.script.start_error is not None:
            # CS-3: a failed start leaves an exited record, reason StartError, exit 128.
            c.status = replace(
                c.status,
                state=ContainerState.EXITED,
                finished_at=now,
                exit_code=128,
                reason="StartError",
                message=c.script.start_error,
            )
            c.exited.set()
            raise StartContainerError(c.script.start_error)
        c.status = replace(c.status, state=ContainerState.RUNNING, started_at=now)
        self._emit(EventKind.STARTED, c)
        if c.script.runs is not None:
            code = 137 if c.script.oom else c.script.exit_code
            self._schedule(c, c.script.runs, code, oom=c.script.oom)

    async def stop_container(self, container_id: str, timeout: float, signal: str = "") -> None:
        self._enter("stop_container", container_id, timeout, signal=signal)
        c = self.containers.get(container_id)
        if c is None or c.status.state is ContainerState.EXITED:
            return
        if c.status.state is not ContainerState.RUNNING:  # created or unknown: just kill it
            self._exit(c, 128 + _sig_number("SIGKILL"))
            return
        sig = signal or c.config.stop_signal or "SIGTERM"
        s = c.script
        # Candidates: the natural exit, the answer to the signal, SIGKILL when grace ends.
        options: list[tuple[float, int, bool]] = [(max(timeout, 0.0), 137, False)]
        if sig.upper() in ("SIGKILL", "KILL"):
            options = [(0.0, 137, False)]
        elif s.on_term is not None:
            code = s.term_exit_code if s.term_exit_code is not None else 128 + _sig_number(sig)
            options.append((s.on_term, code, False))
        if s.runs is not None and c.status.started_at is not None:
            left = c.status.started_at + s.runs - self.clock.now()
            options.append((max(left, 0.0), 137 if s.oom else s.exit_code, s.oom))
        delay, code, oom = min(options, key=lambda o: o[0])
        self._cancel_life(c)
        if delay <= 0:
            self._exit(c, code, oom=oom)
        else:
            self._schedule(c, delay, code, oom=oom)
        await c.exited.wait()

    async def remove_container(self, container_id: str) -> None:
        self._enter("remove_container", container_id)
        c = self.containers.get(container_id)
        if c is None:
            return
        if c.status.state is ContainerState.RUNNING:
            self._exit(c, 128 + _sig_number("SIGKILL"))
        self._drop(container_id)

    async def list_containers(self, sandbox_id: str | None = None) -> list[ContainerStatus]:
        self._enter("list_containers", sandbox_id)
        return [
            c.status
            for c in self.containers.values()
            if sandbox_id is None or c.status.sandbox_id == sandbox_id
        ]

    async def container_status(self, container_id: str) -> ContainerStatus:
        self._enter("container_status", container_id)
        return self._container(container_id).status

    async def container_stats(self, container_id: str) -> ContainerStats:
        self._enter("container_stats", container_id)
        c = self._container(container_id)
        running = c.status.state is ContainerState.RUNNING
        memory = c.script.memory_bytes if running else 0
        return ContainerStats(memory_bytes=memory, cpu_usage_ns=0, working_set_bytes=memory)

    async def pod_storage(self, pod_uid: str) -> PodStorage:
        self._enter("pod_storage", pod_uid)
        return self.storage.get(pod_uid, PodStorage())

    async def info(self) -> RuntimeInfo:
        """Static facts: not recorded as a call."""
        return self.runtime_info

    # ------------------------------------------------------------------ exec

    async def exec_sync(
        self, container_id: str, argv: Sequence[str], *, timeout: float | None = None
    ) -> ExecResult:
        self._enter("exec_sync", container_id, tuple(argv), timeout=timeout)
        c = self._running(container_id)
        r = self._exec_for(c, argv)
        if timeout is not None and timeout > 0 and r.takes > timeout:
            await self.clock.sleep(timeout)
            return ExecResult(exit_code=-1, stdout=b"", stderr=b"", timed_out=True)
        if r.takes > 0:
            await self.clock.sleep(r.takes)
        return ExecResult(exit_code=r.exit_code, stdout=r.stdout, stderr=r.stderr)

    async def exec_stream(
        self, container_id: str, argv: Sequence[str], *, tty: bool = False, stdin: bool = False
    ) -> FakeExecSession:
        self._enter("exec_stream", container_id, tuple(argv), tty=tty, stdin=stdin)
        c = self._running(container_id)
        return FakeExecSession(self._exec_for(c, argv))

    async def attach(self, container_id: str) -> FakeExecSession:
        self._enter("attach", container_id)
        c = self._running(container_id)
        return FakeExecSession(self._attaches.get(c.config.name, ExecScript()))

    # ------------------------------------------------------------------ events, lifetime

    def events(self) -> AsyncGenerator[RuntimeEvent, None]:
        """Each call subscribes at once; the iterator ends when the runtime is closed."""
        q: asyncio.Queue[RuntimeEvent | None] = asyncio.Queue()
        self._subscribers.append(q)

        async def stream() -> AsyncGenerator[RuntimeEvent, None]:
            try:
                while not self._closed:
                    ev = await q.get()
                    if ev is None:
                        return
                    yield ev
            finally:
                self._subscribers.remove(q)

        return stream()

    async def close(self) -> None:
        self._enter("close")
        self._closed = True
        lives = [c.life for c in self.containers.values() if c.life is not None]
        for c in self.containers.values():
            self._cancel_life(c)
        await asyncio.gather(*lives, return_exceptions=True)
        for q in self._subscribers:
            q.put_nowait(None)

    # ------------------------------------------------------------------ internals

    def _enter(self, method: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append(Call(method, args, kwargs))
        pending = self._failures.get(method)
        if pending:
            raise pending.popleft()

    def _new_id(self, kind: str) -> str:
        return hashlib.sha256(f"{kind}-{next(self._ids)}".encode()).hexdigest()

    def _container(self, container_id: str) -> _Container:
        c = self.containers.get(container_id)
        if c is None:
            raise NotFound(f"container {container_id} not found")
        return c

    def _running(self, container_id: str) -> _Container:
        c = self._container(container_id)
        if c.status.state is not ContainerState.RUNNING:
            raise RuntimeError_(f"container {container_id} is not running")
        return c

    def _script_for(self, pod: str, name: str, attempt: int) -> Script:
        for key in (
            (pod, name, attempt),
            (None, name, attempt),
            (pod, name, None),
            (None, name, None),
        ):
            if key in self._scripts:
                return self._scripts[key]
        return Script()

    def _exec_for(self, c: _Container, argv: Sequence[str]) -> ExecScript:
        for key in ((c.config.name, tuple(argv)), (None, tuple(argv))):
            queue = self._execs.get(key)
            if queue:
                r = queue[0]
                if r.times is not None:
                    if r.times <= 1:
                        queue.popleft()
                    else:
                        queue[0] = replace(r, times=r.times - 1)
                return r
        return ExecScript()

    def _schedule(self, c: _Container, delay: float, code: int, *, oom: bool = False) -> None:
        # The deadline is fixed now: the task may first run after a test has moved the clock.
        deadline = self.clock.now() + delay

        async def life() -> None:
            await self.clock.sleep(deadline - self.clock.now())
            c.life = None
            self._exit(c, code, oom=oom, at=deadline)

        self._cancel_life(c)
        c.life = asyncio.get_running_loop().create_task(life(), name=f"fake:{c.config.name}")

    def _cancel_life(self, c: _Container) -> None:
        if c.life is not None and c.life is not asyncio.current_task():
            c.life.cancel()
        c.life = None

    def _exit(
        self, c: _Container, code: int, *, oom: bool = False, at: float | None = None
    ) -> None:
        """Record the exit (TERM-3 reasons) and announce it."""
        self._cancel_life(c)
        reason = "OOMKilled" if oom else ("Completed" if code == 0 else "Error")
        if c.status.termination_message_file is not None and c.script.termination_message:
            c.status.termination_message_file.write_text(c.script.termination_message)
        c.status = replace(
            c.status,
            state=ContainerState.EXITED,
            finished_at=self.clock.now() if at is None else at,
            exit_code=code,
            reason=reason,
            message=c.script.message,
        )
        c.exited.set()
        self._emit(EventKind.EXITED, c, at)

    def _drop(self, container_id: str) -> None:
        c = self.containers.pop(container_id)
        self._cancel_life(c)
        self._emit(EventKind.REMOVED, c)

    def _emit(self, kind: EventKind, c: _Container, at: float | None = None) -> None:
        ev = RuntimeEvent(kind, c.status.id, c.status.sandbox_id, at or self.clock.now())
        for q in self._subscribers:
            q.put_nowait(ev)


def _digest(image: str) -> str:
    """A stand-in repo digest, shaped as the real runtime's ``image_id`` (CS-7)."""
    digest = "sha256:" + hashlib.sha256(image.encode()).hexdigest()
    try:
        return f"{parse_reference(image).name}@{digest}"
    except InvalidImageName:
        return digest
