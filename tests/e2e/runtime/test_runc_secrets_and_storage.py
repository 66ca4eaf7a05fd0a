"""Real runc: where secret material lies on the node (tmpfs volumes, root-only folders and
files, a token owned by the pod's user) and what the runtime measures of a pod's disk use."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kubelite.runtime.interface import (
    ContainerMount,
    EmptyDirVolume,
    FilesVolume,
    ProjectedFile,
    Resources,
    SecurityContext,
)
from kubelite.runtime.logs import LogOptions, read_log
from kubelite.runtime.mounts import mounts_under
from kubelite.runtime.runc import RuncRuntime
from tests.e2e.runtime.pods import container, run, sandbox, wait_exit

pytestmark = pytest.mark.e2e
MiB = 1024 * 1024


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


async def test_a_memory_files_volume_lies_on_its_own_tmpfs_and_goes_with_the_pod(
    runtime: RuncRuntime,
) -> None:
    secret = FilesVolume("s", (ProjectedFile("key", b"hunter2"),), medium="Memory",
                         size_limit=MiB)  # fmt: skip
    config = FilesVolume("c", (ProjectedFile("conf", b"plain"),))
    await runtime.prepare_volumes("uid-1", [secret, config])
    vols = runtime.settings.pods_dir / "uid-1" / "volumes"
    assert mounts_under(vols / "s") == [vols / "s"]  # a tmpfs of its own
    assert mounts_under(vols / "c") == []  # a configMap stays on disk, as the kubelet has it
    assert (vols / "s" / "key").read_bytes() == b"hunter2"
    await runtime.prepare_volumes("uid-1", [secret, config])  # idempotent: still one mount
    assert mounts_under(vols / "s") == [vols / "s"]
    await runtime.remove_volumes("uid-1")
    assert not mounts_under(runtime.settings.pods_dir) and not vols.exists()


async def test_a_token_for_the_pods_one_user_is_that_users_and_no_one_elses(
    runtime: RuncRuntime,
) -> None:
    token = ProjectedFile("token", b"jwt", 0o600, owner=1000)
    await runtime.prepare_volumes(
        "uid-1", [FilesVolume("t", (token,), medium="Memory", size_limit=MiB)]
    )
    sid = await sandbox(runtime)
    cfg = container(
        runtime, "c", ["sh", "-c", "cat /t/token; stat -c ' %a %u' /t/..data/token"],
        security=SecurityContext(run_as_user=1000), mounts=(ContainerMount("t", "/t"),),
    )  # fmt: skip
    cid = await run(runtime, sid, cfg)
    await wait_exit(runtime, cid)
    log = read_log((await runtime.container_status(cid)).log_path, LogOptions())
    assert log == b"jwt 600 1000\n"


async def test_the_data_directory_and_what_holds_secrets_are_root_only(
    runtime: RuncRuntime,
) -> None:
    settings = runtime.settings
    await runtime.prepare_volumes("uid-1", [EmptyDirVolume("e")])
    sid = await sandbox(runtime)
    cid = await run(runtime, sid, container(runtime, "c", ["sleep", "30"],
                                            env=(("PASSWORD", "hunter2"),)))  # fmt: skip
    bundle = runtime.containers.dir(cid)
    assert "hunter2" in (bundle / "config.json").read_text()
    assert mode(settings.data_dir) == 0o700
    for d in (settings.runtime_dir, settings.runc_root, settings.pods_dir, bundle,
              settings.pods_dir / "uid-1", runtime.sandboxes.dir(sid)):  # fmt: skip
        assert mode(d) == 0o700, d
    assert mode(bundle / "config.json") == 0o600


async def test_a_uid_1000_container_works_below_a_root_only_data_directory(
    runtime: RuncRuntime,
) -> None:
    await runtime.prepare_volumes("uid-1", [
        EmptyDirVolume("e"), FilesVolume("s", (ProjectedFile("k", b"v"),), medium="Memory"),
    ])  # fmt: skip
    sid = await sandbox(runtime)
    # a missing subPath is made with the volume root's mode (0777), whatever the umask (VOL-5)
    mounts = (ContainerMount("e", "/e"), ContainerMount("s", "/s"),
              ContainerMount("e", "/sub", sub_path="deeper/still"))  # fmt: skip
    script = "id -u; cat /s/k; echo w > /e/f && cat /e/f; touch /sub/x && echo sub; ls /bin/sh"
    cfg = container(runtime, "c", ["sh", "-c", script], security=SecurityContext(
        run_as_user=1000), mounts=mounts)  # fmt: skip
    cid = await run(runtime, sid, cfg)
    await wait_exit(runtime, cid)
    log = read_log((await runtime.container_status(cid)).log_path, LogOptions()).decode()
    assert log == "1000\nvw\nsub\n/bin/sh\n"


async def test_pod_storage_counts_disk_empty_dirs_and_each_containers_layer_and_logs(
    runtime: RuncRuntime,
) -> None:
    await runtime.prepare_volumes(
        "uid-1", [EmptyDirVolume("disk"), EmptyDirVolume("mem", "Memory", 8 * MiB)]
    )
    sid = await sandbox(runtime)
    script = (
        "dd if=/dev/zero of=/d/f bs=1024 count=2048 2>/dev/null; "
        "dd if=/dev/zero of=/m/f bs=1024 count=2048 2>/dev/null; "
        "dd if=/dev/zero of=/layer bs=1024 count=3072 2>/dev/null; echo done"
    )
    mounts = (ContainerMount("disk", "/d"), ContainerMount("mem", "/m"))
    cid = await run(runtime, sid, container(runtime, "w", ["sh", "-c", script], mounts=mounts))
    await wait_exit(runtime, cid)
    usage = await runtime.pod_storage("uid-1")
    assert set(usage.volumes) == {"disk"}  # a memory-backed emptyDir is memory (VOL-2)
    assert 2 * MiB <= usage.volumes["disk"] < 3 * MiB
    assert 3 * MiB <= usage.containers["w"] < 4 * MiB  # the image's layers are not counted


async def test_secret_files_leave_memory_with_the_pods_last_sandbox_and_come_back(
    runtime: RuncRuntime,
) -> None:
    secret = FilesVolume("s", (ProjectedFile("key", b"hunter2"),), medium="Memory")
    await runtime.prepare_volumes("uid-1", [secret, EmptyDirVolume("keep", "Memory", MiB)])
    vols = runtime.settings.pods_dir / "uid-1" / "volumes"
    first, second = await sandbox(runtime), await sandbox(runtime)
    await runtime.remove_sandbox(first)
    assert (vols / "s" / "key").exists()  # another sandbox of the pod may still use it
    await runtime.remove_sandbox(second)
    assert not mounts_under(vols / "s") and not any((vols / "s").iterdir())
    assert mounts_under(vols / "keep")  # an emptyDir keeps its data (VOL-1)
    await runtime.prepare_volumes("uid-1", [secret, EmptyDirVolume("keep", "Memory", MiB)])
    assert (vols / "s" / "key").read_bytes() == b"hunter2"


async def test_a_memory_empty_dir_counts_against_the_writers_memory_limit_vol_2(
    runtime: RuncRuntime,
) -> None:
    await runtime.prepare_volumes("uid-1", [EmptyDirVolume("m", "Memory", 128 * MiB)])
    sid = await sandbox(runtime)
    script = "exec dd if=/dev/zero of=/m/f bs=1048576 count=64"
    cfg = container(runtime, "c", ["sh", "-c", script], mounts=(ContainerMount("m", "/m"),),
                    resources=Resources(memory_limit=32 * MiB))  # fmt: skip
    cid = await run(runtime, sid, cfg)
    await wait_exit(runtime, cid, 30)
    status = await runtime.container_status(cid)
    assert (status.exit_code, status.reason) == (137, "OOMKilled")
