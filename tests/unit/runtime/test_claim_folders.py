"""A claim's folder on the node: created for DirectoryOrCreate volumes, checked for local ones,
the pod's fsGroup applied as the kubelet's SetVolumeOwnership applies it, recorded in the pod's
volume manifest (read-only when the pod says so), and never removed with the pod."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kubelite.runtime import bundle
from kubelite.runtime.interface import ClaimVolume, ContainerMount, CreateContainerConfigError
from kubelite.runtime.volumes import (
    prepare_pod_volumes,
    read_manifest,
    remove_pod_volumes,
    set_ownership,
)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's group needs root")
GROUP = 2345


def test_a_directory_or_create_claim_folder_is_made_and_recorded(tmp_path: Path) -> None:
    folder = tmp_path / "storage" / "pvc-1_ns_data"
    vol = ClaimVolume("data", str(folder), "DirectoryOrCreate")
    prepare_pod_volumes(tmp_path / "pods", "uid-1", [vol], None)
    assert folder.is_dir()
    assert read_manifest(tmp_path / "pods", "uid-1") == {
        "data": {"kind": "claim", "path": str(folder)}
    }


def test_a_local_volumes_folder_must_exist(tmp_path: Path) -> None:
    vol = ClaimVolume("data", str(tmp_path / "missing"), "")
    with pytest.raises(CreateContainerConfigError, match="does not exist"):
        prepare_pod_volumes(tmp_path / "pods", "uid-1", [vol], None)


def test_a_read_only_claim_is_mounted_read_only(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    vol = ClaimVolume("data", str(folder), "", read_only=True)
    prepare_pod_volumes(tmp_path / "pods", "uid-1", [vol], None)
    manifest = read_manifest(tmp_path / "pods", "uid-1")
    mounts = bundle.volume_mounts("db", [ContainerMount("data", "/var/lib/db")], manifest)
    assert mounts[0].source == str(folder) and "ro" in mounts[0].options


def test_removing_the_pods_volumes_keeps_the_claims_data(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "keep.txt").write_text("kept")
    prepare_pod_volumes(tmp_path / "pods", "uid-1", [ClaimVolume("data", str(folder))], None)
    remove_pod_volumes(tmp_path / "pods", "uid-1")
    assert (folder / "keep.txt").read_text() == "kept"
    assert not (tmp_path / "pods" / "uid-1").exists()


@needs_root
def test_the_fs_group_owns_every_entry_with_group_write_and_setgid_folders(tmp_path: Path) -> None:
    root = tmp_path / "vol"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "f").write_text("x")
    os.chmod(root / "sub" / "f", 0o600)
    os.symlink("sub/f", root / "link")
    vol = ClaimVolume("data", str(root), "", manage_ownership=True)
    prepare_pod_volumes(tmp_path / "pods", "uid-1", [vol], GROUP)
    for path in (root, root / "sub", root / "sub" / "f"):
        assert path.stat().st_gid == GROUP
    assert stat.S_IMODE((root / "sub" / "f").stat().st_mode) == 0o660
    sub_mode = (root / "sub").stat().st_mode
    assert sub_mode & stat.S_ISGID and sub_mode & 0o070 == 0o070
    assert os.lstat(root / "link").st_gid == GROUP


@needs_root
def test_on_root_mismatch_skips_a_folder_that_already_has_the_group(tmp_path: Path) -> None:
    root = tmp_path / "vol"
    root.mkdir()
    set_ownership(root, GROUP, read_only=False, policy="Always")
    (root / "new").write_text("x")
    os.chmod(root / "new", 0o600)
    set_ownership(root, GROUP, read_only=False, policy="OnRootMismatch")
    assert stat.S_IMODE((root / "new").stat().st_mode) == 0o600  # not walked again
    set_ownership(root, GROUP, read_only=False, policy="Always")
    assert stat.S_IMODE((root / "new").stat().st_mode) == 0o660


@needs_root
def test_a_static_hostpath_claim_keeps_its_ownership(tmp_path: Path) -> None:
    root = tmp_path / "vol"
    root.mkdir()
    before = root.stat()
    prepare_pod_volumes(tmp_path / "pods", "u", [ClaimVolume("d", str(root))], GROUP)
    assert root.stat().st_gid == before.st_gid
