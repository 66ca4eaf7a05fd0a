"""What only the SQLite store has: a life across restarts. (What every store does is the
contract in tests/contracts/test_store_contract.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubelite.store.interface import Compacted
from kubelite.store.sqlite import SqliteStore


def pod(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"nodeName": ""}}


def names(texts: list[str]) -> list[str]:
    return [json.loads(t)["metadata"]["name"] for t in texts]


async def test_after_a_restart_sqlite_lists_in_order_and_an_older_page_is_compacted(
    tmp_path: Path,
) -> None:
    first = SqliteStore(tmp_path / "db")
    for name in ("c", "a", "b"):
        await first.create(f"pods/ns/{name}", pod(name))
    page = await first.list_page("pods/ns/", limit=1)
    changed = await first.get("pods/ns/b")
    changed["spec"]["nodeName"] = "x"
    await first.update("pods/ns/b", changed)
    await first.close()
    again = SqliteStore(tmp_path / "db")
    try:
        assert names((await again.list_page("pods/ns/")).texts) == ["a", "b", "c"]
        with pytest.raises(Compacted):  # what "b" held before is not kept across the restart
            await again.list_page("pods/ns/", start="pods/ns/a\x00", revision=page.revision)
    finally:
        await again.close()
