"""How much of the disk a folder takes, as ``du`` counts it (the kubelet's volume and
container-layer measures behind local-storage eviction, VOL-3).

Allocated blocks, not apparent sizes, so a sparse file counts what it really holds; a file
with several hard links counts once; symlinks are not followed. ``one_file_system`` stops at
mount points (a container's folder has its root filesystem mounted inside it, which is the
image's layers plus the writable layer that is already counted where it lives).
"""

from __future__ import annotations

import os
from pathlib import Path

BLOCK = 512  # st_blocks is in 512-byte units whatever the file system's block size


def usage(root: Path, *, one_file_system: bool = False) -> int:
    """Bytes allocated to ``root`` and everything below it; 0 when it does not exist."""
    try:
        top = os.lstat(root)
    except OSError:
        return 0
    seen: set[tuple[int, int]] = set()
    total = 0
    stack = [str(root)]
    device = top.st_dev
    while stack:
        path = stack.pop()
        try:
            st = os.lstat(path)
        except OSError:
            continue  # removed while we walked
        if one_file_system and st.st_dev != device:
            continue
        if st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
        total += st.st_blocks * BLOCK
        if os.path.isdir(path) and not os.path.islink(path):
            try:
                with os.scandir(path) as entries:
                    stack.extend(e.path for e in entries)
            except OSError:
                continue
    return total
