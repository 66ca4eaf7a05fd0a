"""NodeLock: one process runs the pods of a data directory; a second gets a clear refusal."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubelite.cli import main
from kubelite.nodelock import NodeBusy, NodeLock


def test_a_second_owner_is_refused_until_the_first_lets_go(tmp_path: Path) -> None:
    first = NodeLock.acquire(tmp_path)
    with pytest.raises(NodeBusy, match=f"pid {os.getpid()}"):
        NodeLock.acquire(tmp_path)
    first.release()
    NodeLock.acquire(tmp_path).release()


def test_the_cli_prints_the_refusal_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = NodeLock.acquire(tmp_path)
    try:
        manifest = tmp_path / "pod.yaml"
        manifest.write_text(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
            "spec: {containers: [{name: c, image: busybox:1.36}]}\n"
        )
        assert main(["run", "--data-dir", str(tmp_path), str(manifest)]) == 1
    finally:
        lock.release()
    err = capsys.readouterr().err
    assert err.startswith("kubelite: another kubelite") and "Traceback" not in err
