"""Shared test configuration.

* ``no_leaked_tasks`` (autouse): an async test that leaves tasks running fails (design 9).
* ``e2e`` tests need root and the real tools; without them they are skipped with the reason.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator

import pytest

pytest_plugins = ["devtools.fixtures"]

E2E_TOOLS = ("runc", "conmon", "skopeo")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [t for t in E2E_TOOLS if shutil.which(t) is None]
    reason = ""
    if os.geteuid() != 0:
        reason = "e2e tests need root"
    elif missing:
        reason = f"e2e tests need {', '.join(missing)} (run scripts/install-deps.sh)"
    if not reason:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
async def no_leaked_tasks() -> AsyncIterator[None]:
    before = set(asyncio.all_tasks())
    yield
    current = asyncio.current_task()
    leaked = [
        t for t in asyncio.all_tasks() if t not in before and t is not current and not t.done()
    ]
    if leaked:
        for t in leaked:
            t.cancel()
        await asyncio.gather(*leaked, return_exceptions=True)
        pytest.fail(f"test leaked {len(leaked)} task(s): {[t.get_name() for t in leaked]}")
