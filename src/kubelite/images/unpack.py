"""Unpack one image layer into a directory that overlayfs can stack as a lowerdir.

A layer is a tar (plain, gzip or zstd). OCI whiteouts become overlay whiteouts: ``.wh.x``
turns into a 0/0 character device ``x`` and ``.wh..wh..opq`` marks its directory with the
``trusted.overlay.opaque=y`` xattr, so layers need no merging: each is unpacked once, by
itself, and shared by every image that has it.

Layers come from registries, so a tar is hostile until proven otherwise. Every member's
name must stay inside the layer: absolute names, ``..`` components, writes through a symlink
(``a -> /etc`` then ``a/passwd``) and hard links to anything outside the layer are refused
and the whole layer is rejected. Parents are walked with ``lstat`` and never followed, files
are opened with ``O_NOFOLLOW|O_EXCL``, and only ``user.*`` and ``security.capability``
xattrs are applied (a ``trusted.overlay.*`` xattr from a tar could redirect overlay lookups
outside the layer). Device nodes are skipped: a container gets its devices from the runtime.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kubelite.images.interface import ImagePullFailed

log = logging.getLogger(__name__)

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OPAQUE_XATTR = "trusted.overlay.opaque"
_SAFE_XATTR_PREFIXES = ("user.", "security.capability")
_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_COPY_BUFFER = 1 << 20


class UnsafeLayerError(ImagePullFailed):
    """A layer tried to write outside itself; nothing of it is kept."""


@dataclass(frozen=True, slots=True)
class UnpackStats:
    entries: int
    bytes: int


@contextlib.contextmanager
def open_layer(blob: Path) -> Iterator[tarfile.TarFile]:
    """Open a layer blob as a streaming tar, detecting gzip, zstd or plain by magic bytes."""
    with open(blob, "rb") as f:
        magic = f.read(4)
        f.seek(0)
        if magic.startswith(_ZSTD_MAGIC):
            zstd = shutil.which("zstd")
            if zstd is None:
                raise ImagePullFailed(f"layer {blob.name} is zstd-compressed and zstd is missing")
            proc = subprocess.Popen([zstd, "-dcq", "--", str(blob)], stdout=subprocess.PIPE)
            assert proc.stdout is not None
            try:
                with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                    yield tar
            finally:
                proc.stdout.close()
                if proc.wait() not in (0, None) and proc.returncode != -13:
                    raise ImagePullFailed(f"zstd failed on layer {blob.name}")
            return
        if magic.startswith(_GZIP_MAGIC):
            with tarfile.open(fileobj=f, mode="r|gz") as tar:
                yield tar
        else:
            with tarfile.open(fileobj=f, mode="r|") as tar:
                yield tar


def unpack_layer(blob: Path, dest: Path) -> UnpackStats:
    """Unpack ``blob`` into the empty directory ``dest``. On any error ``dest`` is left
    for the caller to delete (it is a scratch directory inside the store)."""
    try:
        with open_layer(blob) as tar:
            return _Extractor(dest).run(tar)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise ImagePullFailed(f"failed to unpack layer {blob.name}: {e}") from e


def _parts(name: str, what: str) -> tuple[str, ...]:
    """Split a member name into components; refuse anything that could leave the layer."""
    if name.startswith("/"):
        raise UnsafeLayerError(f"{what} {name!r} is an absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise UnsafeLayerError(f"{what} {name!r} contains '..'")
    return parts


class _Extractor:
    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.dirs: set[str] = {""}  # relative dirs verified to be real directories
        self.dir_meta: list[tuple[tuple[str, ...], int, float]] = []  # applied last
        self.entries = 0
        self.bytes = 0

    def run(self, tar: tarfile.TarFile) -> UnpackStats:
        for member in tar:
            self.entries += 1
            self.extract(tar, member)
        for parts, mode, mtime in reversed(self.dir_meta):
            # Deferred, so re-walk without following: the directory (or a parent) may
            # have been replaced by a symlink since it was created.
            fd = self.open_dir(parts)
            if fd is None:
                continue
            try:
                os.fchmod(fd, mode)
                os.utime(fd, (mtime, mtime))
            finally:
                os.close(fd)
        return UnpackStats(self.entries, self.bytes)

    def open_dir(self, parts: tuple[str, ...]) -> int | None:
        """An fd for the directory ``parts`` under the root, never following a symlink;
        None if the path is no longer a directory chain."""
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.root, flags)
        for comp in parts:
            try:
                nxt = os.open(comp, flags, dir_fd=fd)
            except OSError:
                os.close(fd)
                return None
            os.close(fd)
            fd = nxt
        return fd

    def parent(self, parts: tuple[str, ...], *, create: bool) -> str:
        """The absolute parent directory of ``parts``, walked without following symlinks."""
        rel = ""
        for comp in parts[:-1]:
            rel = f"{rel}/{comp}" if rel else comp
            if rel in self.dirs:
                continue
            path = os.path.join(self.root, rel)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                if not create:
                    raise UnsafeLayerError(f"{'/'.join(parts)!r}: {rel!r} does not exist") from None
                os.mkdir(path, 0o755)
            else:
                if stat.S_ISLNK(st.st_mode):
                    raise UnsafeLayerError(f"{'/'.join(parts)!r} goes through symlink {rel!r}")
                if not stat.S_ISDIR(st.st_mode):
                    raise UnsafeLayerError(f"{'/'.join(parts)!r}: {rel!r} is not a directory")
            self.dirs.add(rel)
        return os.path.join(self.root, *parts[:-1]) if len(parts) > 1 else self.root

    def clear(self, path: str, rel: str, *, keep_dir: bool) -> bool:
        """Remove whatever is at ``path`` (never following it). True if a dir was kept."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        if stat.S_ISDIR(st.st_mode):
            if keep_dir:
                return True
            shutil.rmtree(path)
            self.dirs = {d for d in self.dirs if d != rel and not d.startswith(rel + "/")}
        else:
            os.unlink(path)
        return False

    def extract(self, tar: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        parts = _parts(m.name, "entry")
        if not parts:
            return  # the layer root itself
        base = parts[-1]
        parent = self.parent(parts, create=True)
        if base.startswith(WHITEOUT_PREFIX):
            self.whiteout(parent, parts)
            return
        path = os.path.join(parent, base)
        rel = "/".join(parts)
        if m.ischr() or m.isblk():
            log.debug("skipping device node %s in layer", rel)
            return
        kept_dir = self.clear(path, rel, keep_dir=m.isdir())
        if m.isdir():
            if not kept_dir:
                os.mkdir(path, 0o700)
            self.dirs.add(rel)
            os.lchown(path, m.uid, m.gid)
            self.dir_meta.append((parts, m.mode & 0o7777, m.mtime))
            self.xattrs(path, m)
            return
        if m.isreg():
            self.regular(tar, m, path)
        elif m.issym():
            os.symlink(m.linkname, path)
            os.lchown(path, m.uid, m.gid)
            os.utime(path, (m.mtime, m.mtime), follow_symlinks=False)
        elif m.islnk():
            self.hardlink(m, path)
        elif m.isfifo():
            os.mkfifo(path, m.mode & 0o7777)
            os.lchown(path, m.uid, m.gid)
            os.chmod(path, m.mode & 0o7777)
        else:
            log.debug("skipping %s of unsupported type %r", rel, m.type)
            return
        self.xattrs(path, m)

    def regular(self, tar: tarfile.TarFile, m: tarfile.TarInfo, path: str) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(path, flags, 0o600)
        try:
            src: IO[bytes] | None = tar.extractfile(m)
            if src is not None:
                with open(fd, "wb", buffering=0, closefd=False) as out:
                    shutil.copyfileobj(src, out, _COPY_BUFFER)
            self.bytes += m.size
            os.fchown(fd, m.uid, m.gid)
            os.fchmod(fd, m.mode & 0o7777)  # after chown, which clears set-id bits
            os.utime(fd, (m.mtime, m.mtime))
        finally:
            os.close(fd)

    def hardlink(self, m: tarfile.TarInfo, path: str) -> None:
        target_parts = _parts(m.linkname, "hard link target")
        if not target_parts:
            raise UnsafeLayerError(f"hard link {m.name!r} points at the layer root")
        target = os.path.join(self.parent(target_parts, create=False), target_parts[-1])
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            raise UnsafeLayerError(
                f"hard link {m.name!r} -> {m.linkname!r}: target is not in this layer"
            ) from None
        if stat.S_ISDIR(st.st_mode):
            raise UnsafeLayerError(f"hard link {m.name!r} -> {m.linkname!r} is a directory")
        os.link(target, path, follow_symlinks=False)

    def whiteout(self, parent: str, parts: tuple[str, ...]) -> None:
        base = parts[-1]
        if base == OPAQUE_MARKER:
            os.setxattr(parent, OPAQUE_XATTR, b"y", follow_symlinks=False)
            return
        name = base[len(WHITEOUT_PREFIX) :]
        if name.startswith(WHITEOUT_PREFIX) or not name or name in (".", ".."):
            return  # other ".wh..wh." entries are aufs metadata, meaningless here
        path = os.path.join(parent, name)
        rel = "/".join((*parts[:-1], name))
        self.clear(path, rel, keep_dir=False)
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(0, 0))

    def xattrs(self, path: str, m: tarfile.TarInfo) -> None:
        for key, value in m.pax_headers.items():
            if not key.startswith("SCHILY.xattr."):
                continue
            name = key[len("SCHILY.xattr.") :]
            if not name.startswith(_SAFE_XATTR_PREFIXES):
                log.debug("ignoring xattr %s on %s", name, path)
                continue
            raw = value.encode("utf-8", "surrogateescape")
            with contextlib.suppress(OSError):
                os.setxattr(path, name, raw, follow_symlinks=False)
