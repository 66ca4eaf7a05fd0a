"""overlayfs mounts through the mount(2)/umount2(2) system calls, and who is using which layer.

A container start is on the critical path, so the rootfs is mounted with one system call
(through ctypes; no ``mount`` process to spawn). mount(2) takes at most a page of options;
a deep image whose lowerdir list is longer falls back to mount(8) run in the layers
directory with relative lowerdir names.

``mounted_layers`` reads /proc/self/mountinfo: the kernel's list of overlay mounts is the
truth about which unpacked layers are in use, for this process and for any other kubelite.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

MNT_DETACH = 2
_MAX_OPTIONS = 4000  # mount(2) copies one page of options
_HEX64 = re.compile(r"[0-9a-f]{64}")
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str, path: Path) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what} {path}: {os.strerror(err)}")


def mount_overlay(lowers: Sequence[Path], upper: Path, work: Path, target: Path) -> None:
    """Mount ``lowers`` (top first) with ``upper``/``work`` on ``target``."""
    options = f"lowerdir={':'.join(map(str, lowers))},upperdir={upper},workdir={work}"
    if len(options) <= _MAX_OPTIONS:
        result = _libc.mount(b"overlay", os.fsencode(target), b"overlay", 0, options.encode())
        _check(result, "mount overlay on", target)
        return
    parent = {p.parent for p in lowers}
    if len(parent) != 1:
        raise OSError(errno.E2BIG, f"overlay options too long for {target}")
    short = f"lowerdir={':'.join(p.name for p in lowers)},upperdir={upper},workdir={work}"
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", short, str(target)],
        cwd=parent.pop(),
        check=True,
        capture_output=True,
    )


def unmount(target: Path) -> None:
    """Unmount ``target``; lazily if busy. Not mounted is not an error."""
    path = os.fsencode(target)
    if _libc.umount2(path, 0) == 0:
        return
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOENT):
        return
    if err == errno.EBUSY:
        _check(_libc.umount2(path, MNT_DETACH), "unmount (detach)", target)
        return
    raise OSError(err, f"unmount {target}: {os.strerror(err)}")


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def overlay_mounts(mountinfo: str) -> list[tuple[str, list[str]]]:
    """(mount point, lowerdir entries) of every overlay mount in a mountinfo text. Pure."""
    found = []
    for line in mountinfo.splitlines():
        pre, sep, post = line.partition(" - ")
        if not sep:
            continue
        fstype, _source, *rest = post.split(" ")
        if fstype != "overlay" or not rest:
            continue
        lowers: list[str] = []
        for opt in rest[0].split(","):
            if opt.startswith("lowerdir="):
                lowers = [_unescape(p) for p in opt[len("lowerdir=") :].split(":") if p]
        found.append((_unescape(pre.split(" ")[4]), lowers))
    return found


def mounted_layers(layers_dir: Path, mountinfo: str | None = None) -> set[str]:
    """``sha256:…`` digests of unpacked layers under ``layers_dir`` used by any overlay
    mount (absolute lowerdirs under it, or the bare names the long-option fallback uses)."""
    if mountinfo is None:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    root = str(layers_dir)
    used = set()
    for _target, lowers in overlay_mounts(mountinfo):
        for low in lowers:
            name = os.path.basename(low)
            if _HEX64.fullmatch(name) and (not os.path.isabs(low) or os.path.dirname(low) == root):
                used.add(f"sha256:{name}")
    return used
