"""Pod volumes on the node: emptyDir, hostPath, data-backed file volumes (VOL-1 … VOL-5) and
the folders of PersistentVolumeClaims.

Volumes belong to the pod, not to a sandbox: they live under ``<pods_dir>/<uid>/volumes`` and
only ``remove_pod_volumes`` deletes them, so an emptyDir survives sandbox restarts (VOL-1).
File volumes (configMap, secret, downwardAPI, projected) are written the way the kubelet's
atomic writer does: a timestamped folder, a ``..data`` symlink swapped in one rename, and one
symlink per visible entry. Those that may hold secrets (``medium: Memory``: secret and
projected volumes) get a tmpfs of their own first, as the kubelet gives them, so their content
never touches the disk and goes with the unmount. ``volumes.json`` maps each volume name to
its host path.

A claim's volume is its PersistentVolume's folder, bind-mounted as a hostPath is and kept when
the pod goes; for ``local`` and provisioned volumes the pod's fsGroup is applied to it as the
kubelet's SetVolumeOwnership does (group-owned, group read-write, setgid folders), unless the
folder already has it and the pod asks for ``OnRootMismatch``.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from kubelite.runtime import diskusage, mounts
from kubelite.runtime.interface import (
    ClaimVolume,
    CreateContainerConfigError,
    EmptyDirVolume,
    FilesVolume,
    HostPathVolume,
    VolumeSpec,
)

MANIFEST = "volumes.json"
DATA_LINK = "..data"
MEMORY = "Memory"
# A pod's folder holds its volumes (and with them what Secrets were written there): root only.
# Containers reach a volume through its bind mount, never through this path.
POD_DIR_MODE = 0o700


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
        mode = stat.S_IMODE(os.stat(root).st_mode)
        made = root
        for part in os.path.relpath(target, root).split(os.sep):
            made = os.path.join(made, part)
            if not os.path.lexists(made):
                os.mkdir(made, mode)
                os.chmod(made, mode)  # mkdir's mode is cut by the umask; the root's is meant
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


def _ensure_tmpfs(root: Path, size: int | None) -> None:
    """A tmpfs on ``root`` (once); whatever lay there on disk before is deleted first, so
    nothing written before the volume moved to memory stays behind under it."""
    if root.is_dir() and mounts.mounts_under(root):
        return
    if root.is_dir():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    mounts.mount_tmpfs(root, size=size, flags=mounts.MS_NOSUID | mounts.MS_NODEV)


def prepare_empty_dir(root: Path, vol: EmptyDirVolume, fs_group: int | None) -> None:
    """A 0777 folder, or a tmpfs capped at ``size_limit`` for ``medium: Memory`` (VOL-2/3;
    the agent has already sized it by the pod's memory limit when it has no limit of its own)."""
    if root.is_dir() and (vol.medium != MEMORY or mounts.mounts_under(root)):
        return
    root.mkdir(parents=True, exist_ok=True)
    if vol.medium == MEMORY:
        _ensure_tmpfs(root, vol.size_limit)
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
        st = p.stat()
        if p.read_bytes() != f.data or stat.S_IMODE(st.st_mode) != mode:
            return False
        if st.st_uid != (f.owner if f.owner is not None else 0):
            return False
    return True


def write_files_volume(root: Path, vol: FilesVolume, fs_group: int | None) -> None:
    """Atomically replace the volume's content (as the kubelet's atomic writer does)."""
    if vol.medium == MEMORY:
        _ensure_tmpfs(root, vol.size_limit)
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
        # created without any access, then given its owner and mode: never readable by
        # anyone else in between
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0)
        with os.fdopen(fd, "wb") as out:
            out.write(f.data)
            if f.owner is not None or fs_group is not None:
                os.fchown(fd, -1 if f.owner is None else f.owner, -1 if fs_group is None
                          else fs_group)  # fmt: skip
            os.fchmod(fd, f.mode if f.mode is not None else vol.default_mode)
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


# ------------------------------------------------------------------------------ claims

RW_MASK = 0o660
RO_MASK = 0o440
EXEC_MASK = 0o110


def _owned_by(root: Path, fs_group: int, read_only: bool) -> bool:
    """OnRootMismatch: the root already has the group, the setgid bit and the mode bits."""
    st = root.stat()
    mask = (RO_MASK if read_only else RW_MASK) | EXEC_MASK
    return (
        st.st_gid == fs_group
        and bool(st.st_mode & stat.S_ISGID)
        and (stat.S_IMODE(st.st_mode) & mask == mask)
    )


def set_ownership(root: Path, fs_group: int, *, read_only: bool, policy: str) -> None:
    """The kubelet's SetVolumeOwnership: every entry gets the group; files group read-write
    (read-only: read), folders also group-executable and setgid. Symlinks keep their mode."""
    if policy == "OnRootMismatch" and _owned_by(root, fs_group, read_only):
        return
    mask = RO_MASK if read_only else RW_MASK

    def change(path: str) -> None:
        info = os.lstat(path)
        os.lchown(path, -1, fs_group)
        if stat.S_ISLNK(info.st_mode):
            return
        mode = stat.S_IMODE(info.st_mode) | mask
        if stat.S_ISDIR(info.st_mode):
            mode |= stat.S_ISGID | EXEC_MASK
        os.chmod(path, mode)

    for dirpath, dirnames, filenames in os.walk(root):
        change(dirpath)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            change(os.path.join(dirpath, name))


def prepare_claim(vol: ClaimVolume, fs_group: int | None) -> None:
    """A claim's folder: created if its volume says DirectoryOrCreate, checked otherwise,
    with the pod's fsGroup applied where the kubelet applies it."""
    if vol.type:
        check_host_path(HostPathVolume(vol.name, vol.path, vol.type))
    elif not os.path.isdir(vol.path):
        raise CreateContainerConfigError(f"path {vol.path!r} does not exist")
    if vol.manage_ownership and fs_group is not None and not vol.read_only:
        set_ownership(Path(vol.path), fs_group, read_only=False, policy=vol.ownership_policy)


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
    base.mkdir(mode=POD_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(base, POD_DIR_MODE)
    (base / "volumes").mkdir(exist_ok=True)
    manifest = read_manifest(pods_dir, pod_uid)
    for vol in volumes:
        if isinstance(vol, HostPathVolume):
            check_host_path(vol)
            manifest[vol.name] = {"kind": "hostPath", "path": vol.path}
            continue
        if isinstance(vol, ClaimVolume):
            prepare_claim(vol, fs_group)
            manifest[vol.name] = {"kind": "claim", "path": vol.path}
            if vol.read_only:
                manifest[vol.name]["readOnly"] = "true"
            continue
        root = volume_dir(pods_dir, pod_uid, vol.name)
        if isinstance(vol, EmptyDirVolume):
            prepare_empty_dir(root, vol, fs_group)
            manifest[vol.name] = {"kind": "emptyDir", "path": str(root), "medium": vol.medium}
        elif isinstance(vol, FilesVolume):
            write_files_volume(root, vol, fs_group)
            manifest[vol.name] = {"kind": "files", "path": str(root), "medium": vol.medium}
    tmp = base / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest))
    os.replace(tmp, base / MANIFEST)


def empty_dir_usage(pods_dir: Path, pod_uid: str) -> dict[str, int]:
    """Bytes used by each of the pod's disk-backed emptyDirs (a memory-backed one is sized to
    its limit by its tmpfs, and counts as memory: VOL-2)."""
    return {
        name: diskusage.usage(Path(entry["path"]))
        for name, entry in read_manifest(pods_dir, pod_uid).items()
        if entry.get("kind") == "emptyDir" and entry.get("medium", "") != MEMORY
    }


def release_memory_files(pods_dir: Path, pod_uid: str) -> None:
    """Unmount the tmpfs of each memory-medium file volume (secret, projected, downwardAPI)
    of a pod that has no sandbox left: no container can see them any more, and what they
    hold is the API's, written again by the next ``prepare_pod_volumes``. So secret material
    stays in memory only while a sandbox of the pod exists (emptyDirs keep their data: VOL-1)."""
    for entry in read_manifest(pods_dir, pod_uid).values():
        if entry.get("kind") == "files" and entry.get("medium") == MEMORY:
            mounts.unmount_all_under(Path(entry["path"]))  # the folder below is empty


def remove_pod_volumes(pods_dir: Path, pod_uid: str) -> None:
    """Unmount every tmpfs of the pod, then delete its folder (never a hostPath's or a claim's
    target: those lie outside it)."""
    base = pod_dir(pods_dir, pod_uid)
    if not base.exists():
        return
    mounts.unmount_all_under(base)
    if mounts.mounts_under(base):
        raise CreateContainerConfigError(f"volumes of pod {pod_uid} are still mounted")
    shutil.rmtree(base, ignore_errors=True)
