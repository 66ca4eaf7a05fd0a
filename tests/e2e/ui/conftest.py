"""A real ``kubelite up`` (as tests/e2e/cluster starts one) and Debian's Chromium driven by
Playwright, for the web view's browser tests.

Playwright's own browser builds are never downloaded: it launches /usr/bin/chromium headless,
with no network features that would reach outside (QUIC, background networking, component
updates, sync) and a fresh temporary profile per launch, in a network namespace of its own
where only the cluster's port leads anywhere (``browserns``). The tests skip, saying why, only
when that Chromium is missing.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cluster.conftest import Cluster, start_cluster, tear_down
from tests.e2e.ui.browserns import browser_namespace

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LINK = re.compile(r"web view \(one-time login link, valid 10 minutes\): (https://\S+)")


def chromium_missing() -> str | None:
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        return "the web view's browser tests need Debian's chromium at /usr/bin/chromium"
    return None


@pytest.fixture(autouse=True)
def no_leaked_tasks() -> None:
    """Replaces the suite's asyncio task check: these tests are synchronous and run no loop of
    their own, while Playwright's synchronous API keeps its loop marked as running between
    calls, which an asyncio fixture around each test could not run beside."""


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, registry_config_file: Path
) -> Iterator[Cluster]:
    missing = chromium_missing()
    if missing:
        pytest.skip(missing)
    c = start_cluster(tmp_path_factory.mktemp("ui-cluster"), registry_config_file)
    try:
        yield c
    finally:
        problems = tear_down(c)
        if problems:
            pytest.fail("\n".join(problems))


@pytest.fixture(scope="module")
def login_link(cluster: Cluster) -> str:
    """The link ``kubelite up`` printed when it started."""
    found = LINK.findall(cluster.log_text())
    assert found, f"kubelite up printed no login link:\n{cluster.log_text()}"
    return str(found[-1])


@pytest.fixture(scope="module")
def browser(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Chromium in its own network namespace, where only the cluster's port leads anywhere
    (``browserns``)."""
    from playwright.sync_api import sync_playwright

    workdir = tmp_path_factory.mktemp("browser")
    with (
        browser_namespace(CHROMIUM, cluster.port, workdir) as executable,
        sync_playwright() as p,
    ):
        b = p.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
