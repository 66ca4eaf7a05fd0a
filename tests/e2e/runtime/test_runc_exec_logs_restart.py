"""Real runc: exec (sync, timeout, TTY), logs across attempts, restart safety, clean removal."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest

from kubelite.runtime.interface import ContainerState, EmptyDirVolume, EventKind
from kubelite.runtime.logs import LogOptions, follow_log, read_log
from kubelite.runtime.runc import RuncRuntime
from tests.e2e.runtime.busybox_rootfs import BusyboxRootfs
from tests.e2e.runtime.pods import container, run, sandbox, wait_exit

pytestmark = pytest.mark.e2e


async def test_exec_sync_exit_code_output_and_timeout(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"]))
    res = await runtime.exec_sync(cid, ["sh", "-c", "echo out; echo err >&2; exit 7"])
    assert (res.exit_code, res.stdout, res.stderr, res.timed_out) == (7, b"out\n", b"err\n", False)
    started = time.monotonic()
    res = await runtime.exec_sync(cid, ["sleep", "30"], timeout=0.3)
    assert res.timed_out and time.monotonic() - started < 5
    ps = await runtime.exec_sync(cid, ["ps", "-o", "args"])
    assert b"sleep 30" not in ps.stdout  # the timed-out process was killed


async def test_exec_with_a_tty_and_resize(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"]))
    script = "echo ready; read x; tty; stty size; exit 5"
    session = await runtime.exec_stream(cid, ["sh", "-c", script], tty=True, stdin=True)
    chunks = session.stdout()
    out = await chunks.__anext__()  # the terminal is set up once the shell has spoken
    await session.resize(100, 40)
    await asyncio.sleep(0.05)
    await session.write_stdin(b"go\n")
    async for chunk in chunks:
        out += chunk
    assert await session.wait() == 5
    assert b"ready" in out and b"/dev/pts/" in out and b"40 100" in out


async def test_exec_stream_with_pipes(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"]))
    session = await runtime.exec_stream(cid, ["sh", "-c", "cat; echo e >&2; exit 2"], stdin=True)
    await session.write_stdin(b"hello")
    await session.close_stdin()
    out = b"".join([c async for c in session.stdout()])
    err = b"".join([c async for c in session.stderr()])
    assert (await session.wait(), out, err) == (2, b"hello", b"e\n")


async def test_logs_of_two_attempts_tail_since_and_follow(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    first = await run(runtime, sid, container(runtime, "c", ["sh", "-c", "echo one; echo two"]))
    await wait_exit(runtime, first)
    cut = time.time()
    second_cfg = container(runtime, "c", ["sh", "-c", "echo three; sleep 0.3; echo four"],
                           attempt=1)  # fmt: skip
    second = await run(runtime, sid, second_cfg)

    async def running() -> bool:
        return (await runtime.container_status(second)).state is ContainerState.RUNNING

    followed = b"".join([c async for c in follow_log(second_cfg.log_path, LogOptions(), running,
                                                    poll=0.02)])  # fmt: skip
    assert followed == b"three\nfour\n"
    s1, s2 = await runtime.container_status(first), await runtime.container_status(second)
    assert s1.log_path.name == "0.log" and s2.log_path.name == "1.log"
    assert read_log(s1.log_path) == b"one\ntwo\n"
    assert read_log(s1.log_path, LogOptions(tail=1)) == b"two\n"
    assert read_log(s2.log_path, LogOptions(since=cut)) == b"three\nfour\n"
    assert read_log(s1.log_path, LogOptions(since=cut)) == b""
    stamped = read_log(s1.log_path, LogOptions(timestamps=True, limit_bytes=40))
    assert stamped[:4].isdigit() and b"Z one" in stamped and len(stamped) <= 40


async def test_a_new_runtime_object_adopts_running_containers(
    runtime: RuncRuntime, busybox_lower: Path
) -> None:
    sid = await sandbox(runtime, share_process_namespace=True)
    cid = await run(runtime, sid, container(runtime, "c", ["sh", "-c", "echo up; sleep 1; exit 4"]))
    await runtime.close()
    adopted = RuncRuntime(runtime.settings, BusyboxRootfs(busybox_lower))
    assert [s.id for s in await adopted.list_sandboxes() if s.ready] == [sid]
    assert (await adopted.container_status(cid)).state is ContainerState.RUNNING
    events = adopted.events()
    ev = await asyncio.wait_for(events.__anext__(), 10)
    await events.aclose()
    assert (ev.kind, ev.container_id) == (EventKind.EXITED, cid)
    status = await adopted.container_status(cid)
    assert (status.exit_code, status.reason) == (4, "Error")
    assert read_log(status.log_path) == b"up\n"


def _leftovers(rt: RuncRuntime, sid: str, pause_pid: int | None) -> list[str]:
    data = str(rt.settings.data_dir)
    found = [ln for ln in Path("/proc/mounts").read_text().splitlines() if data in ln]
    found += [str(p) for p in rt.cgroups.leftovers(sid)]
    if pause_pid and os.path.exists(f"/proc/{pause_pid}"):
        found.append(f"pause process {pause_pid}")
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    found += [ln for ln in netns.splitlines() if sid[:12] in ln]
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    found += [ln for ln in ps.splitlines() if data in ln]  # conmon, pause
    if rt.sandboxes.dir(sid).exists():
        found.append(str(rt.sandboxes.dir(sid)))
    return found


async def test_nothing_is_left_behind_after_removal(runtime: RuncRuntime) -> None:
    await runtime.prepare_volumes("uid-1", [EmptyDirVolume("m", "Memory", 1 << 20)])
    from kubelite.runtime.interface import ContainerMount, Resources

    sid = await sandbox(runtime, share_process_namespace=True, memory_limit=64 << 20)
    record = runtime.sandboxes.load(sid)
    assert record is not None
    mount = (ContainerMount("m", "/m"),)
    res = Resources(memory_limit=32 << 20, cpu_quota=50_000, cpu_period=100_000, pids_limit=50)
    for name in ("a", "b"):
        await run(runtime, sid, container(runtime, name, ["sleep", "60"], mounts=mount,
                                          resources=res))  # fmt: skip
    assert runtime.cgroups.leftovers(sid)  # the pod cgroup exists while it runs
    started = time.monotonic()
    await runtime.remove_sandbox(sid)
    elapsed = time.monotonic() - started
    await runtime.remove_volumes("uid-1")
    assert _leftovers(runtime, sid, record.pause_pid) == []
    assert await runtime.list_containers() == []
    assert elapsed < 2.0


async def test_a_new_runtime_object_collects_half_made_folders(
    runtime: RuncRuntime, busybox_lower: Path
) -> None:
    from kubelite.runtime.mounts import mount_tmpfs, mounts_under

    half = runtime.containers.root / ("f" * 64) / "rootfs"
    half.mkdir(parents=True)
    mount_tmpfs(half, size=1 << 20)  # as if kubelite died after mounting a rootfs
    RuncRuntime(runtime.settings, BusyboxRootfs(busybox_lower))
    assert not half.parent.exists() and not mounts_under(half)


async def test_exec_timeout_with_a_child_holding_the_output(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"]))
    started = time.monotonic()
    res = await runtime.exec_sync(cid, ["sh", "-c", "echo partial; sleep 30; true"], timeout=0.3)
    assert res.timed_out and res.stdout == b"partial\n"
    assert time.monotonic() - started < 3


async def test_follow_ends_with_an_unfinished_last_line(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cfg = container(runtime, "c", ["sh", "-c", "echo a; sleep 0.2; printf no-newline"])
    cid = await run(runtime, sid, cfg)

    async def running() -> bool:
        return (await runtime.container_status(cid)).state is ContainerState.RUNNING

    got = [c async for c in follow_log(cfg.log_path, LogOptions(), running, poll=0.02)]
    assert b"".join(got) == b"a\nno-newline"
