"""Layers unpack safely: hostile tars are refused without touching anything outside the
layer, whiteouts and opaque directories become overlay's, metadata is kept."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from kubelite.images.overlay import mount_overlay, unmount
from kubelite.images.unpack import OPAQUE_XATTR, UnsafeLayerError, unpack_layer

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mknod, chown, xattrs)")

Add = Callable[[tarfile.TarFile], None]


def member(name: str, kind: bytes = tarfile.REGTYPE, **attrs: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o644 if kind == tarfile.REGTYPE else 0o755
    for k, v in attrs.items():
        setattr(info, k, v)
    return info


def file(name: str, data: bytes = b"data", **attrs: object) -> tuple[tarfile.TarInfo, bytes]:
    return member(name, size=len(data), **attrs), data


def make_layer(
    path: Path,
    entries: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]],
    *,
    compress: str = "gzip",
) -> Path:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            if isinstance(e, tuple):
                tar.addfile(e[0], io.BytesIO(e[1]))
            else:
                tar.addfile(e)
    data = raw.getvalue()
    if compress == "gzip":
        data = gzip.compress(data)
    elif compress == "zstd":
        data = subprocess.run(
            ["zstd", "-q", "-c"], input=data, capture_output=True, check=True
        ).stdout
    path.write_bytes(data)
    return path


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A layer directory next to an ``outside`` directory holding a secret."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("keep me")
    layer = tmp_path / "layer"
    layer.mkdir()
    return {"tmp": tmp_path, "outside": outside, "layer": layer}


def snapshot(path: Path) -> dict[str, tuple[int, bytes | str]]:
    out: dict[str, tuple[int, bytes | str]] = {}
    for p in sorted(path.rglob("*")):
        st = p.lstat()
        content: bytes | str = (
            os.readlink(p) if p.is_symlink() else (p.read_bytes() if p.is_file() else b"")
        )
        out[str(p.relative_to(path))] = (st.st_mode, content)
    return out


def hostile_cases(
    outside: Path,
) -> dict[str, list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]]]:
    return {
        "an absolute path": [file(str(outside / "evil"))],
        "a dot-dot path": [file("../outside/evil")],
        "a dot-dot path hidden in the middle": [
            member("a", tarfile.DIRTYPE),
            file("a/../../outside/evil"),
        ],
        "a write through an absolute symlink": [
            member("link", tarfile.SYMTYPE, linkname=str(outside)),
            file("link/evil"),
        ],
        "a write through a relative symlink": [
            member("link", tarfile.SYMTYPE, linkname="../outside"),
            file("link/evil"),
        ],
        "a directory through a symlink": [
            member("link", tarfile.SYMTYPE, linkname=str(outside)),
            member("link/sub", tarfile.DIRTYPE),
        ],
        "a hard link out by dot-dot": [member("hl", tarfile.LNKTYPE, linkname="../outside/secret")],
        "a hard link out by an absolute path": [
            member("hl", tarfile.LNKTYPE, linkname=str(outside / "secret"))
        ],
        "a hard link through a symlinked directory": [
            member("link", tarfile.SYMTYPE, linkname=str(outside)),
            member("hl", tarfile.LNKTYPE, linkname="link/secret"),
        ],
        "a whiteout through a symlink": [
            member("link", tarfile.SYMTYPE, linkname=str(outside)),
            file("link/.wh.secret", b""),
        ],
    }


@pytest.mark.parametrize("case", list(hostile_cases(Path("/x"))))
def test_hostile_layers_are_refused_and_nothing_outside_changes(
    case: str, world: dict[str, Path]
) -> None:
    entries = hostile_cases(world["outside"])[case]
    blob = make_layer(world["tmp"] / "blob", entries)
    before = snapshot(world["outside"])
    parent_before = sorted(p.name for p in world["tmp"].iterdir())
    with pytest.raises(UnsafeLayerError):
        unpack_layer(blob, world["layer"])
    assert snapshot(world["outside"]) == before
    assert sorted(p.name for p in world["tmp"].iterdir()) == parent_before
    assert (world["outside"] / "secret").read_text() == "keep me"


def test_a_file_replacing_a_symlink_does_not_write_through_it(world: dict[str, Path]) -> None:
    blob = make_layer(
        world["tmp"] / "blob",
        [
            member("s", tarfile.SYMTYPE, linkname=str(world["outside"] / "secret")),
            file("s", b"new"),
        ],
    )
    unpack_layer(blob, world["layer"])
    assert (world["outside"] / "secret").read_text() == "keep me"
    assert not (world["layer"] / "s").is_symlink()
    assert (world["layer"] / "s").read_bytes() == b"new"


def test_a_directory_later_replaced_by_a_symlink_is_not_chmodded_through_it(
    world: dict[str, Path],
) -> None:
    world["outside"].chmod(0o700)
    blob = make_layer(
        world["tmp"] / "blob",
        [
            member("d", tarfile.DIRTYPE, mode=0o777),
            member("p/q", tarfile.DIRTYPE, mode=0o777),
            member("d", tarfile.SYMTYPE, linkname=str(world["outside"])),
            member("p", tarfile.SYMTYPE, linkname=str(world["tmp"])),
        ],
    )
    unpack_layer(blob, world["layer"])
    assert stat.S_IMODE(world["outside"].stat().st_mode) == 0o700
    assert stat.S_IMODE(world["tmp"].stat().st_mode) != 0o777
    assert (world["layer"] / "d").is_symlink()


def test_symlinks_pointing_anywhere_are_kept_as_links(world: dict[str, Path]) -> None:
    blob = make_layer(
        world["tmp"] / "blob", [member("bin/sh", tarfile.SYMTYPE, linkname="/bin/busybox")]
    )
    unpack_layer(blob, world["layer"])
    assert os.readlink(world["layer"] / "bin/sh") == "/bin/busybox"


@root_only
def test_whiteouts_become_character_devices_and_opaque_dirs_get_the_xattr(
    world: dict[str, Path],
) -> None:
    blob = make_layer(
        world["tmp"] / "blob",
        [
            member("etc", tarfile.DIRTYPE),
            file("etc/.wh.motd", b""),
            member("var/cache", tarfile.DIRTYPE),
            file("var/cache/.wh..wh..opq", b""),
            file("var/cache/new", b"fresh"),
        ],
    )
    unpack_layer(blob, world["layer"])
    wh = (world["layer"] / "etc/motd").lstat()
    assert stat.S_ISCHR(wh.st_mode) and wh.st_rdev == os.makedev(0, 0)
    assert not (world["layer"] / "etc/.wh.motd").exists()
    assert os.getxattr(world["layer"] / "var/cache", OPAQUE_XATTR) == b"y"
    assert not (world["layer"] / "var/cache/.wh..wh..opq").exists()


@root_only
def test_hard_links_permissions_and_ownership_are_kept(world: dict[str, Path]) -> None:
    blob = make_layer(
        world["tmp"] / "blob",
        [
            member("tmp", tarfile.DIRTYPE, mode=0o1777),
            file("bin/prog", b"#!", mode=0o4755, uid=0, gid=0),
            file("home/u/f", b"x", mode=0o600, uid=1000, gid=1001),
            member("bin/prog2", tarfile.LNKTYPE, linkname="bin/prog"),
            member("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3),
            member("fifo", tarfile.FIFOTYPE, mode=0o640),
        ],
    )
    unpack_layer(blob, world["layer"])
    layer = world["layer"]
    assert stat.S_IMODE((layer / "tmp").stat().st_mode) == 0o1777
    assert stat.S_IMODE((layer / "bin/prog").stat().st_mode) == 0o4755
    st = (layer / "home/u/f").stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 1001, 0o600)
    assert (layer / "bin/prog").stat().st_ino == (layer / "bin/prog2").stat().st_ino
    assert not (layer / "dev/null").exists()  # device nodes are skipped
    assert stat.S_ISFIFO((layer / "fifo").lstat().st_mode)


@root_only
def test_only_safe_xattrs_are_applied(world: dict[str, Path]) -> None:
    info, data = file("f", b"x")
    info.pax_headers = {
        "SCHILY.xattr.user.note": "hello",
        "SCHILY.xattr.trusted.overlay.redirect": "/etc",
    }
    blob = make_layer(world["tmp"] / "blob", [(info, data)])
    unpack_layer(blob, world["layer"])
    assert os.getxattr(world["layer"] / "f", "user.note") == b"hello"
    assert "trusted.overlay.redirect" not in os.listxattr(world["layer"] / "f")


@pytest.mark.parametrize("compress", ["gzip", "none", "zstd"])
def test_gzip_zstd_and_plain_layers_unpack(compress: str, world: dict[str, Path]) -> None:
    if compress == "zstd" and shutil.which("zstd") is None:
        pytest.skip("zstd is not installed")
    blob = make_layer(world["tmp"] / "blob", [file("a/b/c", b"hello")], compress=compress)
    stats = unpack_layer(blob, world["layer"])
    assert (world["layer"] / "a/b/c").read_bytes() == b"hello"
    assert stats.bytes == 5


@root_only
def test_unpacked_layers_stack_as_overlay_lowerdirs(tmp_path: Path) -> None:
    lower, upper = tmp_path / "l1", tmp_path / "l2"
    lower.mkdir()
    upper.mkdir()
    base = make_layer(
        tmp_path / "b1",
        [file("etc/motd", b"hi"), file("etc/keep", b"k"), file("cache/old", b"o")],
    )
    top = make_layer(
        tmp_path / "b2",
        [file("etc/.wh.motd", b""), file("cache/.wh..wh..opq", b""), file("cache/new", b"n")],
    )
    unpack_layer(base, lower)
    unpack_layer(top, upper)
    merged, rw, work = tmp_path / "m", tmp_path / "rw", tmp_path / "w"
    for d in (merged, rw, work):
        d.mkdir()
    mount_overlay([upper, lower], rw, work, merged)
    try:
        assert sorted(p.name for p in (merged / "etc").iterdir()) == ["keep"]
        assert sorted(p.name for p in (merged / "cache").iterdir()) == ["new"]
    finally:
        unmount(merged)
