"""Real runc: what containers of one pod share (localhost, ports, emptyDir) and volumes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kubelite.runtime.interface import (
    ContainerMount,
    CreateContainerConfigError,
    CreateContainerError,
    EmptyDirVolume,
    FilesVolume,
    HostPathVolume,
    ProjectedFile,
    SecurityContext,
)
from kubelite.runtime.logs import LogOptions, read_log
from kubelite.runtime.mounts import mounts_under
from kubelite.runtime.runc import RuncRuntime
from tests.e2e.runtime.pods import container, run, sandbox, wait_exit

pytestmark = pytest.mark.e2e
STDOUT = frozenset({"stdout"})


async def _wait_listening(rt: RuncRuntime, cid: str, port: int) -> None:
    for _ in range(100):
        res = await rt.exec_sync(cid, ["sh", "-c", f"netstat -ltn | grep -q ':{port} '"])
        if res.exit_code == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


async def test_containers_share_localhost_and_an_empty_dir(runtime: RuncRuntime) -> None:
    await runtime.prepare_volumes("uid-1", [EmptyDirVolume("shared")])
    sid = await sandbox(runtime)
    mount = (ContainerMount("shared", "/data"),)
    server = await run(runtime, sid, container(
        runtime, "server", ["sh", "-c", "echo pong | nc -l -p 8080"], mounts=mount))  # fmt: skip
    await _wait_listening(runtime, server, 8080)
    client = await run(runtime, sid, container(
        runtime, "client", ["sh", "-c", "nc 127.0.0.1 8080 </dev/null > /data/got"],
        mounts=mount))  # fmt: skip
    await wait_exit(runtime, client)
    host_file = runtime.settings.pods_dir / "uid-1" / "volumes" / "shared" / "got"
    assert host_file.read_text() == "pong\n"


async def test_a_second_bind_of_the_same_port_fails(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    first = await run(runtime, sid, container(runtime, "a", ["nc", "-l", "-p", "9090"]))
    await _wait_listening(runtime, first, 9090)
    second = await run(runtime, sid, container(runtime, "b", ["nc", "-l", "-p", "9090"]))
    await wait_exit(runtime, second)
    status = await runtime.container_status(second)
    assert status.exit_code != 0
    assert "in use" in status.log_path.read_text()


async def test_two_sandboxes_do_not_share_ports(runtime: RuncRuntime) -> None:
    one, two = await sandbox(runtime, uid="p1"), await sandbox(runtime, uid="p2")
    a = await run(runtime, one, container(runtime, "a", ["nc", "-l", "-p", "7070"], uid="p1"))
    b = await run(runtime, two, container(runtime, "b", ["nc", "-l", "-p", "7070"], uid="p2"))
    await _wait_listening(runtime, a, 7070)
    await _wait_listening(runtime, b, 7070)


async def test_memory_empty_dir_is_capped_by_its_size_limit(runtime: RuncRuntime) -> None:
    await runtime.prepare_volumes("uid-1", [EmptyDirVolume("mem", "Memory", 1024 * 1024)])
    sid = await sandbox(runtime)
    cfg = container(runtime, "c", ["dd", "if=/dev/zero", "of=/m/f", "bs=1024", "count=2048"],
                    mounts=(ContainerMount("mem", "/m"),))  # fmt: skip
    cid = await run(runtime, sid, cfg)
    await wait_exit(runtime, cid)
    status = await runtime.container_status(cid)
    assert status.exit_code != 0
    assert "No space left on device" in status.log_path.read_text()


async def test_sub_path_escaping_through_a_symlink_is_refused(runtime: RuncRuntime) -> None:
    await runtime.prepare_volumes("uid-1", [EmptyDirVolume("vol")])
    root = runtime.settings.pods_dir / "uid-1" / "volumes" / "vol"
    (root / "evil").symlink_to("/etc")
    (root / "inner").symlink_to("sub")
    sid = await sandbox(runtime)
    for bad in ("evil", "evil/x", "../../", "/abs"):
        cfg = container(runtime, "c", ["true"], mounts=(ContainerMount("vol", "/v", sub_path=bad),))
        with pytest.raises(CreateContainerConfigError):
            await runtime.create_container(sid, cfg)
    # a missing subPath is created; a symlink that stays inside is fine
    cfg = container(runtime, "c", ["sh", "-c", "echo hi > /v/f"],
                    mounts=(ContainerMount("vol", "/v", sub_path="inner"),))  # fmt: skip
    cid = await run(runtime, sid, cfg)
    await wait_exit(runtime, cid)
    assert (root / "sub" / "f").read_text() == "hi\n"


async def test_read_only_mount_and_files_volume(runtime: RuncRuntime, tmp_path: Path) -> None:
    host = tmp_path / "host"
    files = FilesVolume(
        "cfg", (ProjectedFile("a.txt", b"A"), ProjectedFile("d/b.txt", b"B", 0o600))
    )
    await runtime.prepare_volumes(
        "uid-1",
        [EmptyDirVolume("scratch"), files, HostPathVolume("h", str(host), "DirectoryOrCreate")],
    )
    sid = await sandbox(runtime)
    mounts = (
        ContainerMount("scratch", "/ro", read_only=True),
        ContainerMount("cfg", "/cfg"),
        ContainerMount("h", "/h"),
    )
    script = "cat /cfg/a.txt /cfg/d/b.txt; touch /ro/x || echo ro-refused; echo w > /h/out"
    cid = await run(runtime, sid, container(runtime, "c", ["sh", "-c", script], mounts=mounts))
    await wait_exit(runtime, cid)
    log = read_log((await runtime.container_status(cid)).log_path, LogOptions(streams=STDOUT))
    assert log == b"ABro-refused\n"  # "AB" has no newline: a P record joined with the next
    assert (host / "out").read_text() == "w\n"
    vol = runtime.settings.pods_dir / "uid-1" / "volumes" / "cfg"
    assert (vol / "..data").is_symlink() and (vol / "a.txt").is_symlink()
    assert (vol / "d" / "b.txt").stat().st_mode & 0o777 == 0o600


async def test_host_path_type_checks(runtime: RuncRuntime, tmp_path: Path) -> None:
    with pytest.raises(CreateContainerConfigError, match="is not a directory"):
        await runtime.prepare_volumes("u", [HostPathVolume("h", str(tmp_path / "no"), "Directory")])
    (tmp_path / "f").write_text("x")
    with pytest.raises(CreateContainerConfigError, match="is not a socket file"):
        await runtime.prepare_volumes("u", [HostPathVolume("h", str(tmp_path / "f"), "Socket")])


async def test_empty_dir_survives_the_sandbox(runtime: RuncRuntime) -> None:
    await runtime.prepare_volumes("uid-1", [EmptyDirVolume("keep", "Memory", 1 << 20)])
    sid = await sandbox(runtime)
    cfg = container(runtime, "c", ["sh", "-c", "echo kept > /k/f"],
                    mounts=(ContainerMount("keep", "/k"),))  # fmt: skip
    await wait_exit(runtime, await run(runtime, sid, cfg))
    await runtime.remove_sandbox(sid)
    kept = runtime.settings.pods_dir / "uid-1" / "volumes" / "keep" / "f"
    assert kept.read_text() == "kept\n"
    await runtime.remove_volumes("uid-1")
    assert not kept.exists()
    assert not mounts_under(runtime.settings.pods_dir)


async def test_files_volume_is_replaced_atomically(runtime: RuncRuntime) -> None:
    one = FilesVolume("cfg", (ProjectedFile("a", b"1"), ProjectedFile("b", b"2")))
    await runtime.prepare_volumes("uid-1", [one])
    vol = runtime.settings.pods_dir / "uid-1" / "volumes" / "cfg"
    first = (vol / "..data").readlink()
    await runtime.prepare_volumes("uid-1", [one])  # same content: nothing rewritten
    assert (vol / "..data").readlink() == first
    two = FilesVolume("cfg", (ProjectedFile("a", b"new"), ProjectedFile("c", b"3")))
    await runtime.prepare_volumes("uid-1", [two])
    assert (vol / "..data").readlink() != first and not (vol / first).exists()
    assert (vol / "a").read_bytes() == b"new" and (vol / "c").read_bytes() == b"3"
    assert not (vol / "b").exists()


async def test_fs_group_owns_volumes_and_joins_the_process(runtime: RuncRuntime) -> None:
    await runtime.prepare_volumes("uid-1", [EmptyDirVolume("data")], fs_group=2500)
    sid = await sandbox(runtime)
    sec = SecurityContext(run_as_user=1000, fs_group=2500)
    script = "stat -c %g /d; id -G; touch /d/f && stat -c %g /d/f"
    cfg = container(runtime, "c", ["sh", "-c", script], security=sec,
                    mounts=(ContainerMount("data", "/d"),))  # fmt: skip
    cid = await run(runtime, sid, cfg)
    await wait_exit(runtime, cid)
    out = read_log((await runtime.container_status(cid)).log_path).decode().split("\n")
    assert out[0] == "2500" and "2500" in out[1].split() and out[2] == "2500"


async def test_stopped_sandbox_keeps_its_record_until_removed(runtime: RuncRuntime) -> None:
    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "60"]))
    stats = await runtime.container_stats(cid)
    assert stats.memory_bytes > 0
    await runtime.stop_sandbox(sid)
    [status] = await runtime.list_sandboxes()
    assert status.id == sid and not status.ready
    assert (await runtime.container_status(cid)).exit_code == 137
    with pytest.raises(CreateContainerError):
        await runtime.create_container(sid, container(runtime, "d", ["true"]))
    await runtime.remove_sandbox(sid)
    assert await runtime.list_sandboxes() == []
    assert await runtime.list_containers() == []
