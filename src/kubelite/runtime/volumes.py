"""Pod volumes on the node: emptyDir, hostPath and data-backed file volumes (VOL-1 … VOL-5).

Volumes belong to the pod, not to a sandbox: they live under ``<pods_dir>/<uid>/volumes`` and
only ``remove_pod_volumes`` deletes them, so an emptyDir survives sandbox restarts (VOL-1).
File volumes (configMap, secret, downwardAPI, projected) are written the way the kubelet's
atomic writer does: a timestamped folder, a ``..data`` symlink swapped in one rename, and one
symlink per visible entry. ``volumes.json`` maps each volume name to its host path.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from kubelite.runtime import mounts
from kubelite.runtime.interface import (
    CreateContainerConfigError,
    EmptyDirVolume,
    FilesVolume,
    HostPathVolume,
    VolumeSpec,
)

MANIFEST = "volumes.json"
DATA_LINK = "..data"


def pod_dir(pods_dir: Path, pod_uid: str) -> Path:
    return pods_dir / pod_uid


def volume_dir(pods_dir: Path, pod_uid: str, name: str) -> Path:
    return pod_dir(pods_dir, pod_uid) / "volumes" / name


# ------------------------------------------------------------------------------ subPath


def check_sub_path(sub_path: str) -> tuple[str, ...]:
    """The components of a subPath, refused unless relative and free of ``..`` (VOL-5)."""
    p = PurePosixPath(sub_path)
    if p.is_absolute():
        raise CreateContainerConfigError(f"subPath {sub_path!r} must be a relative path")
    parts = tuple(x for x in p.parts if x not in ("", "."))
    if ".." in parts:
        raise CreateContainerConfigError(f"subPath {sub_path!r} must not contain '..'")
    return parts


def is_within(root: str, candidate: str) -> bool:
    """Pure path check: ``candidate`` is ``root`` or below it (both already resolved)."""
    root = root.rstrip("/") or "/"
    return candidate == root or candidate.startswith(root if root == "/" else root + "/")


def resolve_sub_path(volume_root: Path, sub_path: str) -> Path:
    """Resolve a subPath on the host, following symlinks, and refuse any escape from the
    volume. A missing path is created as a directory with the volume root's mode (VOL-5)."""
    parts = check_sub_path(sub_path)
    root = os.path.realpath(volume_root)
    target = os.path.realpath(os.path.join(root, *parts)) if parts else root
    if not is_within(root, target):
        raise CreateContainerConfigError(
            f"subPath {sub_path!r} resolves to {target!r}, outside its volume"
        )
    if not os.path.lexists(target):
        os.makedirs(target, mode=stat.S_IMODE(os.stat(root).st_mode), exist_ok=True)
        # Check again: a component created concurrently could be a symlink.
        again = os.path.realpath(os.path.join(root, *parts))
        if not is_within(root, again):
            raise CreateContainerConfigError(f"subPath {sub_path!r} escapes its volume")
    return Path(target)


# ------------------------------------------------------------------------------ hostPath

_TYPE_ERRORS = {
    "Directory": "is not a directory",
    "File": "is not a file",
    "Socket": "is not a socket file",
    "CharDevice": "is not a character device",
    "BlockDevice": "is not a block device",
}


def check_host_path(vol: HostPathVolume) -> None:
    """Apply hostPath ``type`` (creating for the *OrCreate types), kubelet-like errors."""
    kind, path = vol.type, vol.path
    if kind == "DirectoryOrCreate":
        os.makedirs(path, mode=0o755, exist_ok=True)
        kind = "Directory"
    elif kind == "FileOrCreate":
        if not os.path.lexists(path):
            try:
                fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_NOFOLLOW, 0o644)
                os.close(fd)
            except OSError as e:
                raise CreateContainerConfigError(f"hostPath type check failed: {e}") from e
        kind = "File"
    if kind == "":
        return
    if kind not in _TYPE_ERRORS:
        raise CreateContainerConfigError(f"hostPath type check failed: unsupported type {kind}")
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = 0
    ok = {
        "Directory": stat.S_ISDIR,
        "File": stat.S_ISREG,
        "Socket": stat.S_ISSOCK,
        "CharDevice": stat.S_ISCHR,
        "BlockDevice": stat.S_ISBLK,
    }[kind](mode)
    if not ok:
        raise CreateContainerConfigError(f"hostPath type check failed: {path} {_TYPE_ERRORS[kind]}")


# ------------------------------------------------------------------------------ emptyDir


def prepare_empty_dir(root: Path, vol: EmptyDirVolume, fs_group: int | None) -> None:
    """A 0777 folder, or a tmpfs capped at ``size_limit`` for ``medium: Memory`` (VOL-2/3)."""
    if root.is_dir() and (vol.medium != "Memory" or mounts.mounts_under(root)):
        return
    root.mkdir(parents=True, exist_ok=True)
    if vol.medium == "Memory":
        mounts.mount_tmpfs(root, size=vol.size_limit, flags=mounts.MS_NOSUID | mounts.MS_NODEV)
    mode = 0o777
    if fs_group is not None:
        os.chown(root, -1, fs_group)
        mode |= stat.S_ISGID
    os.chmod(root, mode)


# ------------------------------------------------------------------------------ file volumes


def _payload_matches(data_dir: Path, vol: FilesVolume) -> bool:
    try:
        present = {str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file()}
    except OSError:
        return False
    if present != {str(PurePosixPath(f.path)) for f in vol.files}:
        return False
    for f in vol.files:
        p = data_dir / f.path
        mode = f.mode if f.mode is not None else vol.default_mode
        if p.read_bytes() != f.data or stat.S_IMODE(p.stat().st_mode) != mode:
            return False
    return True


def write_files_volume(root: Path, vol: FilesVolume, fs_group: int | None) -> None:
    """Atomically replace the volume's content (as the kubelet's atomic writer does)."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o777 if fs_group is None else 0o2777)
    if fs_group is not None:
        os.chown(root, -1, fs_group)
    link = root / DATA_LINK
    if link.is_symlink() and _payload_matches(root / os.readlink(link), vol):
        return
    stamp = time.strftime("%Y_%m_%d_%H_%M_%S", time.gmtime()) + f".{time.time_ns() % 10**9}"
    new_dir = root / f"..{stamp}"
    new_dir.mkdir(mode=0o755)
    for f in vol.files:
        parts = check_sub_path(f.path)
        if not parts:
            raise CreateContainerConfigError(f"invalid file path {f.path!r} in volume {vol.name}")
        dest = new_dir.joinpath(*parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(f.data)
        os.chmod(dest, f.mode if f.mode is not None else vol.default_mode)
        if fs_group is not None:
            os.chown(dest, -1, fs_group)
    old = os.readlink(link) if link.is_symlink() else None
    tmp_link = root / "..data_tmp"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(new_dir.name)
    os.rename(tmp_link, link)  # the atomic switch
    tops = {check_sub_path(f.path)[0] for f in vol.files}
    for top in tops:
        if not (root / top).is_symlink():
            (root / top).symlink_to(f"{DATA_LINK}/{top}")
    for entry in root.iterdir():
        name = entry.name
        if name.startswith(".."):
            continue
        if entry.is_symlink() and name not in tops:
            entry.unlink()
    if old and old != new_dir.name:
        shutil.rmtree(root / old, ignore_errors=True)


# ------------------------------------------------------------------------------ per pod


def read_manifest(pods_dir: Path, pod_uid: str) -> dict[str, dict[str, str]]:
    try:
        data: dict[str, dict[str, str]] = json.loads(
            (pod_dir(pods_dir, pod_uid) / MANIFEST).read_text()
        )
        return data
    except FileNotFoundError:
        return {}


def prepare_pod_volumes(
    pods_dir: Path, pod_uid: str, volumes: Sequence[VolumeSpec], fs_group: int | None
) -> None:
    """Create what is missing and refresh file volumes; record name → path. Idempotent."""
    base = pod_dir(pods_dir, pod_uid)
    (base / "volumes").mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(pods_dir, pod_uid)
    for vol in volumes:
        if isinstance(vol, HostPathVolume):
            check_host_path(vol)
            manifest[vol.name] = {"kind": "hostPath", "path": vol.path}
            continue
        root = volume_dir(pods_dir, pod_uid, vol.name)
        if isinstance(vol, EmptyDirVolume):
            prepare_empty_dir(root, vol, fs_group)
            manifest[vol.name] = {"kind": "emptyDir", "path": str(root)}
        elif isinstance(vol, FilesVolume):
            write_files_volume(root, vol, fs_group)
            manifest[vol.name] = {"kind": "files", "path": str(root)}
    tmp = base / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest))
    os.replace(tmp, base / MANIFEST)


def remove_pod_volumes(pods_dir: Path, pod_uid: str) -> None:
    """Unmount every tmpfs of the pod, then delete its folder (never a hostPath's target)."""
    base = pod_dir(pods_dir, pod_uid)
    if not base.exists():
        return
    mounts.unmount_all_under(base)
    if mounts.mounts_under(base):
        raise CreateContainerConfigError(f"volumes of pod {pod_uid} are still mounted")
    shutil.rmtree(base, ignore_errors=True)
