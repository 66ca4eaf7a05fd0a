"""Host mounts the runtime owns (tmpfs emptyDirs, the sandbox /dev/shm, namespace bind files).

Calls mount(2)/umount2(2) through libc directly: a subprocess per mount would cost more than
the whole sandbox teardown budget. Also answers "is anything still mounted under this path",
which teardown and the tests use to prove nothing is left behind.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from pathlib import Path

MNT_DETACH = 2
UMOUNT_NOFOLLOW = 8
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]  # fmt: skip
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]


def mount(source: str, target: Path, fstype: str, options: str, flags: int = 0) -> None:
    rc = _libc.mount(source.encode(), os.fsencode(target), fstype.encode(), flags,
                     options.encode())  # fmt: skip
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {fstype} on {target}: {os.strerror(err)}")


def mount_tmpfs(target: Path, *, size: int | None, mode: int = 0o777, flags: int = 0) -> None:
    options = f"mode={mode:o}" + (f",size={size}" if size is not None else "")
    mount("tmpfs", target, "tmpfs", options, flags)


def unmount(target: Path) -> bool:
    """Detach whatever is mounted at ``target``; False when nothing was. Never follows a
    symlink at the last component."""
    rc = _libc.umount2(os.fsencode(target), MNT_DETACH | UMOUNT_NOFOLLOW)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOENT):
        return False
    raise OSError(err, f"umount {target}: {os.strerror(err)}")


def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape") if "\\" in field else field


def mount_points() -> frozenset[str]:
    """Every mount point in this mount namespace: one read of mountinfo, for callers that
    ask about many paths at once (its cost grows with the number of mounts)."""
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
        return frozenset(_unescape(line.split(" ", 5)[4]) for line in f)


def mounts_under(root: Path) -> list[Path]:
    """Mount points at or below ``root`` in this mount namespace, deepest first."""
    prefix = str(root).rstrip("/")
    found: list[Path] = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
        for line in f:
            point = _unescape(line.split(" ", 5)[4])
            if point == prefix or point.startswith(prefix + "/"):
                found.append(Path(point))
    return sorted(set(found), key=lambda p: len(p.parts), reverse=True)


def unmount_all_under(root: Path) -> None:
    """Unmount every mount at or below ``root`` (stacked mounts included)."""
    for _ in range(8):  # a point may carry several stacked mounts
        points = mounts_under(root)
        if not points:
            return
        for point in points:
            unmount(point)
