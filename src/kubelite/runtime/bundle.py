"""The host side of a container's mounts: volumes (with subPath), per-pod /etc files and the
termination-message file, turned into ``ocispec.Mount`` entries for the bundle.

Checks happen here, before anything is started: an unknown volume, a subPath that escapes
its volume (VOL-5) or a duplicate mount path (VOL-6) is a CreateContainerConfigError.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from kubelite.runtime.interface import ContainerMount, CreateContainerConfigError
from kubelite.runtime.ocispec import Mount
from kubelite.runtime.volumes import resolve_sub_path

ETC_TARGETS = {
    "hosts": "/etc/hosts",
    "hostname": "/etc/hostname",
    "resolv.conf": "/etc/resolv.conf",
}


def _bind(destination: str, source: str, read_only: bool) -> Mount:
    opts = ("rbind", "rprivate", "ro") if read_only else ("rbind", "rprivate")
    return Mount(destination=destination, source=source, options=opts)


def volume_mounts(
    container: str,
    requested: Sequence[ContainerMount],
    manifest: Mapping[str, Mapping[str, str]],
) -> list[Mount]:
    """Bind mounts for a container's volumeMounts, in order."""
    seen: set[str] = set()
    out: list[Mount] = []
    for m in requested:
        dest = os.path.normpath(m.container_path) if m.container_path else ""
        if not dest.startswith("/"):
            raise CreateContainerConfigError(f"mount path {m.container_path!r} must be absolute")
        if dest in seen:  # VOL-6
            raise CreateContainerConfigError(
                f"duplicate mount path {dest!r} in container {container!r}"
            )
        seen.add(dest)
        entry = manifest.get(m.volume)
        if entry is None:
            raise CreateContainerConfigError(
                f'cannot find volume "{m.volume}" to mount into container "{container}"'
            )
        source = Path(entry["path"])
        if m.sub_path:
            source = resolve_sub_path(source, m.sub_path)  # VOL-5
        # configMap/secret/downwardAPI/projected are always read-only (VOL-4), and so is a
        # claim the pod mounts with ``persistentVolumeClaim.readOnly``
        read_only = m.read_only or entry["kind"] == "files" or entry.get("readOnly") == "true"
        out.append(_bind(dest, str(source), read_only))
    return out


def etc_mounts(sandbox_dir: Path, taken: set[str]) -> list[Mount]:
    """The sandbox's /etc files, except where the container mounts its own (VOL-6)."""
    return [
        _bind(target, str(sandbox_dir / name), False)
        for name, target in ETC_TARGETS.items()
        if target not in taken
    ]


def make_termination_file(pods_dir: Path, pod_uid: str, container: str, instance: str) -> Path:
    """A fresh, empty, world-writable file for this container instance (TM-1)."""
    d = pods_dir / pod_uid / "containers" / container
    d.mkdir(parents=True, exist_ok=True)
    path = d / instance
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY | os.O_NOFOLLOW, 0o666)
    os.close(fd)
    os.chmod(path, 0o666)
    return path
