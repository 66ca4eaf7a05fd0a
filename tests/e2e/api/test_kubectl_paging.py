"""kubectl reads lists in pages (``--chunk-size``, 500 by default) and follows the continue
tokens kubelite hands out, for tables and for ``-o json`` alike."""

from __future__ import annotations

import json

import pytest

from tests.e2e.api.conftest import Server

pytestmark = pytest.mark.e2e


def test_kubectl_follows_continue_tokens_through_every_page(server: Server) -> None:
    server.kubectl("create", "namespace", "paging", check=True)
    for i in range(23):
        server.kubectl("-n", "paging", "create", "configmap", f"cm-{i:02d}", check=True)
    table = server.kubectl(
        "-n", "paging", "get", "configmaps", "--chunk-size=5", "--no-headers", "-v=6", check=True
    )
    names = [line.split()[0] for line in table.stdout.splitlines()]
    assert [n for n in names if n.startswith("cm-")] == [f"cm-{i:02d}" for i in range(23)]
    pages = [line for line in table.stderr.splitlines() if "/configmaps?" in line]
    assert len(pages) == 5 and all("continue=" in line for line in pages[1:]), pages
    listed = server.kubectl(
        "-n", "paging", "get", "configmaps", "--chunk-size=4", "-o", "json", check=True
    )
    items = json.loads(listed.stdout)["items"]
    assert len([i for i in items if i["metadata"]["name"].startswith("cm-")]) == 23
