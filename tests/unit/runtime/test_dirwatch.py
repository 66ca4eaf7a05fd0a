"""DirWatch: an inotify watch that wakes the runtime's event stream when conmon writes an
exit file (written directly, or written elsewhere and renamed in)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kubelite.runtime.dirwatch import DirWatch


async def _called_after(watch: DirWatch, write: object) -> bool:
    called = asyncio.Event()
    watch.on_change(called.set)
    assert callable(write)
    write()
    try:
        await asyncio.wait_for(called.wait(), 2.0)
    except TimeoutError:
        return False
    return True


async def test_a_file_written_into_the_folder_calls_back(tmp_path: Path) -> None:
    watch = DirWatch.open(tmp_path)
    assert watch is not None
    try:
        assert await _called_after(watch, lambda: (tmp_path / "abc").write_text("0"))
    finally:
        watch.close()


async def test_a_file_renamed_into_the_folder_calls_back(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    staged = tmp_path / "staged"
    staged.write_text("137")
    watch = DirWatch.open(tmp_path / "d")
    assert watch is not None
    try:
        assert await _called_after(watch, lambda: staged.rename(tmp_path / "d" / "abc"))
    finally:
        watch.close()


async def test_a_missing_folder_gives_no_watch(tmp_path: Path) -> None:
    assert DirWatch.open(tmp_path / "absent") is None


async def test_close_twice_is_harmless(tmp_path: Path) -> None:
    watch = DirWatch.open(tmp_path)
    assert watch is not None
    watch.on_change(lambda: None)
    watch.close()
    watch.close()
