"""Real runc: exit codes, signals, OOM, start errors, hostname, PID namespaces, security."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kubelite.runtime.interface import (
    ContainerState,
    CreateContainerConfigError,
    EventKind,
    Resources,
    SecurityContext,
    StartContainerError,
)
from kubelite.runtime.runc import RuncRuntime
from tests.e2e.runtime.pods import container, run, sandbox, wait_exit

pytestmark = pytest.mark.e2e


async def test_exit_code_zero_is_completed_and_nonzero_is_error(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    ok = await run(runtime, sid, container(runtime, "ok", ["true"]))
    bad = await run(runtime, sid, container(runtime, "bad", ["sh", "-c", "exit 3"]))
    await wait_exit(runtime, ok)
    await wait_exit(runtime, bad)
    s_ok, s_bad = await runtime.container_status(ok), await runtime.container_status(bad)
    assert (s_ok.state, s_ok.exit_code, s_ok.reason) == (ContainerState.EXITED, 0, "Completed")
    assert (s_bad.exit_code, s_bad.reason) == (3, "Error")
    assert s_bad.started_at is not None and s_bad.finished_at is not None
    assert s_bad.started_at <= s_bad.finished_at


async def test_pid1_ignoring_sigterm_is_killed_137_after_the_grace(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sh", "-c", "sleep 60"]))
    # busybox sh is PID 1 without a TERM handler: the kernel ignores SIGTERM (VOL-8)
    await runtime.stop_container(cid, timeout=0.3)
    status = await runtime.container_status(cid)
    assert (status.exit_code, status.reason) == (137, "Error")


async def test_sigterm_in_a_shared_pid_namespace_gives_143(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime, share_process_namespace=True)
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"]))
    await runtime.stop_container(cid, timeout=5)
    assert (await runtime.container_status(cid)).exit_code == 143


async def test_memory_limit_gives_oomkilled_137(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    res = Resources(memory_limit=16 * 1024 * 1024)
    cid = await run(runtime, sid, container(runtime, "hog", ["tail", "/dev/zero"], resources=res))
    await wait_exit(runtime, cid, 20)
    status = await runtime.container_status(cid)
    assert (status.exit_code, status.reason) == (137, "OOMKilled")


async def test_missing_executable_is_start_error_128(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await runtime.create_container(sid, container(runtime, "c", ["/no/such/binary"]))
    with pytest.raises(StartContainerError):
        await runtime.start_container(cid)
    status = await runtime.container_status(cid)
    assert (status.state, status.exit_code, status.reason) == (
        ContainerState.EXITED, 128, "StartError",
    )  # fmt: skip
    assert "/no/such/binary" in status.message


async def test_hostname_and_etc_files_come_from_the_sandbox(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime, hostname="my-host")
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"]))
    res = await runtime.exec_sync(cid, ["sh", "-c", "hostname; cat /etc/hostname; cat /etc/hosts"])
    out = res.stdout.decode()
    assert out.startswith("my-host\nmy-host\n")
    assert "127.0.0.1\tlocalhost" in out


async def test_without_shared_pid_namespace_the_entrypoint_is_pid_1(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sh", "-c", "echo pid=$$$$; sleep 60"]))
    other = await run(runtime, sid, container(runtime, "d", ["sleep", "61"]))
    res = await runtime.exec_sync(other, ["ps", "-o", "args"])
    assert b"sleep 60" not in res.stdout
    await runtime.stop_container(cid, 0)
    log = (await runtime.container_status(cid)).log_path.read_text()
    assert "pid=1" in log


async def test_shared_pid_namespace_sees_other_containers(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime, share_process_namespace=True)
    a = await run(runtime, sid, container(runtime, "a", ["sh", "-c", "echo pid=$$$$; sleep 60"]))
    b = await run(runtime, sid, container(runtime, "b", ["sleep", "61"]))
    res = await runtime.exec_sync(b, ["ps", "-o", "pid,args"])
    assert b"sleep 60" in res.stdout
    await runtime.stop_container(a, 5)
    assert "pid=1\n" not in (await runtime.container_status(a)).log_path.read_text()


async def test_events_report_start_and_exit(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    events = runtime.events()
    cid = await run(runtime, sid, container(runtime, "c", ["true"]))
    seen = []
    async for ev in events:
        seen.append((ev.kind, ev.container_id))
        if ev.kind is EventKind.EXITED:
            break
    await events.aclose()
    assert seen == [(EventKind.STARTED, cid), (EventKind.EXITED, cid)]


async def test_security_context_user_caps_and_read_only_root(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    sec = SecurityContext(
        run_as_user=1000, run_as_group=3000, supplemental_groups=(4000,),
        read_only_root_filesystem=True, capabilities_drop=("ALL",),
        capabilities_add=("NET_ADMIN",), allow_privilege_escalation=False,
    )  # fmt: skip
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"], security=sec))
    res = await runtime.exec_sync(
        cid, ["sh", "-c", "id; grep -E 'CapBnd|NoNewPrivs' /proc/self/status; touch /x"]
    )
    out = res.stdout.decode()
    # the image's /etc/group makes uid 1000 ("app") a member of "extra" (2000)
    assert "uid=1000(app) gid=3000 groups=2000(extra),4000" in out
    assert "CapBnd:\t0000000000001000" in out  # CAP_NET_ADMIN only (bit 12)
    assert "NoNewPrivs:\t1" in out
    assert res.exit_code != 0 and b"Read-only file system" in res.stderr


async def test_image_user_by_name_and_run_as_non_root(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await run(
        runtime, sid, container(runtime, "c", ["sleep", "60"], image="busybox-named-user")
    )
    assert (await runtime.exec_sync(cid, ["id", "-u"])).stdout == b"1000\n"
    root = container(runtime, "r", ["true"], security=SecurityContext(run_as_non_root=True))
    with pytest.raises(CreateContainerConfigError, match="image will run as root"):
        await runtime.create_container(sid, root)


async def test_termination_message_file_is_fresh_and_reported(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cfg = container(runtime, "c", ["sh", "-c", "echo bye > /dev/termination-log"])
    cid = await run(runtime, sid, cfg)
    await wait_exit(runtime, cid)
    path = (await runtime.container_status(cid)).termination_message_file
    assert path is not None and path.read_text() == "bye\n"
    assert path.stat().st_mode & 0o777 == 0o666


async def test_a_tty_container_logs_through_conmons_terminal(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sh", "-c", "tty; echo done"], tty=True))
    await wait_exit(runtime, cid)
    status = await runtime.container_status(cid)
    assert status.exit_code == 0
    log = status.log_path.read_text()
    assert "/dev/pts/" in log and "done" in log


async def test_stop_signal_of_the_image_is_used(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime, share_process_namespace=True)
    trap = "trap 'echo got-usr1; exit 0' USR1; while true; do sleep 0.05; done"
    cid = await run(runtime, sid, container(runtime, "c", ["sh", "-c", trap],
                                            image="busybox-stopsignal"))  # fmt: skip
    await asyncio.sleep(0.2)
    await runtime.stop_container(cid, timeout=5)
    status = await runtime.container_status(cid)
    assert (status.exit_code, status.reason) == (0, "Completed")
    assert "got-usr1" in status.log_path.read_text()


async def test_start_finishes_after_an_interrupted_start(runtime: RuncRuntime) -> None:
    from kubelite.runtime import conmon

    sid = await sandbox(runtime)
    cid = await runtime.create_container(sid, container(runtime, "c", ["echo", "resumed"]))
    record = runtime.containers.get(cid)
    # as if kubelite died between `runc create` and `runc start`
    await conmon.create_under_conmon(cid, "c", runtime.containers.paths(record), tty=False)
    await runtime.start_container(cid)
    await wait_exit(runtime, cid)
    status = await runtime.container_status(cid)
    assert status.exit_code == 0 and "resumed" in status.log_path.read_text()


async def test_a_start_without_runc_start_leaves_runc_reporting_it_running(
    runtime: RuncRuntime,
) -> None:
    """The start goes through runc's exec FIFO (no `runc start` process): runc itself must
    then see exactly what `runc start` leaves, a running container and no FIFO."""
    from kubelite.runtime import execfifo

    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"]))
    assert not execfifo.fifo_path(runtime.runc.root, cid).exists()
    state = await runtime.runc.state(cid)
    assert state is not None and state["status"] == "running"


async def test_a_second_start_of_a_started_container_is_refused(runtime: RuncRuntime) -> None:
    """With the FIFO gone, `runc start` has the last word (its own error)."""
    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"]))
    record = runtime.containers.get(cid)
    with pytest.raises(StartContainerError, match="running"):
        await runtime.runc.start(cid, runtime.containers.pid(record))


async def test_privileged_gets_all_capabilities_devices_and_unmasked_proc(
    runtime: RuncRuntime,
) -> None:
    sid = await sandbox(runtime)
    sec = SecurityContext(privileged=True)
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"], security=sec))
    script = "grep CapBnd /proc/self/status; ls /dev; cat /proc/sys/kernel/ostype"
    res = await runtime.exec_sync(cid, ["sh", "-c", script])
    out = res.stdout.decode()
    assert _own_bounding_set() in out  # everything this host can grant
    assert "Linux" in out  # /proc/sys readable and not masked
    assert {"null", "zero"} <= set(out.split()) and len(_char_devices() & set(out.split())) > 5


def _own_bounding_set() -> str:
    lines = Path("/proc/self/status").read_text().splitlines()
    return next(ln for ln in lines if ln.startswith("CapBnd:")).strip()


def _char_devices() -> set[str]:
    return {p.name for p in Path("/dev").iterdir() if p.is_char_device()}


async def test_stopping_a_never_started_container_records_an_exit(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await runtime.create_container(sid, container(runtime, "c", ["true"]))
    await runtime.stop_container(cid, timeout=1)
    status = await runtime.container_status(cid)
    assert (status.state, status.exit_code) == (ContainerState.EXITED, 137)
    with pytest.raises(StartContainerError):
        await runtime.start_container(cid)
    await runtime.stop_container("0" * 64, timeout=1)  # unknown: nothing to do


async def test_event_streams_end_when_the_runtime_closes(runtime: RuncRuntime) -> None:
    events = runtime.events()
    await runtime.close()
    assert [e async for e in events] == []
