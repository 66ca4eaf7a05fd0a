"""``kubelite image pull/ls/rm/load/prune`` through the real command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def kubelite(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kubelite",
            "image",
            "--data-dir",
            str(tmp_path / "data"),
            "--registry-config",
            str(config),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pull_ls_rm_prune(tmp_path: Path, registry_config_file: Path) -> None:
    pulled = kubelite(tmp_path, registry_config_file, "pull", "busybox:1.36")
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.startswith("Pulled docker.io/library/busybox:1.36 (")
    listed = kubelite(tmp_path, registry_config_file, "ls")
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["IMAGE", "TAG", "IMAGE", "ID", "SIZE"]
    assert lines[1].split()[:2] == ["docker.io/library/busybox", "1.36"]
    removed = kubelite(tmp_path, registry_config_file, "rm", "busybox:1.36")
    assert removed.stdout == "Deleted: docker.io/library/busybox:1.36\n"
    again = kubelite(tmp_path, registry_config_file, "rm", "busybox:1.36")
    assert again.returncode == 1 and 'image "busybox:1.36" not found' in again.stderr
    assert kubelite(tmp_path, registry_config_file, "ls").stdout.count("\n") == 1
    assert kubelite(tmp_path, registry_config_file, "prune").returncode == 0


def test_a_failed_pull_prints_the_kubelet_message(tmp_path: Path, local_registry: str) -> None:
    config = tmp_path / "registries.yaml"
    config.write_text(
        f'configs:\n  "{local_registry}":\n    tls:\n      insecure_skip_verify: true\n'
    )
    ref = f"{local_registry}/library/nosuch:1"
    result = kubelite(tmp_path, config, "pull", ref)
    assert result.returncode == 1
    assert result.stderr.startswith(f'Failed to pull image "{ref}": failed to pull and unpack')


def test_a_bad_registry_config_is_reported_with_its_file(tmp_path: Path) -> None:
    config = tmp_path / "registries.yaml"
    config.write_text("mirrors:\n  docker.io:\n    endpoint: http://x\n")
    result = kubelite(tmp_path, config, "ls")
    assert result.returncode == 2
    assert f"registry config {config}: mirrors.docker.io.endpoint" in result.stderr
