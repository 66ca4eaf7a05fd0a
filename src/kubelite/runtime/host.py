"""What this host can give a privileged container: its device nodes (containerd exposes
them all) and the capabilities in the runtime's own bounding set (runc cannot grant more; a
restricted host may lack some). Unprivileged containers get only runc's default devices
(null, zero, full, random, urandom, tty, ptmx) and the default capability set."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

# Folders of /dev that are mounts of their own in a container, not device nodes to copy.
_SKIP = ("/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/console")


def host_devices(root: Path = Path("/dev")) -> list[dict[str, Any]]:
    """OCI ``linux.devices`` entries for every char and block device under ``root``."""
    found: list[dict[str, Any]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath.startswith(_SKIP):
            dirnames[:] = []
            continue
        for name in filenames:
            path = os.path.join(dirpath, name)
            if path.startswith(_SKIP):
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                found.append({
                    "path": path,
                    "type": "c" if stat.S_ISCHR(st.st_mode) else "b",
                    "major": os.major(st.st_rdev),
                    "minor": os.minor(st.st_rdev),
                    "fileMode": stat.S_IMODE(st.st_mode),
                    "uid": st.st_uid,
                    "gid": st.st_gid,
                })  # fmt: skip
    return sorted(found, key=lambda d: str(d["path"]))


def bounding_capabilities(all_caps: tuple[str, ...]) -> tuple[str, ...]:
    """The capabilities of ``all_caps`` (in kernel number order) present in our bounding set."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return all_caps
    for line in status.splitlines():
        if line.startswith("CapBnd:"):
            mask = int(line.split()[1], 16)
            return tuple(c for i, c in enumerate(all_caps) if mask >> i & 1)
    return all_caps


CAP_SYS_RESOURCE = 24


def oom_score_adj_floor(status: str, own_score: str) -> int | None:
    """The lowest ``oom_score_adj`` a container started by this process can get: any (None)
    with CAP_SYS_RESOURCE in the bounding set (runc's init runs with that set), else this
    process's own value, below which the kernel refuses to go without it. Pure: it takes
    the text of /proc/self/status and /proc/self/oom_score_adj."""
    for line in status.splitlines():
        if line.startswith("CapBnd:"):
            if int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1:
                return None
            break
    else:
        return None  # no capability line: not Linux as we know it; let runc say what fails
    try:
        return int(own_score.strip())
    except ValueError:
        return 0


def read_oom_score_adj_floor() -> int | None:
    """``oom_score_adj_floor`` of this process, read once when the runtime starts."""
    try:
        status = Path("/proc/self/status").read_text()
        own = Path("/proc/self/oom_score_adj").read_text()
    except OSError:
        return None
    return oom_score_adj_floor(status, own)
