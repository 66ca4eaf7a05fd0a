"""A RootfsProvider test double: Debian's static busybox plus its applet links, as the lower
layer of an overlay per container (upper/work in the container folder), so each container
gets a writable root that is thrown away with it. Needs no image store and no network."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from kubelite.images.interface import ImageConfig, ImageNotPresent
from kubelite.runtime import mounts

BUSYBOX = shutil.which("busybox") or "/bin/busybox"
FAKE_ID = "sha256:" + "b" * 64

IMAGES: dict[str, ImageConfig] = {
    "busybox": ImageConfig(cmd=("sh",), env=("PATH=/bin:/sbin:/usr/bin",), working_dir="/"),
    "busybox-entrypoint": ImageConfig(
        entrypoint=("echo", "entry"), cmd=("from-cmd",), env=("PATH=/bin", "IMG=1")
    ),
    "busybox-user": ImageConfig(cmd=("sh",), user="1000"),
    "busybox-named-user": ImageConfig(cmd=("sh",), user="app"),
    "busybox-stopsignal": ImageConfig(cmd=("sh",), stop_signal="SIGUSR1"),
}


def build_lower(root: Path) -> Path:
    """A root filesystem made of busybox and one symlink per applet."""
    lower = root / "busybox-lower"
    if (lower / "bin" / "busybox").exists():
        return lower
    for d in ("bin", "etc", "tmp", "proc", "sys", "dev", "root", "home/app"):
        (lower / d).mkdir(parents=True, exist_ok=True)
    os.chmod(lower / "tmp", 0o1777)
    shutil.copy2(BUSYBOX, lower / "bin" / "busybox")
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True)
    for name in applets.stdout.split():
        if name != "busybox" and not (lower / "bin" / name).exists():
            (lower / "bin" / name).symlink_to("busybox")
    (lower / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/:/bin/false\n"
    )
    (lower / "etc" / "group").write_text("root:x:0:\napp:x:1000:\nextra:x:2000:app\n")
    return lower


class BusyboxRootfs:
    def __init__(self, lower: Path) -> None:
        self.lower = lower

    async def mount_rootfs(self, image_ref: str, container_dir: Path) -> Path:
        self.image_config(image_ref)
        upper, work, merged = (container_dir / n for n in ("upper", "work", "rootfs"))
        for d in (upper, work, merged):
            d.mkdir(parents=True, exist_ok=True)
        if not mounts.mounts_under(merged):
            opts = f"lowerdir={self.lower},upperdir={upper},workdir={work}"
            mounts.mount("overlay", merged, "overlay", opts)
        return merged

    async def unmount_rootfs(self, container_dir: Path) -> None:
        mounts.unmount_all_under(container_dir / "rootfs")
        for n in ("upper", "work", "rootfs"):
            shutil.rmtree(container_dir / n, ignore_errors=True)

    def image_config(self, image_ref: str) -> ImageConfig:
        try:
            return IMAGES[image_ref]
        except KeyError:
            raise ImageNotPresent(f"image {image_ref!r} not present") from None

    def image_id(self, image_ref: str) -> str:
        self.image_config(image_ref)
        return FAKE_ID
