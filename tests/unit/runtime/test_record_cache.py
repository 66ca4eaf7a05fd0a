"""RecordCache.scan: one owner's records from a folder of records, reading only what may be
theirs (the per-sync listing of a pod's sandboxes and containers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubelite.runtime.state import RecordCache, save


@dataclass(slots=True)
class Rec:
    id: str
    owner: str


def _owner(r: Rec) -> str:
    return r.owner


def _write(root: Path, rid: str, owner: str) -> Path:
    (root / rid).mkdir(exist_ok=True)
    path = root / rid / "rec.json"
    save(path, Rec(rid, owner))
    return path


def _scan(cache: RecordCache[Rec], root: Path, wanted: str | None) -> list[str]:
    return sorted(r.id for r in cache.scan(str(root), "rec.json", _owner, wanted))


def test_scan_finds_one_owners_records_and_follows_the_folder(tmp_path: Path) -> None:
    cache: RecordCache[Rec] = RecordCache(Rec)
    _write(tmp_path, "a1", "A")
    _write(tmp_path, "b1", "B")
    assert _scan(cache, tmp_path, "A") == ["a1"]
    assert _scan(cache, tmp_path, "B") == ["b1"]
    assert _scan(cache, tmp_path, None) == ["a1", "b1"]

    _write(tmp_path, "a2", "A")  # added after the first listing
    assert _scan(cache, tmp_path, "A") == ["a1", "a2"]

    (tmp_path / "a1" / "rec.json").unlink()  # removed, then its folder
    assert _scan(cache, tmp_path, "A") == ["a2"]
    (tmp_path / "a1").rmdir()
    assert _scan(cache, tmp_path, "A") == ["a2"]
    assert _scan(cache, tmp_path, "B") == ["b1"]


def test_a_half_made_folder_is_found_once_its_record_is_written(tmp_path: Path) -> None:
    cache: RecordCache[Rec] = RecordCache(Rec)
    _write(tmp_path, "a1", "A")
    (tmp_path / "a2").mkdir()  # no record yet: being created
    assert _scan(cache, tmp_path, "A") == ["a1"]
    _write(tmp_path, "a2", "A")  # the folder's listing did not change
    assert _scan(cache, tmp_path, "A") == ["a1", "a2"]
    assert _scan(cache, tmp_path, "B") == []


def test_records_known_to_belong_elsewhere_are_not_read_again(tmp_path: Path) -> None:
    cache: RecordCache[Rec] = RecordCache(Rec)
    _write(tmp_path, "a1", "A")
    other = _write(tmp_path, "b1", "B")
    assert _scan(cache, tmp_path, None) == ["a1", "b1"]
    other.write_text("not json")  # reading it now would fail
    assert _scan(cache, tmp_path, "A") == ["a1"]
    _write(tmp_path, "a2", "A")
    assert _scan(cache, tmp_path, "A") == ["a1", "a2"]
