"""Overlay root filesystems, remove, prune and load against real images."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from kubelite.images.interface import ImageNotPresent
from kubelite.images.service import Images

pytestmark = pytest.mark.e2e


def mounted(path: Path) -> bool:
    return os.path.ismount(path)


def save_archive(transport: str, source: str, archive: Path, name: str) -> None:
    """Write ``source`` (a registry image) as a docker-save or OCI archive with skopeo."""
    subprocess.run(
        [
            shutil.which("skopeo") or "skopeo",
            "--insecure-policy",
            "copy",
            "-q",
            "--src-tls-verify=false",
            f"docker://{source}",
            f"{transport}:{archive}:{name}",
        ],
        check=True,
    )


async def test_a_rootfs_is_writable_and_its_writes_go_with_it(
    images: Images, tmp_path: Path
) -> None:
    await images.pull("nginx:1.25.3")
    rootfs = images.rootfs
    c1 = tmp_path / "c1"
    start = time.perf_counter()
    merged = await rootfs.mount_rootfs("nginx:1.25.3", c1)
    elapsed = time.perf_counter() - start
    try:
        assert mounted(merged)
        assert (merged / "usr/sbin/nginx").exists() and (merged / "bin/busybox").exists()
        assert "www-data" in (merged / "etc/passwd").read_text()  # top layer wins
        (merged / "etc/written-by-c1").write_text("mine")
        (merged / "bin/busybox").unlink()
        assert (c1 / "rootfs-upper/etc/written-by-c1").exists()
    finally:
        await rootfs.unmount_rootfs(c1)
    assert not mounted(c1 / "rootfs")
    assert not (c1 / "rootfs-upper").exists()
    await rootfs.unmount_rootfs(c1)  # idempotent
    c2 = tmp_path / "c2"
    merged2 = await rootfs.mount_rootfs("docker.io/library/nginx:1.25.3", c2)
    try:
        assert not (merged2 / "etc/written-by-c1").exists()
        assert (merged2 / "bin/busybox").exists()  # the image's layer was never touched
    finally:
        await rootfs.unmount_rootfs(c2)
    assert elapsed < 0.25  # budget 10 ms (bench/images.py); slack here for loaded machines


async def test_image_config_and_id_need_the_image_in_the_store(images: Images) -> None:
    with pytest.raises(ImageNotPresent) as info:
        images.rootfs.image_config("busybox:1.36")
    assert info.value.reason == "ErrImageNeverPull"
    pulled = await images.pull("nginx:1.25.3")
    assert images.rootfs.image_id("nginx:1.25.3") == pulled.repo_digests[0]
    cfg = images.rootfs.image_config("nginx:1.25.3")
    assert cfg.cmd == ("nginx", "-g", "daemon off;") and cfg.stop_signal == "SIGQUIT"


async def test_remove_deletes_the_image_but_keeps_shared_layers(images: Images) -> None:
    await images.pull("busybox:1.36")
    nginx = await images.pull("nginx:1.25.3")
    nginx_only = images.store.image(images.store.resolve("nginx:1.25.3") or "").layers[1]
    await images.remove("nginx:1.25.3")
    assert images.status("nginx:1.25.3") is None
    assert not images.store.has_blob(nginx_only)
    assert not images.store.layer_path(nginx_only).exists()
    assert images.status("busybox:1.36") is not None
    rootfs = await images.rootfs.mount_rootfs("busybox:1.36", images.store.root.parent / "c")
    try:
        assert (rootfs / "bin/sh").is_symlink()
    finally:
        await images.rootfs.unmount_rootfs(images.store.root.parent / "c")
    await images.remove(nginx.id)  # already gone: not an error


async def test_prune_keeps_images_in_use_and_under_a_mounted_rootfs(
    images: Images, tmp_path: Path
) -> None:
    busybox = await images.pull("busybox:1.36")
    nginx = await images.pull("nginx:1.25.3")
    await images.pull("nginx:latest")  # same image, second name
    c = tmp_path / "c"
    await images.rootfs.mount_rootfs("nginx:1.25.3", c)
    try:
        result = await images.prune()
        assert result.images == ()
        await images.rootfs.unmount_rootfs(c)
        result = await images.prune(in_use=["busybox:1.36"])
        assert result.images == (nginx.id,)
        assert result.bytes > 1_000_000
        assert [i.id for i in images.list()] == [busybox.id]
    finally:
        await images.rootfs.unmount_rootfs(c)


@pytest.mark.parametrize("transport", ["docker-archive", "oci-archive"])
async def test_load_reads_docker_save_and_oci_archives(
    transport: str, local_registry: str, tmp_path: Path
) -> None:
    archive = tmp_path / "busybox.tar"
    name = "docker.io/library/busybox:1.36" if transport == "docker-archive" else "busybox:1.36"
    save_archive(transport, f"{local_registry}/library/busybox:1.36", archive, name)
    images = Images(images_dir=tmp_path / "images")
    infos = await images.load(archive)
    assert [i.repo_tags for i in infos] == [("docker.io/library/busybox:1.36",)]
    assert images.status("busybox:1.36") is not None
    rootfs = await images.rootfs.mount_rootfs("busybox:1.36", tmp_path / "c")
    try:
        assert (rootfs / "bin/busybox").is_file()
    finally:
        await images.rootfs.unmount_rootfs(tmp_path / "c")
